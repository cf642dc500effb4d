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

/* After call `nr` returned `ret`: without the kernel's rename hook (below),
 * calls that may have renamed a thread (prctl PR_SET_NAME; a write to
 * /proc/PID/comm, which is any write as far as the plugin can tell) start a
 * new epoch, so that the next call of every thread reads its name again. */
void ident_after_call(uint64_t nr, bool compat, int64_t ret);
/* Without a trace (no return is seen): both, at the entry. A rename then
 * runs in the kernel, where no identity of its thread is taken. */
void ident_untraced_call(uint64_t nr, bool compat);

/* Kernel functions hooked by address are instrumented before the KASLR
 * slide is known (a translated block keeps the callbacks it was given):
 * whether @vaddr is link-time address @fn under some possible slide, and,
 * once the slide is known, whether it is @fn's address. */
bool ident_kernel_fn_maybe(uint64_t fn, uint64_t vaddr);
bool ident_kernel_fn_is(uint64_t fn, uint64_t vaddr);

/* The context switch (__switch_to, from the profile): whether the
 * instruction at @vaddr may be its first, and the callback there (which
 * reads rsi: registered with register access), that tells the vCPU which
 * task runs next, so that ident() reads nothing in the common case. */
bool ident_switch_maybe(uint64_t vaddr);
void ident_on_switch(struct vcpu *v, uint64_t vaddr);

/* The kernel's rename hook (perf_event_comm, from the profile): whether
 * the instruction at @vaddr may be its first, and the callback there, which
 * starts a new epoch: every rename, by any call or none (io_uring), and
 * nothing else. */
bool ident_comm_maybe(uint64_t vaddr);
void ident_on_comm(uint64_t vaddr);

/* The kernel wrote cr3 on this vCPU (another process's address space, or
 * a new one after execve): the next ident() checks the address space. */
void ident_on_cr3_write(struct vcpu *v);

#endif
