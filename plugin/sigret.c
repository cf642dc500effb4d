/* Results at signal delivery (see sigret.h). */
#include "sigret.h"

#include "ident.h"

static struct {
    uint64_t fn; /* link-time address; 0: no hook */
    uint16_t ax;
    int recorded; /* slots in use, so that returns can skip the scan */
    /* One per vCPU: the thread leaves the kernel on the vCPU it entered
     * the delivery function on, unless a stop in between moved it. */
    struct {
        uint64_t task;
        int32_t tid;
        int64_t raw;
    } _Alignas(64) slot[VRING_MAX_VCPUS];
} sigrets;

void sigret_setup(const struct vring_config *cfg)
{
    sigrets.fn = cfg->signal_fn;
    sigrets.ax = cfg->regs_ax;
}

uint64_t sigret_hook_addr(void)
{
    uint64_t slide;
    return sigrets.fn != 0 && ident_kernel_slide(&slide) ? sigrets.fn + slide
                                                         : 0;
}

void sigret_on_hook(struct vcpu *v, unsigned vcpu)
{
    /* Every way back counts, not only those with orig_ax >= 0: a
     * signal's handler returns through rt_sigreturn, which clears orig_ax,
     * and its result (the interrupted context's rax) is still what strace
     * shows. On an interrupt's way back nothing takes the value. */
    uint64_t regs = reg(v, R_RDI), ax;
    if (vcpu >= VRING_MAX_VCPUS || regs < KERNEL_BOTTOM ||
        !mem(v, regs + sigrets.ax, &ax, 8))
        return;
    struct vraw_task t;
    if (!ident_in_kernel(v, &t))
        return;
    /* The delivery function runs once per signal: the first time sees
     * the call's own result, later times what the first made of it. */
    if (sigrets.slot[vcpu].task == t.task && sigrets.slot[vcpu].tid == t.tid)
        return;
    if (sigrets.slot[vcpu].task == 0)
        __atomic_fetch_add(&sigrets.recorded, 1, __ATOMIC_ACQ_REL);
    sigrets.slot[vcpu].tid = t.tid;
    sigrets.slot[vcpu].raw = (int64_t)ax;
    __atomic_store_n(&sigrets.slot[vcpu].task, t.task, __ATOMIC_RELEASE);
}

static bool take(unsigned i, const struct vraw_task *t, int64_t *raw)
{
    uint64_t task = t->task;
    if (__atomic_load_n(&sigrets.slot[i].task, __ATOMIC_ACQUIRE) != task ||
        sigrets.slot[i].tid != t->tid)
        return false;
    int64_t r = sigrets.slot[i].raw;
    if (!__atomic_compare_exchange_n(&sigrets.slot[i].task, &task, 0, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        return false;
    __atomic_fetch_sub(&sigrets.recorded, 1, __ATOMIC_ACQ_REL);
    *raw = r;
    return true;
}

bool sigret_take(unsigned vcpu, unsigned nvcpus, const struct vraw_task *t,
                 int64_t *raw)
{
    if (__atomic_load_n(&sigrets.recorded, __ATOMIC_ACQUIRE) == 0)
        return false;
    if (take(vcpu, t, raw))
        return true;
    for (unsigned i = 0; i < nvcpus && i < VRING_MAX_VCPUS; i++)
        if (i != vcpu && take(i, t, raw))
            return true;
    return false;
}
