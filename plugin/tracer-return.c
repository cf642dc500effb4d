/* Returns to user mode (see tracer.c): the call a return finishes, its
 * result and resume address as the kernel's way back shows them, and the
 * return record with what the call wrote. */
#include <string.h>

#include "branches.h"
#include "capture.h"
#include "control.h"
#include "hide.h"
#include "ident.h"
#include "inject.h"
#include "sigframe.h"
#include "sigret.h"
#include "tracer-int.h"
#include "vma.h"
#include "vigil/syscalls.h"

/* A 64-bit call not returning to the instruction after it: either it is to
 * be restarted (the kernel moved the thread back onto the syscall
 * instruction, with the call number, or restart_syscall's, in rax), or a
 * signal handler runs first, and the call's result and resume address are
 * in the handler's signal frame. Sets *ret to what the call returned, as
 * strace shows it (a restart as its ERESTART code), and *ip to where the
 * thread resumes. */
static void restart_or_signal(struct vcpu *v, const struct pending_call *p,
                              uint64_t sp, int64_t *ret, uint64_t *ip)
{
    uint64_t ax = (uint64_t)*ret, at = *ip;
    if (at != p->ip) {
        uint64_t ctx = sigframe_find(v, sp, p->ip + 2, p->ip);
        if (ctx == 0 || !sigframe_get(v, ctx, SC_AX, &ax) ||
            !sigframe_get(v, ctx, SC_IP, &at))
            return; /* not a system call's way back (execve's is not) */
        *ip = at;
        if (at == p->ip + 2) {
            *ret = (int64_t)ax;
            return;
        }
    }
    if (ax == tracer.nr_restart_syscall)
        *ret = -ERESTART_RESTARTBLOCK;
    else if (ax == p->nr)
        *ret = -ERESTARTSYS;
}

/* Thread @t returns to user mode: its branch history (if traced) goes on
 * from where the kernel resumes it. */
static void callers_enter_user(unsigned vcpu, struct vcpu *v,
                               const struct vraw_task *t, enum insn_kind kind)
{
    if (!branches_enter_user(vcpu, t))
        return;
    uint64_t ip = 0;
    if (kind == K_IRET)
        mem(v, reg(v, R_RSP), &ip, sizeof ip); /* the frame's rip */
    else if (kind == K_SYSEXIT)
        ip = reg(v, R_RDX);
    branches_resume_at(vcpu, ip); /* sysret: after the syscall, as it ran */
}

/* Without a trace, a return matters only to the control layer's detours
 * and to the execs and vfork-like calls --hide follows. */
static void untraced_return(unsigned vcpu, struct vcpu *v, enum insn_kind kind)
{
    struct vraw_task t;
    struct pending_call p;
    if (control_busy() && ident(v, &t) && control_return(v, &t, kind == K_IRET))
        return;
    if (__atomic_load_n(&tracer.hide_execs, __ATOMIC_RELAXED) > 0 &&
        ident(v, &t) && pending_take(vcpu, tracer.nrings, t.task, &p)) {
        __atomic_fetch_sub(&tracer.hide_execs, 1, __ATOMIC_RELAXED);
        if (p.tid == t.tid && p.hide_exec)
            hide_exec_result(&t, p.hide_exec, (int64_t)reg(v, R_RAX));
    }
}

/* Where the thread resumes (*ip; 0: after the syscall instruction, as the
 * entry record has it) with which stack (*sp; 0: not read) and result,
 * from the way back to user mode.  @raw is the result a signal delivery
 * saw first, if @have_raw. */
static int64_t return_site(struct vcpu *v, enum insn_kind kind,
                           const struct pending_call *p, bool have_raw,
                           int64_t raw, uint64_t *ip, uint64_t *sp,
                           bool *user64)
{
    int64_t ret = (int64_t)reg(v, R_RAX);
    *user64 = kind == K_SYSRET; /* returning to 64-bit code */
    if (kind == K_IRET) {
        /* The frame: rip, cs, rflags, rsp, ss. */
        uint64_t frame[4] = {0};
        mem(v, reg(v, R_RSP), frame, sizeof frame);
        *ip = frame[0];
        *sp = frame[3];
        *user64 = frame[1] == 0x33; /* __USER_CS */
        if (have_raw)
            ret = raw; /* what the call returned, before any signal */
        else if (*user64 && !p->compat && *ip != p->ip + 2)
            restart_or_signal(v, p, *sp, &ret, ip);
    } else if (kind == K_SYSRET || kind == K_SYSRETL) {
        /* sysret resumes after the syscall instruction, whose address the
         * entry record has: rcx is not worth a register read here. */
        *ip = 0;
        *sp = 0; /* read when needed: sysret leaves it in rsp */
    } else {
        *ip = reg(v, R_RDX); /* sysexit: rip from rdx, rsp from rcx */
        *sp = reg(v, R_RCX);
    }
    return p->compat ? (int32_t)ret : ret;
}

/* The return record, with what the call wrote.  A successful exec leaves
 * nothing of the old address space: a path that faulted at the entry is
 * taken from the new stack (64-bit) instead. */
static void record_return(unsigned vcpu, struct vcpu *v, struct pending_call *p,
                          int64_t ret, uint64_t ip, uint64_t sp, bool user64)
{
    struct vsys_cap caps[VSYS_MAX_CAPS];
    unsigned ncaps = vsys_captures(p->nr, p->compat, caps);
    int exec_argi = -1;
    if (p->retry != 0 && ret == 0) {
        const struct vsys_ent *ent = vsys_lookup(p->nr, p->compat);
        if (ent != NULL && ent->name != NULL &&
            !strncmp(ent->name, "execve", 6)) {
            for (unsigned i = 0; i < ncaps && user64; i++)
                if ((p->retry & (1u << i)) && caps[i].kind == VSYS_CAP_STR)
                    exec_argi = caps[i].argi;
            p->retry = 0;
        }
    }
    uint32_t room = sizeof(struct vraw_exit);
    for (unsigned i = 0; i < ncaps; i++)
        if (caps[i].at_exit || (p->retry & (1u << i)))
            room += capture_room(&caps[i]);
    if (exec_argi >= 0)
        room += VRAW_ALIGN(sizeof(struct vraw_blob) + tracer.str_max);
    struct vraw_exit *x = tracer_exit_record(vcpu, room, p, ret, ip, 0);
    if (x == NULL)
        return;
    uint8_t faulted;
    uint32_t size =
        sizeof *x + capture(v, (uint8_t *)(x + 1), true, caps, ncaps, p->args,
                            p->compat, ret, p->retry, &x->nblobs, &faulted);
    if (exec_argi >= 0 && sp == 0)
        sp = reg(v, R_RSP);
    if (exec_argi >= 0)
        size += capture_exec_path(v, sp, (uint8_t)exec_argi,
                                  (uint8_t *)x + size, &x->nblobs);
    x->h.size = (uint16_t)size;
    vring_commit(tracer.ring, vcpu, size);
}

void tracer_on_return(unsigned int vcpu, void *udata)
{
    enum insn_kind kind = (enum insn_kind)(uintptr_t)udata;
    if (vcpu >= tracer.nrings || !tracer.vcpus[vcpu].ready)
        return;
    struct vcpu *v = &tracer.vcpus[vcpu];
    /* iret also returns to kernel mode. The way to user mode swaps GS
     * first, leaving a user GS base, which is never a kernel address. */
    if (kind == K_IRET && reg(v, R_GS) >= KERNEL_BOTTOM)
        return;
    if (!tracer.tracing) {
        untraced_return(vcpu, v, kind);
        return;
    }
    struct vraw_task t;
    struct pending_call p;
    if (!ident(v, &t)) {
        if (tracer.callers)
            branches_enter_user(vcpu, NULL);
        return;
    }
    if (tracer.callers)
        callers_enter_user(vcpu, v, &t, kind);
    int64_t raw; /* taken at every return, so that none is left over */
    bool have_raw = sigret_take(vcpu, tracer.nrings, &t, &raw);
    if (control_busy() && control_return(v, &t, kind == K_IRET))
        return; /* a detour of the control layer, not a guest call */
    if (!pending_take(vcpu, tracer.nrings, t.task, &p))
        return; /* an interrupt or fault returning, not a system call */
    if (p.tid != t.tid)
        return; /* a dead thread's call: the consumer reports it */
    uint64_t ip, sp;
    bool user64;
    int64_t ret = return_site(v, kind, &p, have_raw, raw, &ip, &sp, &user64);
    if (ret == 0 && p.exec_match && tracer.inject)
        inject_exec_done(&t);
    if (p.hide_exec)
        hide_exec_result(&t, p.hide_exec, ret);
    ident_after_call(p.nr, p.compat, ret);
    if (tracer.callers && ret == 0 && !p.compat &&
        ((int64_t)p.nr == tracer.nr_execve ||
         (int64_t)p.nr == tracer.nr_execveat))
        branches_exec_done(vcpu, &t, p.exec_match);
    record_return(vcpu, v, &p, ret, ip, sp, user64);
    vma_on_return(tracer.ring, vcpu, v, &t, p.nr, p.compat, ret);
}
