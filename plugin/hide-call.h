/* Inside the hiding module (hide.c): the slots, for the parts that marshal
 * calls of their own shape: messages (hide-msg.c) and waits for readiness
 * (hide-wait.c). */
#ifndef VIGIL_PLUGIN_HIDE_CALL_H
#define VIGIL_PLUGIN_HIDE_CALL_H

#include "hide.h"

struct vhide_slot *hide_slot(int i);
/* Claim a free slot for thread @t's call at @ip; -1 when all are busy. */
int hide_claim(const struct vraw_task *t, uint64_t ip, int64_t nr);
void hide_release(int i);
/* Post slot @i: executor op @op with arguments @a and @in_len bytes of
 * data already in place. */
void hide_publish(int i, const struct vraw_task *t, int op, const int64_t a[6],
                  uint32_t in_len);
bool hide_fd(uint64_t fd);
/* Guest memory at [@va, +@len) must first be faulted in (GM_FAULT_IN) for
 * thread @t's call at @ip: 0 when the instruction now does that and then
 * runs again, -EFAULT when it cannot be (the kernel refused it on the
 * last try). Releases @slot unless it is -1. */
int64_t hide_fault(struct vcpu *v, const struct vraw_task *t, uint64_t ip,
                   int slot, uint64_t va, uint64_t len, bool write);

/* Calls of the plain shape (hide-plain.c). hplain_post() returns 1 once
 * posted, 2 when the plugin's copy of the socket answered it instead
 * (hide-fast.h: the slot holds the answer, unposted), 0 when guest pages
 * must first be faulted in (the slot is then released, and the instruction
 * does that), or -errno for the guest. hplain_deliver() writes the answer
 * into guest memory and returns the call's result. */
int64_t hplain_post(struct vcpu *v, const struct vraw_task *t, uint64_t ip,
                    int64_t nr, const uint64_t args[6], int slot);
int64_t hplain_deliver(struct vcpu *v, int slot, const uint64_t args[6]);

/* Messages (hide-msg.c): readv, writev, sendmsg, recvmsg, sendmmsg,
 * recvmmsg on a hidden descriptor. hmsg_post() returns 1 once posted,
 * -errno for the guest, or 0 when guest pages must first be faulted in
 * (the slot is then released, and the instruction does that). */
bool hmsg_call(int64_t nr);
int64_t hmsg_post(struct vcpu *v, const struct vraw_task *t, uint64_t ip,
                  int64_t nr, const uint64_t args[6], int slot);
int64_t hmsg_deliver(struct vcpu *v, int slot, int64_t nr,
                     const uint64_t args[6]);

/* Waits (hide-wait.c): poll and ppoll over sets with hidden descriptors,
 * epoll_ctl of hidden descriptors, and epoll_wait, epoll_pwait,
 * epoll_pwait2 on an epoll instance that holds some. A set that mixes
 * hidden and guest descriptors is waited for in rounds: the executor's
 * answer for the hidden ones, then the guest kernel's for its own (the
 * instruction becomes that call, with the hidden entries masked), until
 * either has something or the timeout passes. */
void hwait_setup(void);
/* At the entry of call @nr: HIDE_NO when it is not one of these. */
enum hide_state hwait_post(struct vcpu *v, const struct vraw_task *t,
                           uint64_t ip, int64_t nr, const uint64_t args[6],
                           int64_t *result);
/* The executor answered slot @i, a wait's query. */
enum hide_state hwait_answer(struct vcpu *v, const struct vraw_task *t,
                             uint64_t ip, int i, const uint64_t args[6],
                             int64_t *result);
/* The instruction of a wait between rounds runs again: HIDE_NO when
 * thread @t has no wait at @ip. */
enum hide_state hwait_resume(struct vcpu *v, const struct vraw_task *t,
                             uint64_t ip, const uint64_t args[6],
                             int64_t *result);
/* The process exec'd or ended: forget its epoll instances. */
void hwait_forget(int32_t tgid);

#endif
