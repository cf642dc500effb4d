/* Hidden calls of the plain shape (vigil/hide.h's vhide_shape: each
 * pointer argument one buffer, its length an argument, a fixed size or a
 * socklen): their inputs copied from guest memory into the slot, and the
 * answer's outputs back. Messages (hide-msg.c) and waits (hide-wait.c)
 * have shapes of their own. */
#include "hide-call.h"

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>

#include "hide-fast.h"
#include "guestmem.h"

#define SOCKLEN_MAX 128 /* struct sockaddr_storage */

/* The address room the guest gave each slot's call, if any: an address
 * comes back cut to it. Only the slot's owner touches its entry. */
static uint32_t socklen_of[VHIDE_SLOTS];

/* Bytes pointer @p of call @args carries, by its shape; @socklen is the
 * one read for VHIDE_LEN_SOCKLEN. */
static uint64_t ptr_len(const struct vhide_ptr *p, const uint64_t args[6],
                        uint32_t socklen)
{
    switch (p->len_kind) {
    case VHIDE_LEN_ARG:
        return args[p->len_arg];
    case VHIDE_LEN_FIXED:
        return p->fixed;
    case VHIDE_LEN_SOCKLEN:
        return socklen;
    }
    return 0;
}

/* Post the call: inputs into the slot, pointers as offsets. Returns 1, 2
 * when the plugin's copy of the socket answered it instead (hide-fast.h:
 * the slot holds the answer, unposted), 0 when a buffer's pages must
 * first be faulted in (the slot is released and the instruction now does
 * that, then runs again), or -errno for the guest. */
int64_t hplain_post(struct vcpu *v, const struct vraw_task *t, uint64_t ip,
                    int64_t nr, const uint64_t args[6], int i)
{
    const struct vhide_shape *sh = vhide_shape(nr);
    struct vhide_slot *s = hide_slot(i);
    uint32_t off = 0, socklen = 0;
    int64_t a[6];
    for (int k = 0; k < 6; k++)
        a[k] = (int64_t)args[k];
    /* The socklen a shape sizes an address by comes first. */
    for (int k = 0; k < VHIDE_PTRS; k++) {
        const struct vhide_ptr *p = &sh->ptr[k];
        if (p->argi < 0 || p->len_kind != VHIDE_LEN_FIXED ||
            p->dir != VHIDE_INOUT || args[p->argi] == 0)
            continue;
        enum gm_result r = gm_read(v, args[p->argi], &socklen, 4);
        if (r == GM_FAULT_IN)
            return hide_fault(v, t, ip, i, args[p->argi], 4, false);
        if (r != GM_OK)
            return -EFAULT;
        if (socklen > SOCKLEN_MAX)
            socklen = SOCKLEN_MAX;
    }
    socklen_of[i] = socklen;
    for (int k = 0; k < VHIDE_PTRS; k++) {
        const struct vhide_ptr *p = &sh->ptr[k];
        if (p->argi < 0)
            continue;
        uint64_t gva = args[p->argi];
        uint64_t len = gva ? ptr_len(p, args, socklen) : 0;
        if (len > VHIDE_DATA - off - 8) {
            if (p->dir == VHIDE_OUT && p->len_kind == VHIDE_LEN_ARG)
                len = VHIDE_DATA - off - 8; /* a short read or receive */
            else if (p->dir == VHIDE_IN && p->len_kind == VHIDE_LEN_ARG &&
                     (nr == SYS_write || nr == SYS_sendto) && p->argi == 1)
                len = VHIDE_DATA - off - 8; /* a short write or send */
            else
                return -EMSGSIZE;
        }
        if (gva == 0 || len == 0) {
            a[p->argi] = -1; /* NULL */
            continue;
        }
        /* Every page the call reads or writes, in first. */
        bool write = p->dir != VHIDE_IN;
        enum gm_result r = gm_check(v, gva, (uint32_t)len, write);
        if (r == GM_FAULT_IN)
            return hide_fault(v, t, ip, i, gva, len, write);
        if (r != GM_OK)
            return -EFAULT;
        if (p->dir != VHIDE_OUT &&
            gm_read(v, gva, s->data + off, (uint32_t)len) != GM_OK)
            return -EFAULT;
        a[p->argi] = off;
        if (p->len_kind == VHIDE_LEN_ARG)
            a[p->len_arg] = (int64_t)len;
        off += (uint32_t)((len + 7) & ~7ull);
    }
    if (hfast_call(nr, args)) {
        uint64_t gen;
        s->op = (int32_t)nr;
        memcpy(s->args, a, sizeof s->args);
        if (hfast_run(t->tgid, s, &gen))
            return 2;
        s->share_gen = gen; /* a copy, for the next such call */
    }
    hide_publish(i, t, (int)nr, a, off);
    return 1;
}

/* The answer into guest memory; the call's result. As the kernel does, a
 * socklen comes back as the whole address's length, and the address is cut
 * to the room the guest gave. */
int64_t hplain_deliver(struct vcpu *v, int i, const uint64_t args[6])
{
    struct vhide_slot *s = hide_slot(i);
    const struct vhide_shape *sh = vhide_shape(s->op);
    int64_t result = s->result;
    uint32_t actual = 0;
    for (int k = 0; sh != NULL && k < VHIDE_PTRS; k++) {
        const struct vhide_ptr *p = &sh->ptr[k];
        if (p->argi >= 0 && p->dir == VHIDE_INOUT && s->args[p->argi] >= 0 &&
            s->args[p->argi] + 4 <= VHIDE_DATA)
            memcpy(&actual, s->data + s->args[p->argi], 4);
    }
    for (int k = 0; result >= 0 && sh != NULL && k < VHIDE_PTRS; k++) {
        const struct vhide_ptr *p = &sh->ptr[k];
        if (p->argi < 0 || p->dir == VHIDE_IN || args[p->argi] == 0 ||
            s->args[p->argi] < 0)
            continue;
        uint64_t off = (uint64_t)s->args[p->argi], len;
        switch (p->len_kind) {
        case VHIDE_LEN_FIXED:
            len = p->fixed;
            break;
        case VHIDE_LEN_SOCKLEN:
            len = actual < socklen_of[i] ? actual : socklen_of[i];
            break;
        default:
            len = sh->result_bounds_out ? (uint64_t)result
                                        : (uint64_t)s->args[p->len_arg];
            break;
        }
        if (off + len > VHIDE_DATA)
            return -EFAULT;
        if (len > 0 && gm_write(v, args[p->argi], s->data + off, (uint32_t)len,
                                true) != GM_OK)
            return -EFAULT;
    }
    return result;
}
