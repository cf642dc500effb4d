/* Signal frames on the way back to user mode (sigframe.c).
 *
 * When a signal with a handler is pending as a system call returns, the
 * guest kernel saves the thread's registers, the call's result among them,
 * in a signal frame on the user stack and returns into the handler instead;
 * rt_sigreturn later resumes from the frame. What the call returned, and
 * where the thread resumes, are then only in the frame. Several signals
 * delivered at once stack several frames, each saving the handler entry of
 * the one below.
 */
#ifndef VIGIL_PLUGIN_SIGFRAME_H
#define VIGIL_PLUGIN_SIGFRAME_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu.h"
#include "vigil/ring.h"

enum sc_reg {
    SC_IP,
    SC_SP,
    SC_AX,
    SC_CX,
    SC_DI,
    SC_SI,
    SC_DX,
    SC_R11,
    SC_R10,
    SC_N
};

/* Keep the frame layout from the channel header; without one (the kernel's
 * BTF lacked it) sigframe_find() finds nothing. */
void sigframe_setup(const struct vring_config *cfg);

/* Returning to user mode at stack pointer @sp: the saved context (its user
 * address) of the frame, on that stack or down the chain, whose saved ip
 * is @ip_a or @ip_b; 0 when there is none. */
uint64_t sigframe_find(struct vcpu *v, uint64_t sp, uint64_t ip_a,
                       uint64_t ip_b);

/* At the return to user mode into a handler: the signal it handles; 0 when
 * unknown. */
int sigframe_signo(struct vcpu *v);

/* Whether the handler thread @task (its task_struct) has for signal
 * @signo restarts the call it interrupts (SA_RESTART), read from the
 * guest kernel: 1, 0, or -1 when unknown. */
int sigframe_restarts(struct vcpu *v, uint64_t task, int signo);

bool sigframe_get(struct vcpu *v, uint64_t ctx, enum sc_reg r, uint64_t *val);
/* Change a saved register, as the thread's own store to its stack would. */
bool sigframe_set(struct vcpu *v, uint64_t ctx, enum sc_reg r, uint64_t val);

#endif
