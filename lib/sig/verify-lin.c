/* Linear-time verification of segments with long bounded ranges.
 *
 * The set simulation of verify.c costs the span of a segment per anchor hit:
 * 41{0-32000}4243 over "BCBC..." tests 32000 positions at each of the
 * anchors, data x range in all.  Here a segment is a chain of fixed-width
 * fragments F0 G1 F1 ... Gk Fk (Gi: a range n..m) and each side of the
 * anchor is scanned forward once, position by position, keeping per level
 * only what later levels need.  The scans belong to the stream and resume
 * where they stopped, so consecutive anchor hits share them.
 *
 * Why one value per level suffices (the crossing argument): take two chains
 * of level ends x0 < x1 < ... and y0 < y1 < ... with x0 < y0 but xk > yk.
 * Somewhere xi <= yi and x(i+1) > y(i+1); then both yi -> x(i+1) and
 * xi -> y(i+1) are valid steps (each gap lies between two valid gaps), so
 * the chains can swap their tails.  Hence, for the ends of one level:
 *  - LS(e), the latest start of a chain ending at e, never decreases with e,
 *    and so does ES(e), the earliest;
 *  - the latest start at e is LS of the latest previous-level end in e's
 *    window, the earliest start ES of the earliest one;
 *  - a start s that reaches level i - 1 reaches every level-i end e with
 *    ES(e) <= s <= LS(e).
 * Before the anchor only the latest start is kept (the shortest match, the
 * one reported).  After it, starts are the anchor hits ("seeds") and a seed
 * reaches the last level iff at each level the first end with LS >= seed
 * has ES <= seed; that end of the last level is the earliest end.
 *
 * Cost: every position is processed once per level (the scans resume; a
 * restart begins at the current anchor's reach, past everything scanned
 * before), each processing tests one fragment and moves cursors that only
 * go forward.  Before the anchor, stretches where no level can end are
 * skipped with memchr for the first fragment's first byte (an isolated hit
 * then costs little more than the simulation's bitset words).  So a stream
 * does O(data x pattern tokens) work on a segment whatever its ranges,
 * against O(anchor hits x span) for the simulation.  Memory: rings of
 * 16-bit distances as long as the span, per level, for the segments that
 * had a hit in this stream.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sig/sig-int.h"

uint32_t vs_lin_span = 256;

#define NONE16 0xffffu

/* Per level of the suffix scan. */
struct scur {
    uint64_t rel, rls; /* latest released previous end and its LS */
    uint64_t ear;      /* earliest candidate previous end */
    uint64_t q;        /* query cursor over this level's ends */
    bool has_rel;
};

struct vs_lstate {
    uint64_t pgen, sgen; /* scans valid while equal to the stream's gen */
    /* Before the anchor: scanned [porg, ppos); starts kept in [plo, phi]. */
    uint64_t porg, ppos, plo, phi;
    uint64_t *prel, *prls; /* per level: latest released end, its LS */
    uint64_t *plast;       /* per level: latest end, UINT64_MAX: none */
    uint8_t *phas;
    uint16_t *pring; /* npl rings: distance end - LS, or NONE16 */
    /* After the anchor: scanned [sorg, spos); last seed asked. */
    uint64_t sorg, spos, slast;
    struct scur *scur;
    uint16_t *ses, *sls; /* (nsl + 1) rings: end - ES, end - LS */
};

/* ---- planning ---- */

static int push_lvl(struct vsig_db *db, size_t *cap, const struct vs_lvl *l)
{
    if (vs_grow((void **)&db->lvls, cap, db->nlvls, 1, sizeof *db->lvls) < 0)
        return -ENOMEM;
    db->lvls[db->nlvls++] = *l;
    return 0;
}

/* Levels of tokens [from, to) (absolute): prefix (@pre: level 0 is the first
 * fragment, even empty) or suffix (levels after the anchor). */
static int split(struct vsig_db *db, size_t *cap, uint32_t from, uint32_t to,
                 bool pre, uint32_t *n, uint32_t *maxw)
{
    struct vs_lvl cur = {
        .gmin = 0, .gmax = 0, .tok = from, .ntok = 0, .width = 0};
    bool open = pre;
    int r;

    *n = 0;
    for (uint32_t i = from; i < to; i++) {
        const struct vs_tok *t = &db->toks[i];
        if (t->kind == VS_TK_LOOKB || t->kind == VS_TK_LOOKA) {
            open = true; /* zero width, checked by the scans */
            continue;
        }
        if (t->kind == VS_TK_GAP) {
            if (open && (cur.ntok > 0 || (pre && *n == 0))) {
                if ((r = push_lvl(db, cap, &cur)) < 0)
                    return r;
                (*n)++;
                cur = (struct vs_lvl){
                    .gmin = 0, .gmax = 0, .tok = i + 1, .ntok = 0, .width = 0};
            }
            cur.gmin += t->min;
            cur.gmax += t->max;
            cur.tok = i + 1;
            open = true;
            continue;
        }
        if (cur.ntok == 0)
            cur.tok = i;
        cur.ntok++;
        cur.width += t->kind == VS_TK_MALT ? t->min : 1;
        if (cur.width > *maxw)
            *maxw = cur.width;
        open = true;
    }
    if (open) {
        if ((r = push_lvl(db, cap, &cur)) < 0)
            return r;
        (*n)++;
    }
    return 0;
}

static uint32_t pow2(uint64_t n)
{
    uint32_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

static bool eligible(const struct vsig_db *db, const struct vs_seg *sg)
{
    if (sg->fixed || (sg->pre_max < vs_lin_span && sg->post_max < vs_lin_span))
        return false;
    for (uint32_t i = 0; i < sg->ntok; i++) {
        uint8_t k = db->toks[sg->tok + i].kind;
        if (k == VS_TK_GOPEN || k == VS_TK_GBAR || k == VS_TK_GCLOSE)
            return false;
    }
    return true;
}

int vs_lin_build(struct vsig_db *db)
{
    size_t lcap = 0, pcap = 0;
    int r;

    for (size_t si = 0; si < db->nsegs; si++) {
        struct vs_seg *sg = &db->segs[si];
        sg->lin = VS_NONE;
        if (!eligible(db, sg))
            continue;
        struct vs_lplan lp = {.pl = (uint32_t)db->nlvls,
                              .npl = 0,
                              .sl = 0,
                              .nsl = 0,
                              .pring = 0,
                              .sring = 0,
                              .pmaxw = 0,
                              .smaxw = sg->alen};
        uint32_t a0 = sg->tok + sg->atok, a1 = a0 + sg->alen;
        if (sg->atok > 0 &&
            (r = split(db, &lcap, sg->tok, a0, true, &lp.npl, &lp.pmaxw)) < 0)
            return r;
        lp.pmaxw++;
        lp.sl = (uint32_t)db->nlvls;
        if ((r = split(db, &lcap, a1, sg->tok + sg->ntok, false, &lp.nsl,
                       &lp.smaxw)) < 0)
            return r;
        lp.pring = pow2((uint64_t)sg->pre_max + 2);
        lp.sring = pow2((uint64_t)sg->alen + sg->post_max + 2);
        if (vs_grow((void **)&db->lplans, &pcap, db->nlin, 1,
                    sizeof *db->lplans) < 0)
            return -ENOMEM;
        sg->lin = (uint32_t)db->nlin;
        db->lplans[db->nlin++] = lp;
    }
    db->memory += db->nlvls * sizeof *db->lvls + db->nlin * sizeof *db->lplans;
    return 0;
}

/* ---- per-stream state ---- */

static void lstate_free(struct vs_lstate *st)
{
    free(st->prel);
    free(st->phas);
    free(st->pring);
    free(st->scur);
    free(st->ses);
    free(st->sls);
    free(st);
}

static struct vs_lstate *state(const struct vs_lplan *lp, struct vs_scratch *sc,
                               uint32_t li)
{
    struct vs_lstate *st = sc->lin[li];
    if (st)
        return st;
    size_t np = lp->npl, ns = lp->nsl + 1;
    st = calloc(1, sizeof *st);
    if (st == NULL)
        return NULL;
    st->prel = calloc(np + 1, 3 * sizeof *st->prel);
    st->phas = calloc(np + 1, 1);
    st->pring = malloc((np * lp->pring + 1) * sizeof *st->pring);
    st->scur = calloc(ns, sizeof *st->scur);
    st->ses = malloc(ns * lp->sring * sizeof *st->ses);
    st->sls = malloc(ns * lp->sring * sizeof *st->sls);
    if (!st->prel || !st->phas || !st->pring || !st->scur || !st->ses ||
        !st->sls) {
        lstate_free(st);
        return NULL;
    }
    st->prls = st->prel + np + 1;
    st->plast = st->prls + np + 1;
    sc->lin[li] = st;
    return st;
}

void vs_lin_free(struct vs_scratch *sc)
{
    for (size_t i = 0; sc->lin && i < sc->nlin; i++) {
        struct vs_lstate *st = sc->lin[i];
        if (st != NULL)
            lstate_free(st);
    }
    free(sc->lin);
    sc->lin = NULL;
}

/* ---- fragments ---- */

static inline const uint8_t *ptr(const struct vs_win *w, uint64_t pos)
{
    return w->buf + (pos - w->base);
}

/* vs_tok_ok with the common case (an exact or nibble byte) inline. */
static inline bool tok_ok(const struct vsig_db *db, const struct vs_tok *t,
                          const uint8_t *p)
{
    if (t->kind == VS_TK_BYTE && t->arg == VS_NONE)
        return (*p & t->mask) == t->val;
    return vs_tok_ok(db, t, p);
}

/* Does fragment @l end at @p?  Its bytes are in the window. */
static inline bool frag_ok(const struct vsig_db *db, const struct vs_lvl *l,
                           const struct vs_win *w, uint64_t p, uint64_t *steps)
{
    const uint8_t *d = ptr(w, p - l->width);
    *steps += l->ntok;
    for (uint32_t k = 0; k < l->ntok; k++) {
        const struct vs_tok *t = &db->toks[l->tok + k];
        if (!tok_ok(db, t, d))
            return false;
        d += t->kind == VS_TK_MALT ? t->min : 1;
    }
    return true;
}

static bool lookb_ok(const struct vs_seg *sg, const struct vs_win *w,
                     uint64_t s)
{
    if (sg->lookb < 0 || s == 0)
        return true;
    return s - 1 >= w->lo &&
           vs_set_has(vs_special_set(sg->lookb, VS_WHERE_LEFT), *ptr(w, s - 1));
}

static bool looka_ok(const struct vs_seg *sg, const struct vs_win *w,
                     uint64_t e)
{
    if (sg->looka < 0 || (w->eof && e == w->hi))
        return true;
    return e < w->hi &&
           vs_set_has(vs_special_set(sg->looka, VS_WHERE_RIGHT), *ptr(w, e));
}

/* ---- before the anchor ---- */

/* Level @i at position @p: distance to the latest start, or NONE16. */
static uint16_t pre_level(const struct vsig_db *db, const struct vs_seg *sg,
                          const struct vs_lplan *lp, struct vs_lstate *st,
                          const struct vs_win *w, uint32_t i, uint64_t p,
                          uint64_t *steps)
{
    const struct vs_lvl *l = &db->lvls[lp->pl + i];
    const uint32_t mask = lp->pring - 1;

    (*steps)++;
    if (i == 0) {
        if (p < st->porg + l->width)
            return NONE16;
        uint64_t s = p - l->width;
        if (s < st->plo || s > st->phi || !lookb_ok(sg, w, s) ||
            !frag_ok(db, l, w, p, steps))
            return NONE16;
        return (uint16_t)l->width;
    }
    uint64_t back = (uint64_t)l->width + l->gmin;
    if (p >= st->porg + back) {
        uint64_t t = p - back;
        uint16_t d = st->pring[(i - 1) * lp->pring + (t & mask)];
        if (d != NONE16) {
            st->prel[i] = t;
            st->prls[i] = t - d;
            st->phas[i] = 1;
        }
    }
    if (!st->phas[i] || st->prel[i] + l->width + l->gmax < p ||
        !frag_ok(db, l, w, p, steps))
        return NONE16;
    return (uint16_t)(p - st->prls[i]);
}

/* Mark positions [p, q) empty in every prefix ring. */
static void pre_empty(const struct vs_lplan *lp, struct vs_lstate *st,
                      uint64_t p, uint64_t q)
{
    const uint32_t R = lp->pring;
    uint64_t n = q - p;

    for (uint32_t i = 0; i < lp->npl; i++) {
        uint16_t *ring = st->pring + (size_t)i * R;
        uint32_t x = (uint32_t)(p & (R - 1));
        uint32_t k = n < R - x ? (uint32_t)n : R - x;
        memset(ring + x, 0xff, (size_t)k * sizeof *ring);
        if (n > k)
            memset(ring, 0xff, (size_t)(n - k < x ? n - k : x) * sizeof *ring);
    }
}

/* Next position from @p that can hold an end: while no level's latest end
 * can still feed the next level, only a new first fragment can, and when
 * that starts with an exact byte memchr finds it.  Skipped positions are
 * marked empty. */
static uint64_t pre_skip(const struct vsig_db *db, const struct vs_lplan *lp,
                         struct vs_lstate *st, const struct vs_win *w,
                         uint64_t p, uint64_t a, uint64_t *steps)
{
    const struct vs_lvl *l0 = &db->lvls[lp->pl];

    for (uint32_t i = 0; i + 1 < lp->npl; i++) {
        const struct vs_lvl *l = &db->lvls[lp->pl + i + 1];
        if (st->plast[i] != UINT64_MAX &&
            st->plast[i] + l->width + l->gmax >= p)
            return p;
    }
    if (l0->ntok == 0)
        return p;
    const struct vs_tok *t = &db->toks[l0->tok];
    if (t->kind != VS_TK_BYTE || t->arg != VS_NONE || t->mask != 0xff)
        return p;
    uint64_t from = p, q = a + 1;
    if (from < st->porg + l0->width)
        from = st->porg + l0->width;
    if (from <= a) {
        const uint8_t *s0 = ptr(w, from - l0->width);
        const uint8_t *hit = memchr(s0, t->val, (size_t)(a - from + 1));
        if (hit)
            q = from + (uint64_t)(hit - s0);
    }
    *steps += (q - p) / 64 + 1;
    if (q > p)
        pre_empty(lp, st, p, q);
    return q;
}

/* Latest start of the part before anchor @a, or false. */
static bool pre_latest(const struct vsig_db *db, const struct vs_seg *sg,
                       const struct vs_lplan *lp, struct vs_lstate *st,
                       const struct vs_win *w, uint64_t a, uint64_t lo,
                       uint64_t hi, struct vs_scratch *sc, uint64_t *s)
{
    uint64_t *steps = &sc->steps;
    uint64_t need = a > sg->pre_max ? a - sg->pre_max : 0;
    if (need < w->lo)
        need = w->lo;
    /* Start over for a new object or filter, a position already passed,
     * nothing useful scanned yet, or bytes no longer in the window. */
    if (st->pgen != sc->gen || st->plo != lo || st->phi != hi ||
        st->ppos > a + 1 || st->ppos < need ||
        (st->porg < w->lo &&
         (st->ppos < w->lo + lp->pmaxw || a < w->lo + sg->pre_max))) {
        st->porg = st->ppos = need;
        st->plo = lo;
        st->phi = hi;
        memset(st->phas, 0, lp->npl + 1);
        memset(st->plast, 0xff, lp->npl * sizeof *st->plast);
    }
    st->pgen = sc->gen;
    const uint32_t mask = lp->pring - 1;
    for (uint64_t p = pre_skip(db, lp, st, w, st->ppos, a, steps); p <= a;
         p = pre_skip(db, lp, st, w, p + 1, a, steps)) {
        for (uint32_t i = 0; i < lp->npl; i++) {
            uint16_t d = pre_level(db, sg, lp, st, w, i, p, steps);
            st->pring[i * lp->pring + (p & mask)] = d;
            if (d != NONE16)
                st->plast[i] = p;
        }
    }
    st->ppos = a + 1;
    uint16_t d = st->pring[(lp->npl - 1) * lp->pring + (a & mask)];
    if (d == NONE16)
        return false;
    *s = a - d;
    return true;
}

/* ---- after the anchor ---- */

static void suf_pos(const struct vsig_db *db, const struct vs_seg *sg,
                    const struct vs_lplan *lp, struct vs_lstate *st,
                    const struct vs_win *w, uint64_t p, uint64_t *steps)
{
    const uint32_t R = lp->sring, mask = R - 1;
    const struct vs_tok *anc = db->toks + sg->tok + sg->atok;
    uint64_t x = p & mask;

    /* Level 0: a seed where the anchor ends. */
    bool seed = p >= st->sorg;
    (*steps) += sg->alen;
    for (uint32_t k = 0; seed && k < sg->alen; k++)
        seed = tok_ok(db, &anc[k], ptr(w, p - sg->alen + k));
    st->ses[x] = st->sls[x] = seed ? 0 : NONE16;

    for (uint32_t i = 1; i <= lp->nsl; i++) {
        const struct vs_lvl *l = &db->lvls[lp->sl + i - 1];
        struct scur *c = &st->scur[i];
        const uint16_t *pes = st->ses + (i - 1) * R,
                       *pls = st->sls + (i - 1) * R;
        uint16_t *oes = st->ses + i * R, *ols = st->sls + i * R;
        uint64_t back = (uint64_t)l->width + l->gmin;
        oes[x] = ols[x] = NONE16;
        (*steps)++;
        if (p < st->sorg + back)
            continue;
        uint64_t t = p - back;
        if (pls[t & mask] != NONE16) {
            c->rel = t;
            c->rls = t - pls[t & mask];
            c->has_rel = true;
        }
        uint64_t lo = p - back - (l->gmax - l->gmin);
        if (p < st->sorg + l->width + l->gmax)
            lo = st->sorg;
        if (c->ear < lo)
            c->ear = lo;
        while (c->ear <= t && pes[c->ear & mask] == NONE16) {
            c->ear++;
            (*steps)++;
        }
        if (c->ear > t || !frag_ok(db, l, w, p, steps) ||
            (i == lp->nsl && !looka_ok(sg, w, p)))
            continue;
        oes[x] = (uint16_t)(p - (c->ear - pes[c->ear & mask]));
        ols[x] = (uint16_t)(p - c->rls);
    }
}

/* Earliest end of the part after the anchor ending at seed @x0, or false. */
static bool suf_earliest(const struct vsig_db *db, const struct vs_seg *sg,
                         const struct vs_lplan *lp, struct vs_lstate *st,
                         const struct vs_win *w, uint64_t x0,
                         struct vs_scratch *sc, uint64_t *e)
{
    uint64_t *steps = &sc->steps;

    if (lp->nsl == 0) {
        *e = x0;
        return true;
    }
    if (st->sgen != sc->gen || st->spos <= x0 || x0 < st->slast ||
        (st->sorg < w->lo && st->spos < w->lo + lp->smaxw)) {
        st->sorg = st->spos = x0;
        memset(st->scur, 0, (lp->nsl + 1) * sizeof *st->scur);
    }
    st->sgen = sc->gen;
    st->slast = x0;
    uint64_t to = x0 + sg->post_max < w->hi ? x0 + sg->post_max : w->hi;
    for (uint64_t p = st->spos; p <= to; p++)
        suf_pos(db, sg, lp, st, w, p, steps);
    if (to + 1 > st->spos)
        st->spos = to + 1;

    const uint32_t R = lp->sring, mask = R - 1;
    uint64_t end = 0;
    for (uint32_t i = 1; i <= lp->nsl; i++) {
        struct scur *c = &st->scur[i];
        const uint16_t *es = st->ses + i * R, *ls = st->sls + i * R;
        if (c->q < x0)
            c->q = x0;
        while (c->q < st->spos &&
               (ls[c->q & mask] == NONE16 || c->q - ls[c->q & mask] < x0)) {
            c->q++;
            (*steps)++;
        }
        if (c->q >= st->spos || c->q - es[c->q & mask] > x0)
            return false;
        end = c->q;
    }
    *e = end;
    return true;
}

int vs_lin_verify(const struct vsig_db *db, const struct vs_seg *seg,
                  const struct vs_win *w, uint64_t a, struct vs_scratch *sc,
                  uint64_t lo, uint64_t hi, struct vs_vres *r)
{
    const struct vs_lplan *lp = &db->lplans[seg->lin];
    const struct vs_tok *anc = db->toks + seg->tok + seg->atok;
    uint64_t x0 = a + seg->alen, s = a, e;

    if (a < w->lo || x0 > w->hi)
        return 0;
    sc->steps += seg->alen;
    for (uint32_t i = 0; i < seg->alen; i++)
        if (!vs_tok_ok(db, &anc[i], ptr(w, a + i)))
            return 0;
    struct vs_lstate *st = state(lp, sc, seg->lin);
    if (st == NULL)
        return -ENOMEM;
    if (lp->npl == 0 ? a < lo || a > hi
                     : !pre_latest(db, seg, lp, st, w, a, lo, hi, sc, &s))
        return 0;
    if (!suf_earliest(db, seg, lp, st, w, x0, sc, &e))
        return 0;
    r->smin = r->smax = s;
    r->emin = e;
    r->starts = NULL;
    r->nstart_words = 0;
    return 1;
}
