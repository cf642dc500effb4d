/* select's and pselect6's fd sets, timeout and signal mask in one capture
 * (VSYS_CAP_FDSETS, laid out as syscalls.h says). */
#ifndef VIGIL_PLUGIN_CAPTURE_SELECT_H
#define VIGIL_PLUGIN_CAPTURE_SELECT_H

#include "vcpu.h"

/* Bytes the capture may take. */
uint32_t capture_fdsets_room(void);

/* The sets, the timeout and (`sigarg`: pselect6 at entry) the signal
 * mask, into dst (room bytes, at least capture_fdsets_room). Returns the
 * bytes written; an unreadable part is flagged inside. */
uint32_t capture_fdsets(struct vcpu *v, const uint64_t args[6], bool sigarg,
                        uint8_t *dst, uint32_t room);

#endif
