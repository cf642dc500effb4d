/* Branch history of the traced threads (--callers, docs/callers.md).
 *
 * Under TCG a taken branch shows as the next executed translation block
 * starting somewhere other than where the previous one falls through to.
 * Each user-mode block gets a conditional callback that QEMU's generated
 * code runs only while this vCPU's "current thread has a history" word is
 * set, so code of other threads pays one inline compare per block. The
 * history belongs to the thread (its task_struct): the tracer names the
 * thread at every return to user mode, which is where the word is set. */
#ifndef VIGIL_PLUGIN_BRANCHES_H
#define VIGIL_PLUGIN_BRANCHES_H

#include <stdbool.h>
#include <stdint.h>

#include "qemu-api.h"
#include "vcpu.h"
#include "vigil/act.h"
#include "vigil/event.h"
#include "vigil/rawrec.h"

/* From vigil's --callers settings in @act; false (and nothing set up) when
 * --callers is off. Allocates the threads' histories: call at install. */
bool branches_setup(const struct vact_config *act);
bool branches_enabled(void);
unsigned branches_max(void); /* N */

/* At translation: instrument @tb when it is user-mode code. */
void branches_tb_trans(struct qemu_plugin_tb *tb);

/* Thread @t is about to run user code on @vcpu. Returns whether it has a
 * history (is traced). @t NULL: a thread that could not be named, whose
 * branches go nowhere. */
bool branches_enter_user(unsigned vcpu, const struct vraw_task *t);
/* ... and resumes at @ip, which the kernel chose: where an interrupt or a
 * fault stopped it, maybe in the middle of a block, or a signal handler.
 * That is no branch of the thread's own. */
void branches_resume_at(unsigned vcpu, uint64_t ip);

/* --trace exe=: whether the execve (@nr, @args) about to run names the
 * selected program. */
bool branches_exec_wanted(struct vcpu *v, uint64_t nr, const uint64_t args[6]);
/* Thread @t on @vcpu made a successful execve (of the selected program
 * when @chosen): its history starts anew, none of the old image's
 * branches in it. */
void branches_exec_done(unsigned vcpu, const struct vraw_task *t, bool chosen);

/* Whether the thread running on @vcpu has a history (is traced). */
bool branches_current(unsigned vcpu);

/* Where the running thread's history is: its slot (< VRAW_CALLERS_SLOTS),
 * how often that slot's history began anew, and the branches recorded
 * since (wrapping). False when the thread has none. */
struct branches_pos {
    unsigned slot;
    uint32_t gen, total;
};
bool branches_where(unsigned vcpu, struct branches_pos *out);

/* Copy the running thread's last branches, at most @want, oldest first,
 * into @out (room for min(@want, branches_max())). Returns how many. */
unsigned branches_copy(unsigned vcpu, struct vigil_branch *out, unsigned want);

#endif
