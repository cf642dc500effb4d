/* The SQLite store's backlog (logd-dbq.h): when the writer is slower than
 * the stream for longer than the queue in memory lasts, whole chunks of
 * the queue wait in a file, oldest first, and the writer takes them back
 * when it has caught up with what is in memory. So a burst above the
 * writer's rate costs disk space (bounded), not records.
 *
 * A file of frames, each one pwrite: a header (the frame's length and its
 * record count, checked when it is read back against what was written,
 * which is kept in memory) and the chunk's bytes. One thread appends,
 * another takes (an internal mutex). Taken frames are punched out of the file,
 * so it holds on disk about what is waiting; once all is taken, it starts over
 * at offset 0. Its content is only meaningful to the logd that wrote it:
 * one left by a logd that did not finish is removed at open (its records
 * are in the JSON Lines files). */
#ifndef VIGIL_CLI_LOGD_BACKLOG_H
#define VIGIL_CLI_LOGD_BACKLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct logd_backlog;

/* Create PATH (truncating one left behind: its size in @stale, else 0);
 * at most @max bytes wait in it. 0, or -1 with why in @err. */
int logd_backlog_open(struct logd_backlog **out, const char *path, uint64_t max,
                      uint64_t *stale, char *err, size_t errlen);
/* Remove the file and free; NULL is ignored. */
void logd_backlog_close(struct logd_backlog *b);

/* Append a frame of @len bytes holding @nrec records. 0, -ENOSPC when it
 * would pass the bound, -ENOMEM, or -errno of a failed write (nothing
 * appended). */
int logd_backlog_push(struct logd_backlog *b, const void *data, uint32_t len,
                      uint32_t nrec);
/* Take the oldest frame into @buf (@cap bytes): its length, 0 when none
 * waits, or -errno when it could not be read (-EBADMSG: its header is not
 * the one written); @nrec gets its record count either way, so a frame
 * that is lost can be counted. */
long logd_backlog_pop(struct logd_backlog *b, void *buf, uint32_t cap,
                      uint32_t *nrec);
/* Whether a frame waits. */
bool logd_backlog_waiting(struct logd_backlog *b);

struct logd_backlog_stats {
    uint64_t bytes;      /* waiting now */
    uint64_t records;    /* waiting now */
    uint64_t records_in; /* ever appended */
};
void logd_backlog_stats(struct logd_backlog *b, struct logd_backlog_stats *o);
const char *logd_backlog_path(const struct logd_backlog *b);

#endif
