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
        capture_part(v, args[1 + k], p + k * len, len, k, &h.have, &h.fault);
    p += 3 * len;
    capture_part(v, args[4], p, 16, VSYS_FDS_TIMEOUT, &h.have, &h.fault);
    if (sigarg) {
        capture_part(v, args[5], p + 16, 16, VSYS_FDS_SIGARG, &h.have,
                     &h.fault);
        if (h.have & (1u << VSYS_FDS_SIGARG)) {
            uint64_t ss, sslen;
            memcpy(&ss, p + 16, 8);
            memcpy(&sslen, p + 24, 8);
            if (sslen == 8)
                capture_part(v, ss, p + 32, 8, VSYS_FDS_SIGSET, &h.have,
                             &h.fault);
        }
    }
    memcpy(dst, &h, sizeof h);
    return total;
}
