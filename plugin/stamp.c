/* The TSC clock of stamp.h: calibration and anchors. */
#include "stamp.h"

#include <cpuid.h>
#include <time.h>

uint64_t stamp_rate;

/* The run's first anchor: every rate is measured from it, so the rate
 * gets more exact as the run goes on. */
static uint64_t tsc_start, ns_start;

/* A TSC reading and CLOCK_MONOTONIC taken together: the TSC halfway
 * through the clock read, retried if the thread was held up in between. */
static void pair(uint64_t *tsc, uint64_t *ns)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 4; i++) {
        uint64_t a = __rdtsc();
        uint64_t n = vigil_now_ns(CLOCK_MONOTONIC);
        uint64_t b = __rdtsc();
        if (b - a < best) {
            best = b - a;
            *tsc = a + (b - a) / 2;
            *ns = n;
        }
        if (best < 2000)
            break;
    }
}

static bool tsc_invariant(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0x80000000, &a, &b, &c, &d) || a < 0x80000007)
        return false;
    __get_cpuid(0x80000007, &a, &b, &c, &d);
    return d & (1u << 8);
}

static uint64_t rate_since_start(uint64_t tsc, uint64_t ns)
{
    if (tsc <= tsc_start || ns <= ns_start)
        return 0;
    return (uint64_t)(((unsigned __int128)(ns - ns_start) << 32) /
                      (tsc - tsc_start));
}

void stamp_init(void)
{
    if (!tsc_invariant())
        return;
    pair(&tsc_start, &ns_start);
    /* A first rate over 2 ms; each resync refines it. */
    struct timespec pause = {0, 2000000};
    nanosleep(&pause, NULL);
    uint64_t tsc, ns;
    pair(&tsc, &ns);
    __atomic_store_n(&stamp_rate, rate_since_start(tsc, ns), __ATOMIC_RELAXED);
}

uint64_t stamp_resync(struct stamp *s, uint64_t tsc)
{
    uint64_t ns;
    pair(&tsc, &ns);
    uint64_t rate = rate_since_start(tsc, ns);
    if (rate != 0)
        __atomic_store_n(&stamp_rate, rate, __ATOMIC_RELAXED);
    s->tsc0 = tsc;
    s->ns0 = ns;
    if (ns < s->last)
        ns = s->last;
    s->last = ns;
    return ns;
}
