/* Return addresses on a user stack (see stackwalk.h). */
#include "stackwalk.h"

#include <string.h>

#include "vigil/callinsn.h"
#include "vigil/ring.h"
#include "xlate.h"

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
    /* A "no" because the code before addr could not be read (a page not
     * present yet: a forked child's text until it runs it) holds only until
     * this vCPU's walk count reaches `until`; 0: a verdict from the code. */
    uint64_t until;
    bool call;
};
static struct verdict cache[VRING_MAX_VCPUS][CACHE_SETS][WAYS];
static uint64_t epoch = 1;
/* Walks an unreadable candidate's "no" is kept for: each probe of one is a
 * failed page-table walk, and a stack may hold many such words. */
#define UNSURE_WALKS 64

/* The last walk's stack words and verdicts, per vCPU: a thread calling in a
 * loop walks the same stack from the same address call after call, and
 * most of it (the outer frames) has not changed, so the verdicts of a run
 * of unchanged words are taken whole (one memcmp against the page just
 * read) instead of judged word by word. Only changed runs are copied in:
 * a walk updates the snapshot in place. */
#define WORDS (STACKWALK_BYTES / 8) /* 8 blocks of 64 */
struct snapshot {
    uint64_t cr3, sp, epoch; /* a verdict also depends on sp (STACK_NEAR) */
    unsigned nwords;         /* words [0, nwords) have verdicts in isret */
    /* Words whose "no" is for code not read, judged again once this
     * vCPU's walk count reaches `recheck` (UNSURE_WALKS after the last
     * time): until then an unchanged block keeps them as "no" without even
     * a verdict lookup each. */
    uint64_t unsure[WORDS / 64];
    uint64_t recheck;
    uint64_t walks; /* this vCPU's walks: the clock of the unsure verdicts */
    uint64_t words[WORDS];
    uint64_t isret[WORDS / 64];
};
static struct snapshot snaps[VRING_MAX_VCPUS];
/* A page's words once a probe is due: probes read guest memory through the
 * vCPU's scratch buffer, which holds the page just read. */
static uint64_t spill[VRING_MAX_VCPUS][WORDS];

void stackwalk_invalidate(void)
{
    __atomic_fetch_add(&epoch, 1, __ATOMIC_RELEASE);
}

/* Whether @w follows a call instruction: 1 or 0; -1 when the bytes before
 * it cannot be read now. */
static int probe(struct vcpu *v, uint64_t w)
{
    uint8_t b[8];
    /* The bytes before w may start on the page before w's: take what w's
     * own page has when that one cannot be read. */
    size_t n = sizeof b;
    if (!mem(v, w - n, b, n)) {
        n = w & (PAGE - 1);
        if (n == 0 || n > sizeof b || !mem(v, w - n, b, n))
            return -1;
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

/* One walk over the snapshot it updates. */
struct scan {
    struct snapshot *s;
    const uint64_t *src; /* the page read: word i at src[i - first] */
    unsigned first;
    bool spilled; /* src is spill[], no longer the scratch buffer */
    unsigned spill_from, spill_end; /* what is still to be judged of it */
    uint64_t walk; /* its number on this vCPU (snapshot.walks) */
    bool recheck;  /* the snapshot's unsure words are judged again */
    bool unsure;   /* an unsure word was judged */
    unsigned same; /* words [0, same) of s had verdicts before this walk */
    unsigned found, judged, probes;
    uint64_t epoch;
};

/* Before the first probe (a read through the vCPU's scratch buffer, which
 * holds the page read): the page's words still to be judged kept aside. */
static void spill_page(struct scan *sc, unsigned vcpu)
{
    if (sc->spilled)
        return;
    unsigned i = sc->spill_from;
    memcpy(spill[vcpu] + i, sc->src + (i - sc->first), (sc->spill_end - i) * 8);
    sc->src = spill[vcpu];
    sc->first = 0;
    sc->spilled = true;
}

/* Whether @w, a word of the walk @sc from @sp, is a return address.
 * *unsure is set when the answer is a "no" for code that could not be
 * read. */
static bool is_return_address(struct vcpu *v, unsigned vcpu, uint64_t sp,
                              uint64_t w, struct scan *sc, bool *unsure)
{
    uint64_t now = sc->epoch;
    if (w < PAGE || w >= USER_TOP ||
        (w > sp - STACK_NEAR && w < sp + STACK_NEAR))
        return false;
    struct verdict *set =
        cache[vcpu]
             [((w ^ v->cr3) * 0x9e3779b97f4a7c15ull) >> 57 & (CACHE_SETS - 1)];
    unsigned j = 0;
    while (j < WAYS &&
           !(set[j].epoch == now && set[j].addr == w && set[j].cr3 == v->cr3))
        j++;
    if (j < WAYS && (set[j].until == 0 || sc->walk < set[j].until)) {
        struct verdict hit = set[j];
        to_front(set, j, hit);
        *unsure |= hit.until != 0;
        return hit.call;
    }
    if (++sc->probes > MAX_PROBES)
        return false;
    spill_page(sc, vcpu);
    int call = probe(v, w);
    *unsure |= call < 0;
    to_front(set, j < WAYS ? j : WAYS - 1,
             (struct verdict){.cr3 = v->cr3,
                              .addr = w,
                              .epoch = now,
                              .until = call < 0 ? sc->walk + UNSURE_WALKS : 0,
                              .call = call == 1});
    return call == 1;
}

/* Words [i, lim) of one 64-word block of the page read, which ends at word
 * @end: the last walk's verdicts when unchanged, else judged one by one. */
static void judge_block(struct vcpu *v, unsigned vcpu, uint64_t sp,
                        struct scan *sc, unsigned i, unsigned lim, unsigned end,
                        unsigned k, uint64_t *out)
{
    struct snapshot *s = sc->s;
    unsigned b = i / 64, lo = i % 64, hi = lim - b * 64;
    sc->spill_from = i;
    sc->spill_end = end;
    uint64_t m = ~0ull >> lo << lo;
    if (hi < 64)
        m &= (1ull << hi) - 1;
    if (lim <= sc->same &&
        !memcmp(sc->src + (i - sc->first), s->words + i, (lim - i) * 8)) {
        for (uint64_t u = sc->recheck ? s->unsure[b] & m : 0; u != 0;
             u &= u - 1) {
            unsigned j = (unsigned)__builtin_ctzll(u);
            bool unsure = false;
            uint64_t bit = 1ull << j;
            if (is_return_address(v, vcpu, sp, s->words[b * 64 + j], sc,
                                  &unsure))
                s->isret[b] |= bit;
            if (!unsure)
                s->unsure[b] &= ~bit;
            sc->unsure |= unsure;
        }
        sc->judged = lim;
        for (m &= s->isret[b]; m != 0 && sc->found < k; m &= m - 1) {
            unsigned j = (unsigned)__builtin_ctzll(m);
            out[sc->found++] = s->words[b * 64 + j];
            if (sc->found == k)
                sc->judged = b * 64 + j + 1;
        }
        return;
    }
    memcpy(s->words + i, sc->src + (i - sc->first), (lim - i) * 8);
    s->isret[b] &= ~m;
    s->unsure[b] &= ~m;
    for (; i < lim && sc->found < k; i++) {
        uint64_t w = s->words[i], bit = 1ull << (i % 64);
        bool unsure = false;
        if (is_return_address(v, vcpu, sp, w, sc, &unsure)) {
            s->isret[b] |= bit;
            out[sc->found++] = w;
        }
        if (unsure)
            s->unsure[b] |= bit;
        sc->unsure |= unsure;
        sc->judged = i + 1;
    }
}

unsigned stackwalk(struct vcpu *v, unsigned vcpu, uint64_t sp, unsigned k,
                   uint64_t *out, bool *trunc)
{
    *trunc = false;
    uint64_t start = (sp + 7) & ~7ull, end = start + STACKWALK_BYTES;
    if (sp == 0 || sp >= USER_TOP || end > USER_TOP) {
        *trunc = sp != 0;
        return 0;
    }
    struct snapshot *s = &snaps[vcpu];
    struct scan sc = {.s = s,
                      .walk = ++s->walks,
                      .epoch = __atomic_load_n(&epoch, __ATOMIC_ACQUIRE)};
    if (s->cr3 == v->cr3 && s->sp == sp && s->epoch == sc.epoch)
        sc.same = s->nwords;
    sc.recheck = sc.walk >= s->recheck;
    unsigned n = 0; /* words read */
    for (uint64_t at = start; at < end && sc.found < k;) {
        /* One read per page: a page that cannot be read ends the walk. */
        uint64_t chunk = PAGE - (at & (PAGE - 1));
        if (chunk > end - at)
            chunk = end - at;
        const uint64_t *page = xlate_peek(v, vcpu, at, chunk);
        if (page == NULL) {
            *trunc = true;
            break;
        }
        sc.src = page;
        sc.first = n;
        sc.spilled = false;
        unsigned lim = n + (unsigned)(chunk / 8);
        for (unsigned i = n; i < lim && sc.found < k;) {
            unsigned next = (i / 64 + 1) * 64 < lim ? (i / 64 + 1) * 64 : lim;
            judge_block(v, vcpu, sp, &sc, i, next, lim, k, out);
            i = next;
        }
        n = lim;
        at += chunk;
    }
    s->cr3 = v->cr3;
    s->sp = sp;
    s->epoch = sc.epoch;
    /* Unsure words of unchanged blocks are not looked at again (not even in
     * the verdict cache) for as long as their verdicts hold there. */
    if (sc.unsure && sc.recheck)
        s->recheck = sc.walk + UNSURE_WALKS;
    /* Verdicts cut short by the probe budget are not kept. */
    s->nwords = sc.probes <= MAX_PROBES ? sc.judged : 0;
    return sc.found;
}
