/* Compilation: the loader's store and plan -> an immutable struct vsig_db.
 *
 * The loader already cut each signature into segments with anchors
 * (plan.c, anchor.c).  Here the segments are collected, long anchors merged
 * into fewer prefilter passes, the stream's window sizes derived, the
 * verification aids built (verify-lin.c, fixed-word lists) and the
 * prefilter groups (group.c); the stream verifies the rest of a segment
 * around each anchor hit (verify.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sig/compile-int.h"

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
        free(db->groups[i].pk);
        free(db->groups[i].wf);
        free(db->groups[i].teddy);
    }
    free(db->eof_msigs);
    free(db->live0);
    free(db->st_eoff);
    free(db->st_ent);
    free(db->sb_eoff);
    free(db->sb_ent);
    free(db->fxw);
    free(db->lvls);
    free(db->lplans);
    free(db);
}

/* Per-signature facts the stream needs: chain states of multi-part
 * signatures, the EOF-anchored list and the tail it keeps, target types. */
static int take_msigs(struct vsig_db *db)
{
    struct vs_store *st = &db->st;
    size_t eofcap = 0;

    for (uint32_t mi = 0; mi < st->nmsigs; mi++) {
        struct vs_msig *m = &st->msigs[mi];
        if (m->nseg > 1)
            m->state = db->nstate++;
        if (m->target != 0)
            db->has_targets = true;
        if (m->off.kind != VS_OFF_EOF)
            continue;
        if (vs_grow((void **)&db->eof_msigs, &eofcap, db->neof, 1,
                    sizeof *db->eof_msigs) < 0)
            return -ENOMEM;
        db->eof_msigs[db->neof++] = mi;
        uint64_t reach = m->off.off + 1;
        if (reach > VS_EOF_TAIL)
            reach = VS_EOF_TAIL;
        if (reach > db->eof_reach)
            db->eof_reach = (uint32_t)reach;
    }
    for (size_t i = 0; i < st->nldbs; i++)
        if (st->ldbs[i].target != 0)
            db->has_targets = true;
    /* The segments hold their own (rewritten) copy of the tokens. */
    free(st->toks);
    st->toks = NULL;
    st->ntoks = st->ctoks = 0;
    return 0;
}

/* A few anchors of 4 bytes or less (3-byte grams every 2 positions, or at
 * every position) would set the stride of the one pass for all anchors.
 * With AVX2 they go to the SIMD first stage instead (teddy.c: their 3-byte
 * grams looked for at every position, 32 at a time), and the long anchors
 * keep a longer stride.  Sets *@teddy when they did; @present is updated. */
static int short_anchors_apart(const struct vs_store *st, struct vs_plan *b,
                               size_t *present, bool *teddy)
{
    size_t nshort = present[VS_TEDDY_CLASS - 1] + present[VS_TEDDY_CLASS];
    if (nshort == 0 || nshort > VS_TEDDY_ANCHORS || !vs_have_avx2())
        return 0;
    for (size_t si = 0; si < b->nsegs; si++) {
        if (b->sgrp[si] != VS_TEDDY_CLASS - 1)
            continue;
        struct vs_err e;
        int g = vs_seg_anchor(st, b, &b->segs[si], VS_TEDDY_CLASS, &e);
        if (g < 0)
            return -EINVAL;
        present[b->sgrp[si]]--;
        present[g]++;
        b->sgrp[si] = (uint8_t)g;
    }
    *teddy = present[VS_TEDDY_CLASS] > 0;
    return 0;
}

/* Passes: one per class present, each costing 1/S per byte.  Long anchors
 * join the pass of the shortest class present that still uses grams of
 * merge_g bytes or more; the remaining shorter hashed classes share the pass
 * of the shortest of them. */
static int merge_passes(const struct vs_store *st, struct vs_plan *b)
{
    size_t present[VS_NGROUPS] = {0};
    for (size_t si = 0; si < b->nsegs; si++)
        present[b->sgrp[si]]++;
    /* Up to some 30,000 anchors, one pass with 3-byte grams is cheapest:
     * the pre-check word (struct vs_group) rejects the extra gram hits for
     * a load and a compare per table entry (bench/scan, 10,000 signatures:
     * 1.2-1.3x over separate 4- and 3-byte passes).  Larger databases
     * match common 3- and 4-grams of code and text too often; their long
     * anchors keep 8-byte grams. */
    unsigned merge_g = b->nsegs > 30000 ? 8 : 3;
    int th = -1, ts = -1;
    bool teddy = false;
    int r = short_anchors_apart(st, b, present, &teddy);
    if (r < 0)
        return r;
    for (int gi = 0; gi < VS_NGROUPS; gi++) {
        if (!present[gi] || (teddy && gi == VS_TEDDY_CLASS))
            continue;
        if (vs_gdefs[gi].g >= merge_g)
            th = gi;
        else if (vs_gdefs[gi].g >= 3 && vs_gdefs[gi].A >= 4)
            ts = gi;
    }
    for (size_t si = 0; si < b->nsegs; si++) {
        int c = b->sgrp[si], to = -1;
        if (vs_gdefs[c].g >= merge_g && c < th)
            to = th;
        else if (c > th && vs_gdefs[c].g >= 3 && c < ts)
            to = ts; /* short anchors share the shortest pass */
        if (to < 0)
            continue;
        struct vs_err e;
        int g = vs_seg_anchor(st, b, &b->segs[si], to, &e);
        if (g < 0)
            return -EINVAL;
        b->sgrp[si] = (uint8_t)g;
    }
    return 0;
}

/* The plan's arrays become the database's. */
static void adopt_plan(struct vsig_db *db, struct vs_plan *b)
{
    db->segs = b->segs;
    db->nsegs = b->nsegs;
    db->toks = b->toks;
    db->ntoks = b->ntoks;
    db->fxmask = b->fxm;
    db->fxval = b->fxv;
    db->nfx = b->nfxm;
    db->xchk = b->xchk;
    db->nxchk = b->nxchk;
    b->segs = NULL;
    b->toks = NULL;
    b->fxm = b->fxv = NULL;
    b->xchk = NULL;
}

/* Does every byte of the anchor window @t[0, n) accept byte c? */
static bool window_takes(const struct vsig_db *db, const struct vs_tok *t,
                         uint32_t n, uint8_t c)
{
    for (uint32_t k = 0; k < n; k++) {
        const struct vs_tok *x = &t[k];
        bool ok = x->arg == VS_NONE ? (c & x->mask) == x->val
                  : x->flag
                      ? vs_set_has(vs_special_set(x->arg, VS_WHERE_MID), c)
                      : vs_set_has(&db->st.sets[x->arg], c);
        if (!ok)
            return false;
    }
    return true;
}

/* Bytes whose runs some anchor window could match entirely (a block of
 * any other repeated byte is skipped by the stream). */
static void fill_bytes(struct vsig_db *db)
{
    for (size_t si = 0; si < db->nsegs; si++) {
        const struct vs_seg *sg = &db->segs[si];
        const struct vs_tok *t = db->toks + sg->tok + sg->atok;
        int v = -1;
        for (uint32_t k = 0; k < sg->alen && v < 0; k++)
            if (t[k].arg == VS_NONE && t[k].mask == 0xff)
                v = t[k].val;
        /* An exact byte in the window leaves one candidate: no walk of all
         * 256 for each of a large database's 100,000-odd windows. */
        for (int c = v < 0 ? 0 : v; c < (v < 0 ? 256 : v + 1); c++)
            if (!vs_set_has(&db->fill_ok, (uint8_t)c) &&
                window_takes(db, t, sg->alen, (uint8_t)c))
                vs_set_add(&db->fill_ok, (uint8_t)c);
    }
}

/* Bytes the stream must keep around a sampled position, and the span of
 * the verifier's bitsets. */
static void window_sizes(struct vsig_db *db)
{
    db->lf = 8;
    for (size_t si = 0; si < db->nsegs; si++) {
        const struct vs_seg *sg = &db->segs[si];
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
}

/* Hash signatures sorted for lookup; memory accounting. */
static void finish(struct vsig_db *db)
{
    struct vs_store *st = &db->st;

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
}

static void plan_free(struct vs_plan *b)
{
    free(b->toks);
    free(b->segs);
    free(b->sgrp);
    free(b->fxm);
    free(b->fxv);
    free(b->xchk);
}

int vs_compile(struct vs_store *st, struct vsig_db **out)
{
    struct vsig_db *db = calloc(1, sizeof *db);
    int r;

    if (db == NULL)
        return -ENOMEM;
    db->refs = 1;
    db->st = *st;
    memset(st, 0, sizeof *st);
    /* The loader planned every signature (vs_plan_msig). */
    struct vs_plan b = db->st.plan;
    memset(&db->st.plan, 0, sizeof db->st.plan);

    if ((r = take_msigs(db)) < 0 || (r = merge_passes(&db->st, &b)) < 0)
        goto fail;
    adopt_plan(db, &b);
    fill_bytes(db);
    window_sizes(db);
    if ((r = vs_lin_build(db)) < 0 || (r = sparse_words(db)) < 0 ||
        (r = vs_build_groups(db, b.sgrp)) < 0)
        goto fail;
    finish(db);
    plan_free(&b);
    *out = db;
    return 0;
fail:
    plan_free(&b);
    vs_db_free(db);
    return r;
}
