/* The hidden calls a vCPU answers on its own thread (hide-fast.c):
 * getsockopt, getsockname, getpeername, ioctl(FIONREAD), setsockopt of
 * an allowed option other than a timeout, and sendto and recvfrom with
 * MSG_DONTWAIT on a hidden descriptor, run on the plugin's copy of its
 * host socket, with no hand-off to vigil's executor. The copies come from the
 * executor (lib/hide/share.h) the first time a call on that descriptor goes to
 * it; every change of a process's descriptors forgets them. */
#ifndef VIGIL_PLUGIN_HIDE_FAST_H
#define VIGIL_PLUGIN_HIDE_FAST_H

#include <stdbool.h>
#include <stdint.h>

#include "vigil/hide.h"

/* Connect to the executor's socket at @path (vhide_area.share_path);
 * without it every call goes to the executor. */
void hfast_setup(struct vhide_area *area, const char *path);

/* Whether call @nr with @args is one a copy could answer. */
bool hfast_call(int64_t nr, const uint64_t args[6]);

/* Run slot @s's call (marshalled, not posted) on process @tgid's copy of
 * its descriptor: true with s->result and the outputs set; false when
 * there is no copy, and then *gen (possibly 0: none wanted) is what to
 * ask the executor for with the call (vhide_slot.share_gen). */
bool hfast_run(int32_t tgid, struct vhide_slot *s, uint64_t *gen);

/* Process @tgid's descriptor @fd is about to change (close, dup2 onto
 * it), or all of them (@fd -1: exec; @gone: the process ended): forget
 * the copies, and any still on their way. */
void hfast_forget(int32_t tgid, int64_t fd, bool gone);

/* Read the copies that came after their call was answered (or that a
 * change of descriptors made stale): they hold their sockets open. Cheap
 * when there are none; called at every call of every thread. */
void hfast_drain(void);

#endif
