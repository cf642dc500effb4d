/* Hidden socket calls, the plugin's side (see hide.h and docs/hide.md).
 *
 * A call of a hidden process that vigil runs on the host (vigil/hide.h has
 * which) never reaches the guest kernel. At the syscall instruction its
 * inputs are copied from guest memory into a slot, the slot is posted to
 * vigil's executor, and the thread waits: on the vCPU first (a short
 * spin, then a sleep the executor's answer ends, lib/hide/bell.c), then
 * in the guest kernel (control_park), running the syscall instruction
 * again after each wait.
 * When the answer is there, the outputs go into guest memory and the
 * instruction is skipped with the result (control_skip).
 *
 * Output buffers are faulted in before the call is posted (control_
 * prefault), so that the answer can always be written where a store by
 * the thread would land; the thread owns its slot from posting to
 * completion and is the only one to touch it.
 */
#include "hide.h"
#include "hide-call.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>

#include "control.h"
#include "hide/bell.h"
#include "hide-fast.h"
#include "guestmem.h"
#include "ident.h"
#include "psel.h"
#include "sigframe.h"
#include "tracer.h"
#include "vigil/syscalls.h"
#include "vigil/clock.h"

/* How long a vCPU waits for the answer before the thread waits in the
 * guest kernel, which costs a millisecond at least (poll's timeout, the
 * one wait that needs no guest memory).
 *
 * A call just posted: a SPIN_NS spin (an executor that is awake answers
 * within it), then the vCPU sleeps on the slot until the answer wakes it
 * (a spinning vCPU would hold the CPU the executor needs on a loaded
 * host). While the executor runs the call, up to WAIT_FIRST_NS: a park
 * would cost the thread that long anyway, and the host's own scheduler
 * delays the executor about as long under load. Once the executor says
 * the call waits for its socket, up to WAIT_BLOCKED_NS from the post:
 * long enough for a round trip on a local network; the vCPU then runs the
 * guest's other threads while this one waits in the guest kernel.
 * Later visits of a call that waits for its socket: a look only. */
#define WAIT_FIRST_NS   1000000
#define WAIT_BLOCKED_NS 150000
#define WAIT_LATER_NS   5000
#define SPIN_NS         20000

static struct {
    bool on;
    struct psel sel[VACT_HIDE_MAX];
    unsigned nsel;
    struct vhide_area *area;
    uint64_t seq;
    int owned; /* slots a thread owns: none, and a call entry looks no
                  further (every call of every thread comes by) */
    /* Which thread owns each slot (the plugin's own record). */
    struct {
        uint64_t task;
        int32_t tid;
        uint64_t ip;
        int64_t nr;          /* the guest's call */
        uint64_t claimed_ns; /* for the counters (vhide_prof) */
        bool parked;         /* it has waited in the guest kernel */
        bool restarted;      /* a handler interrupted the wait */
    } owner[VHIDE_SLOTS];
    int nr_exit_group, nr_execve;
    uint64_t group_exit_fn; /* link-time; 0: unknown */
} hidden;

bool hide_setup(const struct vact_config *act, struct vring_map *ring)
{
    hidden.nsel = act->nhide < VACT_HIDE_MAX ? act->nhide : VACT_HIDE_MAX;
    for (unsigned i = 0; i < hidden.nsel; i++)
        psel_init(&hidden.sel[i], &act->hide[i]);
    hidden.area = vring_hide(ring);
    hidden.nr_exit_group = vsys_number("exit_group");
    hidden.nr_execve = vsys_number("execve");
    hidden.on = hidden.nsel > 0 && hidden.area != NULL;
    hidden.group_exit_fn = vring_shm(ring)->config.group_exit_fn;
    hwait_setup();
    if (hidden.on)
        hfast_setup(hidden.area, hidden.area->share_path);
    return hidden.on;
}

bool hide_on(void)
{
    return hidden.on;
}

static bool hidden_thread(const struct vraw_task *t)
{
    bool yes = false;
    for (unsigned i = 0; i < hidden.nsel; i++)
        yes |= psel_thread(&hidden.sel[i], t); /* each keeps its own set */
    return yes;
}

bool hide_group_exit_maybe(uint64_t vaddr)
{
    /* Decided without the slide: the hooked function may be translated
     * before any user thread has shown it (kernel threads end during boot
     * too), and a translated block keeps the callbacks it was given. */
    return hidden.on && ident_kernel_fn_maybe(hidden.group_exit_fn, vaddr);
}

void hide_group_exit(struct vcpu *v, uint64_t vaddr)
{
    /* exit_group posts the event at the call too; a second one finds no
     * table and costs the executor nothing. */
    struct vraw_task t;
    if (ident_kernel_fn_is(hidden.group_exit_fn, vaddr) &&
        ident_in_kernel(v, &t) && hidden_thread(&t))
        hide_event(&t, VHIDE_OP_EXIT, 0);
}

static int slot_of(const struct vraw_task *t)
{
    for (int i = 0; i < VHIDE_SLOTS; i++)
        if (__atomic_load_n(&hidden.owner[i].task, __ATOMIC_ACQUIRE) ==
                t->task &&
            hidden.owner[i].tid == t->tid)
            return i;
    return -1;
}

int hide_claim(const struct vraw_task *t, uint64_t ip, int64_t nr)
{
    for (int i = 0; i < VHIDE_SLOTS; i++) {
        uint64_t none = 0;
        if (__atomic_load_n(&hidden.area->slot[i].state, __ATOMIC_ACQUIRE) ==
                VHIDE_FREE &&
            __atomic_compare_exchange_n(&hidden.owner[i].task, &none, t->task,
                                        false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED)) {
            hidden.owner[i].tid = t->tid;
            hidden.owner[i].ip = ip;
            hidden.owner[i].nr = nr;
            hidden.owner[i].parked = false;
            hidden.owner[i].restarted = false;
            hidden.owner[i].claimed_ns =
                hidden.area->prof.on ? vigil_now_ns(CLOCK_MONOTONIC) : 0;
            hidden.area->slot[i].share_gen = 0;
            __atomic_fetch_add(&hidden.owned, 1, __ATOMIC_ACQ_REL);
            return i;
        }
    }
    return -1;
}

void hide_release(int i)
{
    __atomic_store_n(&hidden.area->slot[i].state, VHIDE_FREE, __ATOMIC_RELEASE);
    __atomic_store_n(&hidden.owner[i].task, 0, __ATOMIC_RELEASE);
    __atomic_fetch_sub(&hidden.owned, 1, __ATOMIC_ACQ_REL);
}

int64_t hide_fault(struct vcpu *v, const struct vraw_task *t, uint64_t ip,
                   int slot, uint64_t va, uint64_t len, bool write)
{
    if (slot >= 0)
        hide_release(slot);
    if (control_refused(t, ip))
        return -EFAULT; /* the kernel would not fault it in just now */
    return control_prefault(v, t, ip, 2, va, len, write) ? 0 : -EFAULT;
}

struct vhide_slot *hide_slot(int i)
{
    return &hidden.area->slot[i];
}

void hide_publish(int i, const struct vraw_task *t, int op, const int64_t a[6],
                  uint32_t in_len)
{
    struct vhide_slot *s = &hidden.area->slot[i];
    s->op = op;
    s->tgid = t->tgid;
    s->tid = t->tid;
    s->ppid = t->ppid;
    memcpy(s->args, a, sizeof s->args);
    s->in_len = in_len;
    s->intr = 0;
    s->out_len = 0;
    s->result = 0;
    s->seq = __atomic_add_fetch(&hidden.seq, 1, __ATOMIC_RELAXED);
    s->seen_ns = vigil_now_ns(CLOCK_MONOTONIC);
    s->posted_ns = s->seen_ns;
    s->done_ns = 0;
    s->blocked = 0;
    __atomic_store_n(&s->state, VHIDE_POSTED, __ATOMIC_RELEASE);
    hbell_ring(hidden.area);
}

bool hide_fd(uint64_t fd)
{
    return (int64_t)(int32_t)fd >= VHIDE_FD_BASE &&
           (int64_t)(int32_t)fd < VHIDE_FD_BASE + VHIDE_FDS;
}

/* Calls that move data between two descriptors inside the kernel, whose
 * other end is the guest kernel's (a file, a pipe): they cannot run on the
 * host, and must not reach the guest kernel with a hidden number. Bit i:
 * argument i is a descriptor. */
static unsigned kernel_only_fds(int64_t nr)
{
    switch (nr) {
    case SYS_sendfile:
    case SYS_tee:
        return 1u << 0 | 1u << 1;
    case SYS_splice:
    case SYS_copy_file_range:
        return 1u << 0 | 1u << 2;
    case SYS_vmsplice:
        return 1u << 0;
    }
    return 0;
}

static enum hide_state post_call(struct vcpu *v, const struct vraw_task *t,
                                 uint64_t ip, uint64_t nr,
                                 const uint64_t args[6], int64_t *result);

enum hide_state hide_post(struct vcpu *v, const struct vraw_task *t,
                          uint64_t ip, uint64_t nr, const uint64_t args[6],
                          int64_t *result)
{
    hfast_drain(); /* copies that came too late for their call */
    if ((int64_t)nr == hidden.nr_exit_group) {
        if (hidden_thread(t))
            hide_event(t, VHIDE_OP_EXIT, 0);
        return HIDE_NO;
    }
    unsigned fds = kernel_only_fds((int64_t)nr);
    for (int k = 0; fds != 0 && k < 3; k++)
        if ((fds >> k & 1) && hide_fd(args[k]) && hidden_thread(t)) {
            /* What Linux answers for a descriptor that cannot do it. */
            *result = -EINVAL;
            return HIDE_ANSWERED;
        }
    const struct vhide_shape *sh = vhide_shape((int64_t)nr);
    if (sh == NULL || !hidden_thread(t))
        return HIDE_NO;
    if (sh->waits || (nr == SYS_close && !hide_fd(args[0])))
        return hwait_post(v, t, ip, (int64_t)nr, args, result);
    /* A guest descriptor duplicated onto a hidden number: the guest kernel
     * would answer EBADF (the number is past any RLIMIT_NOFILE it allows);
     * so does vigil, without showing it the number, and the hidden
     * descriptor there stays as it was. */
    if ((nr == SYS_dup2 || nr == SYS_dup3) && !hide_fd(args[0]) &&
        hide_fd(args[1])) {
        *result = -EBADF;
        return HIDE_ANSWERED;
    }
    if ((!sh->fd_args && !sh->new_fd) || (sh->fd_args && !hide_fd(args[0])))
        return HIDE_NO;
    /* Sockets of the guest's own families (AF_UNIX, AF_NETLINK...) carry no
     * network traffic and reach the guest's services: the guest's. */
    if (nr == SYS_socket && args[0] != AF_INET && args[0] != AF_INET6)
        return HIDE_NO;
    /* dup2/dup3 onto a descriptor of the guest kernel's own cannot be done
     * without the guest kernel: refused. */
    if ((nr == SYS_dup2 || nr == SYS_dup3) && !hide_fd(args[1])) {
        *result = -EINVAL;
        return HIDE_ANSWERED;
    }
    /* The plugin's copies of a descriptor this call ends or replaces go
     * before it is posted, so that no later call on that number finds
     * them, and again once it is: a copy asked for in between, by a call
     * the executor may run first, must not be kept (hide-fast.c). */
    int64_t gone = nr == SYS_close                    ? (int32_t)args[0]
                   : nr == SYS_dup2 || nr == SYS_dup3 ? (int32_t)args[1]
                                                      : -1;
    if (gone >= 0)
        hfast_forget(t->tgid, gone, false);
    enum hide_state st = post_call(v, t, ip, nr, args, result);
    if (gone >= 0)
        hfast_forget(t->tgid, gone, false);
    return st;
}

/* hide_post()'s end: claim a slot, marshal, post (or answer on the
 * plugin's copy of the socket). */
static enum hide_state post_call(struct vcpu *v, const struct vraw_task *t,
                                 uint64_t ip, uint64_t nr,
                                 const uint64_t args[6], int64_t *result)
{
    int i = hide_claim(t, ip, (int64_t)nr);
    if (i < 0) {
        *result = -EAGAIN; /* every slot busy: try again */
        return HIDE_ANSWERED;
    }
    int64_t r = hmsg_call((int64_t)nr)
                    ? hmsg_post(v, t, ip, (int64_t)nr, args, i)
                    : hplain_post(v, t, ip, (int64_t)nr, args, i);
    if (r == 0)
        return HIDE_WAITING; /* the instruction faults pages in first */
    if (r == 2) {
        __atomic_add_fetch(&hidden.area->fast_calls, 1, __ATOMIC_RELAXED);
        *result = hplain_deliver(v, i, args);
        hide_release(i);
        return HIDE_ANSWERED;
    }
    if (r < 0) {
        hide_release(i);
        *result = r;
        return HIDE_ANSWERED;
    }
    return HIDE_POSTED;
}

/* A handler interrupted the thread's wait for slot arg[0]: tell the
 * executor, which decides, as Linux would, whether the call ends with
 * EINTR once the thread is back (hide_resume) or goes on. */
static void interrupted(struct vcpu *v, const struct vraw_task *t,
                        const uint64_t arg[4], int signo)
{
    int i = (int)arg[0];
    if (i < 0 || i >= VHIDE_SLOTS || slot_of(t) != i)
        return;
    struct vhide_slot *s = &hidden.area->slot[i];
    uint32_t restart = sigframe_restarts(v, t->task, signo) != 0;
    uint32_t n = __atomic_load_n(&s->intr, __ATOMIC_RELAXED) >> 1;
    __atomic_store_n(&s->intr, (n + 1) << 1 | restart, __ATOMIC_RELEASE);
    hidden.owner[i].restarted = true;
    tracer_hidden_interrupted(v, t, (uint64_t)hidden.owner[i].nr);
}

bool hide_take_restart(const struct vraw_task *t, uint64_t ip)
{
    if (__atomic_load_n(&hidden.owned, __ATOMIC_ACQUIRE) == 0)
        return false;
    int i = slot_of(t);
    if (i < 0 || hidden.owner[i].ip != ip || !hidden.owner[i].restarted)
        return false;
    hidden.owner[i].restarted = false;
    return true;
}

/* Whether slot @s is answered within the vCPU's wait: a spin, then (on
 * a call's first visit) a sleep the executor's answer ends. */
static bool answered(struct vhide_slot *s, bool parked)
{
    uint64_t now = vigil_now_ns(CLOCK_MONOTONIC);
    /* Spin even when the executor sleeps: its answer then often comes
     * within the spin, while its 50 us spin after the answer lasts, and
     * the thread's next call finds it awake. Without this spin, a vCPU
     * that slept posts its next call after the executor's spin ran out,
     * and every call waits for two wake-ups (measured: 32-128 us per call
     * against 4-8 us, at a load average of 9 on 2 CPUs). */
    uint64_t spin = now + (parked ? WAIT_LATER_NS : SPIN_NS);
    struct vhide_prof *pf = &hidden.area->prof;
    for (;;) {
        if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == VHIDE_DONE) {
            if (pf->on)
                __atomic_add_fetch(&pf->spun, 1, __ATOMIC_RELAXED);
            return true;
        }
        if (vigil_now_ns(CLOCK_MONOTONIC) >= spin)
            break;
        __builtin_ia32_pause();
    }
    if (parked ||
        !hbell_wait(s, now + WAIT_FIRST_NS, s->posted_ns + WAIT_BLOCKED_NS))
        return false;
    if (pf->on)
        __atomic_add_fetch(&pf->slept, 1, __ATOMIC_RELAXED);
    return true;
}

/* Slot @i's call delivered, its answer seen at @seen: the counters. */
static void count_answer(int i, uint64_t seen)
{
    const struct vhide_slot *s = &hidden.area->slot[i];
    struct vhide_prof *pf = &hidden.area->prof;
    if (!pf->on)
        return;
    uint64_t now = vigil_now_ns(CLOCK_MONOTONIC), done = s->done_ns;
    __atomic_add_fetch(&pf->calls, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&pf->post_ns, s->posted_ns - hidden.owner[i].claimed_ns,
                       __ATOMIC_RELAXED);
    if (done >= s->posted_ns && seen >= done) {
        __atomic_add_fetch(&pf->answer_ns, done - s->posted_ns,
                           __ATOMIC_RELAXED);
        __atomic_add_fetch(&pf->seen_ns, seen - done, __ATOMIC_RELAXED);
    }
    __atomic_add_fetch(&pf->deliver_ns, now - seen, __ATOMIC_RELAXED);
    uint64_t us = (now - hidden.owner[i].claimed_ns) / 1000;
    int k = 0;
    while (k < VHIDE_PROF_BUCKETS - 1 && us >= 2ull << k)
        k++;
    __atomic_add_fetch(&pf->hist[k], 1, __ATOMIC_RELAXED);
}

enum hide_state hide_resume(struct vcpu *v, const struct vraw_task *t,
                            uint64_t ip, const uint64_t args[6],
                            int64_t *result)
{
    enum hide_state ws = hwait_resume(v, t, ip, args, result);
    if (ws != HIDE_NO && ws != HIDE_POSTED)
        return ws;
    if (__atomic_load_n(&hidden.owned, __ATOMIC_ACQUIRE) == 0)
        return HIDE_NO;
    int i = slot_of(t);
    if (i < 0 || hidden.owner[i].ip != ip)
        return HIDE_NO;
    struct vhide_slot *s = &hidden.area->slot[i];
    const struct vhide_shape *sh = vhide_shape(hidden.owner[i].nr);
    if (answered(s, hidden.owner[i].parked)) {
        if (sh != NULL && sh->waits)
            return hwait_answer(v, t, ip, i, args, result);
        uint64_t seen =
            hidden.area->prof.on ? vigil_now_ns(CLOCK_MONOTONIC) : 0;
        *result = hmsg_call(hidden.owner[i].nr)
                      ? hmsg_deliver(v, i, hidden.owner[i].nr, args)
                      : hplain_deliver(v, i, args);
        count_answer(i, seen);
        hide_release(i);
        return HIDE_ANSWERED;
    }
    /* The executor still works on it: wait in the guest kernel. The
     * instruction itself becomes the wait (control_park). */
    if (hidden.area->prof.on)
        __atomic_add_fetch(&hidden.area->prof.parked, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&s->seen_ns, vigil_now_ns(CLOCK_MONOTONIC),
                     __ATOMIC_RELEASE);
    hidden.owner[i].parked = true;
    const uint64_t arg[4] = {(uint64_t)i, 0, 0, 0};
    if (!control_park(v, t, ip, 2, interrupted, arg))
        qemu_plugin_set_pc(ip); /* no room to wait: come back at once */
    return HIDE_WAITING;
}

void hide_event(const struct vraw_task *t, int op, int64_t arg)
{
    if (op == VHIDE_OP_EXIT || op == VHIDE_OP_EXEC) {
        hwait_forget(t->tgid);
        hfast_forget(t->tgid, -1, op == VHIDE_OP_EXIT);
    }
    struct vraw_task self = *t;
    self.tid = -t->tid; /* events never own a waiting thread's slot */
    int i = hide_claim(&self, 0, op);
    if (i < 0)
        return; /* dropped: the executor cleans up at the end */
    const int64_t a[6] = {arg};
    hide_publish(i, t, op, a, 0);
    /* Copies asked for since the first forget are older than the event. */
    if (op == VHIDE_OP_EXIT || op == VHIDE_OP_EXEC)
        hfast_forget(t->tgid, -1, op == VHIDE_OP_EXIT);
    /* Nobody waits for an event's answer: the executor frees it. */
    __atomic_store_n(&hidden.owner[i].task, 0, __ATOMIC_RELEASE);
    __atomic_fetch_sub(&hidden.owned, 1, __ATOMIC_ACQ_REL);
}

#define EXEC_BY_HIDDEN 0x80

uint8_t hide_exec_wanted(struct vcpu *v, const struct vraw_task *t, uint64_t nr,
                         const uint64_t args[6])
{
    if ((int64_t)nr != hidden.nr_execve)
        return 0;
    uint8_t mask = hidden_thread(t) ? EXEC_BY_HIDDEN : 0;
    for (unsigned i = 0; i < hidden.nsel; i++)
        if (psel_exec_wanted(&hidden.sel[i], v, nr, args))
            mask |= (uint8_t)(1u << i);
    return mask;
}

void hide_exec_result(const struct vraw_task *t, uint8_t mask, int64_t ret)
{
    if (ret != 0)
        return;
    for (unsigned i = 0; i < hidden.nsel; i++)
        if (mask & (1u << i))
            psel_exec_done(&hidden.sel[i], t->tgid);
    /* The program it was is gone: its close-on-exec sockets too. */
    if (mask & EXEC_BY_HIDDEN)
        hide_event(t, VHIDE_OP_EXEC, 0);
}
