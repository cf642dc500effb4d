/* logd's SQLite store off the receiving thread: the receiving loop copies
 * each record (with its indexed fields, found there) into a bounded queue
 * and a writer thread of the store's own inserts them, in large
 * transactions, so a slow disk or a long commit never holds up receiving or
 * the heartbeats sent from the same loop.
 *
 * Ownership: the queue is made of fixed-size chunks; each chunk belongs at
 * any time to exactly one of: the receiving thread (the chunk it fills),
 * the queue of chunks ready for the writer, the writer (the chunks of its
 * open transaction), the list of chunks done with losses (back to the
 * receiving thread, which counts them per session) or the free list. One
 * mutex guards the lists and the counters; a record's bytes are only ever
 * touched by the chunk's owner.
 *
 * The backlog (logd-backlog.h) takes whole chunks while the queue in
 * memory is full, and keeps taking them until the writer has
 * caught up with it: the writer takes the queue in memory first, then the
 * backlog's oldest chunk, so records reach the database in the order they
 * came.
 *
 * Loss accounting: a record that finds no chunk to go into (the backlog
 * refused the last ones, which still wait to be counted) is not queued
 * (logd_dbq_record returns false: the caller counts it as not stored, as a
 * failed insert); one whose insert or commit fails, or whose chunk the backlog
 * refused, is handed back through logd_dbq_settle. Every record given to
 * logd_dbq_record is, in the end, stored, refused (false) or handed back,
 * except those of a chunk that could not be read back from the backlog: they
 * count as failed in the totals alone. */
#ifndef VIGIL_CLI_LOGD_DBQ_H
#define VIGIL_CLI_LOGD_DBQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct logd_dbq;

struct logd_dbq_stats {
    uint64_t stored;     /* committed */
    uint64_t queue_full; /* refused: the queue was full */
    uint64_t failed;     /* an insert or its commit failed */
    uint64_t queued;     /* in memory now (queued, or in an open txn) */
    uint64_t errors;     /* failed statements and commits */
    uint64_t commits;
    uint64_t backlog;       /* of queued: waiting in the backlog */
    uint64_t backlog_bytes; /* its size now */
    uint64_t backlogged;    /* records that went through the backlog */
};

/* Open OUTDIR/events.db and start the writer; the queue holds up to
 * @queue_max bytes of records in memory (at least two chunks of 256 KiB)
 * and up to @backlog_max more in the file @backlog. Prints why on
 * failure; 0 or -1. */
int logd_dbq_open(struct logd_dbq **out, const char *outdir, uint64_t queue_max,
                  const char *backlog, uint64_t backlog_max);
/* Queue a session's row (receiving thread). False when the queue is
 * full. */
bool logd_dbq_session(struct logd_dbq *q, uint64_t id, const char *hex,
                      const char *source, uint64_t started_s);
/* Queue record @recno of session @id (@hex: its 16 hex digits), copied.
 * False when the queue is full: nothing was queued. */
bool logd_dbq_record(struct logd_dbq *q, uint64_t id, const char *hex,
                     uint64_t recno, const char *rec, size_t len);
/* Hand the records queued so far to the writer when it is idle (or always,
 * with @finish: then also wait until the writer has stored everything and
 * stop it), and call @lost(@ctx, session id) once for each record the
 * writer could not store since the last call. Receiving thread; call it
 * every turn of the loop. */
void logd_dbq_settle(struct logd_dbq *q, bool finish,
                     void (*lost)(void *ctx, uint64_t id), void *ctx);
void logd_dbq_stats(struct logd_dbq *q, struct logd_dbq_stats *o);
/* Stop the writer (what is queued is stored first, its losses uncounted:
 * call logd_dbq_settle with @finish before) and close. NULL is ignored. */
void logd_dbq_free(struct logd_dbq *q);

#endif
