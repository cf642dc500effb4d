/* vigil's hypercall from a guest program (docs/runtime.md): function in
 * rax, arguments in rbx, rcx and rdx, result in rax; rcx and r11 are
 * clobbered as by the syscall instruction. Without vigil, vmcall raises
 * #UD (SIGILL). */
#ifndef VIGIL_GUEST_HYPERCALL_H
#define VIGIL_GUEST_HYPERCALL_H

static inline long vigil_hypercall(long fn, const void *a, long b, void *c)
{
    long ret;
    __asm__ volatile("vmcall"
                     : "=a"(ret), "+b"(a), "+c"(b), "+d"(c)
                     : "a"(fn)
                     : "r11", "memory");
    return ret;
}

#endif
