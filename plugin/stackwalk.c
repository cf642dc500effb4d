/* Return addresses on a user stack (see stackwalk.h). */
#include "stackwalk.h"

#include "vigil/callinsn.h"
#include "vigil/ring.h"

/* Candidates checked per walk, each a guest memory read: a bound on the
 * cost of a stack full of pointers. */
#define MAX_PROBES 128
/* Words pointing this close to the stack pointer point into the stack
 * itself, never at code. */
#define STACK_NEAR (1ull << 20)

/* Verdicts of earlier probes, per vCPU: each probe is a page-table walk
 * and a read of guest memory, and the same return addresses come back call
 * after call. Keyed by address space (CR3) and address; every entry goes
 * stale when a call that can change code or mappings runs anywhere
 * (stackwalk_invalidate()). Code rewritten in place by plain stores (a
 * JIT) can keep a stale verdict until then: a frame too many or too few.
 * Sets of WAYS entries, the most recently used first: a direct-mapped
 * table let two words of one stack that hash alike evict each other at
 * every call (bench/trace's workload, in some boots, probed 2.6 times a
 * call instead of never). */
#define CACHE_SETS 128 /* power of two */
#define WAYS       4
struct verdict {
    uint64_t cr3, addr, epoch; /* epoch 0: empty */
    bool call;
};
static struct verdict cache[VRING_MAX_VCPUS][CACHE_SETS][WAYS];
static uint64_t epoch = 1;

void stackwalk_invalidate(void)
{
    __atomic_fetch_add(&epoch, 1, __ATOMIC_RELEASE);
}

static bool probe(struct vcpu *v, uint64_t w)
{
    uint8_t b[8];
    /* The bytes before w may start on the page before w's: take what w's
     * own page has when that one cannot be read. */
    size_t n = sizeof b;
    if (!mem(v, w - n, b, n)) {
        n = w & (PAGE - 1);
        if (n == 0 || n > sizeof b || !mem(v, w - n, b, n))
            return false;
    }
    return vigil_after_call(b, n);
}

/* Put @e first in its set, the others moving down (the last one out). */
static void to_front(struct verdict *set, unsigned j, struct verdict e)
{
    for (; j > 0; j--)
        set[j] = set[j - 1];
    set[0] = e;
}

static bool is_return_address(struct vcpu *v, unsigned vcpu, uint64_t sp,
                              uint64_t w, unsigned *probes)
{
    if (w < PAGE || w >= USER_TOP ||
        (w > sp - STACK_NEAR && w < sp + STACK_NEAR))
        return false;
    uint64_t now = __atomic_load_n(&epoch, __ATOMIC_ACQUIRE);
    struct verdict *set = NULL;
    if (vcpu < VRING_MAX_VCPUS) {
        set = cache[vcpu][((w ^ v->cr3) * 0x9e3779b97f4a7c15ull) >> 57 &
                          (CACHE_SETS - 1)];
        for (unsigned j = 0; j < WAYS; j++)
            if (set[j].epoch == now && set[j].addr == w &&
                set[j].cr3 == v->cr3) {
                struct verdict hit = set[j];
                to_front(set, j, hit);
                return hit.call;
            }
    }
    if (++*probes > MAX_PROBES)
        return false;
    bool call = probe(v, w);
    if (set != NULL)
        to_front(set, WAYS - 1,
                 (struct verdict){
                     .cr3 = v->cr3, .addr = w, .epoch = now, .call = call});
    return call;
}

unsigned stackwalk(struct vcpu *v, unsigned vcpu, uint64_t sp, unsigned k,
                   uint64_t *out, bool *trunc)
{
    uint64_t words[PAGE / 8];
    unsigned found = 0, probes = 0;
    *trunc = false;
    uint64_t at = (sp + 7) & ~7ull, end = at + STACKWALK_BYTES;
    if (sp == 0 || sp >= USER_TOP || end > USER_TOP) {
        *trunc = sp != 0;
        return 0;
    }
    while (at < end && found < k) {
        /* One read per page: a page that cannot be read ends the walk. */
        uint64_t chunk = PAGE - (at & (PAGE - 1));
        if (chunk > end - at)
            chunk = end - at;
        if (!mem(v, at, words, chunk)) {
            *trunc = true;
            break;
        }
        for (size_t i = 0; i < chunk / 8 && found < k; i++)
            if (is_return_address(v, vcpu, sp, words[i], &probes))
                out[found++] = words[i];
        at += chunk;
    }
    return found;
}
