/* A bounded queue of writes scanned behind the I/O, on a worker thread.
 *
 * When every policy in effect only alerts, a write need not wait for its
 * scan: the filter copies the bytes here and passes the request on, and the
 * worker scans the copies in arrival order (so split signatures are still
 * followed).  The queue holds at most a fixed number of bytes; a writer
 * that would overflow it waits, so nothing goes unscanned. */
#ifndef VIGIL_NBD_BEHIND_H
#define VIGIL_NBD_BEHIND_H

#include <stddef.h>
#include <stdint.h>

struct behind;

/* One queued request.  @buf: the copied bytes, owned by the queue and
 * freed after @fn returns; NULL for write-zeroes and trim. */
struct behind_job {
    int op;
    uint64_t offset;
    uint32_t count;
    int64_t ts; /* when the request arrived (CLOCK_MONOTONIC ns) */
    unsigned char *buf;
};

typedef void (*behind_fn)(void *opaque, const struct behind_job *job);

/* Start the worker.  @max_bytes: queued bytes before writers wait.
 * Return 0 or -errno. */
int behind_new(struct behind **out, size_t max_bytes, behind_fn fn,
               void *opaque);

/* Queue @job (taking its buffer), waiting while the queue is full.
 * Return 0, or -ENOMEM (nothing queued, the caller keeps the buffer). */
int behind_push(struct behind *b, const struct behind_job *job);

/* Wait until every job queued before this call has been scanned. */
void behind_drain(struct behind *b);

/* Drain, stop the worker and free @b; NULL is ignored. */
void behind_free(struct behind *b);

#endif
