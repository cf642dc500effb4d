/* Ranges in flight: see ranges.h.  A short list (one entry per request in
 * flight, nbdkit's thread count bounds it) under one mutex; taking and
 * giving back are the only times it is held. */
#include "ranges.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct slot {
    bool used;
    uint64_t lo, hi;
};

struct ranges {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    struct slot *slots;
    size_t n;
};

int ranges_new(struct ranges **out)
{
    struct ranges *rs = calloc(1, sizeof(*rs));
    if (!rs)
        return -ENOMEM;
    pthread_mutex_init(&rs->lock, NULL);
    pthread_cond_init(&rs->freed, NULL);
    *out = rs;
    return 0;
}

void ranges_free(struct ranges *rs)
{
    if (!rs)
        return;
    pthread_cond_destroy(&rs->freed);
    pthread_mutex_destroy(&rs->lock);
    free(rs->slots);
    free(rs);
}

static bool overlaps(const struct ranges *rs, uint64_t lo, uint64_t hi)
{
    for (size_t i = 0; i < rs->n; i++)
        if (rs->slots[i].used && rs->slots[i].lo < hi && lo < rs->slots[i].hi)
            return true;
    return false;
}

static int free_slot(struct ranges *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        if (!rs->slots[i].used)
            return (int)i;
    if (rs->n >= 1u << 20)
        return -ENOMEM;
    size_t n = rs->n ? rs->n * 2 : 16;
    struct slot *s = realloc(rs->slots, n * sizeof(*s));
    if (!s)
        return -ENOMEM;
    for (size_t i = rs->n; i < n; i++)
        s[i].used = false;
    rs->slots = s;
    int i = (int)rs->n;
    rs->n = n;
    return i;
}

int ranges_take(struct ranges *rs, uint64_t lo, uint64_t hi)
{
    pthread_mutex_lock(&rs->lock);
    while (overlaps(rs, lo, hi))
        pthread_cond_wait(&rs->freed, &rs->lock);
    int i = free_slot(rs);
    if (i >= 0)
        rs->slots[i] = (struct slot){.used = true, .lo = lo, .hi = hi};
    pthread_mutex_unlock(&rs->lock);
    return i;
}

void ranges_put(struct ranges *rs, int handle)
{
    pthread_mutex_lock(&rs->lock);
    rs->slots[handle].used = false;
    pthread_cond_broadcast(&rs->freed);
    pthread_mutex_unlock(&rs->lock);
}
