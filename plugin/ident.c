/* Which guest thread is running: read from the guest kernel's task_struct
 * through the per-CPU current-task pointer, and remembered per vCPU (see
 * struct ident in vcpu.h). */
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "ident.h"
#include "nrset.h"
#include "vigil/syscalls.h"

/* KASLR moves the x86-64 kernel by a multiple of CONFIG_PHYSICAL_ALIGN,
 * which must be a multiple of 2 MiB on 64-bit, within 1 GiB. */
#define SLIDE_ALIGN (2ull << 20)
#define SLIDE_MAX   (1ull << 30)

static struct {
    struct vring_config cfg;
    /* One read covering pid, tgid, comm and real_parent. */
    uint32_t blk_off, blk_len;
    uint64_t epoch; /* see struct ident */
    uint64_t slide; /* KASLR slide + 1; 0 while unknown */
    /* Calls that start a new identity epoch, by number: [0] 64-bit ABI,
     * [1] i386. */
    nrset new_epoch[2];
    /* New epoch after success; empty when the kernel's rename hook
     * (ident_on_comm) is known. */
    nrset renames[2];
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

bool ident_kernel_fn_maybe(uint64_t fn, uint64_t vaddr)
{
    return fn != 0 && vaddr >= fn && vaddr - fn < SLIDE_MAX &&
           (vaddr - fn) % SLIDE_ALIGN == 0;
}

bool ident_kernel_fn_is(uint64_t fn, uint64_t vaddr)
{
    uint64_t slide = __atomic_load_n(&idents.slide, __ATOMIC_ACQUIRE);
    return slide != 0 && fn != 0 && vaddr == fn + slide - 1;
}

bool ident_switch_maybe(uint64_t vaddr)
{
    return ident_kernel_fn_maybe(idents.cfg.switch_fn, vaddr);
}

void ident_on_switch(struct vcpu *v, uint64_t vaddr)
{
    /* __switch_to(prev, next): the task about to run is in rsi. Before
     * the slide is known no candidate can be told from the real one, and
     * cur_task stays unknown (ident() then reads it). */
    if (ident_kernel_fn_is(idents.cfg.switch_fn, vaddr)) {
        v->cur_task = reg(v, R_RSI);
        v->cr3_own = false; /* a cr3 written so far was the switch's */
    }
}

void ident_on_cr3_write(struct vcpu *v)
{
    v->cr3_written = true;
    v->cr3_own = true;
}

/* The running thread, from the cache or the guest kernel. Returns false
 * (with t->task set to what was read) when it does not look like a task.
 * Keyed by the task_struct's address, which names one thread for as long as
 * it lives (an exit starts a new epoch before the address can be reused),
 * whatever the thread shares with others (a vfork child runs on its
 * parent's page tables and TLS; a clone without CLONE_SETTLS shares the
 * FS base). A cr3 written as part of a context switch (before
 * __switch_to) brings back a thread whose entry is checked against cr3; a
 * cr3 written by the running thread itself (an execve, including one the
 * kernel starts for a task it created, which reuses a freed task_struct
 * without any clone the epoch would count) makes the entry be read again:
 * the new page tables may have the address the old ones had. */
bool ident(struct vcpu *v, struct vraw_task *t)
{
    uint64_t task = v->cur_task;
    if (task == 0) {
        task = current_task(v, false);
        /* From now on the hook keeps it, if it can tell the real
         * __switch_to (a switch before this point was not seen, but it
         * happened before this read, which is current). */
        if (idents.cfg.switch_fn != 0 &&
            __atomic_load_n(&idents.slide, __ATOMIC_ACQUIRE) != 0)
            v->cur_task = task;
    }
    uint64_t epoch = __atomic_load_n(&idents.epoch, __ATOMIC_ACQUIRE);
    struct ident *c =
        &v->ident[((task >> 6) ^ (task >> 14)) & (IDENT_SLOTS - 1)];
    bool check = v->cr3_written, own = v->cr3_own;
    v->cr3_written = v->cr3_own = false;
    uint64_t cr3 = check ? reg(v, R_CR3) : 0;
    if (c->t.task == task && task != 0 && c->epoch == epoch && !own &&
        (!check || c->cr3 == cr3)) {
        *t = c->t;
        v->cr3 = c->cr3;
        v->cur = c;
        return true;
    }
    v->cr3 = check ? cr3 : reg(v, R_CR3);
    v->cur = NULL;
    if (!read_task(v, task, t)) {
        v->cur_task = 0; /* read it again next time */
        return false;
    }
    c->cr3 = v->cr3;
    c->epoch = epoch;
    c->mm = 0;
    c->t = *t;
    v->cur = c;
    return true;
}

bool ident_comm_maybe(uint64_t vaddr)
{
    return ident_kernel_fn_maybe(idents.cfg.comm_fn, vaddr);
}

/* perf_event_comm runs after the new name is copied into the task: a read
 * of any thread's entry from here on sees it, and one taken before is of
 * an older epoch. Before the slide is known a candidate cannot be told
 * from the real function, so each one starts an epoch (a re-read costs
 * little, and that is only during early boot). */
void ident_on_comm(uint64_t vaddr)
{
    if (__atomic_load_n(&idents.slide, __ATOMIC_ACQUIRE) == 0 ||
        ident_kernel_fn_is(idents.cfg.comm_fn, vaddr))
        __atomic_fetch_add(&idents.epoch, 1, __ATOMIC_ACQ_REL);
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
            if (c->comm_fn == 0)
                nrset_add(idents.renames[compat], rename_calls[i], compat);
    }
    return 0;
}
