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

struct behind {
    pthread_mutex_t lock;
    pthread_cond_t more;  /* a job was queued, or stopping */
    pthread_cond_t space; /* bytes were freed, or a job finished */
    struct node *head, *tail;
    size_t bytes, max_bytes;
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
    return (j->zeros || !j->buf ? 1 : j->count) + j->nbefore + j->nafter;
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
        free(n->job.buf);
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
    pthread_cond_destroy(&b->space);
    pthread_cond_destroy(&b->more);
    pthread_mutex_destroy(&b->lock);
    free(b);
}
