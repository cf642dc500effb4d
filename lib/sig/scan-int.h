/* The stream, shared by the modules that run it:
 *   scan.c       life cycle, the window, feeding, the end of an object
 *   prefilter.c  the sampled-gram passes over the data -> anchor hits
 *   match.c      anchor hits -> parts, chains, logical signatures, reports
 */
#ifndef VIGIL_SIG_SCAN_INT_H
#define VIGIL_SIG_SCAN_INT_H

#include "sig/sig-int.h"

#define BLOCK 2048u /* positions per candidate batch */

struct vsig_stream {
    struct vsig_db *db;
    vsig_match_fn fn;
    void *opaque;
    struct vsig_stream_opts o;
    uint64_t n; /* bytes consumed */
    uint64_t f; /* positions below f have been processed */
    int target; /* object type, -1 until known */
    bool ended, stopped;
    uint8_t magic[4];

    /* The window: bytes [wbase, wbase + wlen) with wbase + wlen == n. */
    uint8_t *win;
    size_t wcap, wlen, keep;
    uint64_t wbase;

    uint32_t *cand[VS_NGROUPS];
    size_t ncand[VS_NGROUPS];

    /* Chains of multi-part signatures: progress, changed only through
     * vs_set_prog(), which keeps the live bitmap in step (a bit per gram
     * table entry: may its hits matter now?). */
    uint16_t *prog;
    uint64_t *live;
    uint64_t *first, *last;
    uint8_t *touched; /* state listed in t_state */
    /* Logical signatures. */
    uint32_t *cnt;           /* per subsignature */
    uint8_t *ldone;          /* per ldb */
    uint64_t *loff, *lend;   /* per ldb: last subsignature match */
    uint64_t *mmute, *smute; /* bitmaps: msigs, signatures */
    /* What to clear on reset. */
    uint32_t *t_state, *t_sub, *t_ldb, *t_mm, *t_sm;
    size_t nt_state, nt_sub, nt_ldb, nt_mm, nt_sm;

    struct vs_scratch sc;
    struct vs_hashctx *hc;
    bool hashing;
    bool bmi2;   /* use the BMI2 prefilter loops */
    bool avx512; /* use vs_pass512() for the 3- and 4-byte gram classes */
};

static inline bool bit(const uint64_t *m, uint32_t i)
{
    return (m[i >> 6] >> (i & 63)) & 1;
}

/* Process sampled positions in [from, to) of window @w (prefilter.c).
 * @final: the window ends at the end of the object. */
VS_HIDDEN void vs_process(struct vsig_stream *s, const struct vs_win *w,
                          uint64_t from, uint64_t to, bool final);

/* match.c */
/* Set chain @state's progress to @v and its entries' live bits. */
VS_HIDDEN void vs_set_prog(struct vsig_stream *s, uint32_t state, uint16_t v);
/* The live bits of subsignature @sub's entries after its count changed. */
VS_HIDDEN void vs_sub_live(struct vsig_stream *s, uint32_t sub);
/* Report a match of signature @sig; false once the stream is stopped. */
VS_HIDDEN bool vs_emit(struct vsig_stream *s, uint32_t sig, uint64_t off,
                       uint64_t end);
/* An anchor of segment @si verified by the inline check at @a. */
VS_HIDDEN void vs_on_anchor(struct vsig_stream *s, const struct vs_win *w,
                            uint32_t si, uint64_t a);
/* At the end of the object: EOF-anchored signatures (size unknown), the
 * logical signatures left, hash signatures. */
VS_HIDDEN void vs_end_object(struct vsig_stream *s, const struct vs_win *w);

#endif
