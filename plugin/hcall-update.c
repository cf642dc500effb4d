/* The signed update hypercall (RAX=2, the seed's VMCALL): RBX the bundle,
 * RCX its length, RDX a result buffer of HCALL_UPDATE_MSG bytes.
 *
 * Verifying and applying an update takes far longer than a vCPU callback
 * may, so the call is a conversation: the bundle is copied into the
 * transfer area (at most COPY_STEP bytes per visit, the vmcall running
 * again between them), posted to vigil, and the thread waits in the guest
 * kernel (control_park) until vigil has answered; then the answer goes into
 * the result buffer and rax. One update at a time: another thread's call
 * meanwhile gets -EBUSY. The thread that owns the request is the only one
 * that touches its state, and it runs on one vCPU at a time.
 */
#include "hcall-update.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "control.h"
#include "guestmem.h"
#include "ident.h"
#include "vigil/clock.h"

#define VMCALL_LEN 3
#define COPY_STEP  (1u << 20)
#define ABANDON_NS (10ull * 1000000000ull) /* an owner that stopped coming */

enum { IDLE, COPYING, WAITING };

static struct {
    struct vring_req *req;
    uint8_t *xfer;
    size_t xfer_len;
    uint64_t owner; /* the owning thread's task_struct; 0: free */
    int32_t tid;
    int state;
    uint64_t buf, len, res;
    uint64_t copied, seq, last_ns;
    int64_t result;
    char msg[VREQ_MSG_MAX];
} upd;

void hcall_update_setup(struct vring_map *ring)
{
    upd.req = &vring_shm(ring)->req;
    upd.xfer = vring_xfer(ring, &upd.xfer_len);
}

static void release(void)
{
    upd.state = IDLE;
    __atomic_store_n(&upd.owner, 0, __ATOMIC_RELEASE);
}

/* The answer into the result buffer; rax is the result whatever becomes
 * of the text. */
static int64_t answer(struct vcpu *v, bool faulted_in, bool *fault_in)
{
    size_t n = strnlen(upd.msg, sizeof upd.msg - 1) + 1;
    *fault_in = false;
    enum gm_result r = gm_write(v, upd.res, upd.msg, (uint32_t)n, faulted_in);
    if (r == GM_FAULT_IN && !faulted_in) {
        *fault_in = true;
        return 0;
    }
    int64_t result = upd.result;
    release();
    return result;
}

static int64_t answer_finish(struct vcpu *v, const uint64_t arg[4],
                             bool faulted_in)
{
    bool again;
    (void)arg;
    if (!faulted_in) {
        int64_t result = upd.result;
        release();
        return result;
    }
    return answer(v, true, &again);
}

void hcall_update(struct vcpu *v, uint64_t ip)
{
    struct vraw_task t;
    uint64_t now = vigil_now_ns(CLOCK_MONOTONIC);
    if (upd.req == NULL || !ident(v, &t) || t.task == 0)
        control_skip(v, ip, VMCALL_LEN, -EFAULT);
    uint64_t owner = __atomic_load_n(&upd.owner, __ATOMIC_ACQUIRE);
    if (owner != t.task || upd.tid != t.tid) {
        /* A request left by a thread that died or stopped coming is taken
         * back once vigil is done with it. */
        if (owner != 0 && now - upd.last_ns > ABANDON_NS &&
            __atomic_load_n(&upd.req->state, __ATOMIC_ACQUIRE) != VREQ_POSTED &&
            __atomic_compare_exchange_n(&upd.owner, &owner, 0, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
            __atomic_store_n(&upd.req->state, VREQ_FREE, __ATOMIC_RELEASE);
            owner = 0;
        }
        uint64_t len = reg(v, R_RCX);
        if (owner != 0)
            control_skip(v, ip, VMCALL_LEN, -EBUSY);
        if (len == 0 || len > upd.xfer_len)
            control_skip(v, ip, VMCALL_LEN, -E2BIG);
        if (!__atomic_compare_exchange_n(&upd.owner, &owner, t.task, false,
                                         __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
            control_skip(v, ip, VMCALL_LEN, -EBUSY);
        upd.tid = t.tid;
        upd.buf = reg(v, R_RBX);
        upd.len = len;
        upd.res = reg(v, R_RDX);
        upd.copied = 0;
        upd.state = COPYING;
    }
    upd.last_ns = now;

    if (upd.state == COPYING) {
        uint64_t n =
            upd.len - upd.copied < COPY_STEP ? upd.len - upd.copied : COPY_STEP;
        if (gm_read(v, upd.buf + upd.copied, upd.xfer + upd.copied,
                    (uint32_t)n) != GM_OK) {
            release();
            control_skip(v, ip, VMCALL_LEN, -EFAULT);
        }
        upd.copied += n;
        if (upd.copied < upd.len)
            qemu_plugin_set_pc(ip); /* the next piece on the next visit */
        upd.req->fn = HCALL_UPDATE;
        upd.req->len = upd.len;
        upd.req->seq = ++upd.seq;
        __atomic_store_n(&upd.req->state, VREQ_POSTED, __ATOMIC_RELEASE);
        upd.state = WAITING;
    } else if (__atomic_load_n(&upd.req->state, __ATOMIC_ACQUIRE) ==
               VREQ_DONE) {
        upd.result = upd.req->result;
        memcpy(upd.msg, upd.req->msg, sizeof upd.msg);
        upd.msg[sizeof upd.msg - 1] = '\0';
        __atomic_store_n(&upd.req->state, VREQ_FREE, __ATOMIC_RELEASE);
        bool fault_in;
        int64_t result = answer(v, false, &fault_in);
        if (fault_in && !control_fault_in(v, &t, ip, VMCALL_LEN, upd.res,
                                          sizeof upd.msg, answer_finish, NULL))
            result = answer_finish(v, NULL, false);
        control_skip(v, ip, VMCALL_LEN, result);
    }
    if (!control_park(v, &t, ip, VMCALL_LEN, NULL, NULL)) {
        /* No way to wait in the kernel: come back at once. */
        qemu_plugin_set_pc(ip);
    }
}
