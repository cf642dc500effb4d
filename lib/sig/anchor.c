/* The anchor of a segment: the literal run (exact bytes, or small byte sets
 * such as case-insensitive letters) that is longest and made of the rarest
 * bytes, as a window of one of the length classes the prefilter samples,
 * and the spans and inline check regions around it. */
#include <errno.h>
#include <string.h>

#include "sig/compile-int.h"

/* Anchor length classes: A = S + g - 1.  One prefilter pass per class
 * present costs 1/S of a lookup per byte, so the classes favour long strides
 * and cheap direct-indexed 2-byte grams for short anchors. */
const struct vs_gdef vs_gdefs[VS_NGROUPS] = {
#define GDEF(i, a, gg, s) [i] = {a, gg, s},
    VS_CLASSES(GDEF)
#undef GDEF
};

#define MAX_VARIANTS 64

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

/* A run of one-byte tokens, with per-token fan-out and prefix costs. */
struct run {
    const struct vs_plan *b;
    uint32_t r0, r1, R; /* the run; R: the part considered */
    unsigned fan[RUN_MAX], pre[RUN_MAX + 1];
};

/* Contiguous literal windows of S + g - 1 bytes. */
static void pick_contiguous(const struct run *run, int mingi,
                            struct anchor_pick *p)
{
    int contiguous = VS_NGROUPS;
    for (int gi = mingi; gi < VS_NGROUPS && gi < contiguous; gi++) {
        uint32_t A = vs_gdefs[gi].A;
        if (p->group >= 0 && gi > p->group)
            break;
        for (uint32_t s0 = 0; s0 + A <= run->R; s0++) {
            unsigned variants = 1, score = run->pre[s0 + A] - run->pre[s0];
            for (uint32_t k = 0; k < A && variants && variants <= MAX_VARIANTS;
                 k++)
                variants *= run->fan[s0 + k];
            if (variants == 0 || variants > MAX_VARIANTS)
                continue;
            if (vs_gdefs[gi].g == 2)
                for (uint32_t o = 0; o < vs_gdefs[gi].S; o++)
                    score += gram2_penalty(&run->b->toks[run->r0 + s0 + o]);
            for (unsigned v = variants; v > 1; v >>= 1)
                score += 3;
            if (p->group < 0 || gi < p->group || score < p->score) {
                p->group = gi;
                p->score = score;
                p->tok = run->r0 + s0;
                p->run0 = run->r0;
                p->run1 = run->r1;
                p->len = A;
                p->gmask = (1u << vs_gdefs[gi].S) - 1;
                contiguous = gi;
            }
        }
    }
}

/* Gapped windows for classes better than what contiguous ones gave. */
static void pick_gapped(const struct run *run, int mingi, struct anchor_pick *p)
{
    int stop = p->group >= 0 ? p->group : VS_NGROUPS;
    for (int gi = mingi; gi < stop; gi++) {
        uint32_t g = vs_gdefs[gi].g, S = vs_gdefs[gi].S;
        unsigned gcost[RUN_MAX];
        bool gok[RUN_MAX];
        for (uint32_t k = 0; k < run->R; k++) {
            unsigned variants = 1;
            gok[k] = k + g <= run->R;
            gcost[k] = 0;
            for (uint32_t q = 0; gok[k] && q < g; q++) {
                variants *= run->fan[k + q];
                gok[k] = variants > 0 && variants <= 16;
            }
            if (gok[k]) {
                gcost[k] = run->pre[k + g] - run->pre[k];
                if (g == 2)
                    gcost[k] += gram2_penalty(&run->b->toks[run->r0 + k]);
                for (unsigned v = variants; v > 1; v >>= 1)
                    gcost[k] += 3;
            }
        }
        bool found = false;
        unsigned starts = 0;
        for (uint32_t s0 = 0; s0 < run->R && starts < GAP_STARTS; s0++) {
            if (!gok[s0])
                continue;
            starts++;
            unsigned total = 0;
            uint32_t mask = 0, end = 0;
            bool ok = true;
            for (uint32_t c = 0; c < S && ok; c++) {
                uint32_t best = VS_NONE;
                for (uint32_t o = c;
                     o + g <= VS_WIN_MAX && s0 + o + g <= run->R; o += S)
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
                p->tok = run->r0 + s0;
                p->run0 = run->r0;
                p->run1 = run->r1;
                p->len = end;
                p->gmask = mask;
                found = true;
            }
        }
        if (found)
            return;
    }
}

/*
 * Consider the run toks[r0, r1) of one-byte tokens for classes >= mingi.
 * Contiguous literal windows of S + g - 1 bytes first; then, for classes
 * better than what they gave, "gapped" windows: up to VS_WIN_MAX bytes with
 * wildcards inside, usable as long as literal g-byte grams sit at offsets
 * covering every residue modulo S (the sampling lattice then always lands on
 * one of them).  That lets aabbccdd??eeff0011 use a stride of 5 instead of 2.
 */
static void pick_in_run(const struct vs_store *st, const struct vs_plan *b,
                        uint32_t r0, uint32_t r1, int mingi,
                        struct anchor_pick *p)
{
    struct run run = {.b = b, .r0 = r0, .r1 = r1};

    run.R = r1 - r0 > RUN_MAX ? RUN_MAX : r1 - r0;
    run.pre[0] = 0;
    for (uint32_t k = 0; k < run.R; k++) {
        const struct vs_tok *t = &b->toks[r0 + k];
        unsigned cost;
        run.fan[k] = anchor_fanout(st, t);
        cost = run.fan[k] ? tok_cost(st, t) : 0;
        if (k > 0 && run.fan[k] == 1 && run.fan[k - 1] == 1 &&
            t->val == b->toks[r0 + k - 1].val)
            cost += 3;
        run.pre[k + 1] = run.pre[k] + cost;
    }
    pick_contiguous(&run, mingi, p);
    pick_gapped(&run, mingi, p);
}

int vs_seg_anchor(const struct vs_store *st, const struct vs_plan *b,
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
        i += vs_item_width(b->toks, i, &a, &z);
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
        uint32_t a, z, n = vs_item_width(b->toks, i, &a, &z);
        if (i < p.tok) {
            seg->pre_min = vs_sat_add(seg->pre_min, a);
            seg->pre_max = vs_sat_add(seg->pre_max, z);
        } else if (i >= p.tok + seg->alen) {
            seg->post_min = vs_sat_add(seg->post_min, a);
            seg->post_max = vs_sat_add(seg->post_max, z);
        }
        i += n;
    }
    if (seg->reftok != VS_NONE) {
        /* Fixed distance between the offset reference and the anchor. */
        uint32_t ref = t0 + seg->reftok;
        uint32_t lo = ref < p.tok ? ref : p.tok, hi = ref < p.tok ? p.tok : ref;
        uint32_t dist = 0;
        for (uint32_t i = t0; i < t1;) {
            uint32_t a, z, n = vs_item_width(b->toks, i, &a, &z);
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
