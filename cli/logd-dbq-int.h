/* logd-dbq.c's and logd-dbq-writer.c's shared insides: the queue's chunks
 * and their entries, the lists that own them, and the queue itself (see
 * logd-dbq.h for who owns what when). */
#ifndef VIGIL_CLI_LOGD_DBQ_INT_H
#define VIGIL_CLI_LOGD_DBQ_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cli.h"
#include "logd-backlog.h"
#include "logd-db.h"
#include "logd-dbq.h"

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
    struct logd_backlog *bl; /* where chunks wait while memory is full */
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

static inline void push(struct list *l, struct chunk *c)
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
static inline void push_front(struct list *l, struct chunk *c)
{
    c->next = l->head;
    l->head = c;
    if (l->tail == NULL)
        l->tail = c;
    l->n++;
}

static inline struct chunk *pop(struct list *l)
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

static inline struct ent *ent_at(struct chunk *c, size_t off)
{
    return (struct ent *)(void *)(c->buf + off);
}

#define FOR_ENTS(c, e)                                                         \
    for (size_t off_ = 0; off_ < (c)->used && ((e) = ent_at((c), off_), 1);    \
         off_ += (e)->size)

static inline uint64_t now_ns(void)
{
    return cli_now_ns(CLOCK_MONOTONIC);
}

/* A chunk off the free list, or a new one while the queue may grow past
 * @slack chunks less than its bound; NULL when it is full. Either thread. */
struct chunk *logd_dbq_get_free(struct logd_dbq *q, size_t slack);
/* The writer thread (pthread_create's start routine; @arg the queue). */
void *logd_dbq_writer(void *arg);

#endif
