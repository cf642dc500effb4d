/* Hidden socket calls, the plugin's side (hide.c; docs/hide.md). */
#ifndef VIGIL_PLUGIN_HIDE_H
#define VIGIL_PLUGIN_HIDE_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu.h"
#include "vigil/act.h"
#include "vigil/hide.h"
#include "vigil/rawrec.h"
#include "vigil/ring.h"

/* Keep the --hide selections and the channel's slots; false when nothing
 * is hidden. */
bool hide_setup(const struct vact_config *act, struct vring_map *ring);
bool hide_on(void);

enum hide_state {
    HIDE_NO,       /* the guest kernel's call */
    HIDE_ANSWERED, /* answered at once (*result): record and skip it */
    HIDE_POSTED,   /* posted: wait with hide_resume() */
    HIDE_WAITING,  /* the instruction is now a wait in the guest kernel:
                      return from the callback and let it run */
};

/* At a 64-bit call's entry (@nr, @args) by thread @t at @ip: whether the
 * call is one vigil runs for a hidden process, and if so post it. May not
 * return when a buffer must first be faulted in (the instruction then runs
 * again). */
enum hide_state hide_post(struct vcpu *v, const struct vraw_task *t,
                          uint64_t ip, uint64_t nr, const uint64_t args[6],
                          int64_t *result);

/* Thread @t's posted call at @ip (just posted, or the instruction run
 * again after a wait): HIDE_ANSWERED with *result (the caller records the
 * return and skips the instruction), HIDE_WAITING, or HIDE_NO when the
 * thread has no call posted at @ip. */
/* Whether thread @t comes back to its hidden call at @ip after a signal
 * handler interrupted its wait (the call is then traced anew); once. */
/* Whether the kernel instruction at @vaddr may be the entry of the
 * function where the end of a whole process is seen (acct_process, or
 * do_group_exit; ring.h), under some KASLR slide; hide_group_exit() then
 * decides, with the slide, at its every run. A process killed by a
 * signal, or whose last thread ends by exit, makes no exit_group call of
 * its own. */
bool hide_group_exit_maybe(uint64_t vaddr);
void hide_group_exit(struct vcpu *v, uint64_t vaddr);

bool hide_take_restart(const struct vraw_task *t, uint64_t ip);

enum hide_state hide_resume(struct vcpu *v, const struct vraw_task *t,
                            uint64_t ip, const uint64_t args[6],
                            int64_t *result);

/* Tell the executor of process event @op (VHIDE_OP_*, with argument @arg)
 * of @t's process, for its descriptor tables; nobody waits for an
 * event's answer. */
void hide_event(const struct vraw_task *t, int op, int64_t arg);

/* An execve about to run (@nr, @args) by @t: a mask saying which --hide
 * exe= it names and whether its caller is hidden (0: none of that); at its
 * return, hide_exec_result() selects the process and closes its
 * close-on-exec hidden sockets. */
uint8_t hide_exec_wanted(struct vcpu *v, const struct vraw_task *t, uint64_t nr,
                         const uint64_t args[6]);
void hide_exec_result(const struct vraw_task *t, uint8_t mask, int64_t ret);

#endif
