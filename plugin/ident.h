/* Which guest thread is running (ident.c). */
#ifndef VIGIL_PLUGIN_IDENT_H
#define VIGIL_PLUGIN_IDENT_H

#include <stddef.h>

#include "vcpu.h"
#include "vigil/ring.h"

/* Check and keep the task_struct layout from the ring header. Returns 0, or
 * -1 with a message in err. */
int ident_setup(const struct vring_config *cfg, char *err, size_t errlen);

/* The running thread, from the vCPU's cache or the guest kernel. Returns
 * false (with t->task set to what was read) when it does not look like a
 * task: the profile does not match the kernel. */
bool ident(struct vcpu *v, struct vraw_task *t);

/* The KASLR slide, once known: init's parent is init_task, whose link-time
 * address the profile has, so the first call of pid 1 tells it. */
bool ident_kernel_slide(uint64_t *slide);

/* The running thread, from inside the kernel (GS swapped), uncached. */
bool ident_in_kernel(struct vcpu *v, struct vraw_task *t);

/* Before call `nr` runs: calls that may change which thread a cache entry
 * names start a new epoch. */
void ident_before_call(uint64_t nr, bool compat);

/* After call `nr` returned `ret`: calls that may have renamed a thread
 * (prctl PR_SET_NAME; a write to /proc/PID/comm, which is any write as far
 * as the plugin can tell) start a new epoch, so that the next call of every
 * thread reads its name again. */
void ident_after_call(uint64_t nr, bool compat, int64_t ret);
/* Without a trace (no return is seen): both, at the entry. A rename then
 * runs in the kernel, where no identity of its thread is taken. */
void ident_untraced_call(uint64_t nr, bool compat);

/* Whether call `nr` makes a child that runs on the caller's TLS and page
 * tables until it execs (vfork; clone with CLONE_VM but not CLONE_THREAD).
 * While one is in flight, bracketed by begin/end, the cache is bypassed. */
bool ident_vfork_like(struct vcpu *v, uint64_t nr, const uint64_t args[6],
                      bool compat);
void ident_vfork_begin(void);
void ident_vfork_end(void);

#endif
