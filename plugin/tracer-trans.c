/* What the tracer hooks, decided as each translation block is translated:
 * the system call instructions of user mode (with the call number when the
 * block shows it), the kernel's return-to-user instructions, its writes to
 * cr3, vigil's hypercall, and the kernel functions other modules follow
 * (signal delivery, the context switch, a thread group's exit). Runs on
 * vCPU threads, as tracer.c. */
#include <stddef.h>
#include <stdint.h>

#include "branches.h"
#include "hide.h"
#include "hypercall.h"
#include "ident.h"
#include "qemu-api.h"
#include "sigret.h"
#include "tracer-int.h"
#include "vigil/le.h"
#include "xlate.h"

static void *entry_data(uint64_t vaddr, enum insn_kind k, uint32_t nr1)
{
    return (void *)(uintptr_t)(vaddr | (uint64_t)nr1 << ENTRY_IP_BITS |
                               (uint64_t)k << (ENTRY_IP_BITS + ENTRY_NR_BITS));
}

/* The call number a `syscall` is certain to see, from the instruction
 * before it in the same translation block: `mov $N, %eax` (b8 imm32) or
 * `mov $N, %rax` (48 c7 c0 imm32), which is how libc's wrappers load it.
 * A block is only ever entered at its start, so that instruction ran just
 * before; a jump straight onto the `syscall` starts a block of its own,
 * where nothing precedes it. Saves the rax read (a call through QEMU's
 * gdb register path) on most calls. Returns the number plus one; 0: not
 * known. */
static uint32_t known_number(struct qemu_plugin_insn *prev)
{
    uint8_t b[7];
    size_t len = qemu_plugin_insn_size(prev);
    if (len != 5 && len != 7)
        return 0;
    if (qemu_plugin_insn_data(prev, b, len) != len)
        return 0;
    const uint8_t *imm;
    if (len == 5 && b[0] == 0xb8)
        imm = b + 1;
    else if (len == 7 && b[0] == 0x48 && b[1] == 0xc7 && b[2] == 0xc0)
        imm = b + 3;
    else
        return 0;
    uint32_t nr = le32(imm);
    return nr <= ENTRY_NR_MAX ? nr + 1 : 0;
}

static void on_signal_delivery(unsigned int vcpu, void *udata)
{
    (void)udata;
    if (vcpu < tracer.nrings && tracer.vcpus[vcpu].ready)
        sigret_on_hook(&tracer.vcpus[vcpu], vcpu);
}

static void on_cr3_write(unsigned int vcpu, void *udata)
{
    (void)udata;
    if (tracer.callers) /* see on_tlb_flush's registration */
        xlate_flush();
    if (vcpu < tracer.nrings)
        ident_on_cr3_write(&tracer.vcpus[vcpu]);
}

static void on_tlb_flush(unsigned int vcpu, void *udata)
{
    (void)vcpu;
    (void)udata;
    xlate_flush();
}

static void on_switch(unsigned int vcpu, void *udata)
{
    if (vcpu < tracer.nrings && tracer.vcpus[vcpu].ready)
        ident_on_switch(&tracer.vcpus[vcpu], (uint64_t)(uintptr_t)udata);
}

static void on_comm(unsigned int vcpu, void *udata)
{
    (void)vcpu;
    ident_on_comm((uint64_t)(uintptr_t)udata);
}

static void on_group_exit(unsigned int vcpu, void *udata)
{
    if (vcpu < tracer.nrings && tracer.vcpus[vcpu].ready)
        hide_group_exit(&tracer.vcpus[vcpu], (uint64_t)(uintptr_t)udata);
}

static void on_vmcall(unsigned int vcpu, void *udata)
{
    if (vcpu < tracer.nrings && tracer.vcpus[vcpu].ready)
        hcall_exec(&tracer.vcpus[vcpu], (uint64_t)(uintptr_t)udata);
}

static enum insn_kind classify(const uint8_t *b, size_t n, uint64_t vaddr)
{
    if (vaddr < USER_TOP) {
        if (n >= 2 && b[0] == 0x0f && b[1] == 0x05)
            return K_SYSCALL;
        if (n >= 2 && b[0] == 0xcd && b[1] == 0x80)
            return K_INT80;
        if (n >= 2 && b[0] == 0x0f && b[1] == 0x34)
            return K_SYSENTER;
        if (n >= 3 && b[0] == 0x0f && b[1] == 0x01 && b[2] == 0xc1)
            return K_VMCALL;
        return 0;
    }
    if (vaddr < KERNEL_BOTTOM)
        return 0;
    const uint8_t *insn = b;
    size_t len = n;
    bool rexw = n >= 1 && b[0] == 0x48;
    if (rexw) {
        b++;
        n--;
        if (n >= 1 && b[0] == 0xcf)
            return K_IRET;
    }
    if (n >= 2 && b[0] == 0x0f && b[1] == 0x07)
        return rexw ? K_SYSRET : K_SYSRETL;
    if (n >= 2 && b[0] == 0x0f && b[1] == 0x35)
        return K_SYSEXIT;
    if (n >= 1 && b[0] == 0x41) {
        b++;
        n--;
    }
    if (n >= 3 && b[0] == 0x0f && b[1] == 0x22 && (b[2] & 0xf8) == 0xd8)
        return K_CR3_WRITE;
    return xlate_is_flush(insn, len) ? K_TLB_FLUSH : 0;
}

void tracer_on_tb_trans(struct qemu_plugin_tb *tb, void *udata)
{
    (void)udata;
    size_t n = qemu_plugin_tb_n_insns(tb);
    uint64_t hook = tracer.tracing ? sigret_hook_addr() : 0;
    if (tracer.callers)
        branches_tb_trans(tb);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint8_t b[6];
        size_t len = qemu_plugin_insn_data(insn, b, sizeof b);
        uint64_t vaddr = qemu_plugin_insn_vaddr(insn);
        enum insn_kind k = classify(b, len, vaddr);
        if (vaddr == hook && hook != 0)
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_signal_delivery,
                                                   QEMU_PLUGIN_CB_R_REGS, NULL);
        if (ident_switch_maybe(vaddr))
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_switch,
                                                   QEMU_PLUGIN_CB_R_REGS,
                                                   (void *)(uintptr_t)vaddr);
        if (ident_comm_maybe(vaddr))
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_comm,
                                                   QEMU_PLUGIN_CB_NO_REGS,
                                                   (void *)(uintptr_t)vaddr);
        if (tracer.hide && hide_group_exit_maybe(vaddr))
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_group_exit,
                                                   QEMU_PLUGIN_CB_R_REGS,
                                                   (void *)(uintptr_t)vaddr);
        if (k == K_SYSCALL || k == K_INT80 || k == K_SYSENTER)
            qemu_plugin_register_vcpu_insn_exec_cb(
                insn, tracer_on_entry, tracer.entry_flags,
                entry_data(
                    vaddr, k,
                    k == K_SYSCALL && i > 0
                        ? known_number(qemu_plugin_tb_get_insn(tb, i - 1))
                        : 0));
        else if (k == K_VMCALL && hcall_enabled())
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_vmcall,
                                                   QEMU_PLUGIN_CB_RW_REGS_PC,
                                                   (void *)(uintptr_t)vaddr);
        else if (k == K_CR3_WRITE)
            qemu_plugin_register_vcpu_insn_exec_cb(
                insn, on_cr3_write, QEMU_PLUGIN_CB_NO_REGS, NULL);
        else if (k == K_TLB_FLUSH) {
            if (tracer.callers) /* the stack walk is xlate's only reader */
                qemu_plugin_register_vcpu_insn_exec_cb(
                    insn, on_tlb_flush, QEMU_PLUGIN_CB_NO_REGS, NULL);
        } else if (k != 0 && k != K_VMCALL)
            qemu_plugin_register_vcpu_insn_exec_cb(insn, tracer_on_return,
                                                   tracer.return_flags,
                                                   (void *)(uintptr_t)k);
    }
}
