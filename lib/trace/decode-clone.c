/* clone in strace's named form: clone(child_stack=..., flags=...,
 * parent_tid=..., tls=..., child_tidptr=...), each of the last three only
 * when a flag makes the kernel use it. x86-64 order of the arguments:
 * flags, stack, parent_tid, child_tid, tls. The parent's copy of the new
 * thread's id, when captured, shows as [N]. */
#include "trace/decode.h"

#define CLONE_SETTLS         0x00080000
#define CLONE_PARENT_SETTID  0x00100000
#define CLONE_CHILD_CLEARTID 0x00200000
#define CLONE_CHILD_SETTID   0x01000000
#define CLONE_PIDFD          0x00001000

void vdec_clone_text(struct obuf *o, const uint64_t a[5], const uint8_t *ptid,
                     size_t n)
{
    uint64_t flags = a[0];

    ob_puts(o, "child_stack=");
    vdec_ptr(o, false, a[1]);
    ob_puts(o, ", flags=");
    ob_symbolic(o, 'C', flags);
    if (flags & (CLONE_PARENT_SETTID | CLONE_PIDFD)) {
        ob_puts(o, ", parent_tid=");
        if (!vdec_int(o, false, ptid, n))
            vdec_ptr(o, false, a[2]);
    }
    if (flags & CLONE_SETTLS) {
        ob_puts(o, ", tls=");
        vdec_ptr(o, false, a[4]);
    }
    if (flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID)) {
        ob_puts(o, ", child_tidptr=");
        vdec_ptr(o, false, a[3]);
    }
}
