/* Prefilter groups: each anchor class present gets a blocked bloom filter
 * of the grams its anchors index (sampled every S positions, see struct
 * vs_group) and a hash table from gram to (segment, offset, inline check). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sig/compile-int.h"

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

/* The gram table: entries grouped by bucket, each bucket sorted with its
 * duplicates removed. */
static int group_table(struct vs_group *g, struct gent *ents, size_t n)
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
    vs_huge(sorted, n * sizeof *sorted);
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
    vs_huge(g->ents, n * sizeof *g->ents);
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
    return 0;
}

/* The blocked bloom filter over the table's grams. */
static int group_bloom(struct vs_group *g)
{
    size_t out = g->nent;

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
    vs_huge(g->bloom, words * sizeof *g->bloom);
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
    g->mul = VS_HASHMUL;
    for (size_t mi = 0; g->g > 2 && mi < sizeof muls / sizeof muls[0]; mi++) {
        memset(g->bloom, 0, words * sizeof *g->bloom);
        g->mul = muls[mi];
        for (size_t i = 0; i < out; i++) {
            uint64_t h1, h2;
            vs_probes(g->g, g->ents[i].gram, g->mul, g->mbits, &h1, &h2);
            g->bloom[h1 >> 6] |= 1ull << (h1 & 63);
            g->bloom[h2 >> 6] |= 1ull << (h2 & 63);
        }
        bool clean = true;
        for (size_t f = 0; f < sizeof fill && clean; f++) {
            uint64_t x = fill[f] * 0x0101010101010101ull;
            if (g->g < 8)
                x &= (1ull << (8 * g->g)) - 1;
            uint64_t h1, h2;
            vs_probes(g->g, x, g->mul, g->mbits, &h1, &h2);
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

static int build_group(struct vs_group *g, struct gent *ents, size_t n)
{
    int r = group_table(g, ents, n);
    return r < 0 ? r : group_bloom(g);
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

/* Is @rel (relative to the window start) a byte the inline check or the
 * window of @seg requires? */
static bool seg_covers(const struct vs_seg *seg, int32_t rel)
{
    if (rel >= 0 && rel < (int32_t)seg->alen)
        return true;
    return seg->cw && ((rel >= seg->cd0 && rel < seg->cd0 + seg->cw) ||
                       (rel >= seg->cd1 && rel < seg->cd1 + seg->cw));
}

/* The pre-check words of a group's entries (see struct vs_group): only
 * bytes the entry's match must have there, so no match is rejected. */
static int fill_pk(const struct vsig_db *db, struct vs_group *g)
{
    int32_t back = (int32_t)VS_PK_BACK(g->g);

    /* Three entries of padding: candidate512() loads four at a time. */
    g->pk = calloc(g->nent + 3, sizeof *g->pk);
    if (g->pk == NULL)
        return -ENOMEM;
    vs_huge(g->pk, g->nent * sizeof *g->pk);
    for (size_t k = 0; k < g->nent; k++) {
        const struct vs_gent *e = &g->ents[k];
        const struct vs_seg *seg = &db->segs[e->ref >> 5];
        const struct vs_tok *t = db->toks + seg->tok + seg->atok;
        int32_t o = (int32_t)(e->ref & 31);
        uint64_t v = 0, m = 0;
        for (int32_t q = 0; q < 8; q++) {
            int32_t rel = o - back + q; /* from the window start */
            uint64_t bv, bm;
            if (rel >= o && rel < o + (int32_t)g->g) {
                bv = (e->gram >> (8 * (rel - o))) & 0xff;
                bm = 0xff;
            } else if (seg_covers(seg, rel) && t[rel].arg == VS_NONE) {
                bv = t[rel].val;
                bm = t[rel].mask;
            } else {
                continue;
            }
            v |= bv << (8 * q);
            m |= bm << (8 * q);
        }
        g->pk[k] = (struct vs_pk){v & m, m};
        struct vs_gent *ew = &g->ents[k];
        const struct vs_msig *ms = &db->st.msigs[seg->msig];
        ew->state = ms->nseg > 1 ? ms->state : VS_NONE;
        ew->pidx = (uint16_t)seg->idx;
        ew->unb = seg->idx + 1 < ms->nseg && (seg + 1)->gmax == VS_INF;
        ew->sub = VS_NONE;
        if (ms->is_sub) {
            const struct vs_ldb *l = &db->st.ldbs[db->st.subs[ms->owner]];
            if (l->plain && l->fs_min == 0 && l->fs_max == UINT64_MAX)
                ew->sub = ms->owner;
        }
    }
    return 0;
}

/* The indexed grams of a segment's anchor window, every variant of each. */
static int add_anchor_grams(const struct vsig_db *db, uint32_t si, int gi,
                            struct gent **ents, size_t *n, size_t *cap)
{
    const struct vs_seg *seg = &db->segs[si];
    const struct vs_tok *t = db->toks + seg->tok + seg->atok;
    uint32_t g = vs_gdefs[gi].g;
    for (uint32_t o = 0; o < VS_WIN_MAX; o++) {
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

/* The window filter of group @g (struct vs_group), when its windows are
 * short enough and have few variants; 0 without it too. */
bool vs_prune_off;

static int build_wf(const struct vsig_db *db, struct vs_group *g)
{
    if (vs_prune_off || g->S < 2 || g->A > 8 || g->nent == 0)
        return 0;
    g->wfbits = ceil_log2((uint64_t)g->nent * 32);
    if (g->wfbits < 12)
        g->wfbits = 12;
    if (g->wfbits > 24)
        g->wfbits = 24;
    g->wf = calloc(((size_t)1 << g->wfbits) / 64, sizeof *g->wf);
    if (g->wf == NULL)
        return -ENOMEM;
    for (size_t k = 0; k < g->nent; k++) {
        const struct vs_seg *seg = &db->segs[g->ents[k].ref >> 5];
        const struct vs_tok *t = db->toks + seg->tok + seg->atok;
        uint8_t opts[8][4];
        unsigned nopt[8], idx[8] = {0}, variants = 1;
        bool ok = seg->alen == g->A;
        for (uint32_t q = 0; q < g->A && ok; q++) {
            const struct vs_tok *x = &t[q];
            nopt[q] = 0;
            if (x->arg == VS_NONE) {
                ok = x->mask == 0xff;
                opts[q][nopt[q]++] = x->val;
            } else {
                for (unsigned bv = 0; bv < 256 && ok; bv++)
                    if (vs_set_has(&db->st.sets[x->arg], (uint8_t)bv)) {
                        ok = nopt[q] < 4;
                        if (ok)
                            opts[q][nopt[q]++] = (uint8_t)bv;
                    }
            }
            variants *= nopt[q];
            ok = ok && variants <= 64;
        }
        if (!ok) { /* not a window of small sets: no filter at all */
            free(g->wf);
            g->wf = NULL;
            return 0;
        }
        for (;;) {
            uint64_t x = 0;
            for (uint32_t q = 0; q < g->A; q++)
                x |= (uint64_t)opts[q][idx[q]] << (8 * q);
            uint64_t h = (x * VS_WFMUL) >> (64 - g->wfbits);
            g->wf[h >> 6] |= 1ull << (h & 63);
            uint32_t q = 0;
            while (q < g->A && ++idx[q] == nopt[q])
                idx[q++] = 0;
            if (q == g->A)
                break;
        }
    }
    return 0;
}

/* One list of the live index: entries whose @key (a chain state or a
 * subsignature; VS_NONE: not listed) is below @nkeys, grouped by it. */
static int live_list(struct vsig_db *db, bool by_sub, size_t nkeys,
                     uint32_t **eoff, struct vs_stent **ent)
{
    size_t n = 0;
    *eoff = calloc(nkeys + 1, sizeof **eoff);
    if (*eoff == NULL)
        return -ENOMEM;
    for (unsigned gi = 0; gi < db->ngroups; gi++)
        for (size_t k = 0; k < db->groups[gi].nent; k++) {
            const struct vs_gent *e = &db->groups[gi].ents[k];
            uint32_t key = by_sub ? e->sub : e->state;
            if (key != VS_NONE) {
                (*eoff)[key + 1]++;
                n++;
            }
        }
    for (size_t i = 0; i < nkeys; i++)
        (*eoff)[i + 1] += (*eoff)[i];
    *ent = calloc(n ? n : 1, sizeof **ent);
    uint32_t *fill = calloc(nkeys + 1, sizeof *fill);
    if (*ent == NULL || fill == NULL) {
        free(fill);
        return -ENOMEM;
    }
    for (unsigned gi = 0; gi < db->ngroups; gi++) {
        const struct vs_group *g = &db->groups[gi];
        for (size_t k = 0; k < g->nent; k++) {
            const struct vs_gent *e = &g->ents[k];
            uint32_t key = by_sub ? e->sub : e->state;
            if (key == VS_NONE)
                continue;
            (*ent)[(*eoff)[key] + fill[key]++] = (struct vs_stent){
                (uint32_t)(g->lbase + k), e->state, e->sub, e->pidx, e->unb};
        }
    }
    free(fill);
    db->memory += (nkeys + 1) * sizeof **eoff + n * sizeof **ent;
    return 0;
}

/* The live index (struct vsig_db): an entry is live in a fresh stream
 * when it is of a single part or its chain's progress 0 lets it matter
 * (no subsignature has matched yet).  The bits past a group's entries
 * stay 0: candidate512() reads four at a time. */
static int build_live(struct vsig_db *db)
{
    size_t bits = 0;
    for (unsigned gi = 0; gi < db->ngroups; gi++) {
        db->groups[gi].lbase = (uint32_t)bits;
        bits += (db->groups[gi].nent + 3 + 63) / 64 * 64;
    }
    if (bits > UINT32_MAX)
        return -ENOMEM;
    db->live_words = bits / 64 + 1; /* an 8-byte load at any entry's byte */
    db->live0 = calloc(db->live_words, sizeof *db->live0);
    if (db->live0 == NULL)
        return -ENOMEM;
    db->memory += db->live_words * 8;
    db->live_all = vs_prune_off;
    for (unsigned gi = 0; gi < db->ngroups; gi++) {
        const struct vs_group *g = &db->groups[gi];
        for (size_t k = 0; k < g->nent; k++) {
            const struct vs_gent *e = &g->ents[k];
            size_t b = g->lbase + k;
            if (vs_prune_off || e->state == VS_NONE ||
                vs_entry_live(e->pidx, e->unb, 0))
                db->live0[b >> 6] |= 1ull << (b & 63);
        }
    }
    int r = live_list(db, false, db->nstate, &db->st_eoff, &db->st_ent);
    return r < 0 ? r
                 : live_list(db, true, db->st.nsubs, &db->sb_eoff, &db->sb_ent);
}

int vs_build_groups(struct vsig_db *db, const uint8_t *sgrp)
{
    struct segcheck *checks =
        malloc((db->nsegs ? db->nsegs : 1) * sizeof *checks);
    int r = 0;

    if (checks == NULL)
        return -ENOMEM;
    for (size_t si = 0; si < db->nsegs; si++)
        seg_check(db, &db->segs[si], &checks[si]);
    for (int gi = 0; gi < VS_NGROUPS && r == 0; gi++) {
        struct gent *ents = NULL;
        size_t n = 0, cap = 0;
        for (size_t si = 0; si < db->nsegs && r == 0; si++) {
            if (sgrp[si] != gi)
                continue;
            r = add_anchor_grams(db, (uint32_t)si, gi, &ents, &n, &cap);
            db->nanchors++;
        }
        if (r == 0 && n > 0) {
            struct vs_group *g = &db->groups[db->ngroups++];
            g->g = vs_gdefs[gi].g;
            g->S = vs_gdefs[gi].S;
            g->A = vs_gdefs[gi].A;
            g->cls = (uint8_t)gi;
            if ((r = build_group(g, ents, n)) == 0) {
                fill_checks(checks, g);
                r = fill_pk(db, g);
                if (r == 0)
                    r = build_wf(db, g);
                if (r == 0 && g->wf)
                    db->memory += ((size_t)1 << g->wfbits) / 8;
                if (r == 0 && vs_have_avx2())
                    r = vs_teddy_build(g);
                db->memory +=
                    ((size_t)1 << g->mbits) / 8 +
                    (((size_t)1 << g->bbits) + 1) * 4 +
                    g->nent * (sizeof(struct vs_gent) + sizeof(struct vs_pk));
            }
        }
        free(ents);
    }
    free(checks);
    return r < 0 ? r : build_live(db);
}
