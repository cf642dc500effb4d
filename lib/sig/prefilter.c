/* The prefilter: for each anchor class present, one pass over the data
 * that samples a g-byte gram every S positions and probes the class's bloom
 * filter; hits go through the gram table and the inline check, and the
 * survivors to vs_on_anchor() in position order. */
#include <string.h>

#include "sig/scan-int.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

static inline uint64_t gram_at(const uint8_t *p, unsigned g)
{
    switch (g) {
    case 8:
        return vs_load64(p);
    case 4:
        return vs_load32(p);
    case 3:
        return vs_load32(p) & 0xffffff;
    case 2:
        return (uint64_t)p[0] | (uint64_t)p[1] << 8;
    default:
        return p[0];
    }
}

/* Sampled positions in [r, end) (relative to the block) whose gram passes
 * the first bloom probe.  One function per anchor class, so the stride and
 * gram width are constants; a BMI2 build of each (shrx: no shift-count
 * register) is picked at run time.  Branch-free and unrolled: a hit only
 * advances the output count, so random hits cost no misprediction; the
 * second probe happens in candidate(). */
#define LOAD8(q) vs_load64(q)
#define LOAD4(q) ((uint64_t)vs_load32(q))
#define LOAD3(q) ((uint64_t)(vs_load32(q) & 0xffffff))
#define LOAD2(q) vs_load16_le(q)
#define LOAD1(q) ((uint64_t)(q)[0])
#define LOADG(g, q)                                                            \
    ((g) == 8   ? LOAD8(q)                                                     \
     : (g) == 4 ? LOAD4(q)                                                     \
     : (g) == 3 ? LOAD3(q)                                                     \
     : (g) == 2 ? LOAD2(q)                                                     \
                : LOAD1(q))
#define HASHG(g, x)                                                            \
    ((g) <= 2 ? (x) : (g) <= 4 ? VS_H1S(x, mul, mbits) : VS_H1((x)*mul, hmask))
#define BIT(h) ((bloom[(h) >> 6] >> ((h)&63)) & 1)

typedef size_t (*scan_fn)(const uint64_t *bloom, unsigned mbits, uint64_t mul,
                          const uint8_t *p, uint32_t r, uint32_t end,
                          uint32_t *out);

#define DEFINE_SCAN(name, attr, G, S)                                          \
    attr static size_t name(const uint64_t *bloom, unsigned mbits,             \
                            uint64_t mul, const uint8_t *p, uint32_t r,        \
                            uint32_t end, uint32_t *out)                       \
    {                                                                          \
        size_t n = 0;                                                          \
        uint64_t hmask = ((uint64_t)1 << mbits) - 1;                           \
        (void)hmask;                                                           \
        (void)mul;                                                             \
        for (; r + 3 * (S) < end; r += 4 * (S), p += 4 * (S)) {                \
            uint64_t h0 = HASHG(G, LOADG(G, p));                               \
            uint64_t h1 = HASHG(G, LOADG(G, p + (S)));                         \
            uint64_t h2 = HASHG(G, LOADG(G, p + 2 * (S)));                     \
            uint64_t h3 = HASHG(G, LOADG(G, p + 3 * (S)));                     \
            out[n] = r;                                                        \
            n += BIT(h0);                                                      \
            out[n] = r + (S);                                                  \
            n += BIT(h1);                                                      \
            out[n] = r + 2 * (S);                                              \
            n += BIT(h2);                                                      \
            out[n] = r + 3 * (S);                                              \
            n += BIT(h3);                                                      \
        }                                                                      \
        for (; r < end; r += (S), p += (S)) {                                  \
            uint64_t h0 = HASHG(G, LOADG(G, p));                               \
            out[n] = r;                                                        \
            n += BIT(h0);                                                      \
        }                                                                      \
        return n;                                                              \
    }

#define SCAN_PLAIN(i, a, g, s) DEFINE_SCAN(scan_##i, , g, s)
#define SCAN_BMI2(i, a, g, s)                                                  \
    DEFINE_SCAN(scan_bmi2_##i, __attribute__((target("bmi2"))), g, s)
VS_CLASSES(SCAN_PLAIN)
#if defined(__x86_64__)
VS_CLASSES(SCAN_BMI2)
#endif

static const scan_fn scan_fns[2][VS_NGROUPS] = {
#define FN_PLAIN(i, a, g, s) [i] = scan_##i,
    {VS_CLASSES(FN_PLAIN)},
#if defined(__x86_64__)
#define FN_BMI2(i, a, g, s) [i] = scan_bmi2_##i,
    {VS_CLASSES(FN_BMI2)},
#else
    {VS_CLASSES(FN_PLAIN)},
#endif
};

static size_t scan_group(const struct vsig_stream *s, const struct vs_group *g,
                         const struct vs_win *w, uint64_t from, uint64_t to,
                         uint32_t *out)
{
    const uint64_t S = g->S;
    uint64_t j = (from + S - 1) / S * S;

    if (j >= to)
        return 0;
    if (g->teddy)
        return vs_teddy_scan(g->teddy, w->buf + (j - w->base),
                             (uint32_t)(j - from), (uint32_t)(to - from), out);
    if (s->avx512 && (g->g == 3 || g->g == 4))
        return vs_pass512(g->cls, g->bloom, g->mbits, g->mul,
                          w->buf + (j - w->base), (uint32_t)(j - from),
                          (uint32_t)(to - from), out);
    return scan_fns[s->bmi2][g->cls](
        g->bloom, g->mbits, g->mul, w->buf + (j - w->base),
        (uint32_t)(j - from), (uint32_t)(to - from), out);
}

/* May a window of the group's anchors start at one of the S places that
 * put the gram at @j inside it?  Windows that do not fit in the data, or
 * whose 8-byte load would not, are not ruled out here. */
static inline bool window_may(const struct vs_group *g, const struct vs_win *w,
                              uint64_t j)
{
    uint64_t keep = g->A >= 8 ? ~0ull : (1ull << (8 * g->A)) - 1;
    for (unsigned o = 0; o < g->S; o++) {
        if (j < w->lo + o || j - o + 8 > w->hi)
            return true;
        uint64_t x = vs_load64(w->buf + (j - o - w->base)) & keep;
        uint64_t h = (x * VS_WFMUL) >> (64 - g->wfbits);
        if ((g->wf[h >> 6] >> (h & 63)) & 1)
            return true;
    }
    return false;
}

/* A block's candidates of one group that pass the second bloom probe, in
 * place, with their gram table entries prefetched.  Looking them up one by
 * one in candidate() took a cache miss on the bucket, then another on its
 * entries, each waited for in turn; issued here for the whole block, the
 * misses overlap. */
static size_t sift(const struct vs_group *g, const struct vs_win *w,
                   uint64_t blk, uint32_t *c, size_t n)
{
    const uint8_t *p = w->buf + (blk - w->base);
    size_t m = 0;

    for (size_t i = 0; i < n; i++) {
        uint64_t x = gram_at(p + c[i], g->g);
        if (g->g > 2) {
            uint64_t h1, h2;
            vs_probes(g->g, x, g->mul, g->mbits, &h1, &h2);
            /* The SIMD pass did not probe the filter (same cache line). */
            if (g->teddy && !((g->bloom[h1 >> 6] >> (h1 & 63)) & 1))
                continue;
            if (!((g->bloom[h2 >> 6] >> (h2 & 63)) & 1))
                continue;
        }
        if (g->wf && !window_may(g, w, blk + c[i]))
            continue;
        __builtin_prefetch(&g->boff[(x * VS_HASHMUL) >> (64 - g->bbits)]);
        c[m++] = c[i];
    }
    for (size_t i = 0; i < m; i++) {
        uint64_t x = gram_at(p + c[i], g->g);
        const struct vs_pk *e =
            &g->pk[g->boff[(x * VS_HASHMUL) >> (64 - g->bbits)]];
        __builtin_prefetch(e);
        __builtin_prefetch((const char *)e + 64);
    }
    return m;
}

/* Entry @e of a gram hit at @j: its inline check, then the anchor. */
static inline void entry_hit(struct vsig_stream *s, const struct vs_win *w,
                             const struct vs_gent *e, uint64_t j)
{
    uint32_t ref = e->ref, o = ref & 31;
    if (j < o || (e->sub != VS_NONE && s->cnt[e->sub]))
        return;
    /* The check regions lie in the part, but near the start or the
     * end of the object the part may not fit: verify() decides. */
    uint64_t a = j - o;
    if (e->cw && (int64_t)a + e->d0 >= (int64_t)w->lo &&
        (int64_t)a + e->d1 + e->cw <= (int64_t)w->hi) {
        const uint8_t *p0 = w->buf + (a - w->base) + e->d0;
        const uint8_t *p1 = w->buf + (a - w->base) + e->d1;
        if (e->cw == 8 ? ((vs_load64(p0) ^ e->aw[0]) & e->aw[1]) |
                             ((vs_load64(p1) ^ e->aw[2]) & e->aw[3])
                       : ((vs_load32(p0) ^ e->aw[0]) & e->aw[1]) |
                             ((vs_load32(p1) ^ e->aw[2]) & e->aw[3]))
            return;
    }
    vs_on_anchor(s, w, ref >> 5, a);
}

/* A candidate that passed sift(). */
static void candidate(struct vsig_stream *s, const struct vs_win *w,
                      const struct vs_group *g, uint64_t j)
{
    uint64_t x = gram_at(w->buf + (j - w->base), g->g);
    uint64_t b = (x * VS_HASHMUL) >> (64 - g->bbits);
    uint32_t k0 = g->boff[b], k1 = g->boff[b + 1];
    uint64_t back = VS_PK_BACK(g->g);

    if (j >= w->lo + back && j - back + 8 <= w->hi) {
        /* The pre-check word holds the gram: no gram compare needed. */
        uint64_t d = vs_load64(w->buf + (j - back - w->base));
        for (uint32_t k = k0; k < k1; k++) {
            if ((d & g->pk[k].m) != g->pk[k].v || !bit(s->live, g->lbase + k))
                continue;
            entry_hit(s, w, &g->ents[k], j);
            if (s->stopped)
                return;
        }
        return;
    }
    for (uint32_t k = k0; k < k1; k++) {
        if (g->ents[k].gram != x || !bit(s->live, g->lbase + k))
            continue;
        entry_hit(s, w, &g->ents[k], j);
        if (s->stopped)
            return;
    }
}

#if defined(__x86_64__)
/* The live bits of entries lb..lb+3 as the odd lanes of a compare mask
 * (the bitmap has a word of padding for the 8-byte load). */
static inline unsigned live4(const struct vsig_stream *s, uint32_t lb)
{
    static const uint8_t odd_lanes[16] = {0x00, 0x02, 0x08, 0x0a, 0x20, 0x22,
                                          0x28, 0x2a, 0x80, 0x82, 0x88, 0x8a,
                                          0xa0, 0xa2, 0xa8, 0xaa};
    uint64_t w = vs_load64((const uint8_t *)s->live + (lb >> 3));
    return odd_lanes[(w >> (lb & 7)) & 15];
}

/* candidate() with the pre-check words compared four at a time (AVX-512).
 * A candidate walks about five entries of its bucket (10,000 mixed
 * signatures: 5.2 M entries for 1.1 M candidates, 4.5 M of them with the
 * candidate's very gram: anchors cut from text and code share grams), and
 * the entry-by-entry loop's branches are as random as the data.  Entries
 * that pass go to entry_hit() in the same order. */
__attribute__((target("avx512f,bmi"))) static void
candidate512(struct vsig_stream *s, const struct vs_win *w,
             const struct vs_group *g, uint64_t j)
{
    uint64_t back = VS_PK_BACK(g->g);
    if (j < w->lo + back || j - back + 8 > w->hi) {
        candidate(s, w, g, j);
        return;
    }
    uint64_t x = gram_at(w->buf + (j - w->base), g->g);
    uint64_t b = (x * VS_HASHMUL) >> (64 - g->bbits);
    uint32_t k0 = g->boff[b], k1 = g->boff[b + 1];
    const __m512i d =
        _mm512_set1_epi64((long long)vs_load64(w->buf + (j - back - w->base)));

    for (uint32_t k = k0; k < k1; k += 4) {
        /* Entries k..k+3 as (v, m) pairs; the table has 3 entries of
         * padding.  Odd lanes: d & m against v, swapped in from the even
         * lanes. */
        __m512i vm = _mm512_loadu_si512((const void *)&g->pk[k]);
        __m512i dm = _mm512_and_si512(d, vm);
        __m512i v = _mm512_shuffle_epi32(vm, _MM_PERM_BADC);
        unsigned lanes =
            k1 - k >= 4 ? 0xaa : 0xaa & ((1u << (2 * (k1 - k))) - 1);
        unsigned eq = _mm512_mask_cmpeq_epi64_mask((__mmask8)lanes, dm, v);
        if (!eq)
            continue;
        uint32_t lb = g->lbase + k;
        unsigned bits = eq & live4(s, lb);
        while (bits) {
            unsigned i = _tzcnt_u32(bits);
            entry_hit(s, w, &g->ents[k + (i >> 1)], j);
            if (s->stopped)
                return;
            /* The hit may have moved a chain: the later entries' bits
             * again, as candidate() tests each when it gets to it. */
            bits = eq & live4(s, lb) & ~((2u << i) - 1);
        }
    }
}
#endif

/* Is everything any anchor at a position in [blk, bend) could look at one
 * repeated byte that no anchor can consist of?  Then nothing there can match
 * (zeroed disk blocks, padding): skip the block at memcmp speed. */
static bool dead_fill(const struct vsig_db *db, const struct vs_win *w,
                      uint64_t blk, uint64_t bend)
{
    uint64_t lo = blk >= w->lo + db->lb ? blk - db->lb : w->lo;
    uint64_t hi = bend + db->lf <= w->hi ? bend + db->lf : w->hi;
    const uint8_t *p = w->buf + (lo - w->base);
    size_t n = (size_t)(hi - lo);

    if (n < 2 || vs_set_has(&db->fill_ok, p[0]))
        return false;
    return memcmp(p, p + 1, n - 1) == 0;
}

void vs_process(struct vsig_stream *s, const struct vs_win *w, uint64_t from,
                uint64_t to, bool final)
{
    const struct vsig_db *db = s->db;

    for (uint64_t blk = from; blk < to && !s->stopped; blk += BLOCK) {
        uint64_t bend = to - blk > BLOCK ? blk + BLOCK : to;
        if (dead_fill(db, w, blk, bend))
            continue;
        unsigned ng = 0;
        size_t idx[VS_NGROUPS];
        for (unsigned gi = 0; gi < db->ngroups; gi++) {
            const struct vs_group *g = &db->groups[gi];
            uint64_t e = bend;
            if (final) {
                if (w->hi < g->g)
                    e = 0;
                else if (e > w->hi - g->g + 1)
                    e = w->hi - g->g + 1;
            }
            s->ncand[gi] =
                e > blk ? scan_group(s, g, w, blk, e, s->cand[gi]) : 0;
            s->ncand[gi] = sift(g, w, blk, s->cand[gi], s->ncand[gi]);
            idx[gi] = 0;
            if (s->ncand[gi])
                ng++;
        }
        if (ng == 0)
            continue;
        /* Merge the groups' hits so anchors are handled in order. */
        for (;;) {
            unsigned best = VS_NGROUPS;
            uint32_t bp = UINT32_MAX;
            for (unsigned gi = 0; gi < db->ngroups; gi++)
                if (idx[gi] < s->ncand[gi] && s->cand[gi][idx[gi]] < bp) {
                    bp = s->cand[gi][idx[gi]];
                    best = gi;
                }
            if (best == VS_NGROUPS)
                break;
            idx[best]++;
#if defined(__x86_64__)
            if (s->avx512)
                candidate512(s, w, &db->groups[best], blk + bp);
            else
#endif
                candidate(s, w, &db->groups[best], blk + bp);
            if (s->stopped)
                return;
        }
    }
}
