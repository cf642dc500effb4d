/* Record timestamps on CLOCK_MONOTONIC's scale, from the TSC.
 *
 * Every traced call takes two timestamps, and clock_gettime through the
 * vDSO costs 50-60 ns on a guest host with kvm-clock: about a third of the
 * plugin's whole work per call (docs/runtime.md). Reading the TSC costs
 * 10-20 ns. Each vCPU keeps an anchor, a (TSC, CLOCK_MONOTONIC) pair read
 * together, and extrapolates from it with a rate measured from the start
 * of the run; it takes a fresh anchor every STAMP_RESYNC ticks (about a
 * millisecond), so stamps stay within a fraction of a microsecond of
 * CLOCK_MONOTONIC, which the consumer and the disk side share. Without an
 * invariant TSC, every stamp is clock_gettime. */
#ifndef VIGIL_PLUGIN_STAMP_H
#define VIGIL_PLUGIN_STAMP_H

#include <stdbool.h>
#include <stdint.h>
#include <x86intrin.h>

#include "vigil/clock.h"

#define STAMP_RESYNC (1ull << 22)

/* One vCPU's clock; only that vCPU's thread touches it. */
struct stamp {
    uint64_t tsc0, ns0; /* the anchor */
    uint64_t last;      /* the last stamp given: a vCPU's never go back */
};

/* Rate in nanoseconds per tick, 32.32 fixed point; 0: the TSC is not used. */
extern uint64_t stamp_rate;

/* At plugin start: measures the rate if the TSC is invariant. */
void stamp_init(void);

uint64_t stamp_resync(struct stamp *s, uint64_t tsc);

static inline uint64_t stamp_now(struct stamp *s)
{
    uint64_t rate = __atomic_load_n(&stamp_rate, __ATOMIC_RELAXED);
    if (rate == 0)
        return vigil_now_ns(CLOCK_MONOTONIC);
    uint64_t tsc = __rdtsc();
    uint64_t d = tsc - s->tsc0; /* a TSC behind the anchor wraps: resync */
    if (d >= STAMP_RESYNC)
        return stamp_resync(s, tsc);
    uint64_t ns = s->ns0 + (uint64_t)(((unsigned __int128)d * rate) >> 32);
    if (ns < s->last)
        ns = s->last;
    s->last = ns;
    return ns;
}

#endif
