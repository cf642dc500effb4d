/* libFuzzer target: the streaming matcher.
 * Input: "signature lines \0 data".  The first byte after the NUL picks a
 * feed size; the data is scanned in pieces and in one piece, and both must
 * report the same matches (the stream must not depend on how the data is
 * cut). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/sig.h"
#include "sig-run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct acc run(struct vsig_db *db, const uint8_t *d, size_t n,
                      size_t piece, uint64_t size)
{
    struct vsig_stream_opts o = {
        .sz = sizeof o, .size = size, .target = VSIG_TARGET_AUTO};
    return run_pieces(db, &o, d, n, piece);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    struct vsig_db *db;

    if (nul == NULL || (size_t)(nul - data) + 2 > size)
        return 0;
    size_t dblen = (size_t)(nul - data);
    const char *name =
        dblen > 0 && memchr(data, ';', dblen) ? "f.ldb" : "f.ndb";
    if (vsig_db_load(&db, name, data, dblen, NULL) < 0)
        return 0;
    size_t piece = 1 + nul[1] % 64;
    const uint8_t *d = nul + 2;
    size_t n = size - dblen - 2;
    struct acc whole = run(db, d, n, n ? n : 1, VSIG_SIZE_UNKNOWN);
    struct acc cut = run(db, d, n, piece, VSIG_SIZE_UNKNOWN);
    struct acc sized = run(db, d, n, piece, n);
    if (whole.n != cut.n || whole.sum != cut.sum)
        abort();
    (void)sized; /* EOF-n may resolve differently with a known size */
    vsig_db_unref(db);
    return 0;
}
