/* logd's PostgreSQL store: the queue and the thread (logd-store.h).
 *
 * The receiving thread only appends to the queue (or, when the queue is
 * full, to the spill directory: a local file write, never the network).
 * Writer threads, each with a connection of its own (--store-conns), take
 * batches off the queue into the database, so one logd uses as many
 * server backends: a batch is one writer's alone, so no record goes to
 * two connections at once. A batch the database did not commit goes to
 * the spill directory; writer 0 alone replays the spill, while its
 * connection is up and the queue empty.
 * Every record ends in exactly one of the counters stored, replayed (after
 * spilled) or lost, except what is still queued or spilled. */
#include "logd-store.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "logd-pg.h"
#include "logd-spill.h"

/* Records per transaction (in bytes, at most the queue's): big enough
 * that a commit's cost is spread (20000 beat 5000 by ~10-30% in
 * bench/store), small enough that a failed batch is quickly spilled. */
#define BATCH        20000
#define RECONNECT_NS 1000000000ull
#define WAIT_NS      100000000ull

/* One writer thread and its connection. */
struct writer {
    struct logd_store *st;
    struct logd_pg *pg;   /* the thread's alone after open */
    struct store_rec **v; /* its batch */
    pthread_t thread;
    bool started, connected, warned_down;
    int idx;
    uint64_t last_try_ns;
};

struct logd_store {
    struct logd_spill *spill;
    struct writer *w;
    int nw;
    pthread_mutex_t lock; /* the queue and stop */
    pthread_cond_t cond;
    struct store_rec *head, *tail;
    uint64_t qbytes, qmax, qcount;
    bool stop;
    _Atomic uint64_t stored, spilled, replayed, lost, rejected, reconnects;
    _Atomic int up; /* writers whose connection is up */
};

/* ---- what happens to a batch ---- */

static void free_recs(struct store_rec **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
}

static void spill_or_lose(struct logd_store *st, struct store_rec **v, size_t n)
{
    size_t done = logd_spill_append(st->spill, v, n);
    st->spilled += done;
    st->lost += n - done;
}

/* The first writer to see the database go says so, once per outage. */
static void went_down(struct writer *w, const char *why)
{
    if (!w->connected)
        return;
    w->connected = false;
    if (atomic_fetch_sub(&w->st->up, 1) == w->st->nw)
        cli_warn("--store: database unreachable (%s): spilling", why);
}

static long one_by_one(struct writer *w, struct store_rec **v, size_t n);

/* Write a batch: how many records were committed, those the database
 * refused for their content counted lost here; -1 when the database is
 * down (the caller still owns the whole batch: spill it, or leave it
 * spilled; what did commit of it is skipped when it comes again). */
static long db_write(struct writer *w, struct store_rec **v, size_t n,
                     bool fresh)
{
    struct logd_store *st = w->st;
    char err[512];
    if (!w->connected)
        return -1;
    int rc = logd_pg_write(w->pg, v, n, fresh, err, sizeof err);
    if (rc == -EPIPE) {
        went_down(w, err);
        return -1;
    }
    if (rc == -EINVAL && n > 1)
        return one_by_one(w, v, n);
    if (rc == -EINVAL) {
        cli_warn("--store: the database refused record %" PRIu64
                 " of session %s from %s: %s",
                 v[0]->recno, v[0]->session, v[0]->host, err);
        st->lost++;
        st->rejected++;
        return 0;
    }
    return (long)n;
}

/* A batch the database refused for its content: one bad record (an
 * authenticated sender may send bytes no text column takes) must not
 * cost the others of its batch, which may be other senders'. Each record
 * once more on its own. */
static long one_by_one(struct writer *w, struct store_rec **v, size_t n)
{
    struct logd_store *st = w->st;
    long ok = 0;
    for (size_t i = 0; i < n; i++) {
        long rc = db_write(w, v + i, 1, false);
        if (rc < 0) {
            /* The whole batch comes again: count its refusals then. */
            st->lost -= i - (size_t)ok;
            st->rejected -= i - (size_t)ok;
            return -1;
        }
        ok += rc;
    }
    return ok;
}

/* The last writer back says so. */
static void try_reconnect(struct writer *w)
{
    struct logd_store *st = w->st;
    uint64_t now = cli_now_ns(CLOCK_MONOTONIC);
    if (w->connected || now - w->last_try_ns < RECONNECT_NS)
        return;
    w->last_try_ns = now;
    char err[512];
    if (logd_pg_reconnect(w->pg, err, sizeof err) == 0) {
        w->connected = true;
        st->reconnects++;
        w->warned_down = false;
        if (atomic_fetch_add(&st->up, 1) + 1 == st->nw)
            cli_warn("--store: database reachable again: replaying the "
                     "spill");
    } else if (!w->warned_down && w->idx == 0) {
        w->warned_down = true;
        cli_warn("--store: reconnecting: %s", err);
    }
}

/* One spill file into the database, in batches; it is removed only when
 * every batch committed (a file half-replayed when the database went down
 * again is replayed whole later: the rows already in are skipped). */
static void replay_one(struct writer *w)
{
    struct logd_store *st = w->st;
    char path[4200];
    if (!logd_spill_take(st->spill, path, sizeof path))
        return;
    struct store_rec **v;
    size_t n, bad;
    int err = logd_spill_read(path, &v, &n, &bad);
    if (err < 0) {
        cli_warn("--store: %s: %s", path, strerror(-err));
        return;
    }
    if (bad > 0)
        cli_warn("--store: %s: %zu lines cut or malformed, LOST", path, bad);
    size_t i = 0;
    uint64_t ok = 0, refused = 0;
    while (i < n) {
        size_t k = n - i < BATCH ? n - i : BATCH;
        long rc = db_write(w, v + i, k, false);
        if (rc < 0) {
            /* The whole file comes again: count its refusals then. */
            st->lost -= refused;
            st->rejected -= refused;
            break;
        }
        ok += (uint64_t)rc;
        refused += k - (uint64_t)rc;
        i += k;
    }
    if (i == n) {
        logd_spill_done(st->spill, path);
        st->replayed += ok;
        st->lost += bad;
    }
    free_recs(v, n);
    free(v);
}

/* Enough queued for a writer to take: a whole batch, or a quarter of the
 * queue's bytes (big records fill the queue before BATCH of them are in
 * it; waiting for more would spill them). */
static bool batch_ready(const struct logd_store *st)
{
    return st->qcount >= BATCH || st->qbytes >= st->qmax / 4;
}

/* Up to BATCH records off the queue. A writer waits (up to WAIT_NS) for
 * a batch to be ready, so that with several writers each transaction
 * still carries many records: a writer taking whatever one record the
 * queue holds would make the others' batches small and their commits
 * many. */
static size_t take_batch(struct logd_store *st, struct store_rec **v,
                         bool *stopping)
{
    pthread_mutex_lock(&st->lock);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += (long)WAIT_NS;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (!batch_ready(st) && !st->stop &&
           pthread_cond_timedwait(&st->cond, &st->lock, &ts) == 0)
        ;
    size_t n = 0;
    while (st->head != NULL && n < BATCH) {
        struct store_rec *r = st->head;
        st->head = r->next;
        st->qbytes -= r->len;
        st->qcount--;
        v[n++] = r;
    }
    if (st->head == NULL)
        st->tail = NULL;
    *stopping = st->stop;
    pthread_mutex_unlock(&st->lock);
    return n;
}

static void *writer_thread(void *arg)
{
    struct writer *w = arg;
    struct logd_store *st = w->st;
    for (;;) {
        bool stopping;
        size_t n = take_batch(st, w->v, &stopping);
        if (!stopping)
            try_reconnect(w);
        if (n > 0) {
            long rc = db_write(w, w->v, n, true);
            if (rc >= 0)
                st->stored += (uint64_t)rc;
            else
                spill_or_lose(st, w->v, n);
            free_recs(w->v, n);
        } else if (stopping) {
            break;
        } else if (w->connected && w->idx == 0) {
            replay_one(w);
        }
    }
    return NULL;
}

/* ---- the receiving side ---- */

void logd_store_record(struct logd_store *st, const char *host,
                       const char *session, uint64_t recno, const char *json,
                       size_t len)
{
    struct store_rec *r = store_rec_new(host, session, recno,
                                        cli_now_ns(CLOCK_REALTIME), json, len);
    if (r == NULL) {
        st->lost++;
        return;
    }
    pthread_mutex_lock(&st->lock);
    bool room = st->qbytes + len <= st->qmax;
    bool was_ready = batch_ready(st);
    if (room) {
        if (st->tail)
            st->tail->next = r;
        else
            st->head = r;
        st->tail = r;
        st->qbytes += len;
        st->qcount++;
        if (st->qcount % BATCH == 0 || (!was_ready && batch_ready(st)))
            pthread_cond_signal(&st->cond);
    }
    pthread_mutex_unlock(&st->lock);
    if (!room) {
        /* The database is slower than the stream: this record waits on
         * disk instead, and is replayed. */
        spill_or_lose(st, &r, 1);
        free(r);
    }
}

/* The writers' connections, all made before any thread starts, so a bad
 * configuration stops logd at start whatever their number. */
static int open_writers(struct logd_store *st, const struct logd_store_opts *o)
{
    char err[512];
    st->nw = o->conns > 0 ? o->conns : 1;
    st->w = calloc((size_t)st->nw, sizeof *st->w);
    if (st->w == NULL) {
        cli_error("out of memory");
        return -1;
    }
    for (int i = 0; i < st->nw; i++) {
        struct writer *w = &st->w[i];
        w->st = st;
        w->idx = i;
        w->v = malloc(BATCH * sizeof *w->v);
        if (w->v == NULL) {
            cli_error("out of memory");
            return -1;
        }
        if (logd_pg_open(&w->pg, o->conninfo, o->password, o->name,
                         o->async_commit, err, sizeof err) < 0) {
            cli_error("--store: %s", err);
            return -1;
        }
        w->connected = true;
        st->up++;
    }
    return 0;
}

int logd_store_open(struct logd_store **out, const struct logd_store_opts *o)
{
    char err[512];
    struct logd_store *st = calloc(1, sizeof *st);
    if (st == NULL) {
        cli_error("out of memory");
        return -1;
    }
    pthread_mutex_init(&st->lock, NULL);
    /* take_batch's deadline is on CLOCK_MONOTONIC: so must the wait be,
     * or (realtime being far ahead) it is always past and the thread
     * spins on an empty queue. */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&st->cond, &ca);
    pthread_condattr_destroy(&ca);
    st->qmax = o->queue_max;
    if (logd_spill_open(&st->spill, o->spill_dir, o->spill_max, err,
                        sizeof err) < 0) {
        cli_error("--store-spill: %s", err);
        logd_store_free(st);
        return -1;
    }
    if (open_writers(st, o) < 0) {
        logd_store_free(st);
        return -1;
    }
    for (int i = 0; i < st->nw; i++) {
        struct writer *w = &st->w[i];
        if (pthread_create(&w->thread, NULL, writer_thread, w) != 0) {
            cli_error("--store: cannot start its threads");
            logd_store_free(st);
            return -1;
        }
        w->started = true;
    }
    *out = st;
    return 0;
}

void logd_store_finish(struct logd_store *st)
{
    if (st == NULL)
        return;
    pthread_mutex_lock(&st->lock);
    st->stop = true;
    pthread_cond_broadcast(&st->cond);
    pthread_mutex_unlock(&st->lock);
    for (int i = 0; i < st->nw; i++) {
        if (st->w[i].started)
            pthread_join(st->w[i].thread, NULL);
        st->w[i].started = false;
    }
}

void logd_store_free(struct logd_store *st)
{
    if (st == NULL)
        return;
    logd_store_finish(st);
    while (st->head != NULL) { /* only when no thread ran */
        struct store_rec *r = st->head;
        st->head = r->next;
        free(r);
    }
    for (int i = 0; i < st->nw; i++) {
        logd_pg_close(st->w[i].pg);
        free(st->w[i].v);
    }
    free(st->w);
    logd_spill_close(st->spill);
    pthread_cond_destroy(&st->cond);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

void logd_store_stats(struct logd_store *st, struct logd_store_stats *o)
{
    o->stored = st->stored;
    o->spilled = st->spilled;
    o->replayed = st->replayed;
    o->lost = st->lost;
    o->rejected = st->rejected;
    o->reconnects = st->reconnects;
    o->conns_up = st->up;
    o->connected = o->conns_up == st->nw;
    pthread_mutex_lock(&st->lock);
    o->queued = st->qcount;
    pthread_mutex_unlock(&st->lock);
    o->spill_bytes = logd_spill_bytes(st->spill);
}
