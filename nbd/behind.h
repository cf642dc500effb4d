/* A bounded queue of writes scanned behind the I/O, on a worker thread.
 *
 * When every policy in effect only alerts, a write need not wait for its
 * scan: the filter copies the bytes here and passes the request on, and the
 * worker scans the copies in arrival order (so split signatures are still
 * followed).  The queue holds at most a fixed number of bytes; a writer
 * that would overflow it waits, so nothing goes unscanned.
 *
 * Large buffers are recycled: a fresh 1 MiB allocation per request costs
 * its page faults every time (glibc maps it anew), which measured a third
 * of nbdkit's CPU time on an alert-only disk (docs/disk.md). */
#ifndef VIGIL_NBD_BEHIND_H
#define VIGIL_NBD_BEHIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "request.h"

struct behind;

/* One queued request.  @buf: owned by the queue and freed (or kept for
 * reuse) after @fn returns: @nbefore disk bytes before the request, its
 * @count bytes (none when @zeros: write-zeroes and trim), @nafter disk
 * bytes after it.  @cap: its size when it came from behind_buf_get, else
 * 0 (then it is freed, and only the bytes above count in the bound). */
struct behind_job {
    enum nbd_op op;
    uint64_t offset;
    uint32_t count;
    int64_t ts; /* when the request arrived (CLOCK_MONOTONIC ns) */
    unsigned char *buf;
    size_t cap;
    size_t nbefore, nafter, context;
    bool zeros;
};

typedef void (*behind_fn)(void *opaque, const struct behind_job *job);

/* Start the worker.  @max_bytes: queued bytes before writers wait.
 * Return 0 or -errno. */
int behind_new(struct behind **out, size_t max_bytes, behind_fn fn,
               void *opaque);

/* A buffer of at least @n bytes for a job, *cap its size: a finished
 * job's when one fits, else a new one; NULL when out of memory.  Pass it
 * to behind_push (job->cap = *cap), or back with behind_buf_put. */
unsigned char *behind_buf_get(struct behind *b, size_t n, size_t *cap);
void behind_buf_put(struct behind *b, unsigned char *buf, size_t cap);

/* Queue @job (taking its buffer), waiting while the queue is full.
 * Return 0, or -ENOMEM (nothing queued, the caller keeps the buffer). */
int behind_push(struct behind *b, const struct behind_job *job);

/* Wait until every job queued before this call has been scanned. */
void behind_drain(struct behind *b);

/* Drain, stop the worker and free @b; NULL is ignored. */
void behind_free(struct behind *b);

#endif
