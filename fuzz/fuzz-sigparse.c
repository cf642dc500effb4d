/* libFuzzer target: the signature database loader and compiler.
 * Input: one byte selecting the format, then the database text (or a
 * container).  Every input must load or be rejected without a crash, a
 * leak or undefined behaviour; whatever loads must compile and scan. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vigil/sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_match(void *opaque, const struct vsig_match *m)
{
    (void)opaque;
    (void)m;
    return VSIG_CONTINUE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"f.ndb", "f.ldb", "f.hdb", "f.hsb",
                                        "f.db",  "f.cvd", "f.cld"};
    struct vsig_loader *l;
    struct vsig_db *db;

    if (size < 1)
        return 0;
    const char *name = names[data[0] % (sizeof names / sizeof names[0])];
    struct vsig_load_opts o = {
        .sz = sizeof o, .flags = (data[0] & 0x80) ? VSIG_LOAD_STRICT : 0};
    if (vsig_loader_new(&l, &o) < 0)
        return 0;
    (void)vsig_loader_add(l, name, data + 1, size - 1);
    if (vsig_loader_compile(l, &db) == 0) {
        struct vsig_stream *s;
        if (vsig_stream_new(&s, db, NULL, on_match, NULL) == 0) {
            /* The database text itself is a convenient haystack. */
            (void)vsig_stream_feed(s, data + 1, size - 1);
            (void)vsig_stream_end(s);
            vsig_stream_free(s);
        }
        vsig_db_unref(db);
    }
    vsig_loader_free(l);
    return 0;
}
