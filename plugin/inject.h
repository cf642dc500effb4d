/* Call injection (inject.c): `vigil run --inject`, strace's -e inject from
 * outside the guest. A chosen call of a selected thread returns the chosen
 * result without reaching the guest kernel (control_skip). */
#ifndef VIGIL_PLUGIN_INJECT_H
#define VIGIL_PLUGIN_INJECT_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu.h"
#include "vigil/act.h"
#include "vigil/rawrec.h"

/* Keep the rules; false when there are none. */
bool inject_setup(const struct vact_config *act);

/* Whether 64-bit call @nr of thread @t is to be injected now, and with
 * what result. Counts the call when it is one the rules name. */
bool inject_decide(const struct vraw_task *t, uint64_t nr, int64_t *ret);

/* exe= selection: whether the execve (@nr, @args) about to run names the
 * selected program; after it succeeded, inject_exec_done() selects the
 * thread's process. */
bool inject_exec_wanted(struct vcpu *v, uint64_t nr, const uint64_t args[6]);
void inject_exec_done(const struct vraw_task *t);

/* Calls whose count could not be kept (the table was full). */
uint64_t inject_uncounted(void);

#endif
