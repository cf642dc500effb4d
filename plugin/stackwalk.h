/* Return addresses on a user stack, without frame pointers (--callers,
 * docs/callers.md): the 8-byte words above the stack pointer that point
 * just after a call instruction. A heuristic: a stale return address left
 * on the stack, or data that happens to look like one, is kept too; a
 * frame further up than the byte budget is missed. */
#ifndef VIGIL_PLUGIN_STACKWALK_H
#define VIGIL_PLUGIN_STACKWALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vcpu.h"

/* Bytes of stack looked at above the stack pointer. */
#define STACKWALK_BYTES 4096

/* Up to @k return addresses into @out, innermost first, from the stack at
 * @sp of the thread running on @v, vCPU @vcpu (< VRING_MAX_VCPUS). *trunc is
 * set when the walk stopped at memory it could not read before it had @k of
 * them or its budget.
 */
unsigned stackwalk(struct vcpu *v, unsigned vcpu, uint64_t sp, unsigned k,
                   uint64_t *out, bool *trunc);

/* A call that can change code or what is mapped where (mmap, munmap,
 * mprotect, mremap, execve, ptrace, process_vm_writev, ...) is about to
 * run: forget every remembered verdict. */
void stackwalk_invalidate(void);

#endif
