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

#include "vigil/consumer.h"

#define COUNTERS 16384 /* power of two */
#define CHOSEN   4096  /* power of two: selected processes */
#define PROBE    64

static struct {
    struct vact_config act;
    int nr_execve;
    size_t name_len;
    struct {
        uint64_t key; /* tid << 32 | nr, + 1; 0: free */
        uint64_t task;
        uint32_t count;
    } ctr[COUNTERS];
    int32_t chosen[CHOSEN]; /* thread group ids; 0: free */
    uint64_t uncounted;
} J;

bool inject_setup(const struct vact_config *act)
{
    J.act = *act;
    J.act.nrules =
        J.act.nrules > VACT_RULES_MAX ? VACT_RULES_MAX : J.act.nrules;
    J.act.sel.name[sizeof J.act.sel.name - 1] = '\0';
    J.name_len = strlen(J.act.sel.name);
    J.nr_execve = vsys_number("execve");
    return (J.act.flags & VACT_INJECT) && J.act.nrules > 0;
}

static unsigned mix(uint64_t k)
{
    return (unsigned)((k * 0x9e3779b97f4a7c15ull) >> 40);
}

static bool chosen_has(int32_t tgid)
{
    if (tgid <= 0)
        return false;
    for (unsigned i = 0, s = mix((uint64_t)tgid); i < PROBE; i++, s++) {
        int32_t v =
            __atomic_load_n(&J.chosen[s & (CHOSEN - 1)], __ATOMIC_ACQUIRE);
        if (v == tgid)
            return true;
        if (v == 0)
            return false;
    }
    return false;
}

static void chosen_add(int32_t tgid)
{
    if (tgid <= 0)
        return;
    for (unsigned i = 0, s = mix((uint64_t)tgid); i < PROBE; i++, s++) {
        int32_t *slot = &J.chosen[s & (CHOSEN - 1)];
        int32_t v = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
        if (v == tgid)
            return;
        if (v == 0 &&
            __atomic_compare_exchange_n(slot, &v, tgid, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            return;
        if (v == tgid)
            return;
    }
}

static bool selected(const struct vraw_task *t)
{
    char comm[sizeof t->comm + 1];
    memcpy(comm, t->comm, sizeof t->comm);
    comm[sizeof t->comm] = '\0';
    bool add;
    bool yes =
        vigil_select_event(&J.act.sel, t->tgid, comm, false,
                           chosen_has(t->tgid), chosen_has(t->ppid), &add);
    if (add)
        chosen_add(t->tgid);
    return yes;
}

/* This thread's count of call @nr, this call included; 0 when the table
 * has no room. */
static uint32_t bump(const struct vraw_task *t, uint64_t nr)
{
    uint64_t key = ((uint64_t)(uint32_t)t->tid << 32 | nr) + 1;
    for (unsigned i = 0, s = mix(key); i < PROBE; i++, s++) {
        __typeof__(&J.ctr[0]) c = &J.ctr[s & (COUNTERS - 1)];
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
    __atomic_fetch_add(&J.uncounted, 1, __ATOMIC_RELAXED);
    return 0;
}

bool inject_decide(const struct vraw_task *t, uint64_t nr, int64_t *ret)
{
    if (nr > VSYS_NR_MAX || J.act.rule_of[nr] == 0 ||
        J.act.rule_of[nr] > J.act.nrules || t->task == 0 || !selected(t))
        return false;
    const struct vact_rule *r = &J.act.rule[J.act.rule_of[nr] - 1];
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
    if (J.act.sel.kind != VIGIL_SEL_EXE || (int64_t)nr != J.nr_execve)
        return false;
    char path[sizeof J.act.sel.name];
    size_t n = J.name_len + 1;
    return n <= sizeof path && mem(v, args[0], path, n) &&
           !memcmp(path, J.act.sel.name, n);
}

void inject_exec_done(const struct vraw_task *t)
{
    chosen_add(t->tgid);
}

uint64_t inject_uncounted(void)
{
    return __atomic_load_n(&J.uncounted, __ATOMIC_RELAXED);
}
