/* ppoll reads an array, a timeout and a signal mask and writes the array's
 * revents and the time left back: five reads one by one, more than a plan
 * holds. One capture reads them all, at the entry and again at the
 * return; the array only as long as nfds says, so a call pays for what it
 * passed. */
#include <string.h>

#include "capture-poll.h"
#include "capture.h"
#include "vigil/syscalls.h"

#define PP_TAIL (16 + 8) /* timespec, sigset */

uint32_t capture_ppoll_room(void)
{
    return sizeof(struct vsys_ppoll) + 8 * VSYS_POLL_MAX + PP_TAIL;
}

uint32_t capture_ppoll(struct vcpu *v, const uint64_t args[6], bool sigset,
                       uint8_t *dst, uint32_t room)
{
    struct vsys_ppoll h = {0, 0, 0, 0};
    uint64_t nfds = (uint32_t)args[1]; /* the kernel takes an unsigned int */
    uint32_t len =
        nfds > VSYS_POLL_MAX ? 8 * VSYS_POLL_MAX : 8 * (uint32_t)nfds;
    uint32_t total = sizeof h + len + PP_TAIL;
    uint8_t *p = dst + sizeof h;

    if (room < total)
        return 0;
    h.fds_len = (uint16_t)len;
    memset(p, 0, len + PP_TAIL);
    capture_part(v, args[0], p, len, VSYS_PP_FDS, &h.have, &h.fault);
    capture_part(v, args[2], p + len, 16, VSYS_PP_TIMEOUT, &h.have, &h.fault);
    if (sigset && args[4] == 8)
        capture_part(v, args[3], p + len + 16, 8, VSYS_PP_SIGSET, &h.have,
                     &h.fault);
    memcpy(dst, &h, sizeof h);
    return total;
}
