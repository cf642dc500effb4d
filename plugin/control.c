/* The active-control layer (see control.h).
 *
 * Fault-ins and parks are detours through the guest kernel. The thread's
 * registers become a system call (madvise(start, len, MADV_POPULATE_WRITE),
 * the call the kernel offers for exactly this: fault pages in as a write
 * would, allocating, breaking copy-on-write, leaving the zero page; or
 * poll(NULL, 0, 1), a short wait that touches no memory), and the thread
 * enters the kernel from a syscall instruction of its own address space:
 * the instruction being handled when it is one, else the last one the
 * thread's address space was seen using (any two bytes 0f 05 in an
 * executable user page do). At the return to user mode the borrowed
 * registers are restored and the thread sent on: after the instruction
 * with the result for a fault-in, onto the instruction again for a park.
 *
 * Between setting the PC to a borrowed syscall instruction and executing
 * it, the thread may be interrupted, rescheduled elsewhere, or sent into a
 * signal handler that makes calls of its own, even from that same
 * instruction; the detour is therefore kept per thread in a table, ARMED
 * until the thread enters the kernel from that instruction with the
 * detour's registers, IN_FLIGHT until it returns. A thread that never comes
 * back to it (a handler that rewrote its saved registers or left by
 * siglongjmp) holds its entry until the table needs the room. On
 * the way back the kernel may deliver a signal instead: the thread's
 * context, which the detour must fix, is then the one saved in the signal
 * frame (sigframe.h).
 */
#include "control.h"

#include <errno.h>
#include <string.h>

#include "guestmem.h"
#include "sigframe.h"

#define NR_POLL              7
#define NR_MADVISE           28
#define NR_RESTART_SYSCALL   219
#define MADV_POPULATE_READ_  22
#define MADV_POPULATE_WRITE_ 23
#define PARK_MS              1   /* one wait in the guest kernel */
#define DETOURS              256 /* power of two */
#define SITES                256 /* power of two */

/* BETWEEN: a park's wait is over and the thread is back in user mode,
 * on its way to the instruction; a signal delivered there interrupts the
 * wait as much as one delivered during it. */
enum { FREE = 0, CLAIMING, ARMED, IN_FLIGHT, BETWEEN };

struct detour {
    int state;
    uint64_t task;
    int32_t tid;
    uint64_t gadget;          /* the syscall instruction entered from */
    uint64_t resume;          /* where the thread goes on afterwards */
    uint64_t nr, a[4];        /* the call the detour makes */
    uint64_t saved[5];        /* rax rdi rsi rdx r10, which the call took */
    control_finish_fn finish; /* NULL: a park, the instruction runs again */
    control_done_fn done;     /* a park's call made for a result */
    control_signal_fn signal; /* a park's wait ended by a handler */
    bool prefault;            /* the instruction runs again either way; a
                                 refusal is kept for control_refused() */
    uint64_t arg[4];
    uint64_t seq; /* age: the oldest ARMED one goes when the table is full */
};

static struct {
    struct detour d[DETOURS];
    int live; /* ARMED + IN_FLIGHT */
    uint64_t seq;
    struct {
        uint64_t cr3, ip;
    } site[SITES];
    struct control_stats st;
    struct {
        uint64_t task, ip;
        int32_t tid;
    } refused[DETOURS]; /* prefaults the kernel refused, per thread */
} ctl;

static void refusal(const struct detour *d)
{
    unsigned i = (unsigned)((d->task >> 6) ^ (uint64_t)d->tid) & (DETOURS - 1);
    ctl.refused[i].task = d->task;
    ctl.refused[i].tid = d->tid;
    ctl.refused[i].ip = d->resume;
}

bool control_refused(const struct vraw_task *t, uint64_t ip)
{
    unsigned i = (unsigned)((t->task >> 6) ^ (uint64_t)t->tid) & (DETOURS - 1);
    if (ctl.refused[i].task != t->task || ctl.refused[i].tid != t->tid ||
        ctl.refused[i].ip != ip)
        return false;
    ctl.refused[i].task = 0;
    return true;
}

static void count(uint64_t *c)
{
    __atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

void control_stats(struct control_stats *out)
{
    out->skipped = __atomic_load_n(&ctl.st.skipped, __ATOMIC_RELAXED);
    out->faulted_in = __atomic_load_n(&ctl.st.faulted_in, __ATOMIC_RELAXED);
    out->fault_in_failed =
        __atomic_load_n(&ctl.st.fault_in_failed, __ATOMIC_RELAXED);
    out->via_signal = __atomic_load_n(&ctl.st.via_signal, __ATOMIC_RELAXED);
    out->parked = __atomic_load_n(&ctl.st.parked, __ATOMIC_RELAXED);
    out->lost = __atomic_load_n(&ctl.st.lost, __ATOMIC_RELAXED);
}

_Noreturn void control_skip(struct vcpu *v, uint64_t ip, unsigned len,
                            int64_t result)
{
    /* What the syscall instruction and sysret leave: rcx the address after
     * the instruction, r11 the flags. */
    set_reg(v, R_RAX, (uint64_t)result);
    set_reg(v, R_RCX, ip + len);
    set_reg(v, R_R11, reg(v, R_EFLAGS));
    count(&ctl.st.skipped);
    qemu_plugin_set_pc(ip + len);
}

static unsigned site_slot(uint64_t cr3)
{
    return (unsigned)((cr3 >> 12) * 0x9e3779b97f4a7c15ull >> 56) & (SITES - 1);
}

void control_note_site(uint64_t cr3, uint64_t ip)
{
    /* Written only when it changes; a torn pair is harmless, because a
     * site is checked in the address space it is used in. */
    unsigned s = site_slot(cr3);
    if (__atomic_load_n(&ctl.site[s].ip, __ATOMIC_RELAXED) != ip ||
        __atomic_load_n(&ctl.site[s].cr3, __ATOMIC_RELAXED) != cr3) {
        __atomic_store_n(&ctl.site[s].cr3, cr3, __ATOMIC_RELAXED);
        __atomic_store_n(&ctl.site[s].ip, ip, __ATOMIC_RELAXED);
    }
}

/* A syscall instruction the current thread can execute, or 0. */
static uint64_t gadget(struct vcpu *v)
{
    uint64_t cr3 = reg(v, R_CR3);
    unsigned s = site_slot(cr3);
    uint64_t ip = __atomic_load_n(&ctl.site[s].ip, __ATOMIC_RELAXED);
    uint8_t b[2];
    if (ip == 0 || !gm_read_exec(v, ip, b) || b[0] != 0x0f || b[1] != 0x05)
        return 0;
    return ip;
}

bool control_busy(void)
{
    return __atomic_load_n(&ctl.live, __ATOMIC_ACQUIRE) != 0;
}

/* A free slot, claimed (state CLAIMING), or the oldest ARMED one. */
static struct detour *claim(void)
{
    for (int pass = 0; pass < 2; pass++) {
        struct detour *oldest = NULL;
        for (unsigned i = 0; i < DETOURS; i++) {
            struct detour *d = &ctl.d[i];
            int st = __atomic_load_n(&d->state, __ATOMIC_ACQUIRE);
            if (st == FREE && __atomic_compare_exchange_n(
                                  &d->state, &st, CLAIMING, false,
                                  __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
                __atomic_fetch_add(&ctl.live, 1, __ATOMIC_ACQ_REL);
                return d;
            }
            if ((st == ARMED || st == BETWEEN) &&
                (oldest == NULL || d->seq < oldest->seq))
                oldest = d;
        }
        /* Full: a thread that has not reached its syscall instruction for
         * longest (stopped, or it left by siglongjmp) loses its detour. */
        int armed = oldest != NULL ? oldest->state : ARMED;
        if (oldest != NULL && (armed == ARMED || armed == BETWEEN) &&
            __atomic_compare_exchange_n(&oldest->state, &armed, CLAIMING, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
            count(&ctl.st.lost);
            return oldest; /* stays counted in `live` */
        }
    }
    return NULL;
}

static void release(struct detour *d)
{
    __atomic_store_n(&d->state, FREE, __ATOMIC_RELEASE);
    __atomic_fetch_sub(&ctl.live, 1, __ATOMIC_ACQ_REL);
}

static struct detour *find(const struct vraw_task *t, int state)
{
    for (unsigned i = 0; i < DETOURS; i++) {
        struct detour *d = &ctl.d[i];
        if (__atomic_load_n(&d->state, __ATOMIC_ACQUIRE) == state &&
            d->task == t->task && d->tid == t->tid)
            return d;
    }
    return NULL;
}

/* Start a detour for thread @t at the @insn_len-byte instruction at @ip:
 * the thread enters the kernel with call @nr (@a0, @a1, @a2) and resumes
 * after the instruction with @finish's result, or (@finish NULL) on the
 * instruction itself with its registers as they were; for a @prefault,
 * only if the call succeeded, else after it with -EFAULT. */
static bool detour(struct vcpu *v, const struct vraw_task *t, uint64_t ip,
                   unsigned insn_len, uint64_t nr, const uint64_t a[4],
                   control_finish_fn finish, control_done_fn done,
                   control_signal_fn signal, const uint64_t arg[4],
                   bool prefault)
{
    uint8_t b[2] = {0, 0};
    bool own =
        insn_len == 2 && mem(v, ip, b, 2) && b[0] == 0x0f && b[1] == 0x05;
    uint64_t g = own ? ip : gadget(v);
    if (g == 0 || t->task == 0)
        return false;
    struct detour *d = claim();
    if (d == NULL)
        return false;
    d->task = t->task;
    d->tid = t->tid;
    d->gadget = g;
    d->resume = finish ? ip + insn_len : ip;
    d->nr = nr;
    memcpy(d->a, a, sizeof d->a);
    d->saved[0] = reg(v, R_RAX);
    d->saved[1] = reg(v, R_RDI);
    d->saved[2] = reg(v, R_RSI);
    d->saved[3] = reg(v, R_RDX);
    d->saved[4] = reg(v, R_R10);
    d->finish = finish;
    d->done = done;
    d->signal = signal;
    d->prefault = prefault;
    if (arg != NULL)
        memcpy(d->arg, arg, sizeof d->arg);
    d->seq = __atomic_fetch_add(&ctl.seq, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&d->state, own ? IN_FLIGHT : ARMED, __ATOMIC_RELEASE);

    set_reg(v, R_RAX, nr);
    set_reg(v, R_RDI, a[0]);
    set_reg(v, R_RSI, a[1]);
    set_reg(v, R_RDX, a[2]);
    set_reg(v, R_R10, a[3]);
    if (!own)
        qemu_plugin_set_pc(g);
    return true; /* the instruction itself enters the kernel now */
}

bool control_fault_in(struct vcpu *v, const struct vraw_task *t, uint64_t ip,
                      unsigned insn_len, uint64_t start, uint64_t len,
                      control_finish_fn finish, const uint64_t arg[4])
{
    uint64_t first = start & ~(PAGE - 1);
    uint64_t span = ((start + len + PAGE - 1) & ~(PAGE - 1)) - first;
    if (finish == NULL)
        return false;
    const uint64_t a[4] = {first, span, MADV_POPULATE_WRITE_, 0};
    count(&ctl.st.faulted_in);
    return detour(v, t, ip, insn_len, NR_MADVISE, a, finish, NULL, NULL, arg,
                  false);
}

bool control_prefault(struct vcpu *v, const struct vraw_task *t, uint64_t ip,
                      unsigned insn_len, uint64_t start, uint64_t len,
                      bool write)
{
    uint64_t first = start & ~(PAGE - 1);
    uint64_t span = ((start + len + PAGE - 1) & ~(PAGE - 1)) - first;
    const uint64_t a[4] = {
        first, span, write ? MADV_POPULATE_WRITE_ : MADV_POPULATE_READ_, 0};
    count(&ctl.st.faulted_in);
    return detour(v, t, ip, insn_len, NR_MADVISE, a, NULL, NULL, NULL, NULL,
                  true);
}

bool control_park(struct vcpu *v, const struct vraw_task *t, uint64_t ip,
                  unsigned insn_len, control_signal_fn signal,
                  const uint64_t arg[4])
{
    /* poll(NULL, 0, 1): a wait that touches no guest memory. */
    const uint64_t a[4] = {0, 0, PARK_MS, 0};
    count(&ctl.st.parked);
    return detour(v, t, ip, insn_len, NR_POLL, a, NULL, NULL, signal, arg,
                  false);
}

bool control_call_again(struct vcpu *v, const struct vraw_task *t, uint64_t ip,
                        unsigned insn_len, uint64_t nr, const uint64_t a[4],
                        control_done_fn done, const uint64_t arg[4])
{
    count(&ctl.st.parked);
    return detour(v, t, ip, insn_len, nr, a, NULL, done, NULL, arg, false);
}

bool control_entry(struct vcpu *v, const struct vraw_task *t, uint64_t ip)
{
    /* Back at a call (the parked instruction, most likely): no longer
     * between waits. */
    struct detour *b = find(t, BETWEEN);
    if (b != NULL)
        release(b);
    struct detour *d = find(t, ARMED);
    /* The borrowed instruction is the thread's own too: a signal handler
     * that runs before the detour may execute it (it may be the handler's
     * rt_sigreturn), and that call is the thread's. Only the madvise the
     * detour set up is ours; the thread comes back to it when the handler
     * returns. */
    if (d == NULL) {
        /* A detour's call stopped by a signal without a handler (SIGSTOP,
         * say) comes back to the kernel by restart_syscall from the same
         * instruction: still ours. */
        d = find(t, IN_FLIGHT);
        return d != NULL && d->gadget == ip &&
               reg(v, R_RAX) == NR_RESTART_SYSCALL;
    }
    if (d->gadget != ip || reg(v, R_RAX) != d->nr || reg(v, R_RDI) != d->a[0] ||
        reg(v, R_RSI) != d->a[1] || reg(v, R_RDX) != d->a[2] ||
        reg(v, R_R10) != d->a[3])
        return false;
    __atomic_store_n(&d->state, IN_FLIGHT, __ATOMIC_RELEASE);
    return true;
}

/* A thread between a park's wait and its instruction returns to user
 * mode from an interrupt (@iret): into a signal handler, whose frame
 * saved the instruction, is a signal that interrupted the wait. */
static void between_return(struct vcpu *v, const struct vraw_task *t, bool iret)
{
    struct detour *d = find(t, BETWEEN);
    uint64_t frame[4] = {0};
    if (d == NULL || !iret || !mem(v, reg(v, R_RSP), frame, sizeof frame) ||
        (frame[1] & 3) != 3 || frame[0] == d->resume)
        return; /* not from user mode, or back onto the instruction */
    uint64_t ctx = sigframe_find(v, frame[3], d->resume, d->resume);
    if (ctx != 0) {
        count(&ctl.st.via_signal);
        d->signal(v, t, d->arg, sigframe_signo(v));
    }
    release(d);
}

bool control_return(struct vcpu *v, const struct vraw_task *t, bool iret)
{
    struct detour *d = find(t, IN_FLIGHT);
    if (d == NULL) {
        between_return(v, t, iret);
        return false;
    }
    uint64_t back = d->gadget + 2, rsp = 0, frame[4] = {0};
    uint64_t ctx = 0, kret;
    if (iret) {
        /* The frame: rip, cs, rflags, rsp, ss. */
        rsp = reg(v, R_RSP);
        if (!mem(v, rsp, frame, sizeof frame))
            goto lost;
        if (frame[0] == d->gadget && reg(v, R_RAX) == NR_RESTART_SYSCALL)
            return true; /* restarted in the kernel: not back yet */
        if (frame[0] != back) {
            /* A signal handler comes first. */
            ctx = sigframe_find(v, frame[3], back, back);
            if (ctx == 0 || !sigframe_get(v, ctx, SC_AX, &kret))
                goto lost;
            count(&ctl.st.via_signal);
        } else {
            kret = reg(v, R_RAX);
        }
    } else {
        if (reg(v, R_RCX) != back)
            goto lost;
        kret = reg(v, R_RAX);
    }
    /* A fault-in's result is the instruction's; a park's (and a
     * successful prefault's) is the instruction's own rax, for it runs
     * again; a failed prefault fails the instruction. */
    uint64_t rax = d->saved[0], resume = d->resume;
    if (ctx != 0 && d->signal != NULL)
        d->signal(v, t, d->arg, sigframe_signo(v));
    if (d->done != NULL)
        d->done(v, d->arg, (int64_t)kret);
    if (d->finish != NULL) {
        if (kret != 0)
            count(&ctl.st.fault_in_failed);
        rax = (uint64_t)d->finish(v, d->arg, kret == 0);
    } else if (d->prefault && kret != 0) {
        count(&ctl.st.fault_in_failed);
        refusal(d);
    }

    if (ctx != 0) {
        if (!sigframe_set(v, ctx, SC_IP, resume) ||
            !sigframe_set(v, ctx, SC_AX, rax) ||
            !sigframe_set(v, ctx, SC_CX, resume) ||
            !sigframe_set(v, ctx, SC_DI, d->saved[1]) ||
            !sigframe_set(v, ctx, SC_SI, d->saved[2]) ||
            !sigframe_set(v, ctx, SC_DX, d->saved[3]) ||
            !sigframe_set(v, ctx, SC_R10, d->saved[4]))
            goto lost;
    } else {
        set_reg(v, R_RAX, rax);
        set_reg(v, R_RDI, d->saved[1]);
        set_reg(v, R_RSI, d->saved[2]);
        set_reg(v, R_RDX, d->saved[3]);
        set_reg(v, R_R10, d->saved[4]);
        set_reg(v, R_RCX, resume);
        if (iret && resume != back) {
            g_byte_array_set_size(v->buf, 0);
            g_byte_array_append(v->buf, (const guint8 *)&resume, 8);
            if (!qemu_plugin_write_memory_vaddr(rsp, v->buf))
                goto lost;
        }
        if (d->signal != NULL && d->finish == NULL && d->done == NULL) {
            /* A park: watched until the instruction runs again. */
            __atomic_store_n(&d->state, BETWEEN, __ATOMIC_RELEASE);
            return true;
        }
    }
    release(d);
    return true;
lost:
    /* Cannot happen with a kernel that keeps its own frames; counted so
     * that it would show. */
    count(&ctl.st.lost);
    release(d);
    return true;
}
