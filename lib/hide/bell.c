/* Futex wake-ups across the channel file's mapping (see bell.h). The
 * mapping is shared between QEMU and vigil, so the futexes are the shared
 * kind (no FUTEX_PRIVATE_FLAG).
 *
 * Each side announces that it sleeps (exec_sleeping, waiter) before it
 * looks once more and sleeps, and the other side stores its news before it
 * reads the announcement, both sequentially consistent: either the sleeper
 * sees the news, or the other side sees the announcement and wakes it. A
 * futex wait also returns at once when its word already changed. */
#include "hide/bell.h"

#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "vigil/clock.h"

static void futex_wait(uint32_t *word, uint32_t val, uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    /* EINTR, EAGAIN, ETIMEDOUT: the callers look again either way. */
    (void)syscall(SYS_futex, word, FUTEX_WAIT, val, &ts, NULL, 0);
}

static void futex_wake(uint32_t *word)
{
    (void)syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

void hbell_ring(struct vhide_area *a)
{
    __atomic_add_fetch(&a->bell, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&a->exec_sleeping, __ATOMIC_SEQ_CST))
        futex_wake(&a->bell);
}

void hbell_sleep(struct vhide_area *a, uint64_t timeout_ns,
                 bool (*posted)(void *), void *ctx)
{
    uint32_t bell = __atomic_load_n(&a->bell, __ATOMIC_SEQ_CST);
    __atomic_store_n(&a->exec_sleeping, 1, __ATOMIC_SEQ_CST);
    if (!posted(ctx))
        futex_wait(&a->bell, bell, timeout_ns);
    __atomic_store_n(&a->exec_sleeping, 0, __ATOMIC_SEQ_CST);
}

void hbell_done(struct vhide_slot *s)
{
    s->done_ns = vigil_now_ns(CLOCK_MONOTONIC);
    __atomic_store_n(&s->state, VHIDE_DONE, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&s->waiter, __ATOMIC_SEQ_CST))
        futex_wake(&s->state);
}

void hbell_blocked(struct vhide_slot *s)
{
    __atomic_store_n(&s->blocked, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&s->waiter, __ATOMIC_SEQ_CST))
        futex_wake(&s->state);
}

bool hbell_wait(struct vhide_slot *s, uint64_t until_ns,
                uint64_t blocked_until_ns)
{
    for (;;) {
        if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != VHIDE_POSTED)
            return true;
        uint64_t now = vigil_now_ns(CLOCK_MONOTONIC);
        if (__atomic_load_n(&s->blocked, __ATOMIC_ACQUIRE) &&
            blocked_until_ns < until_ns)
            until_ns = blocked_until_ns;
        if (now >= until_ns)
            return false;
        __atomic_store_n(&s->waiter, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&s->state, __ATOMIC_SEQ_CST) == VHIDE_POSTED)
            futex_wait(&s->state, VHIDE_POSTED, until_ns - now);
        __atomic_store_n(&s->waiter, 0, __ATOMIC_RELAXED);
    }
}
