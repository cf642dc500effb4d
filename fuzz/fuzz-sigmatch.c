/* libFuzzer target: cost and exactness of verification.
 * Input: "signature lines \0 unit".  The unit is repeated to 256 KiB and
 * scanned: the work must stay linear in the data whatever the signatures'
 * ranges, so an input that makes the matcher super-linear runs into the
 * timeout this target sets for itself (10 s unless -timeout is given; the
 * committed corpus holds 41{0-32000}4243 over "BC": with the set simulation
 * alone, as before the linear path, that input times out here).
 * The unit alone is also scanned with the linear
 * path forced on every eligible part and with the set simulation only, and
 * both must report the same matches.  A database compiled without the SIMD
 * first stage (vs_teddy_off) must match the same signatures (the stage
 * moves anchors, which can move where a multi-part match starts).  Streams
 * with and without the AVX-512 sampling pass (vs_pass512_off) must report
 * exactly the same matches, and so must a database compiled without the
 * window filters and the live bits (vs_prune_off), whole and in pieces. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sig/sig-int.h"
#include "vigil/sig.h"
#include "sig-run.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BIG      (256u * 1024u)
#define DIFF_MAX 2048u

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static char *args[64];
    static char timeout[] = "-timeout=10";
    int n = *argc < 62 ? *argc : 62;

    for (int i = 0; i < n; i++) {
        if (strncmp((*argv)[i], "-timeout=", 9) == 0)
            return 0;
        args[i] = (*argv)[i];
    }
    args[n++] = timeout;
    args[n] = NULL;
    *argc = n;
    *argv = args;
    return 0;
}

static struct acc run(struct vsig_db *db, const uint8_t *d, size_t n,
                      size_t piece)
{
    return run_pieces(db, NULL, d, n, piece);
}

static struct vsig_db *load(const char *name, const uint8_t *t, size_t n,
                            uint32_t span)
{
    struct vsig_db *db;
    vs_lin_span = span;
    int r = vsig_db_load(&db, name, t, n, NULL);
    vs_lin_span = 256;
    return r < 0 ? NULL : db;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    static uint8_t big[BIG];

    if (nul == NULL || (size_t)(nul - data) + 2 > size)
        return 0;
    size_t dblen = (size_t)(nul - data);
    const char *name =
        dblen > 0 && memchr(data, ';', dblen) ? "f.ldb" : "f.ndb";
    const uint8_t *u = nul + 1;
    size_t un = size - dblen - 1;

    struct vsig_db *db = load(name, data, dblen, 256);
    if (db == NULL)
        return 0;
    for (size_t i = 0; i < BIG; i++)
        big[i] = u[i % un];
    run(db, big, BIG, BIG);
    vsig_db_unref(db);

    if (un > DIFF_MAX)
        return 0;
    struct vsig_db *lin = load(name, data, dblen, 0);
    struct vsig_db *sim = load(name, data, dblen, UINT32_MAX);
    if (lin == NULL || sim == NULL)
        abort();
    struct acc a = run(lin, u, un, 1 + un / 3);
    struct acc b = run(sim, u, un, un);
    if (a.n != b.n || a.sum != b.sum)
        abort();
    vsig_db_unref(lin);
    vsig_db_unref(sim);

    vs_teddy_off = true;
    struct vsig_db *plain = load(name, data, dblen, 256);
    vs_teddy_off = false;
    struct vsig_db *simd = load(name, data, dblen, 256);
    if (plain == NULL || simd == NULL)
        abort();
    a = run(plain, u, un, un);
    b = run(simd, u, un, 1 + un / 2);
    if (a.sigs != b.sigs)
        abort();
    /* The AVX-512 pass finds the very positions of the scalar one. */
    vs_pass512_off = true;
    a = run(simd, u, un, un);
    vs_pass512_off = false;
    b = run(simd, u, un, un);
    if (a.n != b.n || a.sum != b.sum || a.sigs != b.sigs)
        abort();
    vs_prune_off = true;
    struct vsig_db *unpruned = load(name, data, dblen, 256);
    vs_prune_off = false;
    if (unpruned == NULL)
        abort();
    a = run(unpruned, u, un, un);
    b = run(simd, u, un, 1 + un / 3);
    if (a.n != b.n || a.sum != b.sum || a.sigs != b.sigs)
        abort();
    vsig_db_unref(unpruned);
    vsig_db_unref(plain);
    vsig_db_unref(simd);
    return 0;
}
