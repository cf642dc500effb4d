/* Which guest thread is running: read from the guest kernel's task_struct
 * through the per-CPU current-task pointer, and remembered per vCPU (see
 * struct ident in vcpu.h). */
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "ident.h"
#include "nrset.h"
#include "vigil/syscalls.h"

static struct {
    struct vring_config cfg;
    /* One read covering pid, tgid, comm and real_parent. */
    uint32_t blk_off, blk_len;
    uint64_t epoch; /* see struct ident */
    int vforks;     /* vfork-like calls in flight */
    uint64_t slide; /* KASLR slide + 1; 0 while unknown */
    /* Calls that start a new identity epoch, by number: [0] 64-bit ABI,
     * [1] i386. */
    nrset new_epoch[2];
    nrset renames[2]; /* new epoch after success */
    int nr_vfork[2], nr_clone[2], nr_clone3[2];
} idents;

/* In user mode, and around the kernel's swapgs at either end of a call,
 * the kernel's GS base is the inactive one (k_gs_base); in the middle of
 * the kernel it is the active one. */
static uint64_t current_task(struct vcpu *v, bool in_kernel)
{
    uint64_t task = 0;
    uint64_t gs = reg(v, in_kernel ? R_GS : R_KGS);
    if (!mem(v, gs + idents.cfg.current_task_pcpu, &task, sizeof task))
        return 0;
    return task;
}

/* Fill *t from the task_struct; false if it does not look like a task. */
/* The KASLR slide, from the first user thread seen: every thread's line
 * of real parents ends at init_task (pid 0, its own parent), whose
 * link-time address the profile has. Learnt at the first system call of
 * any process, before any process can end (a kernel function hooked by
 * address, such as do_group_exit's, must be known before its code is
 * first translated). */
static void learn_slide(struct vcpu *v, uint64_t parent)
{
    const struct vring_config *c = &idents.cfg;
    for (int depth = 0; depth < 64 && parent >= KERNEL_BOTTOM; depth++) {
        int32_t pid = -1;
        uint64_t up = 0;
        if (!mem(v, parent + c->task_pid, &pid, 4) ||
            !mem(v, parent + c->task_real_parent, &up, 8))
            return;
        if (pid == 0) {
            /* KASLR moves the kernel image by whole pages, within 1 GiB. */
            uint64_t slide = parent - c->init_task;
            if (parent > c->init_task && (slide & (PAGE - 1)) == 0 &&
                slide < (1ull << 30))
                __atomic_store_n(&idents.slide, slide + 1, __ATOMIC_RELEASE);
            return;
        }
        parent = up;
    }
}

static bool read_task(struct vcpu *v, uint64_t task, struct vraw_task *t)
{
    uint8_t blk[1024];
    memset(t, 0, sizeof *t);
    t->task = task;
    if (task < KERNEL_BOTTOM ||
        !mem(v, task + idents.blk_off, blk, idents.blk_len))
        return false;
    const struct vring_config *c = &idents.cfg;
    uint64_t parent;
    memcpy(&t->tid, blk + c->task_pid - idents.blk_off, 4);
    memcpy(&t->tgid, blk + c->task_tgid - idents.blk_off, 4);
    memcpy(t->comm, blk + c->task_comm - idents.blk_off, sizeof t->comm);
    memcpy(&parent, blk + c->task_real_parent - idents.blk_off, 8);
    if (parent >= KERNEL_BOTTOM)
        mem(v, parent + c->task_tgid, &t->ppid, 4);
    if (c->init_task != 0 &&
        __atomic_load_n(&idents.slide, __ATOMIC_RELAXED) == 0)
        learn_slide(v, parent);
    /* A user thread has a positive id and a thread group whose leader's id
     * is not larger than its own. */
    return t->tid > 0 && t->tgid > 0 && t->tgid <= t->tid;
}

/* The running thread, from the cache or the guest kernel. Returns false
 * (with t->task set to what was read) when it does not look like a task. */
bool ident(struct vcpu *v, struct vraw_task *t)
{
    uint64_t cr3 = reg(v, R_CR3), fs = reg(v, R_FS);
    v->cr3 = cr3;
    uint64_t epoch = __atomic_load_n(&idents.epoch, __ATOMIC_ACQUIRE);
    struct ident *c =
        &v->ident[((cr3 >> 12) ^ (fs >> 4) ^ (fs >> 16)) & (IDENT_SLOTS - 1)];
    bool cacheable = __atomic_load_n(&idents.vforks, __ATOMIC_ACQUIRE) == 0;
    if (cacheable && c->t.task != 0 && c->cr3 == cr3 && c->fs == fs &&
        c->epoch == epoch) {
        *t = c->t;
        return true;
    }
    uint64_t task = current_task(v, false);
    if (!read_task(v, task, t))
        return false;
    if (cacheable) {
        c->cr3 = cr3;
        c->fs = fs;
        c->epoch = epoch;
        c->t = *t;
    }
    return true;
}

bool ident_kernel_slide(uint64_t *slide)
{
    uint64_t s = __atomic_load_n(&idents.slide, __ATOMIC_ACQUIRE);
    *slide = s - 1;
    return s != 0;
}

bool ident_in_kernel(struct vcpu *v, struct vraw_task *t)
{
    return read_task(v, current_task(v, true), t);
}

void ident_before_call(uint64_t nr, bool compat)
{
    if (nrset_has(idents.new_epoch[compat], nr))
        __atomic_fetch_add(&idents.epoch, 1, __ATOMIC_ACQ_REL);
}

void ident_untraced_call(uint64_t nr, bool compat)
{
    if (nrset_has(idents.new_epoch[compat], nr) ||
        nrset_has(idents.renames[compat], nr))
        __atomic_fetch_add(&idents.epoch, 1, __ATOMIC_ACQ_REL);
}

void ident_after_call(uint64_t nr, bool compat, int64_t ret)
{
    if (ret >= 0 && nrset_has(idents.renames[compat], nr))
        __atomic_fetch_add(&idents.epoch, 1, __ATOMIC_ACQ_REL);
}

/* Whether this call creates a child that shares our TLS and page tables
 * until it execs: vfork, or clone/clone3 with CLONE_VM but without
 * CLONE_THREAD. */
bool ident_vfork_like(struct vcpu *v, uint64_t nr, const uint64_t args[6],
                      bool compat)
{
    uint64_t flags;
    if ((int64_t)nr == idents.nr_vfork[compat])
        return true;
    if ((int64_t)nr == idents.nr_clone[compat])
        flags = args[0];
    else if ((int64_t)nr != idents.nr_clone3[compat] ||
             !mem(v, args[0], &flags, 8))
        return false;
    return (flags & CLONE_VFORK) ||
           ((flags & CLONE_VM) && !(flags & CLONE_THREAD));
}

void ident_vfork_begin(void)
{
    __atomic_fetch_add(&idents.vforks, 1, __ATOMIC_ACQ_REL);
}

void ident_vfork_end(void)
{
    __atomic_fetch_sub(&idents.vforks, 1, __ATOMIC_ACQ_REL);
}

int ident_setup(const struct vring_config *cfg, char *err, size_t errlen)
{
    idents.cfg = *cfg;
    const struct vring_config *c = &idents.cfg;
    uint32_t lo = c->task_pid, hi = c->task_pid + 4;
    uint32_t offs[][2] = {
        {c->task_tgid, 4}, {c->task_comm, 16}, {c->task_real_parent, 8}};
    for (size_t i = 0; i < 3; i++) {
        if (offs[i][0] < lo)
            lo = offs[i][0];
        if (offs[i][0] + offs[i][1] > hi)
            hi = offs[i][0] + offs[i][1];
    }
    if (c->current_task_pcpu == 0 || c->task_comm == 0 || hi - lo > 1024 ||
        c->str_max == 0 || c->str_max > 4096 || c->buf_max > 4096 ||
        c->argv_max > 8192) {
        snprintf(err, errlen, "unusable profile in the ring header");
        return -1;
    }
    idents.blk_off = lo;
    idents.blk_len = hi - lo;
    static const char *const epoch_calls[] = {
        "exit",  "exit_group", "execve", "execveat",
        "clone", "clone3",     "fork",   "vfork",
    };
    static const char *const rename_calls[] = {
        "prctl", "write", "pwrite64", "writev", "pwritev", "pwritev2",
    };
    for (int compat = 0; compat < 2; compat++) {
        for (size_t i = 0; i < sizeof epoch_calls / sizeof *epoch_calls; i++)
            nrset_add(idents.new_epoch[compat], epoch_calls[i], compat);
        for (size_t i = 0; i < sizeof rename_calls / sizeof *rename_calls; i++)
            nrset_add(idents.renames[compat], rename_calls[i], compat);
        idents.nr_vfork[compat] =
            compat ? vsys_number_compat("vfork") : vsys_number("vfork");
        idents.nr_clone[compat] =
            compat ? vsys_number_compat("clone") : vsys_number("clone");
        idents.nr_clone3[compat] =
            compat ? vsys_number_compat("clone3") : vsys_number("clone3");
    }
    return 0;
}
