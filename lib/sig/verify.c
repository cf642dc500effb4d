/* Verification of one segment around an anchor position.
 *
 * Fixed-width segments (bytes, nibbles, fixed alternatives, {n}) are checked
 * with a masked compare, 8 bytes at a time.  Variable-width ones (ranges,
 * generic alternatives) run a set-of-positions simulation: the anchor splits
 * the segment, tokens after it are applied forward and tokens before it
 * backward, each step turning the set of reachable offsets (a bitset) into
 * the next.  No backtracking, no recursion; cost is bounded by tokens x span.
 */
#include <string.h>

#include "sig/sig-int.h"

/* (B), (L), (W) as measured against clamscan 1.4: the byte before a
 * signature, inside it, and after it.  File boundaries also match at the
 * edges.  See docs/signatures.md. */
static const struct vs_set sp_sets[3][3] = {
    [VS_SP_B] = {{{0x1000e00100000000ull, 0x0000000080000001ull, 0, 0}},
                 {{0x7000e08500002400ull, 0x0000000080000001ull, 0, 0}},
                 {{0x6000a08500002400ull, 0x0000000080000000ull, 0, 0}}},
    [VS_SP_L] = {{{0x0000000000000400ull, 0, 0, 0}},
                 {{0x0000000000000400ull, 0, 0, 0}},
                 {{0x0000000000000400ull, 0, 0, 0}}},
    [VS_SP_W] = {{{0xfc00ffffffffffffull, 0xf8000001f8000001ull,
                   0xffffffffffffffffull, 0xffffffffffffffffull}},
                 {{0xfc00ffffffffffffull, 0xf8000001f8000001ull,
                   0xffffffffffffffffull, 0xffffffffffffffffull}},
                 {{0xfc00ffffffffffffull, 0xf8000001f8000001ull,
                   0xffffffffffffffffull, 0xffffffffffffffffull}}},
};

const struct vs_set *vs_special_set(int sp, int where)
{
    return &sp_sets[sp][where];
}

static inline bool byte_ok(const struct vsig_db *db, const struct vs_tok *t,
                           uint8_t b)
{
    if (t->arg == VS_NONE)
        return (b & t->mask) == t->val;
    const struct vs_set *s =
        t->flag ? &sp_sets[t->arg][VS_WHERE_MID] : &db->st.sets[t->arg];
    return vs_set_has(s, b);
}

static inline uint8_t lower(uint8_t b)
{
    return (b >= 'A' && b <= 'Z') ? (uint8_t)(b | 0x20) : b;
}

/* Do the @t->min bytes at @p equal one of the alternatives (negated: none)? */
static bool malt_ok(const struct vsig_db *db, const struct vs_tok *t,
                    const uint8_t *p)
{
    const uint8_t *alt = db->st.pool + t->arg;
    bool nocase = t->flag & 2, hit = false;

    for (uint32_t k = 0; k < t->max && !hit; k++, alt += t->min) {
        if (!nocase) {
            hit = memcmp(alt, p, t->min) == 0;
            continue;
        }
        uint32_t i = 0;
        while (i < t->min && lower(alt[i]) == lower(p[i]))
            i++;
        hit = i == t->min;
    }
    return (t->flag & 1) ? !hit : hit;
}

bool vs_tok_ok(const struct vsig_db *db, const struct vs_tok *t,
               const uint8_t *p)
{
    return t->kind == VS_TK_MALT ? malt_ok(db, t, p) : byte_ok(db, t, *p);
}

static inline uint8_t at(const struct vs_win *w, uint64_t pos)
{
    return w->buf[pos - w->base];
}

/* ---- fixed-width segments ---- */

static bool verify_fixed(const struct vsig_db *db, const struct vs_seg *seg,
                         const struct vs_win *w, uint64_t a,
                         struct vs_scratch *sc, struct vs_vres *r)
{
    if (a < seg->pre_min)
        return false;
    uint64_t s = a - seg->pre_min;
    uint64_t e = s + seg->fxn;
    if (s < w->lo || e > w->hi)
        return false;
    const uint8_t *p = w->buf + (s - w->base);
    const uint8_t *m = db->fxmask + seg->fx, *v = db->fxval + seg->fx;
    uint32_t n = seg->fxn, i = 0;
    if (seg->nfw) {
        /* Long {n}: only the words that hold bytes to compare (the last
         * one may reach past the segment: its mask is zero there). */
        sc->steps += seg->nfw + 1 + seg->nxc;
        for (uint32_t k = 0; k < seg->nfw; k++) {
            uint32_t o = db->fxw[seg->fw + k];
            uint64_t x = 0;
            memcpy(&x, p + o, n - o < 8 ? n - o : 8);
            if ((x & vs_load64(m + o)) != vs_load64(v + o))
                return false;
        }
        i = n;
    }
    sc->steps += (n - i) / 8 + 1 + seg->nxc;
    for (; i + 8 <= n; i += 8)
        if ((vs_load64(p + i) & vs_load64(m + i)) != vs_load64(v + i))
            return false;
    if (i < n) {
        uint64_t x = 0;
        memcpy(&x, p + i, n - i);
        if ((x & vs_load64(m + i)) != vs_load64(v + i))
            return false;
    }
    for (uint32_t k = 0; k < seg->nxc; k++) {
        const struct vs_xchk *xc = &db->xchk[seg->xc + k];
        const struct vs_tok *t = &db->toks[xc->tok];
        if (t->kind == VS_TK_BYTE) {
            if (!byte_ok(db, t, p[xc->pos]))
                return false;
        } else if (!malt_ok(db, t, p + xc->pos)) {
            return false;
        }
    }
    if (seg->lookb >= 0 && s != 0) {
        if (s - 1 < w->lo ||
            !vs_set_has(&sp_sets[seg->lookb][VS_WHERE_LEFT], at(w, s - 1)))
            return false;
    }
    if (seg->looka >= 0 && !(w->eof && e == w->hi)) {
        if (e >= w->hi ||
            !vs_set_has(&sp_sets[seg->looka][VS_WHERE_RIGHT], at(w, e)))
            return false;
    }
    r->smin = r->smax = s;
    r->emin = e;
    r->starts = NULL;
    return true;
}

/* ---- bitsets ---- */

static void bs_zero(uint64_t *x, size_t nw)
{
    memset(x, 0, nw * sizeof *x);
}

static bool bs_any(const uint64_t *x, size_t nw)
{
    for (size_t i = 0; i < nw; i++)
        if (x[i])
            return true;
    return false;
}

/* dst |= src << n */
static void bs_or_shl(uint64_t *dst, const uint64_t *src, size_t n, size_t nw)
{
    size_t ws = n / 64, bsh = n % 64;

    if (ws >= nw)
        return;
    for (size_t i = nw; i-- > ws;) {
        uint64_t v = src[i - ws] << bsh;
        if (bsh && i - ws > 0)
            v |= src[i - ws - 1] >> (64 - bsh);
        dst[i] |= v;
    }
}

/* Keep bits 0..max. */
static void bs_clip(uint64_t *x, uint64_t max, size_t nw)
{
    uint64_t w = max / 64;
    if (w >= nw)
        return;
    if (max % 64 != 63)
        x[w] &= (2ull << (max % 64)) - 1;
    for (size_t i = (size_t)w + 1; i < nw; i++)
        x[i] = 0;
}

/* x = OR of x << d for d in 0..k; tmp is scratch. */
static void bs_smear(uint64_t *x, uint64_t k, uint64_t *tmp, size_t nw)
{
    uint64_t covered = 0;

    while (covered < k) {
        uint64_t step = covered + 1;
        if (step > k - covered)
            step = k - covered;
        bs_zero(tmp, nw);
        bs_or_shl(tmp, x, (size_t)step, nw);
        for (size_t i = 0; i < nw; i++)
            x[i] |= tmp[i];
        covered += step;
    }
}

/* Lowest set bit >= from, or -1. */
static int64_t bs_next(const uint64_t *x, uint64_t from, size_t nw)
{
    size_t i = (size_t)(from / 64);
    if (i >= nw)
        return -1;
    uint64_t v = x[i] & (~0ull << (from % 64));
    for (;;) {
        if (v)
            return (int64_t)(i * 64 + (size_t)__builtin_ctzll(v));
        if (++i >= nw)
            return -1;
        v = x[i];
    }
}

/* ---- variable-width segments ---- */

struct sim {
    const struct vsig_db *db;
    const struct vs_win *w;
    uint64_t origin; /* forward: first byte after the anchor; backward: a */
    uint64_t limit;  /* largest offset that stays inside the data */
    bool fwd;
    size_t nw;
    uint64_t *steps;
};

/* Byte consumed at offset q (forward: origin + q, backward: origin - q - 1) */
static inline uint64_t pos_of(const struct sim *s, uint64_t q, uint64_t w)
{
    return s->fwd ? s->origin + q : s->origin - q - w;
}

/* One token: in -> out.  tmp is scratch for gaps. */
static void step(const struct sim *s, const struct vs_tok *t,
                 const uint64_t *in, uint64_t *out, uint64_t *tmp)
{
    size_t nw = s->nw;

    *s->steps += nw;
    switch (t->kind) {
    case VS_TK_GAP:
        bs_zero(out, nw);
        bs_or_shl(out, in, t->min, nw);
        if (t->max > t->min)
            bs_smear(out, (uint64_t)t->max - t->min, tmp, nw);
        bs_clip(out, s->limit, nw);
        return;
    case VS_TK_LOOKB:
    case VS_TK_LOOKA: {
        int where = t->kind == VS_TK_LOOKB ? VS_WHERE_LEFT : VS_WHERE_RIGHT;
        const struct vs_set *set = &sp_sets[t->flag][where];
        bs_zero(out, nw);
        for (size_t i = 0; i < nw; i++) {
            for (uint64_t v = in[i]; v; v &= v - 1) {
                uint64_t q = i * 64 + (uint64_t)__builtin_ctzll(v);
                bool ok;
                (*s->steps)++;
                if (s->fwd) {
                    uint64_t p = s->origin + q;
                    ok = (s->w->eof && p == s->w->hi) ||
                         (p < s->w->hi && vs_set_has(set, at(s->w, p)));
                } else {
                    uint64_t p = s->origin - q;
                    ok = p == 0 || (p - 1 >= s->w->lo &&
                                    vs_set_has(set, at(s->w, p - 1)));
                }
                if (ok)
                    out[i] |= 1ull << (q % 64);
            }
        }
        return;
    }
    default: {
        uint64_t width = t->kind == VS_TK_MALT ? t->min : 1;
        bs_zero(out, nw);
        for (size_t i = 0; i < nw; i++) {
            for (uint64_t v = in[i]; v; v &= v - 1) {
                uint64_t q = i * 64 + (uint64_t)__builtin_ctzll(v);
                (*s->steps)++;
                if (q + width > s->limit)
                    continue;
                uint64_t p = pos_of(s, q, width);
                bool ok = t->kind == VS_TK_MALT
                              ? malt_ok(s->db, t, s->w->buf + (p - s->w->base))
                              : byte_ok(s->db, t, at(s->w, p));
                if (ok) {
                    uint64_t nq = q + width;
                    if (nq / 64 < nw)
                        out[nq / 64] |= 1ull << (nq % 64);
                }
            }
        }
        return;
    }
    }
}

/* Apply tokens [from, to) (forward) or (to, from] (backward) starting from
 * the set {0}; the result is left in *res (one of the scratch sets). */
static bool simulate(const struct sim *s, const struct vs_tok *toks,
                     uint32_t ntok, struct vs_scratch *sc, uint64_t **res)
{
    uint64_t *cur = sc->a, *nxt = sc->b;
    size_t nw = s->nw;

    bs_zero(cur, nw);
    cur[0] = 1;
    for (uint32_t k = 0; k < ntok; k++) {
        uint32_t i = s->fwd ? k : ntok - 1 - k;
        const struct vs_tok *t = &toks[i];
        if (t->kind == VS_TK_GCLOSE || t->kind == VS_TK_GOPEN) {
            /* Generic alternation: OR of each alternative applied alone. */
            uint32_t open, close;
            if (t->kind == VS_TK_GOPEN) {
                open = i;
                close = i + t->max;
            } else {
                close = i;
                open = i;
                while (toks[open].kind != VS_TK_GOPEN)
                    open--;
            }
            uint64_t *acc = sc->c;
            bs_zero(acc, nw);
            uint32_t a0 = open + 1;
            for (uint32_t j = open + 1; j <= close; j++) {
                if (toks[j].kind != VS_TK_GBAR && toks[j].kind != VS_TK_GCLOSE)
                    continue;
                /* alternative a0..j-1 */
                uint64_t *x = sc->d, *y = sc->e;
                memcpy(x, cur, nw * sizeof *x);
                for (uint32_t m = 0; m < j - a0; m++) {
                    uint32_t ti = s->fwd ? a0 + m : j - 1 - m;
                    step(s, &toks[ti], x, y, sc->f);
                    uint64_t *sw = x;
                    x = y;
                    y = sw;
                }
                for (size_t w = 0; w < nw; w++)
                    acc[w] |= x[w];
                a0 = j + 1;
            }
            memcpy(nxt, acc, nw * sizeof *nxt);
            k += close - open;
        } else {
            step(s, t, cur, nxt, sc->f);
        }
        uint64_t *sw = cur;
        cur = nxt;
        nxt = sw;
        if (!bs_any(cur, nw))
            return false;
    }
    *res = cur;
    return true;
}

static bool verify_var(const struct vsig_db *db, const struct vs_seg *seg,
                       const struct vs_win *w, uint64_t a,
                       struct vs_scratch *sc, struct vs_vres *r)
{
    const struct vs_tok *toks = db->toks + seg->tok;
    uint64_t x0 = a + seg->alen;

    if (a < w->lo || x0 > w->hi)
        return false;
    for (uint32_t i = 0; i < seg->alen; i++)
        if (!byte_ok(db, &toks[seg->atok + i], at(w, a + i)))
            return false;

    /* After the anchor. */
    uint32_t post0 = seg->atok + seg->alen;
    uint64_t *res;
    struct sim s = {
        .db = db, .w = w, .origin = x0, .fwd = true, .steps = &sc->steps};
    uint64_t span = seg->post_max;
    s.limit = w->hi - x0 < span ? w->hi - x0 : span;
    s.nw = (size_t)(span / 64 + 1);
    if (!simulate(&s, toks + post0, seg->ntok - post0, sc, &res))
        return false;
    int64_t emin = bs_next(res, 0, s.nw);
    if (emin < 0)
        return false;
    r->emin = x0 + (uint64_t)emin;

    /* Before the anchor. */
    struct sim b = {
        .db = db, .w = w, .origin = a, .fwd = false, .steps = &sc->steps};
    span = seg->pre_max;
    b.limit = a - w->lo < span ? a - w->lo : span;
    b.nw = (size_t)(span / 64 + 1);
    if (!simulate(&b, toks, seg->atok, sc, &res))
        return false;
    int64_t qmin = bs_next(res, 0, b.nw);
    if (qmin < 0)
        return false;
    uint64_t qmax = (uint64_t)qmin;
    for (int64_t q = qmin; q >= 0; q = bs_next(res, (uint64_t)q + 1, b.nw))
        qmax = (uint64_t)q;
    r->smax = a - (uint64_t)qmin;
    r->smin = a - qmax;
    r->starts = res;
    r->nstart_words = (uint32_t)b.nw;
    return true;
}

bool vs_verify(const struct vsig_db *db, const struct vs_seg *seg,
               const struct vs_win *w, uint64_t a, struct vs_scratch *sc,
               struct vs_vres *r)
{
    sc->anchors++;
    if (seg->fixed)
        return verify_fixed(db, seg, w, a, sc, r);
    return verify_var(db, seg, w, a, sc, r);
}

bool vs_vres_start_in(const struct vs_seg *seg, const struct vs_vres *r,
                      uint64_t a, uint64_t lo, uint64_t hi, uint64_t *s)
{
    (void)seg;
    if (lo > hi || r->smin > hi || r->smax < lo)
        return false;
    if (r->starts == NULL) {
        *s = r->smin;
        return true;
    }
    /* start = a - q: the latest start <= hi is the smallest q >= a - hi. */
    uint64_t qfrom = a >= hi ? a - hi : 0;
    int64_t q = bs_next(r->starts, qfrom, r->nstart_words);
    if (q < 0 || a - (uint64_t)q < lo)
        return false;
    *s = a - (uint64_t)q;
    return true;
}

bool vs_first_start_in(const struct vs_seg *seg, const struct vs_vres *r,
                       uint64_t a, uint64_t lo, uint64_t hi, uint64_t *s)
{
    if (!seg->hasref)
        return vs_vres_start_in(seg, r, a, lo, hi, s);
    if (seg->refd < 0 && a < (uint64_t) - (int64_t)seg->refd)
        return false;
    uint64_t ref = a + (uint64_t)(int64_t)seg->refd;
    if (ref < lo || ref > hi)
        return false;
    *s = r->smax;
    return true;
}

int vs_match(const struct vsig_db *db, const struct vs_seg *seg,
             const struct vs_win *w, uint64_t a, struct vs_scratch *sc,
             uint64_t lo, uint64_t hi, uint64_t *st, struct vs_vres *r)
{
    bool first = seg->idx == 0;

    if (seg->lin != VS_NONE) {
        /* The first part's offset window bounds its starts directly; a
         * later part keeps the latest start of all, enough unless that one
         * lies past hi (a range too long for one part before it). */
        bool filter = first && !seg->hasref;
        int m = vs_lin_verify(db, seg, w, a, sc, filter ? lo : 0,
                              filter ? hi : UINT64_MAX, r);
        if (m == 0)
            return -1;
        if (m > 0 && first)
            return vs_first_start_in(seg, r, a, lo, hi, st) ? 1 : 0;
        if (m > 0 && r->smax <= hi) {
            *st = r->smax;
            return r->smax >= lo ? 1 : 0;
        }
    }
    if (!vs_verify(db, seg, w, a, sc, r))
        return -1;
    bool in = first ? vs_first_start_in(seg, r, a, lo, hi, st)
                    : vs_vres_start_in(seg, r, a, lo, hi, st);
    return in ? 1 : 0;
}

int vs_search_seg(const struct vsig_db *db, const struct vs_seg *seg,
                  const struct vs_win *w, uint64_t from, uint64_t to,
                  uint64_t lo, uint64_t hi, struct vs_scratch *sc,
                  vs_found_fn fn, void *opaque)
{
    const struct vs_tok *anc = db->toks + seg->tok + seg->atok;

    if (from < w->lo)
        from = w->lo;
    if (to > w->hi)
        to = w->hi;
    for (uint64_t a = from; a + seg->alen <= to; a++) {
        if (!byte_ok(db, &anc[0], at(w, a)))
            continue;
        struct vs_vres r;
        uint64_t st;
        if (vs_match(db, seg, w, a, sc, lo, hi, &st, &r) <= 0)
            continue;
        int rc = fn(opaque, seg, st, &r);
        if (rc)
            return rc;
    }
    return 0;
}
