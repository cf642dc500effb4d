/* Planning: a signature's tokens -> segments (parts).
 *
 * A signature is cut into segments at unbounded gaps ('*', {n-}) and at
 * bounded gaps that would make a segment longer than VS_SEG_MAX.  Specials
 * become lookbehind/lookahead checks at a segment's edges and byte sets
 * inside; fixed-width segments get their mask/value tables.  Runs while the
 * loader reads each line, so problems are reported with file and line.
 */
#include <errno.h>
#include <string.h>

#include "sig/compile-int.h"

uint32_t vs_sat_add(uint32_t a, uint32_t b)
{
    uint32_t r;
    if (a == VS_INF || b == VS_INF || __builtin_add_overflow(a, b, &r) ||
        r >= VS_INF)
        return VS_INF;
    return r;
}

uint32_t vs_item_width(const struct vs_tok *toks, uint32_t i, uint32_t *wmin,
                       uint32_t *wmax)
{
    const struct vs_tok *t = &toks[i];

    switch (t->kind) {
    case VS_TK_BYTE:
        *wmin = *wmax = 1;
        return 1;
    case VS_TK_MALT:
        *wmin = *wmax = t->min;
        return 1;
    case VS_TK_GAP:
        *wmin = t->min;
        *wmax = t->max;
        return 1;
    case VS_TK_SPECIAL:
        *wmin = 0;
        *wmax = 1;
        return 1;
    case VS_TK_LOOKB:
    case VS_TK_LOOKA:
        *wmin = *wmax = 0;
        return 1;
    case VS_TK_GOPEN: {
        uint32_t close = i + t->max, amin = 0, amax = 0;
        uint32_t bmin = VS_INF, bmax = 0;
        for (uint32_t j = i + 1; j <= close; j++) {
            if (toks[j].kind == VS_TK_GBAR || toks[j].kind == VS_TK_GCLOSE) {
                if (amin < bmin)
                    bmin = amin;
                if (amax > bmax)
                    bmax = amax;
                amin = amax = 0;
                continue;
            }
            uint32_t a, b;
            vs_item_width(toks, j, &a, &b);
            amin = vs_sat_add(amin, a);
            amax = vs_sat_add(amax, b);
        }
        *wmin = bmin;
        *wmax = bmax;
        return t->max + 1;
    }
    default:
        *wmin = *wmax = 0;
        return 1;
    }
}

static int push_tok(struct vs_plan *b, const struct vs_tok *t)
{
    if (b->ntoks >= UINT32_MAX - 1)
        return -E2BIG;
    if (VS_RESERVE(b, toks, 1) < 0)
        return -ENOMEM;
    b->toks[b->ntoks++] = *t;
    return 0;
}

static int push_fx(struct vs_plan *b, uint8_t m, uint8_t v)
{
    if (VS_RESERVE(b, fxm, 1) < 0 || VS_RESERVE(b, fxv, 1) < 0)
        return -ENOMEM;
    b->fxm[b->nfxm++] = m;
    b->fxv[b->nfxv++] = v;
    return 0;
}

static int build_fixed(struct vs_plan *b, struct vs_seg *seg)
{
    if (b->nfxm >= UINT32_MAX - VS_SEG_MAX || b->nxchk >= UINT32_MAX - 1)
        return -E2BIG;
    seg->fx = (uint32_t)b->nfxm;
    seg->xc = (uint32_t)b->nxchk;
    uint32_t pos = 0;
    for (uint32_t i = seg->tok; i < seg->tok + seg->ntok; i++) {
        const struct vs_tok *t = &b->toks[i];
        uint32_t w = 0;
        bool xc = false;
        switch (t->kind) {
        case VS_TK_BYTE:
            if (t->arg == VS_NONE) {
                if (push_fx(b, t->mask, t->val) < 0)
                    return -ENOMEM;
            } else {
                xc = true;
                w = 1;
            }
            break;
        case VS_TK_MALT:
            xc = true;
            w = t->min;
            break;
        case VS_TK_GAP:
            w = t->min;
            break;
        default:
            break;
        }
        if (xc) {
            if (VS_RESERVE(b, xchk, 1) < 0)
                return -ENOMEM;
            b->xchk[b->nxchk++] = (struct vs_xchk){.pos = pos, .tok = i};
        }
        for (uint32_t k = 0; k < w; k++)
            if (push_fx(b, 0, 0) < 0)
                return -ENOMEM;
        pos += t->kind == VS_TK_BYTE ? 1 : w;
    }
    seg->fxn = pos;
    seg->nxc = (uint32_t)(b->nxchk - seg->xc);
    while ((b->nfxm - seg->fx) % 8)
        if (push_fx(b, 0, 0) < 0)
            return -ENOMEM;
    /* Room for the 8-byte loads past the last segment. */
    for (int k = 0; k < 8; k++)
        if (push_fx(b, 0, 0) < 0)
            return -ENOMEM;
    b->nfxm -= 8;
    b->nfxv -= 8;
    return 0;
}

/* Finish the segment made of bld->toks[t0, ntoks). */
static int close_seg(const struct vs_store *st, struct vs_plan *b, uint32_t t0,
                     uint32_t msig, uint32_t idx, uint32_t gmin, uint32_t gmax,
                     uint32_t ref, struct vs_err *e)
{
    uint32_t t1 = (uint32_t)b->ntoks;

    /* Specials: lookbehind first, lookahead last, one byte elsewhere. */
    for (uint32_t i = t0; i < t1;) {
        uint32_t a, z, n = vs_item_width(b->toks, i, &a, &z);
        struct vs_tok *t = &b->toks[i];
        if (t->kind == VS_TK_SPECIAL) {
            if (i == t0) {
                t->kind = VS_TK_LOOKB;
            } else if (i == t1 - 1) {
                t->kind = VS_TK_LOOKA;
            } else {
                uint8_t sp = t->flag;
                *t = (struct vs_tok){.kind = VS_TK_BYTE, .flag = 1, .arg = sp};
            }
        }
        i += n;
    }

    struct vs_seg seg;
    memset(&seg, 0, sizeof seg);
    seg.msig = msig;
    seg.idx = idx;
    seg.tok = t0;
    seg.ntok = t1 - t0;
    seg.gmin = gmin;
    seg.gmax = gmax;
    seg.lookb = seg.looka = -1;
    seg.fixed = 1;
    seg.reftok = ref == VS_NONE ? VS_NONE : ref - t0;
    for (uint32_t i = t0; i < t1;) {
        uint32_t a, z, n = vs_item_width(b->toks, i, &a, &z);
        const struct vs_tok *t = &b->toks[i];
        if (a != z || t->kind == VS_TK_GOPEN)
            seg.fixed = 0;
        if (t->kind == VS_TK_LOOKB)
            seg.lookb = (int8_t)t->flag;
        if (t->kind == VS_TK_LOOKA)
            seg.looka = (int8_t)t->flag;
        i += n;
    }
    int group = vs_seg_anchor(st, b, &seg, 0, e);
    if (group < 0)
        return group;
    if (seg.fixed) {
        int r = build_fixed(b, &seg);
        if (r < 0)
            return r;
    }
    if (b->nsegs >= (1u << 27) - 1)
        return -E2BIG;
    if (VS_RESERVE(b, segs, 1) < 0 || VS_RESERVE(b, sgrp, 1) < 0)
        return -ENOMEM;
    b->segs[b->nsegs++] = seg;
    b->sgrp[b->nsgrp++] = (uint8_t)group;
    return 0;
}

/* Cut signature @mi into segments appended to @b. */
static int plan_msig(const struct vs_store *st, struct vs_plan *b, uint32_t mi,
                     uint32_t *nseg, struct vs_err *e)
{
    const struct vs_msig *m = &st->msigs[mi];
    const struct vs_tok *src = st->toks + m->tok;
    uint32_t pmin = 0, pmax = 0, smax = 0, gmin = 0, gmax = 0, idx = 0;
    bool pend = false;
    uint32_t t0 = (uint32_t)b->ntoks, ref = VS_NONE;
    int r;

    for (uint32_t i = 0; i < m->ntok;) {
        uint32_t a, z, n = vs_item_width(src, i, &a, &z);
        if (src[i].kind == VS_TK_GAP) {
            pmin = vs_sat_add(pmin, a);
            pmax = vs_sat_add(pmax, z);
            pend = true;
            i += n;
            continue;
        }
        if (pend) {
            bool empty = b->ntoks == t0;
            if (empty && idx == 0) {
                /* Leading gap: bytes that must precede the match. */
                if (pmin > 0 || pmax != VS_INF) {
                    struct vs_tok g = {.kind = VS_TK_GAP,
                                       .min = pmin,
                                       .max = pmax == VS_INF ? pmin : pmax};
                    if ((r = push_tok(b, &g)) < 0)
                        return r;
                    smax = vs_sat_add(smax, g.max);
                }
            } else if (pmax == VS_INF ||
                       (uint64_t)smax + pmax + z > VS_SEG_MAX) {
                if ((r = close_seg(st, b, t0, mi, idx, gmin, gmax,
                                   idx == 0 ? ref : VS_NONE, e)) < 0)
                    return r;
                idx++;
                t0 = (uint32_t)b->ntoks;
                gmin = pmin;
                gmax = pmax;
                smax = 0;
            } else {
                struct vs_tok g = {.kind = VS_TK_GAP, .min = pmin, .max = pmax};
                if ((r = push_tok(b, &g)) < 0)
                    return r;
                smax = vs_sat_add(smax, pmax);
            }
            pend = false;
            pmin = pmax = 0;
        }
        if (m->ref != VS_NONE && m->tok + i == m->ref && idx == 0)
            ref = (uint32_t)b->ntoks;
        for (uint32_t k = 0; k < n; k++)
            if ((r = push_tok(b, &src[i + k])) < 0)
                return r;
        smax = vs_sat_add(smax, z);
        if (smax > VS_SEG_MAX) {
            vs_errf(e, "part %u is longer than %u bytes", idx + 1, VS_SEG_MAX);
            return -EINVAL;
        }
        i += n;
    }
    if (b->ntoks == t0) {
        vs_errf(e, "signature has no bytes to match");
        return -EINVAL;
    }
    if (pend && pmax != VS_INF && (uint64_t)smax + pmax <= VS_SEG_MAX) {
        struct vs_tok g = {.kind = VS_TK_GAP, .min = pmin, .max = pmax};
        if ((r = push_tok(b, &g)) < 0)
            return r;
    }
    if ((r = close_seg(st, b, t0, mi, idx, gmin, gmax, idx == 0 ? ref : VS_NONE,
                       e)) < 0)
        return r;
    *nseg = idx + 1;
    return 0;
}

int vs_plan_msig(struct vs_store *st, uint32_t mi, struct vs_err *e)
{
    uint32_t nseg, first = (uint32_t)st->plan.nsegs;
    int r = plan_msig(st, &st->plan, mi, &nseg, e);

    if (r == 0) {
        st->msigs[mi].seg = first;
        st->msigs[mi].nseg = nseg;
    }
    return r;
}
