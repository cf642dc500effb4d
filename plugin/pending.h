/* System calls in flight, keyed by the calling thread's task_struct address.
 *
 * An entry is added when a thread enters a system call and taken when that
 * thread next returns to user mode, possibly on another vCPU after blocking.
 * Lock-free: a slot is claimed with compare-and-swap; after that only the
 * owning thread's vCPU touches it, because a guest thread runs on one vCPU
 * at a time and its entry and return are ordered by the guest scheduler.
 */
#ifndef VIGIL_PLUGIN_PENDING_H
#define VIGIL_PLUGIN_PENDING_H

#include <stdbool.h>
#include <stdint.h>

struct pending_call {
    uint64_t task; /* key; 0 empty, 1 deleted */
    uint64_t nr;
    uint64_t args[6];
    uint64_t ts_ns;
    bool compat;
    uint8_t retry; /* bit i: entry capture i faulted, read it again */
    bool vfork;    /* a vfork-like call: the tracer counts these */
};

/* Record on vCPU `vcpu` that `task` entered a call; replaces a stale record
 * of the same task (one whose return was never seen). false when a call it
 * displaced could not be kept (the table is full). */
bool pending_put(unsigned vcpu, uint64_t task, uint64_t nr,
                 const uint64_t args[6], bool compat, uint8_t retry,
                 bool vfork);
/* On vCPU `vcpu` of `nvcpus`: take the record of `task` into *out; false
 * when it has none (an interrupt or fault returning to user mode). */
bool pending_take(unsigned vcpu, unsigned nvcpus, uint64_t task,
                  struct pending_call *out);

#endif
