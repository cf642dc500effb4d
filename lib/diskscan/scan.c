/* The disk request scanner: see scan.h. */
#include "diskscan/scan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t zero_page[4096];

struct ds_scanner {
    struct vsig_stream *stream;
    struct vsig_db *db;        /* scanning with; a reference */
    struct vsig_db *stream_db; /* the stream was last reset with */
    size_t context;
    struct pass *pass; /* the scan in progress, for on_match */
};

struct pass {
    struct ds_result *res;
    uint64_t base;     /* disk offset of stream offset 0 */
    uint64_t off, end; /* the request */
    ds_policy_fn policy_of;
    void *opaque;
};

static int on_match(void *opaque, const struct vsig_match *m)
{
    struct pass *p = ((struct ds_scanner *)opaque)->pass;
    uint64_t off = p->base + m->offset, end = p->base + m->end;
    /* Wholly in the surroundings: on the disk before this request. */
    if (end <= p->off || off >= p->end)
        return VSIG_CONTINUE;
    struct ds_result *r = p->res;
    enum nbd_policy pol = p->policy_of(p->opaque, m->name ? m->name : "?");
    r->seen |= 1u << pol;
    if (r->nhits == r->max_hits) {
        r->unrecorded++;
        return VSIG_CONTINUE;
    }
    r->hits[r->nhits++] = (struct ds_hit){
        .off = off, .end = end, .name = m->name ? m->name : "?", .policy = pol};
    return VSIG_CONTINUE;
}

static int feed_zeros(struct vsig_stream *s, uint64_t n)
{
    int r = 0;
    while (n > 0 && r == 0) {
        size_t k = n < sizeof(zero_page) ? (size_t)n : sizeof(zero_page);
        r = vsig_stream_feed(s, zero_page, k);
        n -= k;
    }
    return r;
}

/* One stream over [before][the request's bytes from @from, @n of them]
 * [after]; @before/@after may be left out (NULL, 0). */
static int scan_pass(struct ds_scanner *sc, const struct ds_request *rq,
                     struct pass *p, const uint8_t *before, size_t nb,
                     uint64_t from, uint64_t n, const uint8_t *after, size_t na)
{
    struct vsig_stream_opts o = {.sz = sizeof(o),
                                 .size = nb + n + na,
                                 .target = VSIG_TARGET_ANY,
                                 .flags = VSIG_STREAM_NO_HASH |
                                          VSIG_STREAM_ALL_TARGETS};
    struct vsig_stream *s = sc->stream;
    int r = vsig_stream_reset(s, sc->db == sc->stream_db ? NULL : sc->db, &o);
    if (r < 0)
        return r;
    sc->stream_db = sc->db;
    p->base = rq->off + from - nb;
    r = vsig_stream_feed(s, before, nb);
    if (r == 0)
        r = rq->data ? vsig_stream_feed(s, rq->data + from, (size_t)n)
                     : feed_zeros(s, n);
    if (r == 0)
        r = vsig_stream_feed(s, after, na);
    if (r == 0)
        r = vsig_stream_end(s);
    return r < 0 ? r : 0;
}

int ds_scanner_new(struct ds_scanner **out)
{
    *out = calloc(1, sizeof(**out));
    return *out ? 0 : -ENOMEM;
}

void ds_scanner_free(struct ds_scanner *sc)
{
    if (!sc)
        return;
    vsig_stream_free(sc->stream);
    vsig_db_unref(sc->db);
    free(sc);
}

static size_t context_of(const struct vsig_db *db)
{
    int unbounded;
    uint64_t span = vsig_db_match_span(db, &unbounded);
    uint64_t c = span > 0 ? span - 1 : 0;
    if (unbounded && c < DS_CONTEXT_UNBOUNDED)
        c = DS_CONTEXT_UNBOUNDED;
    return c < DS_CONTEXT_MAX ? (size_t)c : DS_CONTEXT_MAX;
}

int ds_scanner_set_db(struct ds_scanner *sc, struct vsig_db *db)
{
    if (db == sc->db)
        return 0;
    if (!sc->stream) {
        int r = vsig_stream_new(&sc->stream, db, NULL, on_match, sc);
        if (r < 0)
            return r;
        sc->stream_db = db;
    }
    vsig_db_unref(sc->db);
    sc->db = vsig_db_ref(db);
    sc->context = context_of(db);
    return 0;
}

struct vsig_db *ds_scanner_db(const struct ds_scanner *sc)
{
    return sc->db;
}

size_t ds_scanner_context(const struct ds_scanner *sc)
{
    return sc->context;
}

int ds_scan(struct ds_scanner *sc, const struct ds_request *rq,
            ds_policy_fn policy_of, void *opaque, struct ds_result *res)
{
    struct pass p = {.res = res,
                     .off = rq->off,
                     .end = rq->off + rq->len,
                     .policy_of = policy_of,
                     .opaque = opaque};
    res->nhits = res->unrecorded = 0;
    res->seen = 0;
    if (!sc->db || rq->off + rq->len < rq->off)
        return -EINVAL;
    sc->pass = &p;
    /* A long zero range: a match touching it lies within its first or last
     * 2 * (context + 1) bytes, or wholly in zeros, where the same match
     * also fits at its start.  Scan the two ends (apart: no match is seen
     * twice). */
    uint64_t k = 2 * ((uint64_t)rq->context + 1);
    if (rq->data || rq->len <= 2 * k)
        return scan_pass(sc, rq, &p, rq->before, rq->nbefore, 0, rq->len,
                         rq->after, rq->nafter);
    int r = scan_pass(sc, rq, &p, rq->before, rq->nbefore, 0, k, NULL, 0);
    if (r == 0)
        r = scan_pass(sc, rq, &p, NULL, 0, rq->len - k, k, rq->after,
                      rq->nafter);
    return r;
}
