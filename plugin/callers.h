/* --callers on the plugin's side (docs/callers.md): before a traced
 * thread's call entry, one VRAW_CALLERS record with its branch history
 * (branches.h) and the return addresses on its stack (stackwalk.h). */
#ifndef VIGIL_PLUGIN_CALLERS_H
#define VIGIL_PLUGIN_CALLERS_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu.h"
#include "vigil/act.h"

/* Returns whether --callers is on. */
bool callers_setup(const struct vact_config *act);

/* Any thread's call @nr (of the i386 ABI when @compat) is about to run:
 * one that can change code or mappings makes remembered stack-walk
 * verdicts stale. */
void callers_before_call(uint64_t nr, bool compat);

/* The room the VRAW_CALLERS record of thread @t's call on @vcpu needs in
 * the ring; 0 when the thread is not traced. The record shares one
 * reservation with the entry record it precedes, so that a full ring drops
 * both or neither (a record left without its entry would be attached to
 * the thread's next call). */
uint32_t callers_room(unsigned vcpu, const struct vraw_task *t);
/* Write that record at @dst (callers_room() bytes). Returns its size. */
uint32_t callers_fill(unsigned vcpu, struct vcpu *v, const struct vraw_task *t,
                      void *dst);

#endif
