/* Streams: the prefilter passes, chaining of multi-part signatures, logical
 * signatures and reporting.
 *
 * Positions are absolute offsets in the object.  A sampled position j is
 * "processed" once the bytes [j - lb, j + lf) are available, so every check
 * around an anchor sees complete data.  Data arrives in pieces: the last
 * bytes of the previous piece are kept in a small window, the first bytes of
 * the new piece are appended to it and the positions straddling the
 * boundary are processed there; the rest of the piece is scanned in place,
 * without copying.  Memory per stream is fixed at creation.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

    /* Chains of multi-part signatures. */
    uint16_t *prog;
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
    bool bmi2; /* use the BMI2 prefilter loops */
};

static inline bool bit(const uint64_t *m, uint32_t i)
{
    return (m[i >> 6] >> (i & 63)) & 1;
}

static void mute_msig(struct vsig_stream *s, uint32_t mi)
{
    if (!bit(s->mmute, mi)) {
        s->mmute[mi >> 6] |= 1ull << (mi & 63);
        s->t_mm[s->nt_mm++] = mi;
    }
}

static void mute_sig(struct vsig_stream *s, uint32_t si)
{
    const struct vs_sig *sg = &s->db->st.sigs[si];

    if (!bit(s->smute, si)) {
        s->smute[si >> 6] |= 1ull << (si & 63);
        s->t_sm[s->nt_sm++] = si;
    }
    if (sg->kind == VSIG_MATCH_BODY)
        for (uint32_t k = 0; k < sg->nmsig; k++)
            mute_msig(s, sg->msig + k);
}

/* Report a match; false once the stream is stopped. */
static bool emit(struct vsig_stream *s, uint32_t sig, uint64_t off,
                 uint64_t end)
{
    const struct vs_sig *sg = &s->db->st.sigs[sig];

    if (s->stopped || bit(s->smute, sig))
        return !s->stopped;
    struct vsig_match m = {.sig = sig,
                           .name = s->db->st.names + sg->name,
                           .kind = (enum vsig_match_kind)sg->kind,
                           .offset = off,
                           .end = end};
    int r = s->fn ? s->fn(s->opaque, &m) : VSIG_CONTINUE;
    if (r == VSIG_MUTE)
        mute_sig(s, sig);
    else if (r == VSIG_STOP)
        s->stopped = true;
    return !s->stopped;
}

/* ---- logical signatures ---- */

struct lval {
    uint64_t cnt;
    uint32_t distinct;
    bool t;
};

static bool ldb_eval(const struct vsig_stream *s, const struct vs_ldb *l,
                     uint64_t size)
{
    struct lval st[64 + 1];
    size_t sp = 0;
    const struct vs_rpn *p = s->db->st.rpn + l->rpn;

    if (size != VSIG_SIZE_UNKNOWN && (size < l->fs_min || size > l->fs_max))
        return false;
    for (uint32_t i = 0; i < l->nrpn; i++) {
        const struct vs_rpn *op = &p[i];
        switch (op->op) {
        case VS_OP_SUB: {
            if (sp == sizeof st / sizeof st[0])
                return false;
            uint64_t c = s->cnt[l->sub + op->a];
            st[sp++] = (struct lval){c, c > 0, c > 0};
            break;
        }
        case VS_OP_AND:
        case VS_OP_OR: {
            if (sp < 2)
                return false;
            struct lval b = st[--sp], a = st[--sp];
            bool t = op->op == VS_OP_AND ? (a.t && b.t) : (a.t || b.t);
            /* A block that is false counts no matches (clamscan 1.4:
             * (0&1)=0 holds when only 0 matched). */
            st[sp++] =
                t ? (struct lval){a.cnt + b.cnt, a.distinct + b.distinct, true}
                  : (struct lval){0, 0, false};
            break;
        }
        default: {
            if (sp < 1)
                return false;
            struct lval *v = &st[sp - 1];
            bool t = op->op == VS_OP_EQ   ? v->cnt == op->a
                     : op->op == VS_OP_GT ? v->cnt > op->a
                                          : v->cnt < op->a;
            if (op->b != VS_NONE && v->distinct < op->b)
                t = false;
            v->t = t;
            break;
        }
        }
    }
    return sp == 1 && st[0].t;
}

static void sub_matched(struct vsig_stream *s, uint32_t sub, uint64_t off,
                        uint64_t end)
{
    const struct vs_store *st = &s->db->st;
    uint32_t li = st->subs[sub];
    const struct vs_ldb *l = &st->ldbs[li];

    if (s->ldone[li])
        return;
    if (s->cnt[sub] == 0)
        s->t_sub[s->nt_sub++] = sub;
    if (s->cnt[sub] < UINT32_MAX)
        s->cnt[sub]++;
    s->loff[li] = off;
    s->lend[li] = end;
    if (!l->monotone)
        return;
    uint64_t size = s->o.size;
    if (size == VSIG_SIZE_UNKNOWN && (l->fs_min > 0 || l->fs_max != UINT64_MAX))
        return; /* FileSize: decided at the end */
    if (ldb_eval(s, l, size)) {
        s->ldone[li] = 1;
        s->t_ldb[s->nt_ldb++] = li;
        emit(s, l->sig, off, end);
    }
}

static void msig_matched(struct vsig_stream *s, const struct vs_msig *m,
                         uint64_t off, uint64_t end)
{
    if (m->is_sub)
        sub_matched(s, m->owner, off, end);
    else
        emit(s, m->owner, off, end);
}

/* ---- anchors ---- */

static bool target_ok(const struct vsig_stream *s, uint8_t t)
{
    return t == 0 || (s->o.flags & VSIG_STREAM_ALL_TARGETS) || s->target == t;
}

/* Allowed start range of a signature's first part. */
static bool start_range(const struct vsig_stream *s, const struct vs_msig *m,
                        uint64_t *lo, uint64_t *hi)
{
    switch (m->off.kind) {
    case VS_OFF_ABS:
        *lo = m->off.off;
        break;
    case VS_OFF_EOF:
        if (s->o.size == VSIG_SIZE_UNKNOWN || m->off.off > s->o.size)
            return false;
        *lo = s->o.size - m->off.off;
        break;
    default:
        *lo = 0;
        *hi = UINT64_MAX;
        return true;
    }
    if (__builtin_add_overflow(*lo, m->off.shift, hi))
        *hi = UINT64_MAX;
    return true;
}

static void on_anchor(struct vsig_stream *s, const struct vs_win *w,
                      uint32_t si, uint64_t a)
{
    const struct vsig_db *db = s->db;
    const struct vs_seg *seg = &db->segs[si];
    uint32_t mi = seg->msig;
    const struct vs_msig *m = &db->st.msigs[mi];
    struct vs_vres r;
    uint64_t st;

    if (bit(s->mmute, mi) || !target_ok(s, m->target))
        return;
    if (seg->idx == 0) {
        uint64_t lo, hi;
        if (m->off.kind == VS_OFF_EOF && s->o.size == VSIG_SIZE_UNKNOWN)
            return; /* vsig_stream_end() evaluates it */
        if (!start_range(s, m, &lo, &hi)) {
            mute_msig(s, mi);
            return;
        }
        if (a > seg->pre_max && a - seg->pre_max > hi) {
            /* Past the offset window: this part can never start again. */
            if (m->nseg == 1 || s->prog[m->state] == 0)
                mute_msig(s, mi);
            return;
        }
        /* Chain started: an earlier first part is never worse, unless the
         * next gap has an upper bound and nothing followed yet. */
        if (m->nseg > 1 && s->prog[m->state] != 0 &&
            ((seg + 1)->gmax == VS_INF || s->prog[m->state] > 1))
            return;
        if (vs_match(db, seg, w, a, &s->sc, lo, hi, &st, &r) <= 0)
            return;
        if (m->nseg == 1) {
            msig_matched(s, m, st, r.emin);
            return;
        }
        if (!s->touched[m->state]) {
            s->touched[m->state] = 1;
            s->t_state[s->nt_state++] = m->state;
        }
        s->prog[m->state] = 1;
        s->first[m->state] = st;
        s->last[m->state] = r.emin;
        return;
    }
    uint32_t k = seg->idx;
    if (s->prog[m->state] != k)
        return;
    uint64_t last = s->last[m->state];
    uint64_t lo = last + seg->gmin;
    uint64_t hi = seg->gmax == VS_INF ? UINT64_MAX : last + seg->gmax;
    int found = vs_match(db, seg, w, a, &s->sc, lo, hi, &st, &r);
    if (found < 0)
        return;
    if (found == 0) {
        if (r.smin > hi)
            s->prog[m->state] = 0; /* too far: start over */
        return;
    }
    if (k + 1 < m->nseg) {
        s->prog[m->state] = (uint16_t)(k + 1);
        s->last[m->state] = r.emin;
        return;
    }
    s->prog[m->state] = 0;
    msig_matched(s, m, s->first[m->state], r.emin);
}

/* ---- prefilter ---- */

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
#define HASHG(g, x) ((g) <= 2 ? (x) : VS_H1((x)*mul, hmask))
#define BIT(h)      ((bloom[(h) >> 6] >> ((h)&63)) & 1)

typedef size_t (*scan_fn)(const uint64_t *bloom, uint64_t hmask, uint64_t mul,
                          const uint8_t *p, uint32_t r, uint32_t end,
                          uint32_t *out);

#define DEFINE_SCAN(name, attr, G, S)                                          \
    attr static size_t name(const uint64_t *bloom, uint64_t hmask,             \
                            uint64_t mul, const uint8_t *p, uint32_t r,        \
                            uint32_t end, uint32_t *out)                       \
    {                                                                          \
        size_t n = 0;                                                          \
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
    return scan_fns[s->bmi2][g->cls](
        g->bloom, ((uint64_t)1 << g->mbits) - 1, g->mul, w->buf + (j - w->base),
        (uint32_t)(j - from), (uint32_t)(to - from), out);
}

static void candidate(struct vsig_stream *s, const struct vs_win *w,
                      const struct vs_group *g, uint64_t j)
{
    uint64_t x = gram_at(w->buf + (j - w->base), g->g);
    if (g->g > 2) {
        uint64_t h2 = VS_H2(x * g->mul, (1ull << g->mbits) - 1);
        if (!((g->bloom[h2 >> 6] >> (h2 & 63)) & 1))
            return;
    }
    uint64_t b = (x * VS_HASHMUL) >> (64 - g->bbits);

    for (uint32_t k = g->boff[b]; k < g->boff[b + 1]; k++) {
        const struct vs_gent *e = &g->ents[k];
        if (e->gram != x)
            continue;
        uint32_t ref = e->ref, o = ref & 31;
        if (j < o)
            continue;
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
                continue;
        }
        on_anchor(s, w, ref >> 5, j - o);
        if (s->stopped)
            return;
    }
}

/* Process sampled positions in [from, to).  @final: the window ends at the
 * end of the object (grams must fit before it). */
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

static void process(struct vsig_stream *s, const struct vs_win *w,
                    uint64_t from, uint64_t to, bool final)
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
            candidate(s, w, &db->groups[best], blk + bp);
            if (s->stopped)
                return;
        }
    }
}

/* ---- the window ---- */

/* Append bytes, dropping the oldest beyond s->keep when full. */
static void win_append(struct vsig_stream *s, const uint8_t *p, size_t n)
{
    if (s->wlen + n > s->wcap) {
        size_t drop = s->wlen > s->keep ? s->wlen - s->keep : 0;
        memmove(s->win, s->win + drop, s->wlen - drop);
        s->wlen -= drop;
        s->wbase += drop;
    }
    memcpy(s->win + s->wlen, p, n);
    s->wlen += n;
}

/* Object type from the first @have (<= 4) bytes. */
static void detect_target(struct vsig_stream *s, uint64_t have)
{
    static const uint8_t macho[][4] = {{0xfe, 0xed, 0xfa, 0xce},
                                       {0xfe, 0xed, 0xfa, 0xcf},
                                       {0xce, 0xfa, 0xed, 0xfe},
                                       {0xcf, 0xfa, 0xed, 0xfe},
                                       {0xca, 0xfe, 0xba, 0xbe}};
    const uint8_t *m = s->magic;

    s->target = 0;
    if (have < 2)
        return;
    if (m[0] == 'M' && m[1] == 'Z') {
        s->target = 1;
        return;
    }
    if (have < 4)
        return;
    if (memcmp(m, "\177ELF", 4) == 0) {
        s->target = 6;
        return;
    }
    for (size_t i = 0; i < sizeof macho / sizeof macho[0]; i++)
        if (memcmp(m, macho[i], 4) == 0)
            s->target = 9;
}

int vsig_stream_feed(struct vsig_stream *s, const void *buf, size_t len)
{
    const uint8_t *d = buf;
    const struct vsig_db *db = s->db;

    if (s->ended)
        return -EINVAL;
    if (s->stopped)
        return 1;
    if (len == 0)
        return 0;
    if (s->o.size != VSIG_SIZE_UNKNOWN &&
        (len > s->o.size || s->n > s->o.size - len))
        return -EINVAL;
    if (s->hashing)
        vs_hashctx_update(s->hc, d, len);
    for (size_t i = 0; s->n + i < 4 && i < len; i++)
        s->magic[s->n + i] = d[i];
    if (s->target < 0 && (s->n + len >= 4))
        detect_target(s, 4);

    size_t jl = len < (size_t)db->lb + db->lf ? len : (size_t)db->lb + db->lf;
    win_append(s, d, jl);
    uint64_t hi = s->n + jl;
    struct vs_win w = {.buf = s->win,
                       .base = s->wbase,
                       .lo = s->wbase,
                       .hi = hi,
                       .bof = s->wbase == 0};
    if (hi + 1 > db->lf && hi + 1 - db->lf > s->f) {
        process(s, &w, s->f, hi + 1 - db->lf, false);
        s->f = hi + 1 - db->lf;
    }
    if (len > jl) {
        struct vs_win body = {.buf = d,
                              .base = s->n,
                              .lo = s->n,
                              .hi = s->n + len,
                              .bof = s->n == 0};
        uint64_t to = s->n + len + 1 - db->lf;
        if (!s->stopped && to > s->f) {
            process(s, &body, s->f, to, false);
            s->f = to;
        }
        size_t rest = len - jl;
        if (rest >= s->keep) {
            memcpy(s->win, d + len - s->keep, s->keep);
            s->wlen = s->keep;
            s->wbase = s->n + len - s->keep;
        } else {
            win_append(s, d + jl, rest);
        }
    }
    s->n += len;
    return s->stopped ? 1 : 0;
}

/* ---- end of object ---- */

struct first_ctx {
    uint64_t lo, hi; /* allowed start */
    uint64_t s, e;
    bool found;
    /* Single-part signatures: report every match instead of stopping. */
    struct vsig_stream *all;
    const struct vs_msig *m;
};

static int first_cb(void *opaque, const struct vs_seg *seg, uint64_t st,
                    const struct vs_vres *r)
{
    struct first_ctx *c = opaque;

    (void)seg;
    c->s = st;
    c->e = r->emin;
    c->found = true;
    if (c->all) {
        msig_matched(c->all, c->m, st, r->emin);
        return c->all->stopped ? 1 : 0;
    }
    return 1;
}

/* EOF-anchored signature over the retained tail (size was unknown). */
static void eval_eof(struct vsig_stream *s, const struct vs_win *w, uint32_t mi)
{
    const struct vsig_db *db = s->db;
    const struct vs_msig *m = &db->st.msigs[mi];

    if (bit(s->mmute, mi) || !target_ok(s, m->target) || m->off.off > s->n)
        return;
    uint64_t base = s->n - m->off.off;
    if (base < w->lo)
        return; /* beyond the tail: docs/signatures.md */
    struct first_ctx c = {
        .lo = base,
        .hi = base + m->off.shift < base ? UINT64_MAX : base + m->off.shift};
    uint64_t ms = 0, last = 0;
    for (uint32_t k = 0; k < m->nseg; k++) {
        const struct vs_seg *seg = &db->segs[m->seg + k];
        if (k > 0) {
            c.lo = last + seg->gmin;
            c.hi = seg->gmax == VS_INF ? UINT64_MAX : last + seg->gmax;
        }
        c.found = false;
        if (m->nseg == 1) {
            c.all = s;
            c.m = m;
        }
        uint64_t from = k == 0 ? 0 : c.lo;
        vs_search_seg(db, seg, w, from, w->hi, c.lo, c.hi, &s->sc, first_cb,
                      &c);
        if (!c.found)
            return;
        if (k == 0)
            ms = c.s;
        last = c.e;
    }
    if (m->nseg > 1)
        msig_matched(s, m, ms, last);
}

static void report_hashes(struct vsig_stream *s)
{
    uint8_t dg[VS_NALGO][32];
    const struct vs_store *st = &s->db->st;

    memset(dg, 0, sizeof dg);
    vs_hashctx_final(s->hc, dg);
    for (int a = 0; a < VS_NALGO && !s->stopped; a++) {
        if (!(s->db->hash_algos & (1u << a)))
            continue;
        const struct vs_hash *h =
            vs_hash_find(st->hashes[a], st->nhashes[a], a, dg[a]);
        const struct vs_hash *end = st->hashes[a] + st->nhashes[a];
        for (; h && h < end && memcmp(h->digest, dg[a], 32) == 0; h++)
            if (h->size == UINT64_MAX || h->size == s->n)
                if (!emit(s, h->sig, 0, s->n))
                    return;
    }
}

int vsig_stream_end(struct vsig_stream *s)
{
    const struct vsig_db *db = s->db;

    if (s->ended)
        return -EINVAL;
    s->ended = true;
    if (s->stopped)
        return 1;
    if (s->o.size != VSIG_SIZE_UNKNOWN && s->n != s->o.size)
        return -EINVAL;
    if (s->target < 0)
        detect_target(s, s->n);
    struct vs_win w = {.buf = s->win,
                       .base = s->wbase,
                       .lo = s->wbase,
                       .hi = s->n,
                       .bof = s->wbase == 0,
                       .eof = true};
    if (s->f < s->n)
        process(s, &w, s->f, s->n, true);
    s->f = s->n;
    if (s->o.size == VSIG_SIZE_UNKNOWN)
        for (size_t i = 0; i < db->neof && !s->stopped; i++)
            eval_eof(s, &w, db->eof_msigs[i]);
    for (uint32_t li = 0; li < db->st.nldbs && !s->stopped; li++) {
        const struct vs_ldb *l = &db->st.ldbs[li];
        if (s->ldone[li] || bit(s->smute, l->sig))
            continue;
        if (ldb_eval(s, l, s->n)) {
            s->ldone[li] = 1;
            s->t_ldb[s->nt_ldb++] = li;
            emit(s, l->sig, s->loff[li], s->lend[li]);
        }
    }
    if (s->hashing && !s->stopped)
        report_hashes(s);
    return s->stopped ? 1 : 0;
}

/* ---- life cycle ---- */

static void stream_release(struct vsig_stream *s)
{
    free(s->win);
    for (int i = 0; i < VS_NGROUPS; i++)
        free(s->cand[i]);
    free(s->prog);
    free(s->first);
    free(s->last);
    free(s->touched);
    free(s->cnt);
    free(s->ldone);
    free(s->loff);
    free(s->lend);
    free(s->mmute);
    free(s->smute);
    free(s->t_state);
    free(s->t_sub);
    free(s->t_ldb);
    free(s->t_mm);
    free(s->t_sm);
    free(s->sc.a);
    vs_lin_free(&s->sc);
    free(s->hc);
    vsig_db_unref(s->db);
}

static int set_opts(struct vsig_stream *s, const struct vsig_stream_opts *o)
{
    struct vsig_stream_opts d = {
        .sz = sizeof d, .size = VSIG_SIZE_UNKNOWN, .target = VSIG_TARGET_AUTO};
    if (o) {
        if (o->sz < sizeof(size_t))
            return -EINVAL;
        memcpy(&d, o, o->sz < sizeof d ? o->sz : sizeof d);
        d.sz = sizeof d;
    }
    if (d.target < VSIG_TARGET_AUTO || d.target > 255)
        return -EINVAL;
    s->o = d;
    return 0;
}

static void *zalloc(size_t n, size_t sz, size_t *total)
{
    if (n == 0)
        n = 1;
    *total += n * sz;
    return calloc(n, sz);
}

/* Allocate everything sized by the database. */
static int stream_alloc(struct vsig_stream *s, struct vsig_db *db)
{
    const struct vs_store *st = &db->st;
    size_t tot = 0;
    size_t nw = db->max_span / 64 + 2;

    s->db = vsig_db_ref(db);
    s->keep = (size_t)db->lb + db->lf;
    if (s->keep < db->eof_reach)
        s->keep = db->eof_reach;
    s->wcap = 2 * s->keep + 16;
    s->win = zalloc(s->wcap + 8, 1, &tot);
    for (int i = 0; i < VS_NGROUPS; i++)
        s->cand[i] = zalloc(BLOCK + 1, sizeof(uint32_t), &tot);
    s->prog = zalloc(db->nstate, sizeof *s->prog, &tot);
    s->first = zalloc(db->nstate, sizeof *s->first, &tot);
    s->last = zalloc(db->nstate, sizeof *s->last, &tot);
    s->touched = zalloc(db->nstate, 1, &tot);
    s->cnt = zalloc(st->nsubs, sizeof *s->cnt, &tot);
    s->ldone = zalloc(st->nldbs, 1, &tot);
    s->loff = zalloc(st->nldbs, sizeof *s->loff, &tot);
    s->lend = zalloc(st->nldbs, sizeof *s->lend, &tot);
    s->mmute = zalloc(st->nmsigs / 64 + 1, sizeof *s->mmute, &tot);
    s->smute = zalloc(st->nsigs / 64 + 1, sizeof *s->smute, &tot);
    s->t_state = zalloc(db->nstate, sizeof(uint32_t), &tot);
    s->t_sub = zalloc(st->nsubs, sizeof(uint32_t), &tot);
    s->t_ldb = zalloc(st->nldbs, sizeof(uint32_t), &tot);
    s->t_mm = zalloc(st->nmsigs, sizeof(uint32_t), &tot);
    s->t_sm = zalloc(st->nsigs, sizeof(uint32_t), &tot);
    s->sc.words = nw;
    s->sc.nlin = db->nlin;
    s->sc.lin = zalloc(db->nlin, sizeof *s->sc.lin, &tot);
    if (!s->sc.lin)
        return -ENOMEM;
    s->sc.a = zalloc(6 * nw, sizeof(uint64_t), &tot);
    s->hc = zalloc(1, vs_hashctx_size(), &tot);
    if (!s->win || !s->prog || !s->first || !s->last || !s->touched ||
        !s->cnt || !s->ldone || !s->loff || !s->lend || !s->mmute ||
        !s->smute || !s->t_state || !s->t_sub || !s->t_ldb || !s->t_mm ||
        !s->t_sm || !s->sc.a || !s->hc)
        return -ENOMEM;
    for (int i = 0; i < VS_NGROUPS; i++)
        if (!s->cand[i])
            return -ENOMEM;
    s->sc.b = s->sc.a + nw;
    s->sc.c = s->sc.b + nw;
    s->sc.d = s->sc.c + nw;
    s->sc.e = s->sc.d + nw;
    s->sc.f = s->sc.e + nw;
    return 0;
}

/* Per-object state back to zero, touching only what was used. */
static void stream_clear(struct vsig_stream *s)
{
    for (size_t i = 0; i < s->nt_state; i++) {
        s->prog[s->t_state[i]] = 0;
        s->touched[s->t_state[i]] = 0;
    }
    for (size_t i = 0; i < s->nt_sub; i++)
        s->cnt[s->t_sub[i]] = 0;
    for (size_t i = 0; i < s->nt_ldb; i++)
        s->ldone[s->t_ldb[i]] = 0;
    for (size_t i = 0; i < s->nt_mm; i++)
        s->mmute[s->t_mm[i] >> 6] = 0;
    for (size_t i = 0; i < s->nt_sm; i++)
        s->smute[s->t_sm[i] >> 6] = 0;
    s->nt_state = s->nt_sub = s->nt_ldb = s->nt_mm = s->nt_sm = 0;
    s->n = s->f = 0;
    s->sc.steps = s->sc.anchors = 0;
    s->sc.gen++; /* linear-path states start over */
    s->wlen = 0;
    s->wbase = 0;
    s->ended = s->stopped = false;
    memset(s->magic, 0, sizeof s->magic);
    s->target = s->o.target;
    s->hashing = s->db->hash_algos && !(s->o.flags & VSIG_STREAM_NO_HASH);
    if (s->hashing)
        vs_hashctx_init(s->hc, s->db->hash_algos);
}

int vsig_stream_new(struct vsig_stream **out, struct vsig_db *db,
                    const struct vsig_stream_opts *o, vsig_match_fn fn,
                    void *opaque)
{
    struct vsig_stream *s;
    int r;

    if (out == NULL || db == NULL)
        return -EINVAL;
    if ((s = calloc(1, sizeof *s)) == NULL)
        return -ENOMEM;
    if ((r = set_opts(s, o)) < 0) {
        free(s);
        return r;
    }
    if ((r = stream_alloc(s, db)) < 0) {
        stream_release(s);
        free(s);
        return r;
    }
    s->fn = fn;
    s->opaque = opaque;
#if defined(__x86_64__)
    __builtin_cpu_init();
    s->bmi2 = __builtin_cpu_supports("bmi2");
#endif
    stream_clear(s);
    *out = s;
    return 0;
}

int vsig_stream_reset(struct vsig_stream *s, struct vsig_db *db,
                      const struct vsig_stream_opts *o)
{
    int r;

    if ((r = set_opts(s, o)) < 0)
        return r;
    if (db != NULL && db != s->db) {
        struct vsig_stream ns;
        memset(&ns, 0, sizeof ns);
        if ((r = stream_alloc(&ns, db)) < 0) {
            stream_release(&ns);
            return r;
        }
        ns.fn = s->fn;
        ns.opaque = s->opaque;
        ns.o = s->o;
        stream_release(s);
        *s = ns;
    }
    stream_clear(s);
    return 0;
}

uint64_t vsig_stream_offset(const struct vsig_stream *s)
{
    return s->n;
}

void vsig_stream_stats(const struct vsig_stream *s,
                       struct vsig_stream_stats *st)
{
    struct vsig_stream_stats v = {
        .sz = 0, .anchors = s->sc.anchors, .verify_steps = s->sc.steps};
    size_t n = st->sz < sizeof v ? st->sz : sizeof v;

    v.sz = n;
    memcpy(st, &v, n);
}

void vsig_stream_free(struct vsig_stream *s)
{
    if (s == NULL)
        return;
    stream_release(s);
    free(s);
}

/* ---- databases ---- */

struct vsig_db *vsig_db_ref(struct vsig_db *db)
{
    __atomic_add_fetch(&db->refs, 1, __ATOMIC_RELAXED);
    return db;
}

void vsig_db_unref(struct vsig_db *db)
{
    if (db == NULL)
        return;
    if (__atomic_sub_fetch(&db->refs, 1, __ATOMIC_ACQ_REL) == 0)
        vs_db_free(db);
}

void vsig_db_stats(const struct vsig_db *db, struct vsig_db_stats *st)
{
    struct vsig_db_stats v;
    size_t n = st->sz < sizeof v ? st->sz : sizeof v;

    memset(&v, 0, sizeof v);
    v.sz = n;
    v.signatures = db->st.nsigs;
    v.body = db->st.nbody;
    v.logical = db->st.nldbs;
    for (int a = 0; a < VS_NALGO; a++)
        v.hashes += db->st.nhashes[a];
    v.anchors = db->nanchors;
    v.memory = db->memory;
    size_t keep = (size_t)db->lb + db->lf;
    if (keep < db->eof_reach)
        keep = db->eof_reach;
    v.stream_memory = 2 * keep + VS_NGROUPS * BLOCK * 4 + db->nstate * 22 +
                      db->st.nsubs * 8 + db->st.nldbs * 21 +
                      db->st.nmsigs / 8 * 5 + db->st.nsigs / 8 * 5 +
                      (db->max_span / 64 + 2) * 48;
    memcpy(st, &v, n);
}

const char *vsig_db_name(const struct vsig_db *db, uint32_t id)
{
    if (id >= db->st.nsigs)
        return NULL;
    return db->st.names + db->st.sigs[id].name;
}
