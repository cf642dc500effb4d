/* Guest memory as the guest's own user-mode accesses would find it
 * (guestmem.c): the guest's page tables walked with the hardware's rules,
 * so that vigil writes only where a store by the calling thread itself
 * would land, and never into a page the kernel shares (the zero page, a
 * page copy-on-write with another process, a file's page cache behind a
 * private mapping).
 *
 * QEMU's own qemu_plugin_write_memory_vaddr walks the tables like a
 * debugger: it writes through read-only entries and into pages not yet
 * faulted in for write, which corrupts the guest. Nothing here faults a page
 * in; a caller that gets GM_FAULT_IN has the guest kernel do it (control.c)
 * and asks again.
 */
#ifndef VIGIL_PLUGIN_GUESTMEM_H
#define VIGIL_PLUGIN_GUESTMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu.h"

enum gm_result {
    GM_OK,       /* done (or, for a check, would succeed) */
    GM_FAULT_IN, /* a page must first be faulted in for write by the kernel:
                    not present, read-only (copy-on-write, the zero page)
                    or not yet dirty */
    GM_EFAULT,   /* no user-mode store reaches it: the kernel half, a
                    non-canonical address, a range that wraps */
};

/* Largest single write (bytes); longer ones are refused with GM_EFAULT. */
#define GM_WRITE_MAX (1u << 20)

/* Write @len bytes at user address @va of the current address space, all
 * or nothing. @faulted_in: the kernel has just faulted the range in for
 * write, so a writable page that is not yet marked dirty is accepted (the
 * kernel marked the page itself). */
enum gm_result gm_write(struct vcpu *v, uint64_t va, const void *data,
                        uint32_t len, bool faulted_in);

/* Whether [@va, @va + @len) can be read (or written) by user mode now,
 * without touching it. */
enum gm_result gm_check(struct vcpu *v, uint64_t va, uint32_t len, bool write);

/* Read @len bytes at user address @va of the current address space, as a
 * user-mode load would: GM_FAULT_IN for a page not present (the caller
 * decides: a guest buffer it was just handed should be), GM_EFAULT for
 * what no user load reaches (the kernel's pages among them). */
enum gm_result gm_read(struct vcpu *v, uint64_t va, void *dst, uint32_t len);

/* Whether the two bytes at @va are executable by user mode, and if so copy
 * them to @out. */
bool gm_read_exec(struct vcpu *v, uint64_t va, uint8_t out[2]);

#endif
