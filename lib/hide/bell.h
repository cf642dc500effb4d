/* Wake-ups between the plugin and vigil's executor over the channel's
 * shared mapping (bell.c): futexes, so that neither side has to spin or
 * sleep a fixed time to see the other's post or answer. */
#ifndef VIGIL_LIB_HIDE_BELL_H
#define VIGIL_LIB_HIDE_BELL_H

#include <stdbool.h>
#include <stdint.h>

#include "vigil/hide.h"

/* Plugin: slot @s is posted (state POSTED): ring the executor's bell,
 * with a wake-up only when it sleeps. */
void hbell_ring(struct vhide_area *a);

/* Executor: sleep until a post rings the bell or @timeout_ns passes.
 * @posted is called after the executor says it sleeps; when it finds a
 * posted slot (one rung before that) there is no sleep. */
void hbell_sleep(struct vhide_area *a, uint64_t timeout_ns,
                 bool (*posted)(void *), void *ctx);

/* Executor: slot @s is answered: state DONE, and its vCPU woken when it
 * sleeps on the slot. */
void hbell_done(struct vhide_slot *s);

/* Executor: slot @s's call must wait for its socket: wake its vCPU,
 * which then waits in the guest kernel instead. */
void hbell_blocked(struct vhide_slot *s);

/* Plugin: sleep until slot @s is no longer POSTED or CLOCK_MONOTONIC
 * reaches @until_ns, or, once the executor says the call is blocked,
 * @blocked_until_ns; whether it is no longer POSTED. */
bool hbell_wait(struct vhide_slot *s, uint64_t until_ns,
                uint64_t blocked_until_ns);

#endif
