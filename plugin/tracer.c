/* System call capture on vCPU threads.
 *
 * Entries are caught in user mode, at the system call instruction itself
 * (syscall, int 0x80, sysenter), found in each translation block as it is
 * translated: the arguments are in registers there and no kernel symbol is
 * needed. Returns are caught at the kernel's return-to-user instructions
 * (sysret, iret, sysexit): every way back to user mode passes one of them,
 * including a blocked call finishing on another vCPU, a successful execve and
 * a restarted call. Both sides read the current thread's task_struct through
 * the per-CPU pointer whose offset comes from the kernel profile.
 *
 * This file has the entries; tracer-trans.c decides at translation what is
 * hooked; tracer-return.c has the returns.
 *
 * Everything here runs on vCPU threads: it reads registers and bounded
 * guest memory, writes one raw record into this vCPU's ring and returns. No
 * locks, no I/O, no allocation after vCPU init.
 */
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "branches.h"
#include "callers.h"
#include "capture.h"
#include "control.h"
#include "fdmem.h"
#include "guestmem.h"
#include "hcall-update.h"
#include "hide.h"
#include "hypercall.h"
#include "ident.h"
#include "inject.h"
#include "pending.h"
#include "qemu-api.h"
#include "sigframe.h"
#include "sigret.h"
#include "tracer-int.h"
#include "tracer.h"
#include "xlate.h"
#include "vcpu.h"
#include "vma.h"
#include "vigil/rawrec.h"
#include "vigil/ring.h"
#include "vigil/syscalls.h"

const char *const vcpu_reg_names[R_COUNT] = {
    "rax",       "rbx",     "rcx",     "rdx", "rsi", "rdi",    "rbp",
    "rsp",       "r8",      "r9",      "r10", "r11", "eflags", "cs",
    "k_gs_base", "gs_base", "fs_base", "cr3", "rip", "cr4",
};

struct tracer tracer;

void tracer_note(unsigned vcpu, uint32_t code, uint64_t arg)
{
    struct vraw_note *n = vring_reserve(tracer.ring, vcpu, sizeof *n);
    if (n == NULL)
        return;
    n->h.type = VRAW_NOTE;
    n->h.size = sizeof *n;
    n->h.vcpu = (uint16_t)vcpu;
    n->h.flags = 0;
    n->h.ts_ns = stamp_now(&tracer.vcpus[vcpu].clk);
    n->code = code;
    n->arg = arg;
    vring_commit(tracer.ring, vcpu, sizeof *n);
}

/* The return record of a call; @x_flags adds to the ABI flag. Returns
 * NULL when the ring is full (counted there). */
struct vraw_exit *tracer_exit_record(unsigned vcpu, uint32_t room,
                                     const struct pending_call *p, int64_t ret,
                                     uint64_t ip, uint16_t x_flags)
{
    struct vraw_exit *x = vring_reserve(tracer.ring, vcpu, room);
    if (x == NULL)
        return NULL;
    x->h.type = VRAW_SYS_EXIT;
    x->h.vcpu = (uint16_t)vcpu;
    x->h.flags = (uint16_t)((p->compat ? VRAW_F_COMPAT : 0) | x_flags);
    x->h.ts_ns = stamp_now(&tracer.vcpus[vcpu].clk);
    x->h.size = sizeof *x;
    x->task = p->task;
    x->tid = p->tid;
    x->nr = p->nr;
    x->ret = ret;
    x->ip = ip;
    x->nblobs = 0;
    return x;
}

/* A hidden call answered by vigil (hide.h): its return, marked hidden,
 * then the instruction skipped with the result. */
_Noreturn static void hidden_return(unsigned vcpu, struct vcpu *v,
                                    const struct vraw_task *t, uint64_t ip,
                                    uint64_t nr, int64_t result)
{
    if (tracer.tracing) {
        struct pending_call p = {.task = t->task, .tid = t->tid, .nr = nr};
        struct vraw_exit *x =
            tracer_exit_record(vcpu, sizeof *x, &p, result, 0, VRAW_F_HIDDEN);
        if (x != NULL)
            vring_commit(tracer.ring, vcpu, sizeof *x);
    }
    control_skip(v, ip, 2, result);
}

/* The call's arguments from the registers of its ABI: only those the call
 * takes, since each read costs; unknown calls get all six. */
static const struct vsys_ent *read_args(struct vcpu *v, uint64_t nr,
                                        bool compat, uint64_t args[6])
{
    static const enum reg_id abi64[6] = {R_RDI, R_RSI, R_RDX,
                                         R_R10, R_R8,  R_R9};
    static const enum reg_id abi32[6] = {R_RBX, R_RCX, R_RDX,
                                         R_RSI, R_RDI, R_RBP};
    const struct vsys_ent *ent = vsys_lookup(nr, compat);
    unsigned nargs = ent != NULL && ent->name != NULL ? ent->nargs : 6;
    for (unsigned i = 0; i < nargs && i < 6; i++)
        args[i] = compat ? reg(v, abi32[i]) & 0xffffffff : reg(v, abi64[i]);
    return ent;
}

/* A call entry without a trace (--hide alone): the hidden call answered
 * (@hs and @hres from hide_post()) or waited for, and only what --hide needs
 * followed: the identities a thread can change or give up, the execs that
 * choose or clean up a hidden process. */
static void untraced_entry(unsigned vcpu, struct vcpu *v,
                           const struct vraw_task *t, bool known,
                           enum hide_state hs, int64_t hres, uint64_t ip,
                           uint64_t nr, bool compat, uint64_t args[6])
{
    if (hs == HIDE_POSTED)
        hs = hide_resume(v, t, ip, args, &hres);
    if (hs == HIDE_ANSWERED)
        control_skip(v, ip, 2, hres);
    if (hs == HIDE_WAITING)
        return;
    if (!compat)
        control_note_site(reg(v, R_CR3), ip);
    ident_untraced_call(nr, compat);
    if (!known)
        return;
    uint8_t mask = hide_exec_wanted(v, t, nr, args);
    if (!mask)
        return;
    struct pending_call p = {
        .task = t->task, .tid = t->tid, .nr = nr, .ip = ip, .hide_exec = mask};
    if (pending_put(vcpu, &p))
        __atomic_fetch_add(&tracer.hide_execs, 1, __ATOMIC_RELAXED);
}

/* The entry record, with what the call's arguments point to.  Returns
 * false when the ring had no room (counted there); *faulted has the
 * captures that must be retried at the return. */
static bool record_entry(unsigned vcpu, struct vcpu *v, struct vraw_task *t,
                         enum insn_kind kind, uint64_t ip, uint64_t nr,
                         const uint64_t args[6], uint8_t *faulted)
{
    bool compat = kind != K_SYSCALL;
    struct vsys_cap caps[VSYS_MAX_CAPS];
    unsigned ncaps = vsys_captures(nr, compat, caps);
    uint32_t room = sizeof(struct vraw_enter);
    for (unsigned i = 0; i < ncaps; i++)
        if (!caps[i].at_exit)
            room += capture_room(&caps[i]);

    uint16_t flags = compat ? VRAW_F_COMPAT : 0;
    if (kind == K_SYSENTER)
        flags |= VRAW_F_SYSENTER;
    ident_before_call(nr, compat);
    if (tracer.callers) {
        callers_before_call(nr, compat);
        fdmem_before_call(nr, compat);
    }
    if (!ident(v, t)) {
        flags |= VRAW_F_NO_TASK;
        if (__atomic_fetch_add(&tracer.bad_task_notes, 1, __ATOMIC_RELAXED) <
            16)
            tracer_note(vcpu, VRAW_NOTE_BAD_TASK, t->task);
    } else {
        vma_on_entry(tracer.ring, vcpu, v, t);
    }
    /* --callers: a write's file when it is another process's memory. */
    uint32_t froom = tracer.callers && !(flags & VRAW_F_NO_TASK)
                         ? fdmem_room(nr, compat)
                         : 0;
    room += froom;
    /* --callers: its record first, in the same reservation (callers.h). */
    uint32_t croom =
        tracer.callers && !(flags & VRAW_F_NO_TASK) ? callers_room(vcpu, t) : 0;
    uint8_t *res = vring_reserve(tracer.ring, vcpu, croom + room);
    if (res == NULL)
        return false;
    uint32_t csize = croom ? callers_fill(vcpu, v, t, res) : 0;
    struct vraw_enter *e = (struct vraw_enter *)(res + csize);
    e->t = *t;
    e->h.type = VRAW_SYS_ENTER;
    e->h.vcpu = (uint16_t)vcpu;
    e->h.flags = flags;
    e->h.ts_ns = stamp_now(&v->clk);
    e->nr = nr;
    memcpy(e->args, args, sizeof e->args);
    e->ip = ip;
    e->sp = 0; /* not read: nothing uses it yet */
    e->nblobs = 0;
    e->reserved = 0;
    /* rt_sigreturn's mask is found through the stack pointer, read only
     * for it (each register read costs). */
    uint64_t cargs[6];
    const uint64_t *ca = args;
    for (unsigned i = 0; i < ncaps; i++)
        if (caps[i].kind == VSYS_CAP_FRAME_MASK) {
            memcpy(cargs, args, sizeof cargs);
            cargs[caps[i].argi % 6] = reg(v, R_RSP) + VSYS_FRAME_MASK_OFF;
            ca = cargs;
        }
    uint32_t size =
        sizeof *e + capture(v, (uint8_t *)(e + 1), false, caps, ncaps, ca,
                            compat, 0, 0, &e->nblobs, faulted);
    if (froom != 0) {
        uint32_t n = fdmem_capture(v, t->task, args[0], (uint8_t *)e + size);
        e->nblobs += n != 0;
        size += n;
    }
    e->h.size = (uint16_t)size;
    vring_commit(tracer.ring, vcpu, csize + size);
    return true;
}

/* After the entry record: answer a hidden call (@hs and @hres from
 * hide_post()) or fail an injected one,
 * and leave what the return needs pending for this thread. */
static void act_after_entry(unsigned vcpu, struct vcpu *v,
                            const struct vraw_task *t, enum hide_state hs,
                            int64_t hres, struct pending_call *p)
{
    if (hs == HIDE_POSTED)
        hs = hide_resume(v, t, p->ip, p->args, &hres);
    if (hs == HIDE_ANSWERED)
        hidden_return(vcpu, v, t, p->ip, p->nr, hres);
    if (hs == HIDE_WAITING)
        return; /* the entry is recorded; the return when answered */
    if (!p->compat) {
        control_note_site(v->cr3, p->ip);
        int64_t fake;
        if (tracer.inject && inject_decide(t, p->nr, &fake)) {
            /* The kernel never sees it: the return is recorded now. */
            struct vraw_exit *x = tracer_exit_record(vcpu, sizeof *x, p, fake,
                                                     0, VRAW_F_INJECTED);
            if (x != NULL)
                vring_commit(tracer.ring, vcpu, sizeof *x);
            control_skip(v, p->ip, 2, fake);
        }
        p->exec_match =
            (tracer.inject && inject_exec_wanted(v, p->nr, p->args)) ||
            (tracer.callers && branches_exec_wanted(v, p->nr, p->args));
        p->hide_exec = tracer.hide ? hide_exec_wanted(v, t, p->nr, p->args) : 0;
    }
    if (!pending_put(vcpu, p))
        tracer_note(vcpu, VRAW_NOTE_PENDING_FULL, t->task);
}

void tracer_hidden_interrupted(struct vcpu *v, const struct vraw_task *t,
                               uint64_t nr)
{
    if (!tracer.tracing || v < tracer.vcpus ||
        v >= tracer.vcpus + tracer.nrings)
        return;
    unsigned vcpu = (unsigned)(v - tracer.vcpus);
    struct pending_call p = {.task = t->task, .tid = t->tid, .nr = nr};
    struct vraw_exit *x =
        tracer_exit_record(vcpu, sizeof *x, &p, -ERESTARTSYS, 0, VRAW_F_HIDDEN);
    if (x != NULL)
        vring_commit(tracer.ring, vcpu, sizeof *x);
}

/* The address of the system call instruction in this address space. The
 * one seen at translation (@ip) is that of the first address space that
 * ran the code: x86 translation blocks are position-independent and shared
 * by every mapping of the same physical page, at whatever address (a
 * shared library in two processes), so the true address differs by whole
 * pages. rip is synced to the instruction or to its block's start, which
 * is less than a page before it; the next page-multiple from @ip at or
 * after rip is the instruction, checked to be one when it is not @ip. */
static uint64_t entry_ip(struct vcpu *v, uint64_t ip, enum insn_kind kind)
{
    uint64_t rip = reg(v, R_RIP);
    uint64_t at = ip + ((rip - ip + PAGE - 1) & ~(PAGE - 1));
    uint8_t b[2];
    if (at == ip || !gm_read_exec(v, at, b))
        return ip;
    bool same = kind == K_SYSCALL ? b[0] == 0x0f && b[1] == 0x05
                : kind == K_INT80 ? b[0] == 0xcd && b[1] == 0x80
                                  : b[0] == 0x0f && b[1] == 0x34;
    return same ? at : ip;
}

void tracer_on_entry(unsigned int vcpu, void *udata)
{
    uint64_t u = (uintptr_t)udata;
    enum insn_kind kind =
        (enum insn_kind)(u >> (ENTRY_IP_BITS + ENTRY_NR_BITS));
    uint32_t nr1 = (uint32_t)(u >> ENTRY_IP_BITS) & ((1u << ENTRY_NR_BITS) - 1);
    uint64_t ip = u & ((1ull << ENTRY_IP_BITS) - 1);
    if (vcpu >= tracer.nrings || !tracer.vcpus[vcpu].ready)
        return;
    struct vcpu *v = &tracer.vcpus[vcpu];
    bool compat = kind != K_SYSCALL;
    struct vraw_task t;

    /* The thread's own detour into the kernel (control.h): not the
     * guest's call, and not traced. */
    if (!compat && control_busy() && ident(v, &t) && control_entry(v, &t, ip))
        return;
    if (!tracer.tracing && !tracer.hide) {
        if (!compat)
            control_note_site(reg(v, R_CR3), ip);
        return;
    }
    ip = entry_ip(v, ip, kind);
    uint64_t args[6] = {0};
    uint64_t nr = nr1 != 0 ? nr1 - 1 : reg(v, R_RAX);
    if (compat)
        nr &= 0xffffffff;
    const struct vsys_ent *ent = read_args(v, nr, compat, args);

    /* A hidden call of this thread's, waiting for vigil (hide.h): this is
     * its instruction run again, not a new call. */
    int64_t hres = 0;
    enum hide_state hs = HIDE_NO;
    bool known = tracer.hide && !compat && ident(v, &t);
    if (known) {
        uint8_t faulted;
        if (tracer.tracing && hide_take_restart(&t, ip))
            record_entry(vcpu, v, &t, kind, ip, nr, args, &faulted);
        hs = hide_resume(v, &t, ip, args, &hres);
        if (hs == HIDE_ANSWERED)
            hidden_return(vcpu, v, &t, ip, nr, hres);
        if (hs == HIDE_WAITING)
            return;
        hs = hide_post(v, &t, ip, nr, args, &hres);
        /* Pages first faulted in: the call is recorded when it runs. */
        if (hs == HIDE_WAITING)
            return;
    }
    if (!tracer.tracing) {
        untraced_entry(vcpu, v, &t, known, hs, hres, ip, nr, compat, args);
        return;
    }
    uint8_t faulted;
    if (!record_entry(vcpu, v, &t, kind, ip, nr, args, &faulted))
        return; /* counted as dropped by the ring */
    if (t.task == 0 || (ent != NULL && (ent->flags & VSYS_NORETURN)))
        return;
    struct pending_call p = {
        .task = t.task,
        .tid = t.tid,
        .nr = nr,
        .ip = ip,
        .compat = compat,
        .retry = faulted,
    };
    memcpy(p.args, args, sizeof args);
    act_after_entry(vcpu, v, &t, hs, hres, &p);
}

void tracer_vcpu_init(unsigned int vcpu)
{
    if (tracer.ring == NULL || vcpu >= tracer.nrings)
        return;
    struct vcpu *v = &tracer.vcpus[vcpu];
    GArray *regs = qemu_plugin_get_registers();
    unsigned found = 0;
    for (guint i = 0; i < regs->len; i++) {
        qemu_plugin_reg_descriptor *d =
            &g_array_index(regs, qemu_plugin_reg_descriptor, i);
        for (int r = 0; r < R_COUNT; r++)
            if (v->reg[r] == NULL && !strcmp(d->name, vcpu_reg_names[r])) {
                v->reg[r] = d->handle;
                found++;
            }
    }
    g_array_free(regs, TRUE);
    v->buf = g_byte_array_sized_new(4096);
    v->ready = found + (v->reg[R_CR4] == NULL) == R_COUNT;
    if (!v->ready) {
        char msg[160];
        int n = snprintf(msg, sizeof msg,
                         "vigil-plugin: vCPU %u lacks register", vcpu);
        for (int r = 0; r < R_COUNT && n < (int)sizeof msg - 16; r++)
            if (v->reg[r] == NULL)
                n +=
                    snprintf(msg + n, sizeof msg - n, " %s", vcpu_reg_names[r]);
        snprintf(msg + n, sizeof msg - n, "\n");
        qemu_plugin_outs(msg);
    }
}

int tracer_install(qemu_plugin_id_t id, struct vring_map *ring, char *err,
                   size_t errlen)
{
    tracer.ring = ring;
    tracer.nrings = vring_count(ring);
    const struct vring_config *cfg = &vring_shm(ring)->config;
    if (ident_setup(cfg, err, errlen) < 0)
        return -1;
    capture_setup(cfg);
    sigframe_setup(cfg);
    sigret_setup(cfg);
    tracer.str_max = cfg->str_max;
    const struct vact_config *act = &vring_shm(ring)->act;
    tracer.tracing = (act->flags & VACT_TRACE) != 0;
    if (act->flags & VACT_RING_WAIT)
        vring_set_full_wait(ring, VACT_RING_WAIT_MS);
    if (tracer.tracing)
        stamp_init();
    tracer.hide = hide_setup(act, ring);
    tracer.inject = tracer.tracing && inject_setup(act);
    tracer.callers = tracer.tracing && callers_setup(act);
    vma_setup(cfg, tracer.tracing && (act->flags & VACT_CALLERS));
    fdmem_setup(cfg, tracer.callers);
    hcall_setup((act->flags & VACT_HCALL) != 0);
    hcall_update_setup(ring);
    tracer.nr_restart_syscall = (uint64_t)vsys_number("restart_syscall");
    tracer.nr_execve = vsys_number("execve");
    tracer.nr_execveat = vsys_number("execveat");
    tracer.entry_flags = tracer.inject || tracer.hide
                             ? QEMU_PLUGIN_CB_RW_REGS_PC
                             : QEMU_PLUGIN_CB_R_REGS;
    tracer.return_flags =
        hcall_enabled() ? QEMU_PLUGIN_CB_RW_REGS : QEMU_PLUGIN_CB_R_REGS;
    qemu_plugin_register_vcpu_tb_trans_cb(id, tracer_on_tb_trans, NULL);
    return 0;
}

void tracer_report(char *buf, size_t len)
{
    unsigned ready = 0;
    for (unsigned i = 0; i < tracer.nrings; i++)
        ready += tracer.vcpus[i].ready;
    struct control_stats cs;
    control_stats(&cs);
    struct xlate_counts xc;
    xlate_counts(&xc);
    snprintf(buf, len,
             "%u of %u vCPUs traced; hypercalls %" PRIu64 "; skipped %" PRIu64
             "; fault-ins %" PRIu64 " (%" PRIu64 " refused, %" PRIu64
             " through a signal frame, %" PRIu64
             " lost); inject counts lost %" PRIu64 "; signal hook at %#" PRIx64
             "; stack pages read from RAM %" PRIu64 ", through QEMU %" PRIu64
             "; translations from page tables in RAM %" PRIu64
             " mapped, %" PRIu64 " not mapped",
             ready, tracer.nrings, hcall_count(), cs.skipped, cs.faulted_in,
             cs.fault_in_failed, cs.via_signal, cs.lost, inject_uncounted(),
             sigret_hook_addr(), xc.from_ram, xc.through_qemu, xc.walked,
             xc.missing);
}
