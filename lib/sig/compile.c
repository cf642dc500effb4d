/* Compilation: signatures -> segments -> anchors -> prefilter groups.
 *
 * A signature is cut into segments at unbounded gaps ('*', {n-}) and at
 * bounded gaps that would make a segment longer than VS_SEG_MAX.  Each
 * segment gets one anchor: the literal run (exact bytes, or small byte sets
 * such as case-insensitive letters) that is longest and made of the rarest
 * bytes.  Anchors are indexed by length class into sampled-gram groups (see
 * struct vs_group), and the stream verifies the rest of the segment around
 * each hit (verify.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sig/sig-int.h"

/* Anchor length classes: A = S + g - 1.  One prefilter pass per class
 * present costs 1/S of a lookup per byte, so the classes favour long strides
 * and cheap direct-indexed 2-byte grams for short anchors. */
static const struct {
    uint8_t A, g, S;
} gdefs[VS_NGROUPS] = {
#define GDEF(i, a, gg, s) [i] = {a, gg, s},
    VS_CLASSES(GDEF)
#undef GDEF
};

#define MAX_VARIANTS 64

static uint32_t sat_add(uint32_t a, uint32_t b)
{
    uint32_t r;
    if (a == VS_INF || b == VS_INF || __builtin_add_overflow(a, b, &r) ||
        r >= VS_INF)
        return VS_INF;
    return r;
}

/* Width range of the item starting at toks[i]; returns its token count. */
static uint32_t item_width(const struct vs_tok *toks, uint32_t i,
                           uint32_t *wmin, uint32_t *wmax)
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
            item_width(toks, j, &a, &b);
            amin = sat_add(amin, a);
            amax = sat_add(amax, b);
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

static unsigned popcount_set(const struct vs_set *s)
{
    return (unsigned)(__builtin_popcountll(s->w[0]) +
                      __builtin_popcountll(s->w[1]) +
                      __builtin_popcountll(s->w[2]) +
                      __builtin_popcountll(s->w[3]));
}

/* Bytes an anchor token can take: 1 for exact, up to 4 for small sets,
 * 0 if the token cannot be part of an anchor. */
static unsigned anchor_fanout(const struct vs_store *st, const struct vs_tok *t)
{
    if (t->kind != VS_TK_BYTE)
        return 0;
    if (t->arg == VS_NONE)
        return t->mask == 0xff ? 1 : 0;
    if (t->flag)
        return 0;
    unsigned n = popcount_set(&st->sets[t->arg]);
    return n <= 4 ? n : 0;
}

/* How common a byte is in executables and text: lower is a better anchor.
 * (0x00 and 0xff padding, space and line ends, letters, digits, frequent
 * x86 opcode bytes.) */
static const uint8_t byte_cost[256] = {
    12, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 4, 4, 5, 4, 4, 1, 1, 1, 1, 1, 1, 1, 1,
    1,  1, 1, 1, 1, 1, 1, 1, 6, 1, 1, 1, 4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    3,  3, 3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3,
    3,  3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1,
    1,  5, 4, 4, 4, 5, 4, 4, 4, 5, 4, 4, 4, 4, 5, 5, 4, 4, 5, 5, 5, 4, 4, 4,
    4,  4, 4, 1, 1, 1, 1, 1, 1, 1, 1, 4, 1, 4, 1, 1, 1, 4, 1, 4, 1, 4, 1, 1,
    4,  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1,  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    4,  1, 1, 4, 1, 1, 1, 1, 1, 1, 1, 1, 4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1,  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 4, 1, 1, 4, 1, 1, 1, 1,
    1,  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 8,
};

static unsigned tok_cost(const struct vs_store *st, const struct vs_tok *t)
{
    if (t->arg == VS_NONE)
        return byte_cost[t->val];
    unsigned worst = 0;
    for (unsigned b = 0; b < 256; b++)
        if (vs_set_has(&st->sets[t->arg], (uint8_t)b) && byte_cost[b] > worst)
            worst = byte_cost[b];
    return worst + 2;
}

struct anchor_pick {
    int group; /* -1: none yet */
    unsigned score;
    uint32_t tok;        /* window start, absolute index in plan->toks */
    uint32_t len;        /* window length in bytes (= tokens) */
    uint32_t gmask;      /* offsets of the indexed grams in the window */
    uint32_t run0, run1; /* the run of one-byte tokens around the window */
};

#define RUN_MAX    256 /* anchors are chosen among a run's first bytes */
#define WIN_MAX    32  /* longest anchor window (gram offsets fit 5 bits) */
#define GAP_STARTS 64

/* Extra cost of indexing the 2-byte gram at t: such grams index their
 * filter directly, and those common in binaries (zeros, 0xff, x86 prefix
 * and mov bytes) or text make most sampled positions candidates. */
static unsigned gram2_penalty(const struct vs_tok *t)
{
    unsigned p = 0;
    for (int k = 0; k < 2; k++) {
        if (t[k].arg != VS_NONE || t[k].mask != 0xff) {
            p += 8;
            continue;
        }
        uint8_t v = t[k].val;
        if (v == 0x00 || v == 0xff)
            p += 20;
        else if (v == 0x48 || v == 0x89 || v == 0x8b || v == 0x0f ||
                 v == 0xe8 || v == 0x83 || v == 0x24 || v == 0x4c ||
                 v == 0x20 || (v >= 'a' && v <= 'z'))
            p += 6;
    }
    return p;
}

/*
 * Consider the run toks[r0, r1) of one-byte tokens for classes >= mingi.
 * Contiguous literal windows of S + g - 1 bytes first; then, for classes
 * better than what they gave, "gapped" windows: up to WIN_MAX bytes with
 * wildcards inside, usable as long as literal g-byte grams sit at offsets
 * covering every residue modulo S (the sampling lattice then always lands on
 * one of them).  That lets aabbccdd??eeff0011 use a stride of 5 instead of 2.
 */
static void pick_in_run(const struct vs_store *st, const struct vs_plan *b,
                        uint32_t r0, uint32_t r1, int mingi,
                        struct anchor_pick *p)
{
    unsigned cost[RUN_MAX], fan[RUN_MAX], pre[RUN_MAX + 1];
    uint32_t R = r1 - r0 > RUN_MAX ? RUN_MAX : r1 - r0;

    pre[0] = 0;
    for (uint32_t k = 0; k < R; k++) {
        const struct vs_tok *t = &b->toks[r0 + k];
        fan[k] = anchor_fanout(st, t);
        cost[k] = fan[k] ? tok_cost(st, t) : 0;
        if (k > 0 && fan[k] == 1 && fan[k - 1] == 1 &&
            t->val == b->toks[r0 + k - 1].val)
            cost[k] += 3;
        pre[k + 1] = pre[k] + cost[k];
    }
    /* Contiguous literal windows. */
    int contiguous = VS_NGROUPS;
    for (int gi = mingi; gi < VS_NGROUPS && gi < contiguous; gi++) {
        uint32_t A = gdefs[gi].A;
        if (p->group >= 0 && gi > p->group)
            break;
        for (uint32_t s0 = 0; s0 + A <= R; s0++) {
            unsigned variants = 1, score = pre[s0 + A] - pre[s0];
            for (uint32_t k = 0; k < A && variants && variants <= MAX_VARIANTS;
                 k++)
                variants *= fan[s0 + k];
            if (variants == 0 || variants > MAX_VARIANTS)
                continue;
            if (gdefs[gi].g == 2)
                for (uint32_t o = 0; o < gdefs[gi].S; o++)
                    score += gram2_penalty(&b->toks[r0 + s0 + o]);
            for (unsigned v = variants; v > 1; v >>= 1)
                score += 3;
            if (p->group < 0 || gi < p->group || score < p->score) {
                p->group = gi;
                p->score = score;
                p->tok = r0 + s0;
                p->run0 = r0;
                p->run1 = r1;
                p->len = A;
                p->gmask = (1u << gdefs[gi].S) - 1;
                contiguous = gi;
            }
        }
    }
    /* Gapped windows for better classes. */
    int stop = p->group >= 0 ? p->group : VS_NGROUPS;
    for (int gi = mingi; gi < stop; gi++) {
        uint32_t g = gdefs[gi].g, S = gdefs[gi].S;
        unsigned gcost[RUN_MAX];
        bool gok[RUN_MAX];
        for (uint32_t k = 0; k < R; k++) {
            unsigned variants = 1;
            gok[k] = k + g <= R;
            gcost[k] = 0;
            for (uint32_t q = 0; gok[k] && q < g; q++) {
                variants *= fan[k + q];
                gok[k] = variants > 0 && variants <= 16;
            }
            if (gok[k]) {
                gcost[k] = pre[k + g] - pre[k];
                if (g == 2)
                    gcost[k] += gram2_penalty(&b->toks[r0 + k]);
                for (unsigned v = variants; v > 1; v >>= 1)
                    gcost[k] += 3;
            }
        }
        bool found = false;
        unsigned starts = 0;
        for (uint32_t s0 = 0; s0 < R && starts < GAP_STARTS; s0++) {
            if (!gok[s0])
                continue;
            starts++;
            unsigned total = 0;
            uint32_t mask = 0, end = 0;
            bool ok = true;
            for (uint32_t c = 0; c < S && ok; c++) {
                uint32_t best = VS_NONE;
                for (uint32_t o = c; o + g <= WIN_MAX && s0 + o + g <= R;
                     o += S)
                    if (gok[s0 + o] &&
                        (best == VS_NONE || gcost[s0 + o] < gcost[s0 + best]))
                        best = o;
                if (best == VS_NONE) {
                    ok = false;
                    break;
                }
                total += gcost[s0 + best];
                mask |= 1u << best;
                if (best + g > end)
                    end = best + g;
            }
            if (!ok)
                continue;
            unsigned score = total + (end - (S + g - 1)); /* compactness */
            if (!found || score < p->score) {
                p->group = gi;
                p->score = score;
                p->tok = r0 + s0;
                p->run0 = r0;
                p->run1 = r1;
                p->len = end;
                p->gmask = mask;
                found = true;
            }
        }
        if (found)
            return;
    }
}

/* Choose the anchor of @seg among classes >= mingi and derive the spans
 * around it.  Returns the class, or -EINVAL. */
static int seg_anchor(const struct vs_store *st, const struct vs_plan *b,
                      struct vs_seg *seg, int mingi, struct vs_err *e)
{
    uint32_t t0 = seg->tok, t1 = seg->tok + seg->ntok;
    struct anchor_pick p = {.group = -1};
    uint32_t run = VS_NONE;

    for (uint32_t i = t0; i <= t1;) {
        if (i < t1 && b->toks[i].kind == VS_TK_BYTE) {
            if (run == VS_NONE)
                run = i;
            i++;
            continue;
        }
        if (run != VS_NONE)
            pick_in_run(st, b, run, i, mingi, &p);
        run = VS_NONE;
        if (i == t1)
            break;
        uint32_t a, z;
        i += item_width(b->toks, i, &a, &z);
    }
    if (p.group < 0) {
        vs_errf(e, "part %u has no literal byte to anchor on", seg->idx + 1);
        return -EINVAL;
    }
    seg->atok = p.tok - t0;
    seg->alen = p.len;
    seg->gmask = p.gmask;
    /* Inline check: two 8-byte (short runs: 4-byte) regions of the run,
     * covering the window and as much literal around it as fits. */
    int32_t rlo = (int32_t)p.run0 - (int32_t)p.tok;
    int32_t rhi = (int32_t)p.run1 - (int32_t)p.tok;
    if (rhi - rlo >= 16) {
        int32_t c = rhi - 16 < 0 ? rhi - 16 : 0;
        if (c < rlo)
            c = rlo;
        seg->cw = 8;
        seg->cd0 = (int16_t)c;
        seg->cd1 = (int16_t)(c + 8);
    } else if (rhi - rlo >= 8) {
        seg->cw = 8;
        seg->cd0 = (int16_t)rlo;
        seg->cd1 = (int16_t)(rhi - 8);
    } else if (rhi - rlo >= 4) {
        seg->cw = 4;
        seg->cd0 = (int16_t)rlo;
        seg->cd1 = (int16_t)(rhi - 4);
    } else {
        seg->cw = 0;
    }
    seg->pre_min = seg->pre_max = seg->post_min = seg->post_max = 0;
    for (uint32_t i = t0; i < t1;) {
        uint32_t a, z, n = item_width(b->toks, i, &a, &z);
        if (i < p.tok) {
            seg->pre_min = sat_add(seg->pre_min, a);
            seg->pre_max = sat_add(seg->pre_max, z);
        } else if (i >= p.tok + seg->alen) {
            seg->post_min = sat_add(seg->post_min, a);
            seg->post_max = sat_add(seg->post_max, z);
        }
        i += n;
    }
    if (seg->reftok != VS_NONE) {
        /* Fixed distance between the offset reference and the anchor. */
        uint32_t ref = t0 + seg->reftok;
        uint32_t lo = ref < p.tok ? ref : p.tok, hi = ref < p.tok ? p.tok : ref;
        uint32_t dist = 0;
        for (uint32_t i = t0; i < t1;) {
            uint32_t a, z, n = item_width(b->toks, i, &a, &z);
            if (i >= lo && i < hi) {
                if (a != z || dist > VS_SEG_MAX) {
                    vs_errf(e, "offset reference is not at a fixed distance "
                               "from the literal anchor");
                    return -EINVAL;
                }
                dist += a;
            }
            i += n;
        }
        seg->hasref = 1;
        seg->refd = ref < p.tok ? -(int32_t)dist : (int32_t)dist;
    }
    if (seg->pre_max == VS_INF || seg->post_max == VS_INF ||
        (uint64_t)seg->pre_max + seg->alen + seg->post_max > VS_SEG_MAX) {
        vs_errf(e, "part %u is longer than %u bytes", seg->idx + 1, VS_SEG_MAX);
        return -EINVAL;
    }
    return p.group;
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
        uint32_t a, z, n = item_width(b->toks, i, &a, &z);
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
        uint32_t a, z, n = item_width(b->toks, i, &a, &z);
        const struct vs_tok *t = &b->toks[i];
        if (a != z || t->kind == VS_TK_GOPEN)
            seg.fixed = 0;
        if (t->kind == VS_TK_LOOKB)
            seg.lookb = (int8_t)t->flag;
        if (t->kind == VS_TK_LOOKA)
            seg.looka = (int8_t)t->flag;
        i += n;
    }
    int group = seg_anchor(st, b, &seg, 0, e);
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
        uint32_t a, z, n = item_width(src, i, &a, &z);
        if (src[i].kind == VS_TK_GAP) {
            pmin = sat_add(pmin, a);
            pmax = sat_add(pmax, z);
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
                    smax = sat_add(smax, g.max);
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
                smax = sat_add(smax, pmax);
            }
            pend = false;
            pmin = pmax = 0;
        }
        if (m->ref != VS_NONE && m->tok + i == m->ref && idx == 0)
            ref = (uint32_t)b->ntoks;
        for (uint32_t k = 0; k < n; k++)
            if ((r = push_tok(b, &src[i + k])) < 0)
                return r;
        smax = sat_add(smax, z);
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

/* ---- prefilter groups ---- */

static uint32_t ceil_log2(uint64_t n)
{
    uint32_t k = 0;
    while (k < 63 && (1ull << k) < n)
        k++;
    return k;
}

struct gent {
    uint64_t gram;
    uint32_t ref;
};

static int cmp_gent(const void *a, const void *b)
{
    const struct gent *x = a, *y = b;
    if (x->gram != y->gram)
        return x->gram < y->gram ? -1 : 1;
    if (x->ref != y->ref)
        return x->ref < y->ref ? -1 : 1;
    return 0; /* same gram and window: the rest is equal too */
}

static int build_group(struct vs_group *g, struct gent *ents, size_t n)
{
    g->bbits = ceil_log2(n ? n : 1);
    if (g->bbits == 0)
        g->bbits = 1;
    size_t nb = (size_t)1 << g->bbits;
    uint32_t *cnt = calloc(nb + 1, sizeof *cnt);
    struct gent *sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (cnt == NULL || sorted == NULL) {
        free(cnt);
        free(sorted);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        cnt[((ents[i].gram * VS_HASHMUL) >> (64 - g->bbits)) + 1]++;
    for (size_t i = 0; i < nb; i++)
        cnt[i + 1] += cnt[i];
    for (size_t i = 0; i < n; i++) {
        size_t bk = (size_t)((ents[i].gram * VS_HASHMUL) >> (64 - g->bbits));
        sorted[cnt[bk]++] = ents[i];
    }
    /* cnt[b] is now the end of bucket b; sort and dedupe each bucket. */
    g->boff = calloc(nb + 1, sizeof *g->boff);
    g->ents = calloc(n ? n : 1, sizeof *g->ents);
    if (g->boff == NULL || g->ents == NULL) {
        free(cnt);
        free(sorted);
        return -ENOMEM;
    }
    size_t out = 0, start = 0;
    for (size_t bk = 0; bk < nb; bk++) {
        size_t end = cnt[bk];
        g->boff[bk] = (uint32_t)out;
        if (end - start > 1)
            qsort(sorted + start, end - start, sizeof *sorted, cmp_gent);
        for (size_t i = start; i < end; i++) {
            /* Variants of one anchor share grams; keep each variant. */
            if (i > start && cmp_gent(&sorted[i], &sorted[i - 1]) == 0)
                continue;
            g->ents[out].gram = sorted[i].gram;
            g->ents[out].ref = sorted[i].ref;
            out++;
        }
        start = end;
    }
    g->boff[nb] = (uint32_t)out;
    g->nent = out;
    free(cnt);
    free(sorted);

    if (g->g <= 2) {
        g->mbits = 8u * g->g;
    } else {
        g->mbits = ceil_log2(out * 64);
        if (g->mbits < 12)
            g->mbits = 12;
        if (g->mbits > 25)
            g->mbits = 25;
    }
    size_t words = ((size_t)1 << g->mbits) / 64;
    if (words == 0)
        words = 1;
    if (words < 8)
        words = 8;
    /* 64-byte aligned: a probe block is one cache line. */
    g->bloom = aligned_alloc(64, words * sizeof *g->bloom);
    if (g->bloom == NULL)
        return -ENOMEM;
    memset(g->bloom, 0, words * sizeof *g->bloom);
    /* Padding and fill bytes (zeroed disk blocks, 0xff flash, spaces, nop
     * and int3 runs) repeat one gram for megabytes: if such a gram hit the
     * filter by accident, every sampled position would become a candidate.
     * Try a few multipliers and keep the first that leaves them all out. */
    static const uint64_t muls[] = {VS_HASHMUL,
                                    0xC2B2AE3D27D4EB4Full,
                                    0x165667B19E3779F9ull,
                                    0xD6E8FEB86659FD93ull,
                                    0xFF51AFD7ED558CCDull,
                                    0xC4CEB9FE1A85EC53ull};
    static const uint8_t fill[] = {0x00, 0xff, 0x20, 0x90, 0xcc, 0x0a};
    uint64_t mask = ((uint64_t)1 << g->mbits) - 1;
    g->mul = VS_HASHMUL;
    for (size_t mi = 0; g->g > 2 && mi < sizeof muls / sizeof muls[0]; mi++) {
        memset(g->bloom, 0, words * sizeof *g->bloom);
        g->mul = muls[mi];
        for (size_t i = 0; i < out; i++) {
            uint64_t y = g->ents[i].gram * g->mul;
            uint64_t h1 = VS_H1(y, mask), h2 = VS_H2(y, mask);
            g->bloom[h1 >> 6] |= 1ull << (h1 & 63);
            g->bloom[h2 >> 6] |= 1ull << (h2 & 63);
        }
        bool clean = true;
        for (size_t f = 0; f < sizeof fill && clean; f++) {
            uint64_t x = fill[f] * 0x0101010101010101ull;
            if (g->g < 8)
                x &= (1ull << (8 * g->g)) - 1;
            uint64_t h1 = VS_H1(x * g->mul, mask);
            bool entry = false;
            uint64_t bk = (x * VS_HASHMUL) >> (64 - g->bbits);
            for (uint32_t i = g->boff[bk]; i < g->boff[bk + 1] && !entry; i++)
                entry = g->ents[i].gram == x;
            if (((g->bloom[h1 >> 6] >> (h1 & 63)) & 1) && !entry)
                clean = false;
        }
        if (clean)
            break;
    }
    for (size_t i = 0; g->g <= 2 && i < out; i++) {
        uint64_t x = g->ents[i].gram;
        g->bloom[x >> 6] |= 1ull << (x & 63);
    }
    return 0;
}

/* Bytes of the window at [o, o + n) as value and mask for the inline check:
 * exact bytes and nibbles count, sets and wildcards do not. */
static void window_word(const struct vs_tok *t, int32_t o, uint32_t n,
                        uint64_t *val, uint64_t *mask)
{
    *val = *mask = 0;
    for (uint32_t k = 0; k < n; k++) {
        const struct vs_tok *x = &t[(int64_t)o + (int64_t)k];
        if (x->arg != VS_NONE)
            continue;
        *val |= (uint64_t)x->val << (8 * k);
        *mask |= (uint64_t)x->mask << (8 * k);
    }
}

/* Inline check words of a segment's anchor (see struct vs_group). */
struct segcheck {
    uint64_t w[4];
    uint32_t cd;
    uint8_t cw;
};

static void seg_check(const struct vsig_db *db, const struct vs_seg *seg,
                      struct segcheck *c)
{
    const struct vs_tok *t = db->toks + seg->tok + seg->atok;

    memset(c, 0, sizeof *c);
    if (seg->cw) {
        window_word(t, seg->cd0, seg->cw, &c->w[0], &c->w[1]);
        window_word(t, seg->cd1, seg->cw, &c->w[2], &c->w[3]);
    }
    c->cd = (uint32_t)(uint16_t)seg->cd0 | (uint32_t)(uint16_t)seg->cd1 << 16;
    c->cw = seg->cw;
}

static void fill_checks(const struct segcheck *sc, struct vs_group *g)
{
    for (size_t k = 0; k < g->nent; k++) {
        struct vs_gent *e = &g->ents[k];
        const struct segcheck *c = &sc[e->ref >> 5];
        memcpy(e->aw, c->w, sizeof c->w);
        e->d0 = (int16_t)(c->cd & 0xffff);
        e->d1 = (int16_t)(c->cd >> 16);
        e->cw = c->cw;
    }
}

/* The indexed grams of a segment's anchor window, every variant of each. */
static int add_anchor_grams(const struct vsig_db *db, uint32_t si, int gi,
                            struct gent **ents, size_t *n, size_t *cap)
{
    const struct vs_seg *seg = &db->segs[si];
    const struct vs_tok *t = db->toks + seg->tok + seg->atok;
    uint32_t g = gdefs[gi].g;
    for (uint32_t o = 0; o < WIN_MAX; o++) {
        if (!(seg->gmask & (1u << o)))
            continue;
        uint8_t opts[8][4];
        unsigned nopt[8], idx[8] = {0};
        for (uint32_t k = 0; k < g; k++) {
            const struct vs_tok *x = &t[(int64_t)o + (int64_t)k];
            nopt[k] = 0;
            if (x->arg == VS_NONE) {
                opts[k][nopt[k]++] = x->val;
                continue;
            }
            for (unsigned bv = 0; bv < 256 && nopt[k] < 4; bv++)
                if (vs_set_has(&db->st.sets[x->arg], (uint8_t)bv))
                    opts[k][nopt[k]++] = (uint8_t)bv;
        }
        for (;;) {
            uint64_t x = 0;
            for (uint32_t k = 0; k < g; k++)
                x |= (uint64_t)opts[k][idx[k]] << (8 * k);
            if (vs_grow((void **)ents, cap, *n, 1, sizeof **ents) < 0)
                return -ENOMEM;
            (*ents)[(*n)++] = (struct gent){.gram = x, .ref = si << 5 | o};
            uint32_t k = 0;
            while (k < g && ++idx[k] == nopt[k])
                idx[k++] = 0;
            if (k == g)
                break;
        }
    }
    return 0;
}

/* Fixed segments with a long {n}: list the 8-byte words that hold bytes to
 * compare, so verification costs the pattern's bytes, not the gap's. */
static int sparse_words(struct vsig_db *db)
{
    size_t cap = 0;

    for (size_t si = 0; si < db->nsegs; si++) {
        struct vs_seg *sg = &db->segs[si];
        if (!sg->fixed)
            continue;
        uint32_t nw = (sg->fxn + 7) / 8, used = 0;
        for (uint32_t k = 0; k < nw; k++)
            used += vs_load64(db->fxmask + sg->fx + 8 * k) != 0;
        if (nw - used < 4)
            continue;
        if (vs_grow((void **)&db->fxw, &cap, db->nfxw, used, sizeof *db->fxw) <
            0)
            return -ENOMEM;
        sg->fw = (uint32_t)db->nfxw;
        sg->nfw = used;
        for (uint32_t k = 0; k < nw; k++)
            if (vs_load64(db->fxmask + sg->fx + 8 * k) != 0)
                db->fxw[db->nfxw++] = 8 * k;
    }
    db->memory += db->nfxw * sizeof *db->fxw;
    return 0;
}

void vs_db_free(struct vsig_db *db)
{
    if (db == NULL)
        return;
    vs_store_free(&db->st);
    free(db->segs);
    free(db->toks);
    free(db->fxmask);
    free(db->fxval);
    free(db->xchk);
    for (unsigned i = 0; i < VS_NGROUPS; i++) {
        free(db->groups[i].bloom);
        free(db->groups[i].boff);
        free(db->groups[i].ents);
    }
    free(db->eof_msigs);
    free(db->fxw);
    free(db->lvls);
    free(db->lplans);
    free(db);
}

int vs_compile(struct vs_store *st, struct vsig_db **out)
{
    struct vsig_db *db = calloc(1, sizeof *db);
    size_t eofcap = 0;
    struct segcheck *checks = NULL;
    int r = 0;

    if (db == NULL)
        return -ENOMEM;
    db->refs = 1;
    db->st = *st;
    memset(st, 0, sizeof *st);
    st = &db->st;
    /* The loader planned every signature (vs_plan_msig). */
    struct vs_plan b = st->plan;
    memset(&st->plan, 0, sizeof st->plan);

    for (uint32_t mi = 0; mi < st->nmsigs; mi++) {
        uint32_t nseg = st->msigs[mi].nseg;
        if (nseg > 1)
            st->msigs[mi].state = db->nstate++;
        if (st->msigs[mi].target != 0)
            db->has_targets = true;
        if (st->msigs[mi].off.kind == VS_OFF_EOF) {
            if (vs_grow((void **)&db->eof_msigs, &eofcap, db->neof, 1,
                        sizeof *db->eof_msigs) < 0) {
                r = -ENOMEM;
                goto fail;
            }
            db->eof_msigs[db->neof++] = mi;
            uint64_t reach = st->msigs[mi].off.off + 1;
            if (reach > VS_EOF_TAIL)
                reach = VS_EOF_TAIL;
            if (reach > db->eof_reach)
                db->eof_reach = (uint32_t)reach;
        }
    }
    for (size_t i = 0; i < st->nldbs; i++)
        if (st->ldbs[i].target != 0)
            db->has_targets = true;
    free(st->toks);
    st->toks = NULL;
    st->ntoks = st->ctoks = 0;

    /* Passes: one per class present, each costing 1/S per byte.  Long
     * anchors join the pass of the shortest class present that still uses
     * grams of merge_g bytes or more; the remaining shorter hashed classes
     * share the pass of the shortest of them. */
    {
        size_t present[VS_NGROUPS] = {0};
        for (size_t si = 0; si < b.nsegs; si++)
            present[b.sgrp[si]]++;
        /* Small databases: even 3-byte grams are selective enough, and one
         * pass is cheapest.  Larger ones match common 3- and 4-grams of
         * code and text too often; their long anchors keep longer grams. */
        unsigned merge_g = b.nsegs > 20000 ? 8 : b.nsegs > 5000 ? 4 : 3;
        int th = -1, ts = -1;
        for (int gi = 0; gi < VS_NGROUPS; gi++) {
            if (!present[gi])
                continue;
            if (gdefs[gi].g >= merge_g)
                th = gi;
            else if (gdefs[gi].g >= 3 && gdefs[gi].A >= 4)
                ts = gi;
        }
        for (size_t si = 0; si < b.nsegs; si++) {
            int c = b.sgrp[si], to = -1;
            if (gdefs[c].g >= merge_g && c < th)
                to = th;
            else if (c > th && gdefs[c].g >= 3 && c < ts)
                to = ts; /* short anchors share the shortest pass */
            if (to < 0)
                continue;
            struct vs_err e;
            int g = seg_anchor(st, &b, &b.segs[si], to, &e);
            if (g < 0) {
                r = -EINVAL;
                goto fail;
            }
            b.sgrp[si] = (uint8_t)g;
        }
    }
    db->segs = b.segs;
    db->nsegs = b.nsegs;
    db->toks = b.toks;
    db->ntoks = b.ntoks;
    db->fxmask = b.fxm;
    db->fxval = b.fxv;
    db->nfx = b.nfxm;
    db->xchk = b.xchk;
    db->nxchk = b.nxchk;
    b.segs = NULL;
    b.toks = NULL;
    b.fxm = b.fxv = NULL;
    b.xchk = NULL;

    /* Bytes whose runs some anchor window could match entirely. */
    for (size_t si = 0; si < db->nsegs; si++) {
        const struct vs_seg *sg = &db->segs[si];
        const struct vs_tok *t = db->toks + sg->tok + sg->atok;
        int v = -1;
        for (uint32_t k = 0; k < sg->alen && v < 0; k++)
            if (t[k].arg == VS_NONE && t[k].mask == 0xff)
                v = t[k].val;
        for (int c = 0; c < 256; c++) {
            if (v >= 0 && c != v)
                continue;
            bool all = true;
            for (uint32_t k = 0; k < sg->alen && all; k++) {
                const struct vs_tok *x = &t[k];
                if (x->arg == VS_NONE)
                    all = ((uint8_t)c & x->mask) == x->val;
                else
                    all = x->flag
                              ? vs_set_has(vs_special_set(x->arg, VS_WHERE_MID),
                                           (uint8_t)c)
                              : vs_set_has(&st->sets[x->arg], (uint8_t)c);
            }
            if (all)
                vs_set_add(&db->fill_ok, (uint8_t)c);
        }
    }

    /* Window sizes. */
    db->lf = 8;
    for (size_t si = 0; si < db->nsegs; si++) {
        const struct vs_seg *sg = &db->segs[si];
        int gi = b.sgrp[si];
        (void)gi;
        uint32_t back =
            sg->pre_max + 1 + (31 - (uint32_t)__builtin_clz(sg->gmask));
        uint32_t fwd = sg->alen + sg->post_max + 1;
        if (back > db->lb)
            db->lb = back;
        if (fwd > db->lf)
            db->lf = fwd;
        if (sg->pre_max > db->max_span)
            db->max_span = sg->pre_max;
        if (sg->post_max > db->max_span)
            db->max_span = sg->post_max;
    }

    if ((r = vs_lin_build(db)) < 0 || (r = sparse_words(db)) < 0)
        goto fail;

    /* Prefilter groups. */
    checks = malloc((db->nsegs ? db->nsegs : 1) * sizeof *checks);
    if (checks == NULL) {
        r = -ENOMEM;
        goto fail;
    }
    for (size_t si = 0; si < db->nsegs; si++)
        seg_check(db, &db->segs[si], &checks[si]);
    for (int gi = 0; gi < VS_NGROUPS; gi++) {
        struct gent *ents = NULL;
        size_t n = 0, cap = 0;
        for (size_t si = 0; si < db->nsegs; si++) {
            if (b.sgrp[si] != gi)
                continue;
            if ((r = add_anchor_grams(db, (uint32_t)si, gi, &ents, &n, &cap)) <
                0) {
                free(ents);
                goto fail;
            }
            db->nanchors++;
        }
        if (n == 0) {
            free(ents);
            continue;
        }
        struct vs_group *g = &db->groups[db->ngroups++];
        g->g = gdefs[gi].g;
        g->S = gdefs[gi].S;
        g->A = gdefs[gi].A;
        g->cls = (uint8_t)gi;
        r = build_group(g, ents, n);
        free(ents);
        if (r < 0)
            goto fail;
        fill_checks(checks, g);
        db->memory += ((size_t)1 << g->mbits) / 8 +
                      (((size_t)1 << g->bbits) + 1) * 4 +
                      g->nent * sizeof(struct vs_gent);
    }
    free(checks);
    checks = NULL;
    for (int a = 0; a < VS_NALGO; a++) {
        vs_hash_sort(st->hashes[a], st->nhashes[a]);
        if (st->nhashes[a])
            db->hash_algos |= 1u << a;
        db->memory += st->nhashes[a] * sizeof(struct vs_hash);
    }
    db->memory += db->nsegs * sizeof(struct vs_seg) +
                  db->ntoks * sizeof(struct vs_tok) + db->nfx * 2 +
                  db->nxchk * sizeof(struct vs_xchk) + st->nnames +
                  st->nsigs * sizeof(struct vs_sig) +
                  st->nmsigs * sizeof(struct vs_msig) +
                  st->nsets * sizeof(struct vs_set) + st->npool +
                  st->nldbs * sizeof(struct vs_ldb) +
                  st->nrpn * sizeof(struct vs_rpn) + st->nsubs * 4;
    free(b.sgrp);
    *out = db;
    return 0;
fail:
    free(checks);
    free(b.toks);
    free(b.segs);
    free(b.sgrp);
    free(b.fxm);
    free(b.fxv);
    free(b.xchk);
    vs_db_free(db);
    return r;
}
