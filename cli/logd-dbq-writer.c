/* logd's SQLite store: the writer thread (logd-dbq.h), which takes the
 * queue's chunks in memory, then the backlog's, and inserts them in large
 * transactions. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "logd-dbq-int.h"
#include "logd-thread.h"

static void count_error(struct logd_dbq *q)
{
    pthread_mutex_lock(&q->mu);
    q->errors++;
    pthread_mutex_unlock(&q->mu);
}

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
    struct chunk *c = logd_dbq_get_free(q, 0);
    if (c == NULL) {
        /* The open transaction's chunks go back first; then every chunk may
         * be the receiving thread's or on its way back to it (losses are
         * counted there, which a finishing logd no longer does): one more
         * than the bound, the writer's own while it holds no other. */
        commit(q, txn);
        c = logd_dbq_get_free(q, 1);
    }
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

void *logd_dbq_writer(void *arg)
{
    struct logd_dbq *q = arg;
    struct list txn = {0};
    uint64_t txn_start = 0, txn_recs = 0;
    logd_thread_second("logd-db");
    pthread_mutex_lock(&q->mu);
    for (;;) {
        /* The queue in memory first: while the backlog is not empty, what
         * arrives goes there (logd_dbq_record), so this keeps their order. */
        struct chunk *c = pop(&q->ready);
        if (c == NULL && logd_backlog_waiting(q->bl)) {
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
