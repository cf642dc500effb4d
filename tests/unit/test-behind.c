/* The filter's scan-behind queue (nbd/behind.c): two writers push jobs
 * while the worker takes them; every job comes out exactly once, each
 * writer's jobs in the order pushed, the queued bytes never exceed the
 * bound (except one oversized job alone), and drain returns only after
 * everything pushed before it was handled. */
#undef NDEBUG
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../nbd/behind.c"

#define JOBS  20000
#define BOUND 4096

static struct behind *q;
static uint64_t next_seq[2];  /* per writer: the next sequence expected */
static uint64_t handled;      /* jobs the worker finished */
static size_t max_seen_bytes; /* most bytes queued behind a small job */
static int failures;

static void fn(void *opaque, const struct behind_job *job)
{
    (void)opaque;
    int w = job->op;
    uint64_t seq;
    memcpy(&seq, job->buf, sizeof(seq));
    if (seq != next_seq[w]) {
        fprintf(stderr, "writer %d: job %llu came out as %llu\n", w,
                (unsigned long long)next_seq[w], (unsigned long long)seq);
        failures++;
    }
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
        assert(j.buf);
        memcpy(j.buf, &i, sizeof(i));
        assert(behind_push(q, &j) == 0);
        if (i % 1000 == 999) {
            /* Everything pushed so far by this writer has been handled. */
            behind_drain(q);
            if (__atomic_load_n(&next_seq[w], __ATOMIC_SEQ_CST) < i + 1) {
                fprintf(stderr, "writer %d: drain returned early\n", w);
                failures++;
            }
        }
    }
    return NULL;
}

int main(void)
{
    assert(behind_new(&q, BOUND, fn, NULL) == 0);
    pthread_t t[2];
    for (int w = 0; w < 2; w++)
        assert(pthread_create(&t[w], NULL, writer, (void *)(intptr_t)w) == 0);
    for (int w = 0; w < 2; w++)
        pthread_join(t[w], NULL);

    /* One job larger than the bound still goes through. */
    struct behind_job big = {.op = 0, .count = 3 * BOUND};
    big.buf = calloc(1, big.count);
    uint64_t seq = JOBS;
    memcpy(big.buf, &seq, sizeof(seq));
    assert(behind_push(q, &big) == 0);
    behind_free(q); /* drains */

    /* Large buffers come back for the next job of about their size, and
     * only while the spares stay within the bound; small ones are plain
     * allocations. */
    struct behind *r;
    assert(behind_new(&r, 4 * RECYCLE_MIN, nop, NULL) == 0);
    size_t cap, cap2;
    unsigned char *b1 = behind_buf_get(r, RECYCLE_MIN + 10, &cap);
    assert(b1 && cap == 2 * RECYCLE_STEP);
    struct behind_job rj = {.count = 8, .buf = b1, .cap = cap};
    assert(behind_push(r, &rj) == 0);
    behind_drain(r);
    unsigned char *b2 = behind_buf_get(r, RECYCLE_MIN + 20, &cap2);
    if (b2 != b1 || cap2 != cap) {
        fprintf(stderr, "a finished job's buffer was not reused\n");
        failures++;
    }
    unsigned char *small = behind_buf_get(r, 100, &cap);
    assert(small && cap == 0);
    free(small);
    /* Far smaller than the spare: a new buffer, the spare is not hogged. */
    behind_buf_put(r, b2, cap2);
    unsigned char *b3 =
        behind_buf_get(r, RECYCLE_MIN / 2 + RECYCLE_MIN / 4, &cap);
    if (b3 == b2) {
        fprintf(stderr, "a small job took a large spare\n");
        failures++;
    }
    free(b3);
    /* Spares beyond the bound are freed (ASan would see a leak else). */
    unsigned char *x[8];
    size_t xc[8];
    for (int i = 0; i < 8; i++)
        assert((x[i] = behind_buf_get(r, 2 * RECYCLE_MIN, &xc[i])));
    for (int i = 0; i < 8; i++) {
        behind_buf_put(r, x[i], xc[i]);
        assert(r->spare_bytes <= 4 * RECYCLE_MIN);
    }
    assert(r->spare_bytes == 4 * RECYCLE_MIN);
    behind_free(r);

    if (handled != 2 * JOBS + 1) {
        fprintf(stderr, "handled %llu jobs, want %d\n",
                (unsigned long long)handled, 2 * JOBS + 1);
        failures++;
    }
    if (max_seen_bytes > BOUND) {
        fprintf(stderr, "queue held %zu bytes, bound %d\n", max_seen_bytes,
                BOUND);
        failures++;
    }
    printf("%s: %d failures\n", failures ? "FAIL" : "ok", failures);
    return failures != 0;
}
