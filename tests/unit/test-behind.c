/* The filter's scan-behind queue (nbd/behind.c): two writers push jobs
 * while the worker takes them; every job comes out exactly once, each
 * writer's jobs in the order pushed, the queued bytes never exceed the
 * bound (except one oversized job alone), and drain returns only after
 * everything pushed before it was handled. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../nbd/behind.c"
#include "check.h"

#define JOBS  20000
#define BOUND 4096

static struct behind *q;
static uint64_t next_seq[2];  /* per writer: the next sequence expected */
static uint64_t handled;      /* jobs the worker finished */
static size_t max_seen_bytes; /* most bytes queued behind a small job */

static void fn(void *opaque, const struct behind_job *job)
{
    (void)opaque;
    int w = job->op;
    uint64_t seq;
    memcpy(&seq, job->buf, sizeof(seq));
    CHECK_QUIET(seq == next_seq[w], "writer %d: job %llu came out as %llu", w,
                (unsigned long long)next_seq[w], (unsigned long long)seq);
    next_seq[w] = seq + 1;
    pthread_mutex_lock(&q->lock);
    if (job->count < BOUND && q->bytes > max_seen_bytes)
        max_seen_bytes = q->bytes;
    pthread_mutex_unlock(&q->lock);
    __atomic_add_fetch(&handled, 1, __ATOMIC_SEQ_CST);
}

static void nop(void *opaque, const struct behind_job *job)
{
    (void)opaque;
    (void)job;
}

static void *writer(void *arg)
{
    int w = (int)(intptr_t)arg;
    for (uint64_t i = 0; i < JOBS; i++) {
        uint32_t len = 8 + (uint32_t)(i * 37 % 1000);
        struct behind_job j = {.op = w, .offset = i, .count = len};
        j.buf = calloc(1, len);
        if (!j.buf)
            abort(); /* out of memory: nothing left to test */
        memcpy(j.buf, &i, sizeof(i));
        CHECK_QUIET(behind_push(q, &j) == 0, "writer %d: push of job %llu", w,
                    (unsigned long long)i);
        if (i % 1000 == 999) {
            /* Everything pushed so far by this writer has been handled. */
            behind_drain(q);
            CHECK_QUIET(__atomic_load_n(&next_seq[w], __ATOMIC_SEQ_CST) >=
                            i + 1,
                        "writer %d: drain after job %llu returned early", w,
                        (unsigned long long)i);
        }
    }
    return NULL;
}

int main(void)
{
    if (behind_new(&q, BOUND, fn, NULL) != 0) {
        CHECK(0, "a queue bounded at %d bytes", BOUND);
        return 1;
    }
    pthread_t t[2];
    for (int w = 0; w < 2; w++)
        if (pthread_create(&t[w], NULL, writer, (void *)(intptr_t)w) != 0)
            abort(); /* no thread: nothing left to test */
    for (int w = 0; w < 2; w++)
        pthread_join(t[w], NULL);

    /* One job larger than the bound still goes through. */
    struct behind_job big = {.op = 0, .count = 3 * BOUND};
    big.buf = calloc(1, big.count);
    uint64_t seq = JOBS;
    memcpy(big.buf, &seq, sizeof(seq));
    CHECK(behind_push(q, &big) == 0, "a job of %u bytes, past the bound %d",
          big.count, BOUND);
    behind_free(q); /* drains */

    /* Large buffers come back for the next job of about their size, and
     * only while the spares stay within the bound; small ones are plain
     * allocations. */
    struct behind *r;
    if (behind_new(&r, 4 * RECYCLE_MIN, nop, NULL) != 0) {
        CHECK(0, "a queue for the buffer checks");
        return 1;
    }
    size_t cap, cap2;
    unsigned char *b1 = behind_buf_get(r, RECYCLE_MIN + 10, &cap);
    if (!b1)
        abort();
    CHECK(cap == 2 * RECYCLE_STEP,
          "a large buffer is rounded up to the recycling step (%zu)", cap);
    struct behind_job rj = {.count = 8, .buf = b1, .cap = cap};
    CHECK(behind_push(r, &rj) == 0, "a job in a large buffer is queued");
    behind_drain(r);
    unsigned char *b2 = behind_buf_get(r, RECYCLE_MIN + 20, &cap2);
    CHECK(b2 == b1 && cap2 == cap, "a finished job's buffer is reused");
    unsigned char *small = behind_buf_get(r, 100, &cap);
    if (!small)
        abort();
    CHECK(cap == 0, "a small buffer is a plain allocation (cap %zu)", cap);
    free(small);
    /* Far smaller than the spare: a new buffer, the spare is not hogged. */
    behind_buf_put(r, b2, cap2);
    unsigned char *b3 =
        behind_buf_get(r, RECYCLE_MIN / 2 + RECYCLE_MIN / 4, &cap);
    CHECK(b3 != b2, "a far smaller job does not take a large spare");
    free(b3);
    /* Spares beyond the bound are freed (ASan would see a leak else). */
    unsigned char *x[8];
    size_t xc[8];
    for (int i = 0; i < 8; i++)
        if (!(x[i] = behind_buf_get(r, 2 * RECYCLE_MIN, &xc[i])))
            abort();
    for (int i = 0; i < 8; i++) {
        behind_buf_put(r, x[i], xc[i]);
        CHECK_QUIET(r->spare_bytes <= 4 * RECYCLE_MIN,
                    "after %d puts the spares hold %zu bytes, bound %d", i + 1,
                    r->spare_bytes, 4 * RECYCLE_MIN);
    }
    CHECK(r->spare_bytes == 4 * RECYCLE_MIN,
          "spares fill the bound and stop there (%zu bytes)", r->spare_bytes);
    behind_free(r);

    CHECK(handled == 2 * JOBS + 1, "handled %llu jobs, want %d",
          (unsigned long long)handled, 2 * JOBS + 1);
    CHECK(max_seen_bytes <= BOUND, "the queue held at most %zu bytes, bound %d",
          max_seen_bytes, BOUND);
    CHECK(next_seq[0] == JOBS + 1 && next_seq[1] == JOBS,
          "each writer's jobs came out in order, every one");
    printf("%s: %d failures\n", failures ? "FAIL" : "ok", failures);
    return failures != 0;
}
