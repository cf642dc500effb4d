/* Streams: life cycle, the window, feeding and the end of an object (the
 * prefilter passes are in prefilter.c, matches in match.c).
 *
 * Positions are absolute offsets in the object.  A sampled position j is
 * "processed" once the bytes [j - lb, j + lf) are available, so every check
 * around an anchor sees complete data.  Data arrives in pieces: the last
 * bytes of the previous piece are kept in a small window, the first bytes of
 * the new piece are appended to it and the positions straddling the
 * boundary are processed there; the rest of the piece is scanned in place,
 * without copying.  Memory per stream is fixed at creation, except the
 * states of the linear verification path (verify-lin.c), allocated on the
 * first anchor hit of a part with long ranges.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sig/scan-int.h"

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
        vs_process(s, &w, s->f, hi + 1 - db->lf, false);
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
            vs_process(s, &body, s->f, to, false);
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

int vsig_stream_end(struct vsig_stream *s)
{
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
        vs_process(s, &w, s->f, s->n, true);
    s->f = s->n;
    vs_end_object(s, &w);
    return s->stopped ? 1 : 0;
}

/* ---- life cycle ---- */

static void stream_release(struct vsig_stream *s)
{
    free(s->win);
    for (int i = 0; i < VS_NGROUPS; i++)
        free(s->cand[i]);
    free(s->prog);
    free(s->live);
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
    s->live = zalloc(db->live_words, sizeof *s->live, &tot);
    if (s->live)
        memcpy(s->live, db->live0, db->live_words * sizeof *s->live);
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
    if (!s->win || !s->prog || !s->live || !s->first || !s->last ||
        !s->touched || !s->cnt || !s->ldone || !s->loff || !s->lend ||
        !s->mmute || !s->smute || !s->t_state || !s->t_sub || !s->t_ldb ||
        !s->t_mm || !s->t_sm || !s->sc.a || !s->hc)
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
        vs_set_prog(s, s->t_state[i], 0);
        s->touched[s->t_state[i]] = 0;
    }
    for (size_t i = 0; i < s->nt_sub; i++) {
        s->cnt[s->t_sub[i]] = 0;
        vs_sub_live(s, s->t_sub[i]); /* after the chains: both decide */
    }
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
    s->avx512 = vs_have_avx512();
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
    v.stream_memory =
        2 * keep + VS_NGROUPS * BLOCK * 4 + db->nstate * 22 + db->st.nsubs * 8 +
        db->st.nldbs * 21 + db->st.nmsigs / 8 * 5 + db->st.nsigs / 8 * 5 +
        (db->max_span / 64 + 2) * 48 + db->nlin * 8 + db->live_words * 8;
    memcpy(st, &v, n);
}

const char *vsig_db_name(const struct vsig_db *db, uint32_t id)
{
    if (id >= db->st.nsigs)
        return NULL;
    return db->st.names + db->st.sigs[id].name;
}
