/* A call's result as the kernel had it before delivering a signal
 * (sigret.c).
 *
 * On its way back to user mode, a call may meet a pending signal. The
 * kernel then turns its result into what the thread will see (a restart
 * code becomes -EINTR, or the call number again for a restart) and may
 * enter a handler first, so the registers at the return no longer hold
 * what the call returned. strace, stopped at the call's exit, shows the
 * result before that. vigil reads it at the same point: at the entry of
 * the kernel function that delivers signals, from the pt_regs it is given,
 * once the KASLR slide is known (ident.h).
 */
#ifndef VIGIL_PLUGIN_SIGRET_H
#define VIGIL_PLUGIN_SIGRET_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu.h"
#include "vigil/rawrec.h"
#include "vigil/ring.h"

void sigret_setup(const struct vring_config *cfg);

/* Where the hook goes in the running kernel; 0 while unknown. */
uint64_t sigret_hook_addr(void);

/* The hook, on vCPU @vcpu at the entry of the signal delivery function. */
void sigret_on_hook(struct vcpu *v, unsigned vcpu);

/* At thread @t's return to user mode: the result recorded for it since its
 * last return, if any. Every return takes what was recorded. */
bool sigret_take(unsigned vcpu, unsigned nvcpus, const struct vraw_task *t,
                 int64_t *raw);

#endif
