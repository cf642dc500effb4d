/* vigil's hypercalls (hypercall.c): the guest's way to talk to vigil, as
 * the seed's VMCALL was to BitVisor. A user-mode `vmcall` (0f 01 c1) in
 * 64-bit code is answered by vigil and skipped, so the guest sees no #UD:
 * function in rax, arguments in rbx, rcx and rdx, result in rax (-errno on
 * failure); rcx and r11 are clobbered as by the syscall instruction.
 * docs/runtime.md lists the functions.
 */
#ifndef VIGIL_PLUGIN_HYPERCALL_H
#define VIGIL_PLUGIN_HYPERCALL_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu.h"

enum {
    HCALL_IDENTIFY = 1, /* rbx buffer, rcx length: "vigil VERSION" */
    /* 2: a signed update (hcall-update.h) */
};

void hcall_setup(bool enabled);
bool hcall_enabled(void);

/* The vmcall at user address @ip is about to execute on vCPU @v. Does not
 * return when vigil answers it; returns when it is not vigil's to answer
 * (hypercalls off, kernel mode), and the guest gets the #UD it would get
 * without vigil. Needs QEMU_PLUGIN_CB_RW_REGS_PC. */
void hcall_exec(struct vcpu *v, uint64_t ip);

/* Hypercalls answered, for the plugin's exit report. */
uint64_t hcall_count(void);

#endif
