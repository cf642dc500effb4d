/* Calls in flight (see pending.h).
 *
 * The common case, a call returning on the vCPU it entered on, never leaves
 * that vCPU's own slot. When a thread blocks and another enters a call on
 * the same vCPU, the blocked call is moved to a shared table, from which its
 * thread takes it on whatever vCPU it returns. A return may also find its
 * call still in another vCPU's slot.
 *
 * Publication: a slot or table entry is filled first and then made visible
 * by storing its task with release semantics; a taker reads the fields and
 * then claims them with compare-and-swap on the task, using what it read
 * only if it won. A call being moved is briefly in neither place; `moving`
 * counts such moves so that a taker that found nothing can tell "nothing
 * there" from "in transit" without any lock.
 */
#include <sched.h>
#include <string.h>

#include "pending.h"
#include "vigil/ring.h"

#define SLOTS     65536 /* power of two; threads blocked in calls at once */
#define MAX_PROBE 256
#define EMPTY     0
#define DELETED   1
#define BUSY      2 /* being filled */

static struct pending_call table[SLOTS];

static struct {
    struct pending_call call;
    uint64_t task;
} _Alignas(64) local[VRING_MAX_VCPUS];

static int moving;

static unsigned slot_of(uint64_t task)
{
    /* task_structs are slab-aligned: mix the high bits down. */
    return (unsigned)((task * 0x9e3779b97f4a7c15ull) >> 51) & (SLOTS - 1);
}

static bool table_put(uint64_t task, const struct pending_call *call)
{
    unsigned s = slot_of(task);
    for (unsigned k = 0; k < MAX_PROBE; k++, s = (s + 1) & (SLOTS - 1)) {
        uint64_t key = __atomic_load_n(&table[s].task, __ATOMIC_ACQUIRE);
        if (key != EMPTY && key != DELETED && key != task)
            continue;
        /* Free, or a stale call of the same task: claim it. */
        if (!__atomic_compare_exchange_n(&table[s].task, &key, BUSY, false,
                                         __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            continue;
        /* The key stays BUSY until the fields are all in place. */
        struct pending_call fill = *call;
        fill.task = BUSY;
        table[s] = fill;
        __atomic_store_n(&table[s].task, task, __ATOMIC_RELEASE);
        return true;
    }
    return false;
}

static bool table_take(uint64_t task, struct pending_call *out)
{
    unsigned s = slot_of(task);
    for (unsigned k = 0; k < MAX_PROBE; k++, s = (s + 1) & (SLOTS - 1)) {
        uint64_t key = __atomic_load_n(&table[s].task, __ATOMIC_ACQUIRE);
        if (key == EMPTY)
            return false;
        if (key != task)
            continue;
        struct pending_call copy = table[s];
        if (__atomic_compare_exchange_n(&table[s].task, &key, DELETED, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            *out = copy;
            return true;
        }
    }
    return false;
}

/* Take the call of `task` from vCPU i's slot. */
static bool local_take(unsigned i, uint64_t task, struct pending_call *out)
{
    if (__atomic_load_n(&local[i].task, __ATOMIC_ACQUIRE) != task)
        return false;
    struct pending_call copy = local[i].call;
    uint64_t want = task;
    if (!__atomic_compare_exchange_n(&local[i].task, &want, 0, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return false;
    *out = copy;
    return true;
}

bool pending_put(unsigned vcpu, const struct pending_call *call)
{
    bool ok = true;
    uint64_t task = call->task;
    uint64_t old = __atomic_load_n(&local[vcpu].task, __ATOMIC_ACQUIRE);
    if (old != 0) {
        /* A call still open here: its thread blocked, or (if it is this
         * same thread) never returned. Another thread's goes to the table;
         * a thread's own stale call is dropped. */
        struct pending_call moved;
        __atomic_fetch_add(&moving, 1, __ATOMIC_SEQ_CST);
        if (local_take(vcpu, old, &moved) && old != task)
            ok = table_put(old, &moved);
        __atomic_fetch_sub(&moving, 1, __ATOMIC_SEQ_CST);
    }
    struct pending_call *c = &local[vcpu].call;
    *c = *call;
    __atomic_store_n(&local[vcpu].task, task, __ATOMIC_RELEASE);
    return ok;
}

bool pending_take(unsigned vcpu, unsigned nvcpus, uint64_t task,
                  struct pending_call *out)
{
    /* Slots first, the table last: a move takes a call out of a slot
     * before it reaches the table, so looking in that order, a call that
     * was in neither place was in transit, and `moving` says so. */
    for (unsigned round = 0; round < 100000; round++) {
        /* The mover may have been preempted mid-move by the host: after a
         * few quick tries, let it run. */
        if (round >= 16)
            sched_yield();
        if (local_take(vcpu, task, out))
            return true;
        for (unsigned i = 0; i < nvcpus; i++)
            if (i != vcpu && local_take(i, task, out))
                return true;
        int in_transit = __atomic_load_n(&moving, __ATOMIC_SEQ_CST);
        if (table_take(task, out))
            return true;
        if (in_transit == 0)
            return false; /* an interrupt or fault returning */
    }
    return false;
}
