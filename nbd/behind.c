/* Scan-behind queue: see behind.h. */
#include "behind.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct node {
    struct node *next;
    struct behind_job job;
};

/* Buffers from behind_buf_get are at least RECYCLE_MIN bytes, sized in
 * RECYCLE_STEP steps so that requests of about one size share them;
 * smaller ones come from malloc's heap, which reuses memory anyway.  A
 * spare buffer holds its own list link. */
#define RECYCLE_MIN  (64u << 10)
#define RECYCLE_STEP (64u << 10)
struct spare {
    struct spare *next;
    size_t cap;
};

struct behind {
    pthread_mutex_t lock;
    pthread_cond_t more;  /* a job was queued, or stopping */
    pthread_cond_t space; /* bytes were freed, or a job finished */
    struct node *head, *tail;
    size_t bytes, max_bytes;
    struct spare *spares; /* recycled buffers, at most max_bytes in all */
    size_t spare_bytes;
    uint64_t queued, done; /* jobs ever queued / ever finished */
    bool stop;
    behind_fn fn;
    void *opaque;
    pthread_t thread;
};

static size_t job_bytes(const struct behind_job *j)
{
    /* Zero jobs carry no request bytes; count them as one byte so that the
     * queue stays bounded in jobs too. */
    size_t n = (j->zeros || !j->buf ? 1 : j->count) + j->nbefore + j->nafter;
    /* A recycled buffer is larger: its memory is what is bounded. */
    return j->cap > n ? j->cap : n;
}

/* Keep @buf for reuse if the spares have room, else free it.  Locked. */
static void recycle_locked(struct behind *b, unsigned char *buf, size_t cap)
{
    if (cap < RECYCLE_MIN || b->spare_bytes + cap > b->max_bytes) {
        free(buf);
        return;
    }
    struct spare *s = (struct spare *)(void *)buf;
    s->next = b->spares;
    s->cap = cap;
    b->spares = s;
    b->spare_bytes += cap;
}

unsigned char *behind_buf_get(struct behind *b, size_t n, size_t *cap)
{
    if (n < RECYCLE_MIN) {
        *cap = 0;
        return malloc(n ? n : 1);
    }
    pthread_mutex_lock(&b->lock);
    /* First fit, but not one much larger than needed: a small job must not
     * hold a large buffer while the bound counts it. */
    for (struct spare **p = &b->spares; *p; p = &(*p)->next) {
        struct spare *s = *p;
        if (s->cap >= n && s->cap - n < RECYCLE_STEP + n / 2) {
            *p = s->next;
            b->spare_bytes -= s->cap;
            pthread_mutex_unlock(&b->lock);
            *cap = s->cap;
            return (unsigned char *)s;
        }
    }
    pthread_mutex_unlock(&b->lock);
    size_t c = (n + RECYCLE_STEP - 1) / RECYCLE_STEP * RECYCLE_STEP;
    unsigned char *buf = c >= n ? malloc(c) : NULL;
    *cap = buf ? c : 0;
    return buf;
}

void behind_buf_put(struct behind *b, unsigned char *buf, size_t cap)
{
    pthread_mutex_lock(&b->lock);
    recycle_locked(b, buf, cap);
    pthread_mutex_unlock(&b->lock);
}

static void *worker(void *arg)
{
    struct behind *b = arg;
    pthread_mutex_lock(&b->lock);
    for (;;) {
        while (!b->head && !b->stop)
            pthread_cond_wait(&b->more, &b->lock);
        struct node *n = b->head;
        if (!n)
            break; /* stopping, and nothing left */
        b->head = n->next;
        if (!b->head)
            b->tail = NULL;
        pthread_mutex_unlock(&b->lock);

        b->fn(b->opaque, &n->job);

        pthread_mutex_lock(&b->lock);
        b->bytes -= job_bytes(&n->job);
        b->done++;
        recycle_locked(b, n->job.buf, n->job.cap);
        free(n);
        pthread_cond_broadcast(&b->space);
    }
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

int behind_new(struct behind **out, size_t max_bytes, behind_fn fn,
               void *opaque)
{
    struct behind *b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->more, NULL);
    pthread_cond_init(&b->space, NULL);
    b->max_bytes = max_bytes;
    b->fn = fn;
    b->opaque = opaque;
    int r = pthread_create(&b->thread, NULL, worker, b);
    if (r != 0) {
        pthread_cond_destroy(&b->space);
        pthread_cond_destroy(&b->more);
        pthread_mutex_destroy(&b->lock);
        free(b);
        return -r;
    }
    *out = b;
    return 0;
}

int behind_push(struct behind *b, const struct behind_job *job)
{
    struct node *n = malloc(sizeof(*n));
    if (!n)
        return -ENOMEM;
    n->next = NULL;
    n->job = *job;
    size_t sz = job_bytes(job);
    pthread_mutex_lock(&b->lock);
    /* A job larger than the whole queue still goes in once it is empty. */
    while (b->bytes > 0 && b->bytes + sz > b->max_bytes)
        pthread_cond_wait(&b->space, &b->lock);
    b->bytes += sz;
    b->queued++;
    if (b->tail)
        b->tail->next = n;
    else
        b->head = n;
    b->tail = n;
    pthread_cond_signal(&b->more);
    pthread_mutex_unlock(&b->lock);
    return 0;
}

void behind_drain(struct behind *b)
{
    pthread_mutex_lock(&b->lock);
    uint64_t target = b->queued;
    while (b->done < target)
        pthread_cond_wait(&b->space, &b->lock);
    pthread_mutex_unlock(&b->lock);
}

void behind_free(struct behind *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->lock);
    b->stop = true;
    pthread_cond_signal(&b->more);
    pthread_mutex_unlock(&b->lock);
    pthread_join(b->thread, NULL);
    while (b->spares) {
        struct spare *s = b->spares;
        b->spares = s->next;
        free(s);
    }
    pthread_cond_destroy(&b->space);
    pthread_cond_destroy(&b->more);
    pthread_mutex_destroy(&b->lock);
    free(b);
}
