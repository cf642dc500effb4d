/* ppoll's descriptors, timeout and signal mask in one capture
 * (VSYS_CAP_PPOLL, laid out as syscalls.h says). */
#ifndef VIGIL_PLUGIN_CAPTURE_POLL_H
#define VIGIL_PLUGIN_CAPTURE_POLL_H

#include "vcpu.h"

/* Bytes the capture may take. */
uint32_t capture_ppoll_room(void);

/* The pollfd array, the timeout and (`sigset`: at entry) the signal
 * mask, into dst (room bytes, at least capture_ppoll_room). Returns the
 * bytes written; an unreadable part is flagged inside. */
uint32_t capture_ppoll(struct vcpu *v, const uint64_t args[6], bool sigset,
                       uint8_t *dst, uint32_t room);

#endif
