/* select and pselect6 take up to six pointers' worth of input and write
 * three sets and the remaining time back: one capture reads them all, at
 * the entry and again at the return, so that a plan stays within
 * VSYS_MAX_CAPS and other calls pay nothing. */
#include <string.h>

#include "capture-select.h"
#include "capture.h"
#include "vigil/syscalls.h"

#define TAIL (16 + 16 + 8) /* timeout, sigmask argument, sigset */

uint32_t capture_fdsets_room(void)
{
    return sizeof(struct vsys_fdsets) + 3 * VSYS_FDSET_MAX + TAIL;
}

/* One part at addr: its bit in *have or, unreadable, in *fault. */
static void fdsets_part(struct vcpu *v, uint64_t addr, uint8_t *dst,
                        uint32_t len, unsigned bit, struct vsys_fdsets *h)
{
    bool fault;

    if (addr == 0 || len == 0)
        return;
    capture_read(v, addr, dst, len, false, &fault);
    if (fault) {
        memset(dst, 0, len);
        h->fault |= (uint8_t)(1u << bit);
    } else {
        h->have |= (uint8_t)(1u << bit);
    }
}

uint32_t capture_fdsets(struct vcpu *v, const uint64_t args[6], bool sigarg,
                        uint8_t *dst, uint32_t room)
{
    struct vsys_fdsets h = {0, 0, 0, 0};
    int32_t nfds = (int32_t)args[0];
    uint32_t len = 0, total;
    uint8_t *p;

    /* the kernel reads whole longs: (nfds + 63) / 64 of them */
    if (nfds > 0)
        len = nfds >= 8 * VSYS_FDSET_MAX ? VSYS_FDSET_MAX
                                         : ((uint32_t)nfds + 63) / 64 * 8;
    total = sizeof h + 3 * len + TAIL;
    if (room < total)
        return 0;
    h.set_len = (uint16_t)len;
    p = dst + sizeof h;
    memset(p, 0, 3 * len + TAIL);
    for (unsigned k = 0; k < 3; k++)
        fdsets_part(v, args[1 + k], p + k * len, len, k, &h);
    p += 3 * len;
    fdsets_part(v, args[4], p, 16, VSYS_FDS_TIMEOUT, &h);
    if (sigarg) {
        fdsets_part(v, args[5], p + 16, 16, VSYS_FDS_SIGARG, &h);
        if (h.have & (1u << VSYS_FDS_SIGARG)) {
            uint64_t ss, sslen;
            memcpy(&ss, p + 16, 8);
            memcpy(&sslen, p + 24, 8);
            if (sslen == 8)
                fdsets_part(v, ss, p + 32, 8, VSYS_FDS_SIGSET, &h);
        }
    }
    memcpy(dst, &h, sizeof h);
    return total;
}
