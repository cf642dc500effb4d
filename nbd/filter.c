/* nbdkit-vigil-filter: scan every byte a guest writes to its disk.
 *
 * The data path: disk request -> NBD -> scanner -> policy.  Each pwrite
 * (and write-zeroes/trim, as the zeros they leave) is scanned together
 * with the bytes already on the disk around it, read back from the plugin
 * below (lib/diskscan/scan.h), before next->pwrite is called; the request
 * is then passed, denied (EIO), passed with the matched bytes zeroed, or
 * passed while the guest's network is cut over QMP (verdict.h).  See
 * docs/disk.md.
 *
 * Thread model: PARALLEL.  No lock is held while scanning: each request
 * borrows a scanner (stream and match storage) from a pool, and takes the
 * disk range it reads and writes (ranges.h) so that two requests close
 * enough to complete one signature together run one after the other; far
 * apart, they overlap.  The database is replaced by reference (dbstate.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nbdkit-filter.h>
#include <vigil/clock.h>
#include <vigil/sig.h>

#include "behind.h"
#include "config.h"
#include "dbstate.h"
#include "diskscan/scan.h"
#include "diskscan/verdict.h"
#include "qmp.h"
#include "ranges.h"
#include "record.h"
#include "request.h"
#include "stats.h"

#define MAX_HITS   1024        /* matches recorded per request */
#define BEHIND_MAX (32u << 20) /* bytes queued for scanning behind */

/* What one scanning thread needs; pooled, one per request in flight. */
struct worker {
    struct worker *next;
    struct ds_scanner *sc;
    uint8_t *around; /* the disk bytes before and after a request */
    size_t around_cap;
    struct ds_hit hits[MAX_HITS], rehits[MAX_HITS];
};

static struct filter_config cfg = FILTER_CONFIG_INIT;
static struct ranges *inflight;
static struct behind *behind; /* non-NULL: alert-only, scanned behind */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct worker *pool;

static int64_t now_ns(void)
{
    return (int64_t)vigil_now_ns(CLOCK_MONOTONIC);
}

static enum nbd_policy policy_of(void *opaque, const char *name)
{
    (void)opaque;
    return nbd_policy_table_lookup(cfg.table, name, cfg.policy);
}

/* ---- workers ---- */

/* A worker scanning with the database in force; NULL: out of memory. */
static struct worker *worker_get(void)
{
    pthread_mutex_lock(&pool_lock);
    struct worker *w = pool;
    if (w)
        pool = w->next;
    pthread_mutex_unlock(&pool_lock);
    if (!w) {
        w = calloc(1, sizeof(*w));
        if (!w || ds_scanner_new(&w->sc) < 0) {
            free(w);
            return NULL;
        }
    }
    struct vsig_db *db = dbstate_get();
    int r = ds_scanner_set_db(w->sc, db);
    vsig_db_unref(db);
    if (r < 0 && !ds_scanner_db(w->sc)) {
        ds_scanner_free(w->sc);
        free(w);
        return NULL;
    }
    return w;
}

static void worker_put(struct worker *w)
{
    pthread_mutex_lock(&pool_lock);
    w->next = pool;
    pool = w;
    pthread_mutex_unlock(&pool_lock);
}

static void workers_free(void)
{
    while (pool) {
        struct worker *w = pool;
        pool = w->next;
        ds_scanner_free(w->sc);
        free(w->around);
        free(w);
    }
}

/* ---- decide, apply, record ---- */

/* cut-net: take the guest's link down; 0 or -errno with @qerr set. */
static int cut_net(char *qerr, size_t len)
{
    if (!cfg.qmp_path) {
        snprintf(qerr, len, "no vigil-qmp socket configured");
        return -ENOTCONN;
    }
    int r = nbd_qmp_set_link(cfg.qmp_path, cfg.netdev, false,
                             cfg.qmp_timeout_ms, qerr, len);
    if (r < 0)
        record_warn("cutting the network failed: %s", qerr);
    return r;
}

static const char *action_of(const struct ds_hit *h, const struct ds_verdict *v,
                             int qrc)
{
    switch (h->policy) {
    case NBD_POLICY_DENY:
        return "denied";
    case NBD_POLICY_CUT_NET:
        return qrc == 0 ? "network-cut" : "network-cut-failed";
    case NBD_POLICY_ZERO:
        return v->deny ? "denied" : "zeroed";
    case NBD_POLICY_ALERT:
        break;
    }
    return "alerted";
}

/* Record every match of @res: an event and a warning each. */
static void record_all(struct record_req *rr, const struct ds_request *rq,
                       const struct ds_result *res, const struct ds_verdict *v,
                       int qrc, const char *qerr)
{
    rr->fate = v->deny ? "denied" : v->copy ? "modified" : "passed";
    rr->unrecorded = res->unrecorded;
    for (size_t i = 0; i < res->nhits; i++) {
        const struct ds_hit *h = &res->hits[i];
        uint64_t zoff = 0, zlen = 0;
        if (h->policy == NBD_POLICY_ZERO && !v->deny)
            ds_hit_within(h, rq->off, rq->len, &zoff, &zlen);
        record_hit(rr, h, action_of(h, v, qrc), zoff, zlen,
                   h->policy == NBD_POLICY_CUT_NET && qrc < 0 ? qerr : NULL);
    }
    if (res->unrecorded) {
        record_warn("%zu more detections in one request at offset %" PRIu64
                    " not recorded; %s",
                    res->unrecorded, rq->off,
                    v->deny ? "request refused"
                            : "scanned behind the I/O: not refused");
        if (v->deny)
            record_count_overflow();
    }
    if (v->unbreakable)
        record_warn("a zero match at offset %" PRIu64
                    " cannot be broken by zeroing; request refused",
                    rq->off);
}

/*
 * Scan one request (@rq, its surroundings included) and apply the
 * policies.  On success *out is the buffer to write (rq->data, or a zeroed
 * copy that the caller frees when it differs).  @passed: the request has
 * passed already (alert only), nothing can be refused.
 * Return 0 to pass the request on, -1 with *err set to refuse it.
 */
static int scan_request(struct worker *w, struct record_req *rr,
                        const struct ds_request *rq, bool passed,
                        const void **out, int *err)
{
    struct ds_result res = {.hits = w->hits, .max_hits = MAX_HITS};
    struct ds_result again = {.hits = w->rehits, .max_hits = MAX_HITS};
    struct ds_verdict v;
    int r = ds_scan(w->sc, rq, policy_of, NULL, &res);
    if (r == 0) {
        ds_decide(&res, &v);
        if (passed)
            v.deny = false;
        r = ds_apply(w->sc, rq, policy_of, NULL, &res, &again, &v);
    }
    if (r < 0) {
        /* Fail closed: what was not scanned is not written. */
        nbdkit_error("vigil: scan failed: %s", strerror(-r));
        *err = EIO;
        return -1;
    }
    char qerr[256] = "";
    int qrc = v.cut ? cut_net(qerr, sizeof(qerr)) : 0;
    if (v.nomem)
        nbdkit_error("vigil: no memory to zero a match: refused");
    record_all(rr, rq, &res, &v, qrc, qerr);
    if (v.deny) {
        *err = EIO;
        return -1;
    }
    *out = v.copy ? v.copy : rq->data;
    return 0;
}

/* ---- scanning behind the I/O (alert only) ---- */

static void scan_behind_job(void *opaque, const struct behind_job *job)
{
    (void)opaque;
    struct record_req rr = {.op = job->op,
                            .offset = job->offset,
                            .count = job->count,
                            .ts = job->ts};
    struct ds_request rq = {.off = job->offset,
                            .len = job->count,
                            .data = job->zeros ? NULL : job->buf + job->nbefore,
                            .before = job->buf,
                            .nbefore = job->nbefore,
                            .after = job->buf + job->nbefore +
                                     (job->zeros ? 0 : job->count),
                            .nafter = job->nafter,
                            .context = job->context};
    const void *out;
    int err;
    struct worker *w = worker_get();
    int64_t t0 = now_ns();
    /* Alert only: nothing is refused or rewritten. */
    int r = w ? scan_request(w, &rr, &rq, true, &out, &err) : -1;
    stats_add(ST_SCANS_BEHIND, 1);
    stats_add(ST_SCAN_BEHIND_NS, (uint64_t)(now_ns() - t0));
    if (r < 0)
        record_warn("%" PRIu32 " bytes written at offset %" PRIu64
                    " could not be scanned",
                    job->count, job->offset);
    if (w)
        worker_put(w);
}

/* Queue the request with its surroundings for the worker; false when it
 * must be scanned inline (no queue, or no memory for the copy). */
static bool queue_behind(const struct record_req *rr,
                         const struct ds_request *rq)
{
    if (!behind)
        return false;
    size_t n = rq->nbefore + (rq->data ? rq->len : 0) + rq->nafter, cap;
    unsigned char *buf = behind_buf_get(behind, n, &cap);
    struct behind_job job = {.op = rr->op,
                             .offset = rq->off,
                             .count = (uint32_t)rq->len,
                             .ts = rr->ts,
                             .buf = buf,
                             .cap = cap,
                             .nbefore = rq->nbefore,
                             .nafter = rq->nafter,
                             .context = rq->context,
                             .zeros = !rq->data};
    if (!job.buf)
        return false;
    memcpy(job.buf, rq->before, rq->nbefore);
    if (rq->data)
        memcpy(job.buf + rq->nbefore, rq->data, rq->len);
    memcpy(job.buf + n - rq->nafter, rq->after, rq->nafter);
    stats_add(ST_COPY_BYTES, n);
    int64_t t0 = now_ns();
    if (behind_push(behind, &job) < 0) {
        behind_buf_put(behind, job.buf, job.cap);
        return false;
    }
    stats_add(ST_QUEUE_WAIT_NS, (uint64_t)(now_ns() - t0));
    return true;
}

/* ---- the request path ---- */

/* Read the disk bytes around [off, off + len), up to the worker's context
 * each side, into w->around; fill @rq's surroundings. */
static int read_around(nbdkit_next *next, struct worker *w,
                       struct ds_request *rq, int *err)
{
    size_t ctx = ds_scanner_context(w->sc);
    int64_t size = next->get_size(next);
    if (size < 0) {
        *err = EIO;
        return -1;
    }
    uint64_t end = rq->off + rq->len, sz = (uint64_t)size;
    size_t nb = rq->off < ctx ? (size_t)rq->off : ctx;
    size_t na = end >= sz ? 0 : sz - end < ctx ? (size_t)(sz - end) : ctx;
    if (nb + na > w->around_cap) {
        uint8_t *p = realloc(w->around, nb + na);
        if (!p) {
            *err = ENOMEM;
            return -1;
        }
        w->around = p;
        w->around_cap = nb + na;
    }
    int64_t t0 = now_ns();
    if ((nb && next->pread(next, w->around, (uint32_t)nb, rq->off - nb, 0,
                           err) < 0) ||
        (na &&
         next->pread(next, w->around + nb, (uint32_t)na, end, 0, err) < 0))
        return -1;
    stats_add(ST_AROUND_PREADS, (nb > 0) + (na > 0));
    stats_add(ST_AROUND_BYTES, nb + na);
    stats_add(ST_AROUND_NS, (uint64_t)(now_ns() - t0));
    rq->before = w->around;
    rq->nbefore = nb;
    rq->after = w->around + nb;
    rq->nafter = na;
    rq->context = ctx;
    return 0;
}

/* Pass the request (its bytes @wbuf for a write) to the plugin below. */
static int pass_on(nbdkit_next *next, enum nbd_op op, const void *wbuf,
                   uint32_t count, uint64_t offset, uint32_t flags, int *err)
{
    switch (op) {
    case NBD_OP_WRITE:
        return next->pwrite(next, wbuf, count, offset, flags, err);
    case NBD_OP_ZERO:
        return next->zero(next, count, offset, flags, err);
    case NBD_OP_TRIM:
        return next->trim(next, count, offset, flags, err);
    }
    *err = EINVAL;
    return -1;
}

/* Scan a request with its surroundings, apply the verdict and pass it on,
 * holding its disk range throughout.  @buf: NULL for write-zeroes/trim. */
static int handle(nbdkit_next *next, enum nbd_op op, const void *buf,
                  uint32_t count, uint64_t offset, uint32_t flags, int *err)
{
    struct record_req rr = {
        .op = op, .offset = offset, .count = count, .ts = now_ns()};
    struct ds_request rq = {.off = offset, .len = count, .data = buf};
    dbstate_check();
    struct worker *w = worker_get();
    if (!w) {
        nbdkit_error("vigil: no memory to scan: refused");
        *err = ENOMEM;
        return -1;
    }
    size_t ctx = ds_scanner_context(w->sc);
    uint64_t lo = offset > ctx ? offset - ctx : 0;
    uint64_t hi =
        offset + count + ctx < offset ? UINT64_MAX : offset + count + ctx;
    int64_t t1 = now_ns();
    int held = ranges_take(inflight, lo, hi), r = -1;
    stats_add(ST_REQUESTS, 1);
    stats_add(ST_REQ_BYTES, count);
    stats_add(ST_RANGE_WAIT_NS, (uint64_t)(now_ns() - t1));
    const void *wbuf = buf;
    if (held < 0) {
        *err = ENOMEM;
    } else if (read_around(next, w, &rq, err) == 0) {
        if (queue_behind(&rr, &rq)) {
            r = 0;
        } else {
            int64_t t2 = now_ns();
            r = scan_request(w, &rr, &rq, false, &wbuf, err);
            stats_add(ST_SCANS_INLINE, 1);
            stats_add(ST_SCAN_INLINE_NS, (uint64_t)(now_ns() - t2));
        }
        if (r == 0) {
            int64_t t3 = now_ns();
            r = pass_on(next, op, wbuf, count, offset, flags, err);
            stats_add(ST_PASS_NS, (uint64_t)(now_ns() - t3));
        }
    }
    if (held >= 0)
        ranges_put(inflight, held);
    worker_put(w);
    if (wbuf != buf)
        free((void *)(uintptr_t)wbuf);
    return r;
}

static int vigil_pwrite(nbdkit_next *next, void *handle_, const void *buf,
                        uint32_t count, uint64_t offset, uint32_t flags,
                        int *err)
{
    (void)handle_;
    return handle(next, NBD_OP_WRITE, buf, count, offset, flags, err);
}

static int vigil_zero(nbdkit_next *next, void *handle_, uint32_t count,
                      uint64_t offset, uint32_t flags, int *err)
{
    (void)handle_;
    return handle(next, NBD_OP_ZERO, NULL, count, offset, flags, err);
}

static int vigil_trim(nbdkit_next *next, void *handle_, uint32_t count,
                      uint64_t offset, uint32_t flags, int *err)
{
    (void)handle_;
    return handle(next, NBD_OP_TRIM, NULL, count, offset, flags, err);
}

/* With writes scanned behind: a flush returns once everything written
 * before it is scanned, so a guest's fsync also waits for its detections. */
static int vigil_flush(nbdkit_next *next, void *handle_, uint32_t flags,
                       int *err)
{
    (void)handle_;
    if (behind)
        behind_drain(behind);
    return next->flush(next, flags, err);
}

/* ---- life cycle ---- */

static int vigil_config(nbdkit_next_config *next, nbdkit_backend *nxdata,
                        const char *key, const char *value)
{
    int r = config_set(&cfg, key, value);
    return r == 1 ? next(nxdata, key, value) : r;
}

static int vigil_config_complete(nbdkit_next_config_complete *next,
                                 nbdkit_backend *nxdata)
{
    if (config_complete(&cfg) < 0)
        return -1;
    struct dbstate_opts o = {.paths = cfg.db_paths,
                             .npaths = cfg.n_db,
                             .reload_path = cfg.reload_path,
                             .status_path = cfg.status_path,
                             .partial = cfg.partial_db,
                             .cvd_key = cfg.cvd_key};
    if (dbstate_init(&o) < 0)
        return -1;
    struct record_opts ro = {.disk = cfg.disk,
                             .events_fd = cfg.events_fd,
                             .events_pipe = cfg.events_pipe};
    record_init(&ro);
    if (ranges_new(&inflight) < 0) {
        nbdkit_error("vigil: out of memory");
        return -1;
    }
    return next(nxdata);
}

/* Threads start after nbdkit has forked into the background. */
static int vigil_after_fork(nbdkit_backend *nxdata)
{
    (void)nxdata;
    dbstate_watch();
    if (cfg.behind_off || cfg.policy != NBD_POLICY_ALERT ||
        !nbd_policy_table_only(cfg.table, NBD_POLICY_ALERT))
        return 0;
    int r = behind_new(&behind, BEHIND_MAX, scan_behind_job, NULL);
    if (r < 0)
        record_warn("cannot start the scanning thread (%s); scanning inline",
                    strerror(-r));
    return 0;
}

static void vigil_cleanup(nbdkit_backend *nxdata)
{
    (void)nxdata;
    dbstate_stop();
    behind_free(behind); /* scans what is still queued */
    behind = NULL;
    record_summary();
    stats_print(cfg.disk);
}

static void vigil_unload(void)
{
    behind_free(behind);
    dbstate_free();
    workers_free();
    ranges_free(inflight);
    config_free(&cfg);
}

static int vigil_thread_model(void)
{
    return NBDKIT_THREAD_MODEL_PARALLEL;
}

static struct nbdkit_filter filter = {
    .name = "vigil",
    .longname = "vigil signature-scanning filter",
    .config = vigil_config,
    .config_complete = vigil_config_complete,
    .config_help = CONFIG_HELP,
    .thread_model = vigil_thread_model,
    .unload = vigil_unload,
    .after_fork = vigil_after_fork,
    .cleanup = vigil_cleanup,
    .flush = vigil_flush,
    .pwrite = vigil_pwrite,
    .zero = vigil_zero,
    .trim = vigil_trim,
};

NBDKIT_REGISTER_FILTER(filter)
