/* Signal frames (see sigframe.h); 64-bit frames only. */
#include "sigframe.h"

#include "guestmem.h"

#define CHAIN_MAX 8 /* frames followed down from the handler's */

#define SA_RESTART_ 0x10000000u /* uapi asm-generic/signal-defs.h */
#define NSIG_       64

static struct {
    uint32_t ctx; /* 0: no layout */
    uint16_t off[SC_N];
    uint32_t task_sighand, action; /* action 0: handler flags unknown */
    uint16_t ksa_size, sa_flags;
} sc_layout;

void sigframe_setup(const struct vring_config *c)
{
    sc_layout.ctx = c->sigframe_ctx;
    sc_layout.off[SC_IP] = c->sc_ip;
    sc_layout.off[SC_SP] = c->sc_sp;
    sc_layout.off[SC_AX] = c->sc_ax;
    sc_layout.off[SC_CX] = c->sc_cx;
    sc_layout.off[SC_DI] = c->sc_di;
    sc_layout.off[SC_SI] = c->sc_si;
    sc_layout.off[SC_DX] = c->sc_dx;
    sc_layout.off[SC_R11] = c->sc_r11;
    sc_layout.off[SC_R10] = c->sc_r10;
    sc_layout.task_sighand = c->task_sighand;
    sc_layout.action = c->sighand_action;
    sc_layout.ksa_size = c->k_sigaction_size;
    sc_layout.sa_flags = c->sa_flags;
}

int sigframe_signo(struct vcpu *v)
{
    /* The kernel enters a handler with the signal number in rdi, whether
     * or not it wrote the frame's siginfo (only with SA_SIGINFO). */
    uint64_t signo = reg(v, R_RDI);
    return signo >= 1 && signo <= NSIG_ ? (int)signo : 0;
}

int sigframe_restarts(struct vcpu *v, uint64_t task, int signo)
{
    uint64_t sighand = 0, flags = 0;
    if (sc_layout.action == 0 || signo < 1 || signo > NSIG_ ||
        !mem(v, task + sc_layout.task_sighand, &sighand, sizeof sighand) ||
        sighand == 0 ||
        !mem(v,
             sighand + sc_layout.action +
                 (uint64_t)(signo - 1) * sc_layout.ksa_size +
                 sc_layout.sa_flags,
             &flags, sizeof flags))
        return -1;
    return (flags & SA_RESTART_) != 0;
}

bool sigframe_get(struct vcpu *v, uint64_t ctx, enum sc_reg r, uint64_t *val)
{
    return mem(v, ctx + sc_layout.off[r], val, sizeof *val);
}

bool sigframe_set(struct vcpu *v, uint64_t ctx, enum sc_reg r, uint64_t val)
{
    /* The kernel has just written the frame: its pages are present, dirty
     * and the thread's own. */
    return gm_write(v, ctx + sc_layout.off[r], &val, sizeof val, false) ==
           GM_OK;
}

uint64_t sigframe_find(struct vcpu *v, uint64_t sp, uint64_t ip_a,
                       uint64_t ip_b)
{
    if (sc_layout.ctx == 0)
        return 0;
    for (int depth = 0; depth < CHAIN_MAX && sp < USER_TOP; depth++) {
        uint64_t ctx = sp + sc_layout.ctx, ip;
        if (!sigframe_get(v, ctx, SC_IP, &ip))
            return 0;
        if (ip == ip_a || ip == ip_b)
            return ctx;
        if (!sigframe_get(v, ctx, SC_SP, &sp))
            return 0;
    }
    return 0;
}
