/* Hidden calls that carry messages: readv, writev, sendmsg, recvmsg,
 * sendmmsg and recvmmsg (see hide-call.h). Their buffers are scattered
 * over guest memory (an iovec array, a name, control data); here they
 * travel as one struct vhide_msg block per message, the data gathered for
 * a send, the room summed up for a receive, and on the way back the
 * received bytes are scattered over the same iovecs as the kernel would.
 */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>

#include "control.h"
#include "guestmem.h"
#include "hide-call.h"

#define IOV_MAX_    1024 /* UIO_MAXIOV */
#define IOV_CHUNK   64
#define NAME_MAX_   128 /* struct sockaddr_storage */
#define CONTROL_MAX 4096
#define MMSG_MAX    64 /* messages per call: a shorter count is allowed */

/* struct msghdr and struct mmsghdr, x86-64. */
enum {
    MH_NAME = 0,
    MH_NAMELEN = 8,
    MH_IOV = 16,
    MH_IOVLEN = 24,
    MH_CONTROL = 32,
    MH_CONTROLLEN = 40,
    MH_FLAGS = 48,
    MH_SIZE = 56,
    MMSG_LEN = 56,
    MMSG_SIZE = 64,
};

struct msghdr_g {
    uint64_t name;
    uint32_t namelen, pad0;
    uint64_t iov, iovlen, control, controllen;
    int32_t flags, pad1;
};

static uint32_t pad8(uint64_t n)
{
    return (uint32_t)((n + 7) & ~7ull);
}

bool hmsg_call(int64_t nr)
{
    return nr == SYS_readv || nr == SYS_writev || nr == SYS_sendmsg ||
           nr == SYS_recvmsg || nr == SYS_sendmmsg || nr == SYS_recvmmsg;
}

static bool is_send(int64_t nr)
{
    return nr == SYS_writev || nr == SYS_sendmsg || nr == SYS_sendmmsg;
}

/* A failure reading guest memory: 0 when the instruction now faults the
 * pages in (the slot is released), else EFAULT. */
static int64_t fault(struct vcpu *v, const struct vraw_task *t, uint64_t ip,
                     int slot, enum gm_result r, uint64_t va, uint64_t len,
                     bool write)
{
    if (r == GM_FAULT_IN)
        return hide_fault(v, t, ip, slot, va, len, write);
    return -EFAULT;
}

/* Guest message @m into the slot at *off: gathered (send), or sized with
 * its pages checked (receive). 1, 0 when pages must be faulted in first,
 * or -errno. */
static int64_t pack(struct vcpu *v, const struct vraw_task *t, uint64_t ip,
                    int slot, bool send, const struct msghdr_g *m,
                    uint32_t *off)
{
    struct vhide_slot *s = hide_slot(slot);
    struct vhide_msg *h = (struct vhide_msg *)(s->data + *off);
    uint32_t at = *off + pad8(sizeof *h);
    enum gm_result r;
    if (at > VHIDE_DATA || m->iovlen > IOV_MAX_)
        return at > VHIDE_DATA ? -ENOBUFS : -EMSGSIZE;
    memset(h, 0, sizeof *h);

    /* The name: an address to send to, or room for the sender's. */
    uint32_t nl =
        m->name ? (m->namelen < NAME_MAX_ ? m->namelen : NAME_MAX_) : 0;
    if (send && m->name && m->namelen > NAME_MAX_)
        return -EINVAL;
    if (nl > 0) {
        r = send ? gm_read(v, m->name, s->data + at, nl)
                 : gm_check(v, m->name, nl, true);
        if (r != GM_OK)
            return fault(v, t, ip, slot, r, m->name, nl, !send);
    }
    h->name_len = nl;
    at += pad8(nl);

    /* The data: each iovec, in chunks of the array. */
    uint64_t total = 0, room = at < VHIDE_DATA ? VHIDE_DATA - at : 0;
    for (uint64_t k = 0; k < m->iovlen && total < room; k += IOV_CHUNK) {
        uint64_t iov[IOV_CHUNK][2];
        uint64_t n = m->iovlen - k < IOV_CHUNK ? m->iovlen - k : IOV_CHUNK;
        r = gm_read(v, m->iov + k * 16, iov, (uint32_t)(n * 16));
        if (r != GM_OK)
            return fault(v, t, ip, slot, r, m->iov + k * 16, n * 16, false);
        for (uint64_t j = 0; j < n && total < room; j++) {
            uint64_t len = iov[j][1];
            if ((int64_t)len < 0)
                return -EINVAL;
            if (len > room - total)
                len = room - total; /* a shorter send, or less room */
            if (len == 0)
                continue;
            r = send
                    ? gm_read(v, iov[j][0], s->data + at + total, (uint32_t)len)
                    : gm_check(v, iov[j][0], (uint32_t)len, true);
            if (r != GM_OK)
                return fault(v, t, ip, slot, r, iov[j][0], len, !send);
            total += len;
        }
    }
    h->data_len = (uint32_t)total;
    at += pad8(total);

    /* Control data: ancillary messages to send, or room for them. */
    uint64_t cl = m->control ? m->controllen : 0;
    if (cl > CONTROL_MAX) {
        if (send)
            return -ENOBUFS;
        cl = CONTROL_MAX;
    }
    if (at + cl > VHIDE_DATA)
        return -ENOBUFS;
    if (cl > 0) {
        r = send ? gm_read(v, m->control, s->data + at, (uint32_t)cl)
                 : gm_check(v, m->control, (uint32_t)cl, true);
        if (r != GM_OK)
            return fault(v, t, ip, slot, r, m->control, cl, !send);
    }
    h->control_len = (uint32_t)cl;
    at += pad8(cl);
    *off = at;
    return 1;
}

int64_t hmsg_post(struct vcpu *v, const struct vraw_task *t, uint64_t ip,
                  int64_t nr, const uint64_t args[6], int slot)
{
    bool send = is_send(nr);
    int64_t a[6] = {(int64_t)args[0], 0, 0, 0, 0, 0};
    uint32_t off = 0;
    struct msghdr_g m;
    int64_t r;
    if (nr == SYS_readv || nr == SYS_writev) {
        /* A message with neither name nor control. */
        m = (struct msghdr_g){.iov = args[1], .iovlen = args[2]};
        if ((r = pack(v, t, ip, slot, send, &m, &off)) <= 0)
            return r;
        a[2] = 0; /* flags */
    } else if (nr == SYS_sendmsg || nr == SYS_recvmsg) {
        enum gm_result g = gm_read(v, args[1], &m, MH_SIZE);
        if (g != GM_OK)
            return fault(v, t, ip, slot, g, args[1], MH_SIZE, false);
        if (!send) {
            g = gm_check(v, args[1], MH_SIZE, true);
            if (g != GM_OK)
                return fault(v, t, ip, slot, g, args[1], MH_SIZE, true);
        }
        if ((r = pack(v, t, ip, slot, send, &m, &off)) <= 0)
            return r;
        a[2] = (int64_t)args[2];
    } else {
        uint64_t vlen = args[2] < MMSG_MAX ? args[2] : MMSG_MAX;
        enum gm_result g = gm_check(v, args[1], (uint32_t)(vlen * MMSG_SIZE),
                                    true); /* msg_len comes back */
        if (g != GM_OK)
            return fault(v, t, ip, slot, g, args[1], vlen * MMSG_SIZE, true);
        uint64_t k = 0;
        for (; k < vlen; k++) {
            if (gm_read(v, args[1] + k * MMSG_SIZE, &m, MH_SIZE) != GM_OK)
                return -EFAULT;
            uint32_t before = off;
            if ((r = pack(v, t, ip, slot, send, &m, &off)) <= 0) {
                if (k == 0 || r == -EFAULT || r == 0)
                    return r;
                off = before; /* no room for more: fewer messages */
                break;
            }
        }
        a[2] = (int64_t)k;
        a[3] = (int64_t)args[3];
    }
    a[1] = 0; /* the first block's offset */
    hide_publish(slot, t,
                 nr == SYS_readv    ? SYS_recvmsg
                 : nr == SYS_writev ? SYS_sendmsg
                                    : nr,
                 a, off);
    return 1;
}

/* The received message in block *off back into guest message @mh (NULL:
 * readv's bare iovecs at @iov, @iovlen). */
static int64_t unpack(struct vcpu *v, const struct vhide_slot *s, uint32_t *off,
                      uint64_t mh, uint64_t iov_va, uint64_t iovlen)
{
    struct vhide_msg_at at;
    if (!vhide_msg_at(s->data, *off, &at))
        return -EFAULT;
    const struct vhide_msg *h = (const void *)(s->data + *off);
    struct msghdr_g m = {.iov = iov_va, .iovlen = iovlen};
    if (h->len > h->data_len || h->control_out > h->control_len)
        return -EFAULT;
    *off = at.end;
    if (mh != 0 && gm_read(v, mh, &m, MH_SIZE) != GM_OK)
        return -EFAULT;

    /* Scatter the bytes over the iovecs, in order. */
    uint64_t done = 0;
    for (uint64_t k = 0; k < m.iovlen && done < h->len; k++) {
        uint64_t iov[2];
        if (gm_read(v, m.iov + k * 16, iov, 16) != GM_OK)
            return -EFAULT;
        uint64_t len = iov[1] < h->len - done ? iov[1] : h->len - done;
        if (len > 0 && gm_write(v, iov[0], s->data + at.data + done,
                                (uint32_t)len, true) != GM_OK)
            return -EFAULT;
        done += len;
    }
    if (mh == 0)
        return 0;
    /* The sender's address cut to the room, its length whole, as the
     * kernel gives them. */
    uint32_t cut = h->name_out < h->name_len ? h->name_out : h->name_len;
    uint32_t namelen = m.name ? h->name_out : 0;
    uint64_t controllen = h->control_out;
    int32_t flags = h->flags;
    if ((cut > 0 &&
         gm_write(v, m.name, s->data + at.name, cut, true) != GM_OK) ||
        (controllen > 0 && gm_write(v, m.control, s->data + at.control,
                                    (uint32_t)controllen, true) != GM_OK) ||
        gm_write(v, mh + MH_NAMELEN, &namelen, 4, true) != GM_OK ||
        gm_write(v, mh + MH_CONTROLLEN, &controllen, 8, true) != GM_OK ||
        gm_write(v, mh + MH_FLAGS, &flags, 4, true) != GM_OK)
        return -EFAULT;
    return 0;
}

int64_t hmsg_deliver(struct vcpu *v, int slot, int64_t nr,
                     const uint64_t args[6])
{
    const struct vhide_slot *s = hide_slot(slot);
    int64_t result = s->result;
    uint32_t off = 0;
    if (result < 0 || is_send(nr)) {
        /* A send's only output: each message's byte count (mmsg). */
        for (int64_t k = 0; nr == SYS_sendmmsg && k < result; k++) {
            struct vhide_msg_at at;
            if (!vhide_msg_at(s->data, off, &at))
                return -EFAULT;
            uint32_t len = ((const struct vhide_msg *)(s->data + off))->len;
            if (gm_write(v, args[1] + (uint64_t)k * MMSG_SIZE + MMSG_LEN, &len,
                         4, true) != GM_OK)
                return -EFAULT;
            off = at.end;
        }
        return result;
    }
    if (nr == SYS_readv)
        return unpack(v, s, &off, 0, args[1], args[2]) < 0 ? -EFAULT : result;
    if (nr == SYS_recvmsg)
        return unpack(v, s, &off, args[1], 0, 0) < 0 ? -EFAULT : result;
    for (int64_t k = 0; k < result; k++) { /* recvmmsg */
        if (off > VHIDE_DATA - sizeof(struct vhide_msg))
            return -EFAULT;
        uint32_t len = ((const struct vhide_msg *)(s->data + off))->len;
        uint64_t mh = args[1] + (uint64_t)k * MMSG_SIZE;
        if (unpack(v, s, &off, mh, 0, 0) < 0 ||
            gm_write(v, mh + MMSG_LEN, &len, 4, true) != GM_OK)
            return -EFAULT;
    }
    return result;
}
