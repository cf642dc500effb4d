/* logd's SQLite store behind a queue and a writer thread (logd-dbq.h):
 * the receiving thread's side; the writer is in logd-dbq-writer.c. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logd-dbq-int.h"
#include "logd-fields.h"

struct chunk *logd_dbq_get_free(struct logd_dbq *q, size_t slack)
{
    bool fresh = false;
    pthread_mutex_lock(&q->mu);
    struct chunk *c = pop(&q->free);
    if (c == NULL && q->allocated < q->max_chunks + slack) {
        q->allocated++;
        fresh = true;
    }
    pthread_mutex_unlock(&q->mu);
    if (fresh && (c = malloc(CHUNK_BYTES)) == NULL) {
        pthread_mutex_lock(&q->mu);
        q->allocated--;
        pthread_mutex_unlock(&q->mu);
    }
    if (c != NULL) {
        c->used = 0;
        c->nrec = c->nlost = 0;
    }
    return c;
}

int logd_dbq_open(struct logd_dbq **out, const char *outdir, uint64_t queue_max,
                  const char *backlog, uint64_t backlog_max)
{
    struct logd_dbq *q = calloc(1, sizeof *q);
    if (q == NULL) {
        cli_error("out of memory");
        return -1;
    }
    q->max_chunks = queue_max / CHUNK_BYTES < 2 ? 2 : queue_max / CHUNK_BYTES;
    /* The open transaction's chunks are held until it commits: leave at
     * least half of the queue to the receiving side. */
    q->txn_chunks = q->max_chunks / 2;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->wake, &ca);
    pthread_condattr_destroy(&ca);
    q->rows = malloc(MAX_ENTS * sizeof *q->rows);
    q->ents = malloc(MAX_ENTS * sizeof *q->ents);
    if (q->rows == NULL || q->ents == NULL) {
        cli_error("out of memory");
        logd_dbq_free(q);
        return -1;
    }
    if (logd_db_open(&q->db, outdir) < 0) {
        logd_dbq_free(q);
        return -1;
    }
    char why[4400];
    uint64_t stale = 0;
    if (logd_backlog_open(&q->bl, backlog, backlog_max, &stale, why,
                          sizeof why) < 0) {
        cli_error("events.db's backlog: %s", why);
        logd_dbq_free(q);
        return -1;
    }
    if (stale > 0)
        cli_warn("%s: %" PRIu64 " bytes left by a logd that did not finish: "
                 "removed (their records are in the JSON Lines files, not in "
                 "events.db)",
                 backlog, stale);
    int err = pthread_create(&q->thread, NULL, logd_dbq_writer, q);
    if (err != 0) {
        cli_error("events.db: cannot start its writer: %s", strerror(err));
        logd_dbq_free(q);
        return -1;
    }
    q->started = true;
    *out = q;
    return 0;
}

/* The chunk being filled into the backlog; it stays the receiving
 * thread's, emptied. When the backlog refuses it, its records are not
 * stored: back through logd_dbq_settle, counted as the queue full. */
static void to_backlog(struct logd_dbq *q)
{
    struct chunk *c = q->cur;
    int rc = logd_backlog_push(q->bl, c->buf, (uint32_t)c->used, c->nrec);
    if (rc == 0) {
        if (!q->said_behind)
            cli_warn("events.db: the database is behind the stream: records "
                     "wait in %s (up to --store-spill-max)",
                     logd_backlog_path(q->bl));
        q->said_behind = true;
        c->used = 0;
        c->nrec = 0;
        c->first_ns = now_ns();
        pthread_mutex_lock(&q->mu);
        pthread_cond_signal(&q->wake);
        pthread_mutex_unlock(&q->mu);
        return;
    }
    if (!q->said_refused) {
        if (rc == -ENOSPC)
            cli_warn("events.db: its backlog is full (--store-spill-max): "
                     "records are NOT STORED in the database");
        else
            cli_warn("events.db: %s: %s: records are NOT STORED in the "
                     "database",
                     logd_backlog_path(q->bl), strerror(-rc));
    }
    q->said_refused = true;
    struct ent *e;
    FOR_ENTS(c, e)
    {
        e->lost = e->kind == ENT_RECORD;
    }
    c->nlost = c->nrec;
    q->accepted -= c->nrec;
    q->queue_full += c->nrec;
    pthread_mutex_lock(&q->mu);
    push(&q->done, c);
    pthread_mutex_unlock(&q->mu);
    q->cur = NULL;
}

/* The chunk being filled goes to the writer: in memory while the queue
 * has room there and the backlog is empty, else to the backlog, so that
 * the writer, taking memory first, keeps the order. */
static void hand_over(struct logd_dbq *q)
{
    if (q->cur == NULL || q->cur->used == 0)
        return;
    pthread_mutex_lock(&q->mu);
    bool memory = (q->free.head != NULL || q->allocated < q->max_chunks) &&
                  !logd_backlog_waiting(q->bl);
    if (memory) {
        push(&q->ready, q->cur);
        q->cur = NULL;
        pthread_cond_signal(&q->wake);
    }
    pthread_mutex_unlock(&q->mu);
    if (!memory)
        to_backlog(q);
}

/* Room for an entry of @need bytes; NULL when the queue is full. */
static struct ent *reserve(struct logd_dbq *q, size_t need)
{
    if (need > CHUNK_CAP)
        return NULL;
    if (q->cur != NULL && q->cur->used + need > CHUNK_CAP)
        hand_over(q);
    if (q->cur == NULL) {
        if ((q->cur = logd_dbq_get_free(q, 0)) == NULL)
            return NULL;
        q->cur->first_ns = now_ns();
    }
    struct ent *e = ent_at(q->cur, q->cur->used);
    q->cur->used += need;
    e->size = (uint32_t)need;
    return e;
}

static size_t ent_size(size_t len)
{
    return (sizeof(struct ent) + len + 1 + 7) & ~(size_t)7;
}

bool logd_dbq_session(struct logd_dbq *q, uint64_t id, const char *hex,
                      const char *source, uint64_t started_s)
{
    size_t len = strlen(source);
    struct ent *e = reserve(q, ent_size(len));
    if (e == NULL)
        return false;
    e->kind = ENT_SESSION;
    memcpy(e->hex, hex, 16); /* 16 hex digits */
    e->hex[16] = 0;
    e->id = id;
    e->num = started_s;
    e->len = (uint32_t)len;
    memcpy(e->data, source, len + 1);
    return true;
}

bool logd_dbq_record(struct logd_dbq *q, uint64_t id, const char *hex,
                     uint64_t recno, const char *rec, size_t len)
{
    struct ent *e = reserve(q, ent_size(len));
    if (e == NULL) {
        q->queue_full++;
        return false;
    }
    struct logd_fields f;
    logd_fields_find(rec, len, &f);
    e->kind = ENT_RECORD;
    memcpy(e->hex, hex, 16); /* 16 hex digits */
    e->hex[16] = 0;
    e->id = id;
    e->num = recno;
    e->ts = f.ts;
    e->pid = f.pid;
    e->tid = f.tid;
    e->type_off = f.type ? (int32_t)(f.type - rec) : -1;
    e->type_len = f.type_len;
    e->name_off = f.name ? (int32_t)(f.name - rec) : -1;
    e->name_len = f.name_len;
    e->len = (uint32_t)len;
    memcpy(e->data, rec, len);
    e->data[len] = 0;
    q->cur->nrec++;
    q->accepted++;
    return true;
}

void logd_dbq_settle(struct logd_dbq *q, bool finish,
                     void (*lost)(void *ctx, uint64_t id), void *ctx)
{
    /* A chunk part-filled goes only to an idle writer, and not at once
     * (PART_NS): a busy one gets full chunks. */
    pthread_mutex_lock(&q->mu);
    bool idle = q->ready.head == NULL && q->cur != NULL &&
                now_ns() - q->cur->first_ns >= PART_NS &&
                !logd_backlog_waiting(q->bl);
    pthread_mutex_unlock(&q->mu);
    if (finish || idle)
        hand_over(q);
    pthread_mutex_lock(&q->mu);
    if (finish) {
        q->finishing = true;
        pthread_cond_signal(&q->wake);
    }
    pthread_mutex_unlock(&q->mu);
    if (finish && q->started) {
        pthread_join(q->thread, NULL);
        q->started = false;
    }
    pthread_mutex_lock(&q->mu);
    struct list done = q->done;
    q->done = (struct list){0};
    pthread_mutex_unlock(&q->mu);
    struct chunk *c;
    while ((c = pop(&done)) != NULL) {
        struct ent *e;
        FOR_ENTS(c, e)
        {
            if (e->kind == ENT_RECORD && e->lost)
                lost(ctx, e->id);
        }
        pthread_mutex_lock(&q->mu);
        push_front(&q->free, c);
        pthread_mutex_unlock(&q->mu);
    }
}

void logd_dbq_stats(struct logd_dbq *q, struct logd_dbq_stats *o)
{
    pthread_mutex_lock(&q->mu);
    o->stored = q->stored;
    o->failed = q->failed;
    o->errors = q->errors;
    o->commits = q->commits;
    pthread_mutex_unlock(&q->mu);
    o->queue_full = q->queue_full;
    o->queued = q->accepted - o->stored - o->failed;
    struct logd_backlog_stats b;
    logd_backlog_stats(q->bl, &b);
    o->backlog = b.records;
    o->backlog_bytes = b.bytes;
    o->backlogged = b.records_in;
}

static void free_list(struct list *l)
{
    struct chunk *c;
    while ((c = pop(l)) != NULL)
        free(c);
}

void logd_dbq_free(struct logd_dbq *q)
{
    if (q == NULL)
        return;
    if (q->started) {
        pthread_mutex_lock(&q->mu);
        q->finishing = true;
        pthread_cond_signal(&q->wake);
        pthread_mutex_unlock(&q->mu);
        pthread_join(q->thread, NULL);
    }
    free(q->cur);
    free_list(&q->ready);
    free_list(&q->done);
    free_list(&q->free);
    logd_db_close(q->db);
    logd_backlog_close(q->bl);
    free(q->rows);
    free(q->ents);
    pthread_cond_destroy(&q->wake);
    pthread_mutex_destroy(&q->mu);
    free(q);
}
