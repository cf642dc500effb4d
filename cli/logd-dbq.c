/* logd's SQLite store behind a queue and a writer thread (logd-dbq.h). */
#include "logd-dbq.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "logd-backlog.h"
#include "logd-db.h"
#include "logd-fields.h"

/* A chunk holds about 1,000 records of 200 bytes: one lock per chunk, not
 * per record, and room for the largest record (64 KiB). */
#define CHUNK_BYTES (256u << 10)
/* A transaction is committed when it is this old or holds this many
 * records: large transactions make each page of the indexes written once
 * for many rows, and a commit costs little with WAL (no fsync). */
#define TXN_NS   500000000ull
#define TXN_RECS 50000u
/* A chunk part-filled goes to an idle writer once its first record is
 * this old: the queue's bound is in chunks, and a chunk handed over at
 * every turn of the loop would hold a few records each. */
#define PART_NS 100000000ull

enum { ENT_SESSION, ENT_RECORD };

/* One entry of a chunk: a record with its indexed fields, or a session's
 * row. */
struct ent {
    uint32_t size; /* of the whole entry, a multiple of 8 */
    uint8_t kind;
    uint8_t lost; /* set by the writer */
    char hex[17];
    uint64_t id, num; /* num: the record number, or the session's start */
    long long ts, pid, tid;
    int32_t type_off, type_len, name_off, name_len; /* off -1: absent */
    uint32_t len;                                   /* of data */
    char data[]; /* the record, or the source address; NUL-terminated */
};

struct chunk {
    struct chunk *next;
    size_t used;
    uint64_t first_ns;    /* when its first entry was added */
    uint32_t nrec, nlost; /* record entries; of them, not stored */
    _Alignas(8) char buf[];
};
#define CHUNK_CAP (CHUNK_BYTES - sizeof(struct chunk))
/* The most entries a chunk can hold (each at least a header and a NUL). */
#define MAX_ENTS (CHUNK_CAP / sizeof(struct ent) + 1)

struct list {
    struct chunk *head, *tail;
    size_t n;
};

struct logd_dbq {
    struct logd_db *db;      /* the writer's alone once it started */
    struct logd_backlog *bl; /* NULL: a full queue refuses records */
    /* The writer's: a chunk's records as rows for the database, and their
     * entries (MAX_ENTS each). */
    struct logd_db_row *rows;
    struct ent **ents;
    pthread_t thread;
    bool started;
    size_t max_chunks, txn_chunks;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* the writer's: chunks ready, or finishing */
    /* Guarded by mu. */
    struct list ready, done, free;
    size_t allocated;
    bool finishing;
    uint64_t stored, failed, errors, commits;
    /* The receiving thread's own. */
    struct chunk *cur;
    uint64_t accepted, queue_full;
    bool said_behind, said_refused;
};

static void push(struct list *l, struct chunk *c)
{
    c->next = NULL;
    if (l->tail)
        l->tail->next = c;
    else
        l->head = c;
    l->tail = c;
    l->n++;
}

/* The free list is used last in, first out: while the writer keeps up,
 * the same few chunks go round, warm in the caches, and the rest of the
 * queue's memory is never touched (each first touch is a page fault). */
static void push_front(struct list *l, struct chunk *c)
{
    c->next = l->head;
    l->head = c;
    if (l->tail == NULL)
        l->tail = c;
    l->n++;
}

static struct chunk *pop(struct list *l)
{
    struct chunk *c = l->head;
    if (c == NULL)
        return NULL;
    l->head = c->next;
    if (l->head == NULL)
        l->tail = NULL;
    l->n--;
    return c;
}

static struct ent *ent_at(struct chunk *c, size_t off)
{
    return (struct ent *)(void *)(c->buf + off);
}

#define FOR_ENTS(c, e)                                                         \
    for (size_t off_ = 0; off_ < (c)->used && ((e) = ent_at((c), off_), 1);    \
         off_ += (e)->size)

static uint64_t now_ns(void)
{
    return cli_now_ns(CLOCK_MONOTONIC);
}

static void count_error(struct logd_dbq *q)
{
    pthread_mutex_lock(&q->mu);
    q->errors++;
    pthread_mutex_unlock(&q->mu);
}

/* A chunk off the free list, or a new one while the queue may grow past
 * @slack chunks less than its bound; NULL when it is full. Either thread. */
static struct chunk *get_free(struct logd_dbq *q, size_t slack)
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

/* ---- the writer thread ---- */

/* The transaction ended (committed, or @failed): count its records and
 * give its chunks back, those with losses to the receiving thread. */
static void release(struct logd_dbq *q, struct list *txn, bool failed)
{
    uint64_t stored = 0, lost = 0;
    for (struct chunk *c = txn->head; c != NULL; c = c->next) {
        struct ent *e;
        c->nlost = 0;
        FOR_ENTS(c, e)
        {
            if (failed)
                e->lost = 1;
            c->nlost += e->kind == ENT_RECORD && e->lost;
        }
        stored += c->nrec - c->nlost;
        lost += c->nlost;
    }
    pthread_mutex_lock(&q->mu);
    q->stored += stored;
    q->failed += lost;
    q->commits += !failed;
    struct chunk *c;
    while ((c = pop(txn)) != NULL)
        if (c->nlost)
            push(&q->done, c);
        else
            push_front(&q->free, c);
    pthread_mutex_unlock(&q->mu);
}

static void commit(struct logd_dbq *q, struct list *txn)
{
    if (txn->n == 0)
        return;
    bool failed = !logd_db_in_txn(q->db) || logd_db_commit(q->db) < 0;
    if (failed)
        count_error(q);
    release(q, txn, failed);
}

/* Entries [0, @e) of @c lost: SQLite rolled back their transaction. */
static void lost_before(struct chunk *c, struct ent *e)
{
    for (struct ent *b = ent_at(c, 0); b != e;
         b = ent_at(c, b->size + (size_t)((char *)b - c->buf)))
        b->lost = 1;
}

/* Begin a transaction if none is open; false (@e lost) when it fails. */
static bool in_txn(struct logd_dbq *q, struct ent *e)
{
    if (logd_db_in_txn(q->db) || logd_db_begin(q->db) == 0)
        return true;
    e->lost = 1;
    count_error(q);
    return false;
}

/* Insert the records gathered from @c (q->rows, q->ents [0, @n)) into the
 * open transaction, one statement for all of them; a failing row is lost
 * and the rest tried again. */
static void write_rows(struct logd_dbq *q, struct chunk *c, struct list *txn,
                       size_t n)
{
    size_t from = 0;
    while (from < n) {
        if (!in_txn(q, q->ents[from])) {
            from++;
            continue;
        }
        size_t done;
        int err = logd_db_insert_rows(q->db, q->rows + from, n - from, &done);
        if (err == 0)
            return;
        struct ent *bad = q->ents[from + done];
        bad->lost = 1;
        count_error(q);
        from += done + 1;
        if (err == -ECANCELED) {
            /* SQLite rolled the transaction back: the chunks before and
             * this chunk's entries so far went with it. */
            lost_before(c, bad);
            release(q, txn, true);
        }
    }
}

static void write_session(struct logd_dbq *q, struct chunk *c, struct list *txn,
                          struct ent *e)
{
    if (!in_txn(q, e))
        return;
    int err = logd_db_session(q->db, e->hex, e->data, e->num);
    if (err == 0)
        return;
    e->lost = 1;
    count_error(q);
    if (err == -ECANCELED) {
        lost_before(c, e);
        release(q, txn, true);
    }
}

/* Insert a chunk's entries into the open transaction (begun if need be)
 * and add the chunk to it: its records in runs between session rows, one
 * statement per run. */
static void write_chunk(struct logd_dbq *q, struct chunk *c, struct list *txn)
{
    struct ent *e;
    size_t n = 0;
    FOR_ENTS(c, e)
    {
        e->lost = 0;
        if (e->kind == ENT_SESSION) {
            write_rows(q, c, txn, n);
            n = 0;
            write_session(q, c, txn, e);
            continue;
        }
        q->ents[n] = e;
        q->rows[n++] = (struct logd_db_row){
            .session = e->hex,
            .recno = e->num,
            .f =
                {
                    .ts = e->ts,
                    .pid = e->pid,
                    .tid = e->tid,
                    .type = e->type_off < 0 ? NULL : e->data + e->type_off,
                    .type_len = e->type_len,
                    .name = e->name_off < 0 ? NULL : e->data + e->name_off,
                    .name_len = e->name_len,
                },
            .rec = e->data,
            .len = e->len,
        };
    }
    write_rows(q, c, txn, n);
    push(txn, c);
}

static bool field_ok(int32_t off, int32_t len, uint32_t total)
{
    return off == -1 ||
           (off >= 0 && len >= 0 && (uint64_t)off + (uint32_t)len <= total);
}

/* A chunk back from the backlog is checked before its entries are used:
 * the file is this logd's own, but a bad byte in it must cost records, not
 * a crash. Its record count, or -1. */
static long check_chunk(struct chunk *c)
{
    long nrec = 0;
    for (size_t off = 0; off < c->used;) {
        struct ent *e = ent_at(c, off);
        if (c->used - off < sizeof *e || e->size < sizeof *e ||
            e->size % 8 != 0 || e->size > c->used - off ||
            (uint64_t)e->len + 1 > e->size - sizeof *e ||
            e->data[e->len] != 0 || e->hex[16] != 0)
            return -1;
        if (e->kind == ENT_RECORD) {
            if (!field_ok(e->type_off, e->type_len, e->len) ||
                !field_ok(e->name_off, e->name_len, e->len))
                return -1;
            nrec++;
        } else if (e->kind != ENT_SESSION) {
            return -1;
        }
        off += e->size;
    }
    return nrec;
}

/* The backlog's oldest chunk into @*out. 1: there it is; 0: none, or it
 * could not be read back (its records counted failed); -1: no chunk of
 * the queue is free to read it into, even after committing (the caller
 * waits for the receiving thread to give one back). */
static int from_backlog(struct logd_dbq *q, struct list *txn,
                        struct chunk **out)
{
    *out = NULL;
    struct chunk *c = get_free(q, 0);
    if (c == NULL && txn->n > 0) {
        commit(q, txn);
        c = get_free(q, 0);
    }
    /* Every chunk may be the receiving thread's or on its way back to it
     * (losses are counted there, which a finishing logd no longer does):
     * one more than the bound, the writer's own while it holds no other. */
    if (c == NULL && txn->n == 0)
        c = get_free(q, 1);
    if (c == NULL)
        return -1;
    uint32_t nrec;
    long n = logd_backlog_pop(q->bl, c->buf, CHUNK_CAP, &nrec);
    if (n > 0) {
        c->used = (size_t)n;
        if (check_chunk(c) == (long)nrec) {
            c->nrec = nrec;
            *out = c;
            return 1;
        }
    }
    pthread_mutex_lock(&q->mu);
    if (n != 0 || nrec > 0) {
        q->failed += nrec;
        q->errors++;
    }
    push_front(&q->free, c);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

static void wait_until(struct logd_dbq *q, uint64_t deadline)
{
    struct timespec ts = {(time_t)(deadline / 1000000000ull),
                          (long)(deadline % 1000000000ull)};
    pthread_cond_timedwait(&q->wake, &q->mu, &ts);
}

static void *writer_main(void *arg)
{
    struct logd_dbq *q = arg;
    struct list txn = {0};
    uint64_t txn_start = 0, txn_recs = 0;
    /* Named for top -H and bench/logs, which counts each thread's CPU. */
    (void)pthread_setname_np(pthread_self(), "logd-db");
    /* On a machine short of CPUs the receiving thread comes first: a
     * datagram it is too late for is lost for the JSON Lines files too,
     * a record the database is too late for only for the database. Linux
     * sets nice per thread; failing leaves it as it was. */
    errno = 0;
    int nice_now = getpriority(PRIO_PROCESS, (id_t)gettid());
    if (errno == 0)
        (void)setpriority(PRIO_PROCESS, (id_t)gettid(),
                          nice_now + 10 > 19 ? 19 : nice_now + 10);
    pthread_mutex_lock(&q->mu);
    for (;;) {
        /* The queue in memory first: while the backlog is not empty, what
         * arrives goes there (logd_dbq_record), so this keeps their order. */
        struct chunk *c = pop(&q->ready);
        if (c == NULL && q->bl != NULL && logd_backlog_waiting(q->bl)) {
            pthread_mutex_unlock(&q->mu);
            int got = from_backlog(q, &txn, &c);
            pthread_mutex_lock(&q->mu);
            if (got < 0)
                wait_until(q, now_ns() + PART_NS / 10);
            if (c == NULL)
                continue;
        }
        if (c == NULL) {
            bool due =
                txn.n > 0 && (q->finishing || now_ns() - txn_start >= TXN_NS);
            if (due) {
                pthread_mutex_unlock(&q->mu);
                commit(q, &txn);
                pthread_mutex_lock(&q->mu);
            } else if (txn.n > 0) {
                wait_until(q, txn_start + TXN_NS);
            } else if (q->finishing) {
                break;
            } else {
                pthread_cond_wait(&q->wake, &q->mu);
            }
            continue;
        }
        pthread_mutex_unlock(&q->mu);
        if (txn.n == 0) {
            txn_start = now_ns();
            txn_recs = 0;
        }
        txn_recs += c->nrec;
        write_chunk(q, c, &txn);
        if (txn_recs >= TXN_RECS || txn.n >= q->txn_chunks ||
            now_ns() - txn_start >= TXN_NS)
            commit(q, &txn);
        pthread_mutex_lock(&q->mu);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

/* ---- the receiving thread ---- */

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
    if (backlog != NULL && logd_backlog_open(&q->bl, backlog, backlog_max,
                                             &stale, why, sizeof why) < 0) {
        cli_error("events.db's backlog: %s", why);
        logd_dbq_free(q);
        return -1;
    }
    if (stale > 0)
        cli_warn("%s: %" PRIu64 " bytes left by a logd that did not finish: "
                 "removed (their records are in the JSON Lines files, not in "
                 "events.db)",
                 backlog, stale);
    int err = pthread_create(&q->thread, NULL, writer_main, q);
    if (err != 0) {
        cli_error("events.db: cannot start its writer: %s", strerror(err));
        logd_dbq_free(q);
        return -1;
    }
    q->started = true;
    *out = q;
    return 0;
}

/* The chunk being filled goes to the writer. Caller holds mu. */
static void hand_over_locked(struct logd_dbq *q)
{
    if (q->cur == NULL || q->cur->used == 0)
        return;
    push(&q->ready, q->cur);
    q->cur = NULL;
    pthread_cond_signal(&q->wake);
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
 * has room there and the backlog is empty, else (with a backlog) to the
 * backlog, so that the writer, taking memory first, keeps the order. */
static void hand_over(struct logd_dbq *q)
{
    if (q->cur == NULL || q->cur->used == 0)
        return;
    pthread_mutex_lock(&q->mu);
    bool memory = q->bl == NULL ||
                  ((q->free.head != NULL || q->allocated < q->max_chunks) &&
                   !logd_backlog_waiting(q->bl));
    if (memory)
        hand_over_locked(q);
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
        if ((q->cur = get_free(q, 0)) == NULL)
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
                (q->bl == NULL || !logd_backlog_waiting(q->bl));
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
    struct logd_backlog_stats b = {0};
    if (q->bl != NULL)
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
