/* sendmsg's and recvmsg's struct msghdr and what it points to
 * (VSYS_CAP_MSGHDR, laid out as syscalls.h says). */
#ifndef VIGIL_PLUGIN_CAPTURE_MSG_H
#define VIGIL_PLUGIN_CAPTURE_MSG_H

#include "vcpu.h"

/* The most data a capture takes with iovecs cut at `buf_max` bytes. */
uint32_t capture_msghdr_room(uint32_t buf_max);

/* Capture the msghdr at addr into dst (room bytes, at least
 * capture_msghdr_room): its name, iovecs and their bytes (at most `limit`
 * of them together when limit >= 0: recvmsg's result), control bytes.
 * Returns the bytes written; 0 and *fault when the msghdr itself could not
 * be read (an unreadable part is flagged inside instead). */
uint32_t capture_msghdr(struct vcpu *v, uint64_t addr, int64_t limit,
                        uint32_t buf_max, uint8_t *dst, uint32_t room,
                        bool *fault);

#endif
