/* The filter's ranges in flight (nbd/ranges.c): four threads take random
 * overlapping ranges of a small disk; while a thread holds a range no other
 * thread holds any byte of it (each byte's holder count is checked), and
 * every take returns, so ranges far apart do not wait for each other
 * forever. */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../nbd/ranges.c"
#include "check.h"

#define UNITS   64
#define THREADS 4
#define ROUNDS  20000

static struct ranges *rs;
static int holders[UNITS];
static int clashes;

static void *run(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    for (int i = 0; i < ROUNDS; i++) {
        unsigned lo = (unsigned)rand_r(&seed) % UNITS;
        unsigned hi = lo + 1 + (unsigned)rand_r(&seed) % 8;
        if (hi > UNITS)
            hi = UNITS;
        int h = ranges_take(rs, lo, hi);
        if (h < 0)
            abort();
        for (unsigned u = lo; u < hi; u++)
            if (__atomic_fetch_add(&holders[u], 1, __ATOMIC_SEQ_CST) != 0)
                __atomic_fetch_add(&clashes, 1, __ATOMIC_SEQ_CST);
        sched_yield(); /* hold it a while: let the others try */
        for (unsigned u = lo; u < hi; u++)
            __atomic_fetch_sub(&holders[u], 1, __ATOMIC_SEQ_CST);
        ranges_put(rs, h);
    }
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    CHECK(ranges_new(&rs) == 0, "ranges_new");
    for (uintptr_t i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, run, (void *)(i + 1));
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    CHECK(clashes == 0, "no byte held by two requests at once (%d clashes)",
          clashes);
    int left = 0;
    for (size_t i = 0; i < rs->n; i++)
        left += rs->slots[i].used;
    CHECK(left == 0, "every range given back (%d left)", left);
    ranges_free(rs);
    return failures != 0;
}
