/* The plugin's table of calls in flight (plugin/pending.c), under the race
 * it exists for: threads enter calls on one vCPU and return on another.
 * Thread "vCPU 0" enters calls for a stream of tasks, each entry displacing
 * the previous one from its slot into the shared table; thread "vCPU 1"
 * returns each task's call. Every call must come back exactly once, with
 * its own arguments; a task with no call in flight finds nothing. */
#undef NDEBUG
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../plugin/pending.c"
#include "check.h"

#define CALLS 200000
#define BASE  0xffff888000000000ull

static uint64_t handed; /* calls vCPU 0 has entered, published to vCPU 1 */
static uint64_t taken;  /* calls vCPU 1 has returned */

static uint64_t task_of(uint64_t i)
{
    return BASE + (i % 4096) * 0x2600; /* task_structs get reused */
}

static void *vcpu0(void *arg)
{
    (void)arg;
    for (uint64_t i = 0; i < CALLS; i++) {
        /* A task's next call only after its previous one returned. */
        while (i >= 4096 &&
               __atomic_load_n(&taken, __ATOMIC_ACQUIRE) <= i - 4096)
            ;
        struct pending_call c = {.task = task_of(i),
                                 .tid = (int32_t)i,
                                 .nr = i % 400,
                                 .args = {i, i * 3, 0, 0, 0, 0}};
        while (!pending_put(0, &c))
            ;
        __atomic_store_n(&handed, i + 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, vcpu0, NULL);
    uint64_t bad = 0, lost = 0;
    for (uint64_t i = 0; i < CALLS; i++) {
        while (__atomic_load_n(&handed, __ATOMIC_ACQUIRE) <= i)
            ;
        struct pending_call p;
        if (!pending_take(1, 2, task_of(i), &p)) {
            lost++;
            __atomic_store_n(&taken, i + 1, __ATOMIC_RELEASE);
            continue;
        }
        if (p.nr != i % 400 || p.tid != (int32_t)i || p.args[0] != i ||
            p.args[1] != i * 3)
            bad++;
        __atomic_store_n(&taken, i + 1, __ATOMIC_RELEASE);
    }
    pthread_join(t, NULL);
    struct pending_call p;
    int phantom = pending_take(1, 2, BASE + 7, &p);
    CHECK(!lost && !bad,
          "%d calls entered on vCPU 0 returned on vCPU 1 (%lu lost, %lu wrong)",
          CALLS, (unsigned long)lost, (unsigned long)bad);
    CHECK(!phantom, "a task with no call in flight finds none");
    return failures != 0;
}
