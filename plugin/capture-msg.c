/* A struct msghdr and the memory it points to, read in one capture: the
 * kernel reads (sendmsg) or writes (recvmsg) all of it, so an analyst
 * wants the address, the payload and the passed descriptors together.
 * Every pointer inside is guest-controlled: each part is bounded on its
 * own and a part that cannot be read is flagged, never fatal. */
#include <string.h>

#include "capture-msg.h"
#include "capture.h"
#include "vigil/syscalls.h"

static uint32_t data_max(uint32_t buf_max)
{
    uint64_t n = (uint64_t)buf_max * VSYS_MSG_IOV_MAX;
    return n < VSYS_MSG_DATA_MAX ? (uint32_t)n : VSYS_MSG_DATA_MAX;
}

uint32_t capture_msghdr_room(uint32_t buf_max)
{
    return VSYS_MSGHDR_LEN + sizeof(struct vsys_msgcap) + VSYS_MSG_NAME_MAX +
           VSYS_MSG_IOV_MAX * (16 + sizeof(struct vsys_msgiov)) +
           data_max(buf_max) + VSYS_MSG_CTL_MAX;
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* `len` bytes at addr, at most `max`: the count read, 0 with *fault set
 * when any page could not be read (the part is then shown as its
 * address). */
static uint32_t part(struct vcpu *v, uint64_t addr, uint64_t len, uint32_t max,
                     uint8_t *dst, bool *fault, bool *cut)
{
    uint32_t want = len < max ? (uint32_t)len : max;
    uint32_t n;

    *cut = len > want;
    *fault = false;
    if (want == 0)
        return 0;
    n = capture_read(v, addr, dst, want, false, fault);
    return *fault ? 0 : n;
}

/* The iovecs' bytes after the iovec array `iov` (niov of them). */
static uint32_t iov_data(struct vcpu *v, const uint8_t *iov, unsigned niov,
                         uint8_t *meta, int64_t limit, uint32_t buf_max,
                         uint8_t *dst, uint32_t room)
{
    uint32_t used = 0;
    uint64_t left = limit >= 0 ? (uint64_t)limit : UINT64_MAX;

    for (unsigned i = 0; i < niov; i++) {
        uint64_t base = rd64(iov + 16 * i), len = rd64(iov + 16 * i + 8);
        uint32_t max = room - used < buf_max ? room - used : buf_max;
        struct vsys_msgiov m = {0, 0, 0};
        bool fault = false, cut = false;

        if (len > left)
            len = left;
        left -= len;
        if (base != 0) { /* NULL is shown as NULL */
            m.len = (uint16_t)part(v, base, len, max, dst + used, &fault, &cut);
            m.flags = (uint8_t)((fault ? VSYS_MSG_DATA_FAULT : 0) |
                                (cut ? VSYS_MSG_DATA_CUT : 0));
        }
        memcpy(meta + i * sizeof m, &m, sizeof m); /* unaligned */
        used += m.len;
    }
    return used;
}

uint32_t capture_msghdr(struct vcpu *v, uint64_t addr, int64_t limit,
                        uint32_t buf_max, uint8_t *dst, uint32_t room,
                        bool *fault)
{
    struct vsys_msgcap cap = {0, 0, 0, 0, 0};
    uint8_t *h = dst, *p = dst + VSYS_MSGHDR_LEN + sizeof cap;
    uint8_t *iov;
    uint64_t iovlen, ctl, ctllen;
    uint32_t niov, n;
    bool f = false, cut = false;

    if (room < capture_msghdr_room(buf_max) ||
        !mem(v, addr, h, VSYS_MSGHDR_LEN)) {
        *fault = true;
        return 0;
    }
    *fault = false;
    /* msg_name, msg_namelen (int) */
    if (rd64(h) != 0) {
        cap.name_len = (uint16_t)part(v, rd64(h), (uint32_t)rd64(h + 8),
                                      VSYS_MSG_NAME_MAX, p, &f, &cut);
        cap.flags |= f ? VSYS_MSG_NAME_FAULT : 0;
        p += cap.name_len;
    }
    /* msg_iov, msg_iovlen */
    iovlen = rd64(h + 24);
    niov = iovlen < VSYS_MSG_IOV_MAX ? (uint32_t)iovlen : VSYS_MSG_IOV_MAX;
    if (rd64(h + 16) != 0 && niov > 0) {
        n = part(v, rd64(h + 16), 16ull * niov, 16 * VSYS_MSG_IOV_MAX, p, &f,
                 &cut);
        if (f) {
            cap.flags |= VSYS_MSG_IOV_FAULT;
        } else {
            cap.niov = (uint8_t)niov;
            cap.flags |= iovlen > niov ? VSYS_MSG_IOV_MORE : 0;
            iov = p;
            p += n + niov * sizeof(struct vsys_msgiov);
            p += iov_data(v, iov, niov, iov + n, limit, buf_max, p,
                          data_max(buf_max));
        }
    }
    /* msg_control, msg_controllen */
    ctl = rd64(h + 32);
    ctllen = rd64(h + 40);
    if (ctl != 0 && ctllen > 0) {
        cap.ctl_len =
            (uint16_t)part(v, ctl, ctllen, VSYS_MSG_CTL_MAX, p, &f, &cut);
        cap.flags |=
            (f ? VSYS_MSG_CTL_FAULT : 0) | (cut ? VSYS_MSG_CTL_CUT : 0);
        p += cap.ctl_len;
    }
    memcpy(dst + VSYS_MSGHDR_LEN, &cap, sizeof cap);
    return (uint32_t)(p - dst);
}
