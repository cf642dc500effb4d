/* Guest memory behind system call arguments (capture.c). */
#ifndef VIGIL_PLUGIN_CAPTURE_H
#define VIGIL_PLUGIN_CAPTURE_H

#include <string.h>

#include "vcpu.h"
#include "vigil/ring.h"
#include "vigil/syscalls.h"

void capture_setup(const struct vring_config *cfg);

/* Read up to `max` bytes at addr, page by page, stopping after a NUL when
 * `stop_at_nul`. Returns bytes read; *fault when an unreadable page cut the
 * read short. */
uint32_t capture_read(struct vcpu *v, uint64_t addr, uint8_t *dst, uint32_t max,
                      bool stop_at_nul, bool *fault);

/* One part of a compound capture (select's sets, ppoll's array...): @len
 * bytes at @addr into @dst, marked in *@have by @bit, or zeroed and marked
 * in *@fault when unreadable. A NULL address or no length reads nothing. */
static inline void capture_part(struct vcpu *v, uint64_t addr, uint8_t *dst,
                                uint32_t len, unsigned bit, uint8_t *have,
                                uint8_t *fault)
{
    bool bad;
    if (addr == 0 || len == 0)
        return;
    capture_read(v, addr, dst, len, false, &bad);
    if (bad) {
        memset(dst, 0, len);
        *fault |= (uint8_t)(1u << bit);
    } else {
        *have |= (uint8_t)(1u << bit);
    }
}

/* Bytes capture `c` may take in a record, blob header included. */
uint32_t capture_room(const struct vsys_cap *c);

/* Append captures after `at`: at entry the inputs, at the return the
 * outputs plus the inputs in `retry` (bit i: caps[i] faulted at entry).
 * Returns the bytes written, counts blobs in *nblobs and sets bit i of
 * *faulted for each capture that hit an unreadable address. */
uint32_t capture(struct vcpu *v, uint8_t *at, bool at_exit,
                 const struct vsys_cap *caps, unsigned ncaps,
                 const uint64_t args[6], bool compat, int64_t ret,
                 uint8_t retry, uint32_t *nblobs, uint8_t *faulted);

/* After a successful execve, recover the program path from the new stack
 * (64-bit layout) as a late capture of argument `argi`; `sp` is the user
 * stack pointer on return. Returns the bytes appended at `at`. */
uint32_t capture_exec_path(struct vcpu *v, uint64_t sp, uint8_t argi,
                           uint8_t *at, uint32_t *nblobs);

#endif
