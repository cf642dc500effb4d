/* The active-control layer (control.c): the one place where the plugin
 * changes what a guest thread does. Everything that acts on the guest (call
 * injection, hypercalls, and the features built on them) goes through these
 * primitives:
 *
 *   - skip an instruction with a result: the thread resumes after it with
 *     rax set and rcx and r11 as the syscall instruction leaves them, so a
 *     skipped call looks like one the kernel answered;
 *   - have the guest kernel fault pages in for write on the thread's
 *     behalf, then finish the instruction (guestmem.h says why vigil never
 *     writes a page the kernel has not made the thread's own).
 *
 * All of it runs on vCPU threads and is bounded: a few register and guest
 * memory accesses, a lookup in a fixed table. Waiting happens in the guest
 * kernel (the fault-in is a system call of the thread), so other vCPUs and
 * threads run meanwhile.
 */
#ifndef VIGIL_PLUGIN_CONTROL_H
#define VIGIL_PLUGIN_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu.h"
#include "vigil/rawrec.h"

/* Resume the current thread after the @len-byte instruction at @ip, as if
 * it had returned @result. Only from a callback registered with
 * QEMU_PLUGIN_CB_RW_REGS_PC. */
_Noreturn void control_skip(struct vcpu *v, uint64_t ip, unsigned len,
                            int64_t result);

/* A user-mode syscall instruction at @ip ran in address space @cr3: a place
 * from which the thread can be made to enter the kernel. */
void control_note_site(uint64_t cr3, uint64_t ip);

/* Computes the instruction's result once the fault-in is over:
 * @faulted_in is false when the kernel refused (the range is not mapped
 * writable). Runs at the return to user mode. */
typedef int64_t (*control_finish_fn)(struct vcpu *v, const uint64_t arg[4],
                                     bool faulted_in);

/* Have the guest kernel fault [@start, @start + @len) in for write for
 * thread @t (madvise MADV_POPULATE_WRITE, entered from a syscall
 * instruction of the thread's own address space), then resume the thread
 * after the @insn_len-byte instruction at @ip with rax = @finish(@arg).
 * When that instruction is a syscall instruction itself, returns true and
 * the caller lets it execute (it enters the kernel for the fault-in); else
 * does not return. Returns false when it cannot be done (no syscall
 * instruction known in this address space). Needs
 * QEMU_PLUGIN_CB_RW_REGS_PC. */
bool control_fault_in(struct vcpu *v, const struct vraw_task *t, uint64_t ip,
                      unsigned insn_len, uint64_t start, uint64_t len,
                      control_finish_fn finish, const uint64_t arg[4]);

/* Have the guest kernel fault [@start, @start + @len) in for thread @t,
 * for writing (@write) or reading, then execute the @insn_len-byte
 * instruction at @ip again. When the kernel refuses (the range is not
 * mapped that way), control_refused() says so once, to the instruction's
 * handler, which then fails it as the kernel would. Same return
 * convention as control_fault_in(). */
bool control_prefault(struct vcpu *v, const struct vraw_task *t, uint64_t ip,
                      unsigned insn_len, uint64_t start, uint64_t len,
                      bool write);

bool control_refused(const struct vraw_task *t, uint64_t ip);

/* A park's wait that a signal handler interrupted: @signo (0 when
 * unknown) runs its handler before the instruction runs again. For
 * @arg's owner to decide what the instruction then does; runs at the
 * return to user mode. */
typedef void (*control_signal_fn)(struct vcpu *v, const struct vraw_task *t,
                                  const uint64_t arg[4], int signo);

/* Have thread @t wait a moment in the guest kernel (poll(NULL, 0, 1)),
 * then execute the @insn_len-byte instruction at @ip again with its
 * registers as they are now, except rcx (which the wait leaves pointing at
 * the instruction, as a system call leaves it) and r11. The instruction's
 * handler decides again then: this is how a guest thread waits for vigil
 * without stopping its vCPU. A signal that arrives meanwhile runs its
 * handler first, after @signal (if any) was told, with @arg. Same return
 * convention as control_fault_in(). */
bool control_park(struct vcpu *v, const struct vraw_task *t, uint64_t ip,
                  unsigned insn_len, control_signal_fn signal,
                  const uint64_t arg[4]);

/* What a call made by control_call_again() returned (@kret), for the
 * caller's record in @arg; runs at the return to user mode. */
typedef void (*control_done_fn)(struct vcpu *v, const uint64_t arg[4],
                                int64_t kret);

/* Like control_park(), with a call of the caller's choosing: the thread
 * enters the guest kernel with call @nr (@a: rdi rsi rdx r10), @done gets
 * its result, and the @insn_len-byte instruction at @ip then runs again
 * with its own registers. How vigil has the guest kernel do its part of a
 * call that mixes hidden and guest descriptors. */
bool control_call_again(struct vcpu *v, const struct vraw_task *t, uint64_t ip,
                        unsigned insn_len, uint64_t nr, const uint64_t a[4],
                        control_done_fn done, const uint64_t arg[4]);

/* Whether any detour is under way: the hot path's only cost. */
bool control_busy(void);

/* At a syscall entry at @ip: true when this is thread @t's own fault-in
 * call, which is not the guest's and not traced. */
bool control_entry(struct vcpu *v, const struct vraw_task *t, uint64_t ip);

/* At a return to user mode (@iret: by iretq, else sysretq): if thread @t's
 * fault-in is returning, finish its instruction and return true (the return
 * is not a traced call's). Needs QEMU_PLUGIN_CB_RW_REGS. */
bool control_return(struct vcpu *v, const struct vraw_task *t, bool iret);

/* Counters for the plugin's exit report. */
struct control_stats {
    uint64_t skipped;         /* instructions skipped with a result */
    uint64_t faulted_in;      /* detours through the kernel started */
    uint64_t fault_in_failed; /* ... that the kernel refused */
    uint64_t via_signal;      /* ... finished in a signal frame */
    uint64_t parked;          /* waits in the guest kernel */
    uint64_t lost;            /* ... abandoned (see control.c) */
};
void control_stats(struct control_stats *out);

#endif
