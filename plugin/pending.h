/* System calls in flight, keyed by the calling thread's task_struct address.
 * A task_struct freed by a thread that died in a call (SIGKILL) may be
 * reused by a new thread; the thread id in each record tells the two apart.
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
    int32_t tid;   /* the thread that made the call */
    uint64_t nr;
    uint64_t args[6];
    uint64_t ip; /* user address of the system call instruction */
    bool compat;
    uint8_t retry;     /* bit i: entry capture i faulted, read it again */
    bool exec_match;   /* an execve of the program --trace exe= selects
                          (asked when --inject or --callers needs it) */
    uint8_t hide_exec; /* an execve that matters to --hide (hide.h) */
};

/* Record on vCPU `vcpu` that `c->task` entered a call; replaces a stale
 * record of the same task (one whose return was never seen). false when a
 * call it displaced could not be kept (the table is full). */
bool pending_put(unsigned vcpu, const struct pending_call *c);
/* On vCPU `vcpu` of `nvcpus`: take the record of `task` into *out; false
 * when it has none (an interrupt or fault returning to user mode). A record
 * whose out->tid is not the returning thread's is a dead thread's. */
bool pending_take(unsigned vcpu, unsigned nvcpus, uint64_t task,
                  struct pending_call *out);

#endif
