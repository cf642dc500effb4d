/* The signature tests' match lists: a callback that keeps every match
 * (signature, kind, offsets; no padding, so that two lists compare with
 * memcmp) and a scan of the same data fed in pieces of any size. */
#ifndef VIGIL_TESTS_SIGHITS_H
#define VIGIL_TESTS_SIGHITS_H

#include <stdint.h>
#include <stdlib.h>

#include "vigil/sig.h"

struct hit {
    uint32_t sig, kind;
    uint64_t off, end;
};

struct hits {
    struct hit h[4096];
    size_t n;
};

__attribute__((unused)) static int hits_collect(void *opaque,
                                                const struct vsig_match *m)
{
    struct hits *hs = opaque;
    if (hs->n < sizeof hs->h / sizeof hs->h[0])
        hs->h[hs->n++] = (struct hit){m->sig, m->kind, m->offset, m->end};
    return VSIG_CONTINUE;
}

/* The matches of @d fed in pieces of @piece bytes, into @hs (emptied
 * first). A scan that fails is a broken test: abort. */
__attribute__((unused)) static void hits_scan(struct vsig_db *db,
                                              const uint8_t *d, size_t n,
                                              size_t piece, struct hits *hs)
{
    struct vsig_stream *s;
    hs->n = 0;
    if (vsig_stream_new(&s, db, NULL, hits_collect, hs) < 0)
        abort();
    for (size_t o = 0; o < n; o += piece)
        if (vsig_stream_feed(s, d + o, n - o < piece ? n - o : piece) != 0)
            abort();
    if (vsig_stream_end(s) != 0)
        abort();
    vsig_stream_free(s);
}

#endif
