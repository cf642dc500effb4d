/* Shared by the matcher fuzzers (fuzz-sigscan, fuzz-sigmatch): scan data
 * through a stream in pieces and fold every match into one value, so that
 * two ways of scanning the same data can be compared. Included, not linked:
 * each fuzzer is one translation unit with the library. */
#ifndef VIGIL_FUZZ_SIG_RUN_H
#define VIGIL_FUZZ_SIG_RUN_H

#include <stdint.h>
#include <stdlib.h>

#include "vigil/sig.h"

struct acc {
    uint64_t n, sum;
    uint64_t sigs; /* bit sig % 64 of each signature that matched */
};

static int on_match(void *opaque, const struct vsig_match *m)
{
    struct acc *a = opaque;
    a->n++;
    a->sum = a->sum * 31 + m->sig * 7 + m->offset * 3 + m->end;
    a->sigs |= 1ull << (m->sig & 63);
    return VSIG_CONTINUE;
}

/* The matches of d[0..n) fed in pieces of `piece` bytes; `o` as for
 * vsig_stream_new (NULL: defaults). Aborts on any stream error: the inputs
 * are in memory, so an error is a bug. */
static struct acc run_pieces(struct vsig_db *db,
                             const struct vsig_stream_opts *o, const uint8_t *d,
                             size_t n, size_t piece)
{
    struct acc a = {0, 0, 0};
    struct vsig_stream *s;
    if (vsig_stream_new(&s, db, o, on_match, &a) < 0)
        abort();
    for (size_t p = 0; p < n; p += piece) {
        size_t k = n - p < piece ? n - p : piece;
        if (vsig_stream_feed(s, d + p, k) != 0)
            abort();
    }
    if (vsig_stream_end(s) != 0)
        abort();
    vsig_stream_free(s);
    return a;
}

#endif
