/* Call injection (see inject.h).
 *
 * Counting follows strace: each thread counts each system call on its own,
 * from its first call after it was selected. Counters live in a fixed
 * table keyed by (thread id, call number) and remember the task_struct
 * they were made for, so that a new thread that inherits a dead one's id
 * starts from zero. Only the thread's own vCPU touches its counters.
 */
#include "inject.h"

#include <string.h>

#include "psel.h"

#define COUNTERS 16384 /* power of two */
#define PROBE    64

static struct {
    struct vact_config act;
    struct psel sel;
    struct {
        uint64_t key; /* tid << 32 | nr, + 1; 0: free */
        uint64_t task;
        uint32_t count;
    } ctr[COUNTERS];
    uint64_t uncounted;
} injects;

bool inject_setup(const struct vact_config *act)
{
    injects.act = *act;
    injects.act.nrules = injects.act.nrules > VACT_RULES_MAX
                             ? VACT_RULES_MAX
                             : injects.act.nrules;
    psel_init(&injects.sel, &injects.act.sel);
    return (injects.act.flags & VACT_INJECT) && injects.act.nrules > 0;
}

static unsigned mix(uint64_t k)
{
    return (unsigned)((k * 0x9e3779b97f4a7c15ull) >> 40);
}

/* This thread's count of call @nr, this call included; 0 when the table
 * has no room. */
static uint32_t bump(const struct vraw_task *t, uint64_t nr)
{
    uint64_t key = ((uint64_t)(uint32_t)t->tid << 32 | nr) + 1;
    for (unsigned i = 0, s = mix(key); i < PROBE; i++, s++) {
        __typeof__(&injects.ctr[0]) c = &injects.ctr[s & (COUNTERS - 1)];
        uint64_t k = __atomic_load_n(&c->key, __ATOMIC_ACQUIRE);
        if (k == 0) {
            if (!__atomic_compare_exchange_n(&c->key, &k, key, false,
                                             __ATOMIC_ACQ_REL,
                                             __ATOMIC_ACQUIRE))
                continue;
            c->task = t->task;
            c->count = 0;
        } else if (k != key) {
            continue;
        }
        if (c->task != t->task) { /* a new thread with a dead one's id */
            c->task = t->task;
            c->count = 0;
        }
        return ++c->count;
    }
    __atomic_fetch_add(&injects.uncounted, 1, __ATOMIC_RELAXED);
    return 0;
}

bool inject_decide(const struct vraw_task *t, uint64_t nr, int64_t *ret)
{
    if (nr > VSYS_NR_MAX || injects.act.rule_of[nr] == 0 ||
        injects.act.rule_of[nr] > injects.act.nrules || t->task == 0 ||
        !psel_thread(&injects.sel, t))
        return false;
    const struct vact_rule *r = &injects.act.rule[injects.act.rule_of[nr] - 1];
    uint32_t n = bump(t, nr);
    if (n == 0 || n < r->first || (r->last != 0 && n > r->last))
        return false;
    if (r->step == 0 ? n != r->first : (n - r->first) % r->step != 0)
        return false;
    *ret = r->ret;
    return true;
}

bool inject_exec_wanted(struct vcpu *v, uint64_t nr, const uint64_t args[6])
{
    return psel_exec_wanted(&injects.sel, v, nr, args);
}

void inject_exec_done(const struct vraw_task *t)
{
    psel_exec_done(&injects.sel, t->tgid);
}

uint64_t inject_uncounted(void)
{
    return __atomic_load_n(&injects.uncounted, __ATOMIC_RELAXED);
}
