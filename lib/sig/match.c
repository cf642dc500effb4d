/* Matches: anchor hits -> parts (verify.c), chains of multi-part
 * signatures, logical signatures, reporting with mute and stop. */
#include <string.h>

#include "sig/scan-int.h"

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

bool vs_emit(struct vsig_stream *s, uint32_t sig, uint64_t off, uint64_t end)
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
    bool again = s->cnt[sub] > 0;
    if (!again)
        s->t_sub[s->nt_sub++] = sub;
    if (s->cnt[sub] < UINT32_MAX)
        s->cnt[sub]++;
    if (!again)
        vs_sub_live(s, sub); /* its repeats no longer matter, see group.c */
    s->loff[li] = off;
    s->lend[li] = end;
    /* Only a new subsignature can make '&' and '|' true: text repeats a
     * short subsignature thousands of times, re-evaluating each time cost
     * more than the rest of its handling. */
    if (!l->monotone || (again && l->plain))
        return;
    uint64_t size = s->o.size;
    if (size == VSIG_SIZE_UNKNOWN && (l->fs_min > 0 || l->fs_max != UINT64_MAX))
        return; /* FileSize: decided at the end */
    if (ldb_eval(s, l, size)) {
        s->ldone[li] = 1;
        s->t_ldb[s->nt_ldb++] = li;
        vs_emit(s, l->sig, off, end);
    }
}

static void msig_matched(struct vsig_stream *s, const struct vs_msig *m,
                         uint64_t off, uint64_t end)
{
    if (m->is_sub)
        sub_matched(s, m->owner, off, end);
    else
        vs_emit(s, m->owner, off, end);
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

/* The live bits of the entries in @e[0, n) from the stream's state. */
static void set_live(struct vsig_stream *s, const struct vs_stent *e,
                     uint32_t n)
{
    for (uint32_t i = 0; i < n; i++, e++) {
        bool live = (e->sub == VS_NONE || s->cnt[e->sub] == 0) &&
                    (e->state == VS_NONE ||
                     vs_entry_live(e->pidx, e->unb, s->prog[e->state]));
        uint64_t b = 1ull << (e->bit & 63);
        if (live)
            s->live[e->bit >> 6] |= b;
        else
            s->live[e->bit >> 6] &= ~b;
    }
}

void vs_set_prog(struct vsig_stream *s, uint32_t state, uint16_t v)
{
    const struct vsig_db *db = s->db;

    s->prog[state] = v;
    if (!db->live_all)
        set_live(s, db->st_ent + db->st_eoff[state],
                 db->st_eoff[state + 1] - db->st_eoff[state]);
}

void vs_sub_live(struct vsig_stream *s, uint32_t sub)
{
    const struct vsig_db *db = s->db;

    if (!db->live_all)
        set_live(s, db->sb_ent + db->sb_eoff[sub],
                 db->sb_eoff[sub + 1] - db->sb_eoff[sub]);
}

void vs_on_anchor(struct vsig_stream *s, const struct vs_win *w, uint32_t si,
                  uint64_t a)
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
        vs_set_prog(s, m->state, 1);
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
            vs_set_prog(s, m->state, 0); /* too far: start over */
        return;
    }
    if (k + 1 < m->nseg) {
        vs_set_prog(s, m->state, (uint16_t)(k + 1));
        s->last[m->state] = r.emin;
        return;
    }
    vs_set_prog(s, m->state, 0);
    msig_matched(s, m, s->first[m->state], r.emin);
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
                if (!vs_emit(s, h->sig, 0, s->n))
                    return;
    }
}

void vs_end_object(struct vsig_stream *s, const struct vs_win *w)
{
    const struct vsig_db *db = s->db;

    if (s->o.size == VSIG_SIZE_UNKNOWN)
        for (size_t i = 0; i < db->neof && !s->stopped; i++)
            eval_eof(s, w, db->eof_msigs[i]);
    for (uint32_t li = 0; li < db->st.nldbs && !s->stopped; li++) {
        const struct vs_ldb *l = &db->st.ldbs[li];
        if (s->ldone[li] || bit(s->smute, l->sig))
            continue;
        if (ldb_eval(s, l, s->n)) {
            s->ldone[li] = 1;
            s->t_ldb[s->nt_ldb++] = li;
            vs_emit(s, l->sig, s->loff[li], s->lend[li]);
        }
    }
    if (s->hashing && !s->stopped)
        report_hashes(s);
}
