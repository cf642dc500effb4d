/* Guest pages read through translations remembered until the guest could
 * no longer rely on them (xlate.c).
 *
 * qemu_plugin_read_memory_vaddr walks the guest's page tables at every
 * call, which is most of what a read of a few KiB costs; the stack walk of
 * --callers reads the same one or two stack pages call after call. A
 * translation stays good for as long as the guest's own TLB could keep it:
 * until a vCPU executes an instruction that invalidates translations
 * (xlate_flush(), hooked at translation time in tracer-trans.c). */
#ifndef VIGIL_PLUGIN_XLATE_H
#define VIGIL_PLUGIN_XLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vcpu.h"

/* A vCPU executed an instruction after which no TLB may hold what it held
 * (invlpg, invpcid, a write to cr0, cr3 or cr4, ...): forget every
 * remembered translation, of every vCPU. */
void xlate_flush(void);

/* Whether the guest kernel instruction at @b (@n bytes) is one of those. */
bool xlate_is_flush(const uint8_t *b, size_t n);

/* Read guest RAM straight from the file QEMU keeps it in (@path: vigil's
 * memfd, the machine's memory backend): no copy through QEMU for a page
 * of RAM. Returns false when it cannot be mapped. */
bool xlate_map_ram(const char *path);

/* The @len bytes at user address @va, all within one page, in the address
 * space running on @v (vCPU @vcpu, < VRING_MAX_VCPUS), in @v's scratch
 * buffer or in the guest's RAM itself: good until @v's next read; RAM can
 * change meanwhile (another vCPU), so read each word once. NULL when the
 * page is not mapped. */
const void *xlate_peek(struct vcpu *v, unsigned vcpu, uint64_t va, size_t len);

/* What xlate_peek() did so far: pages read straight from RAM and through
 * QEMU; translations it read from the page tables in RAM: pages mapped,
 * and not mapped. */
struct xlate_counts {
    uint64_t from_ram, through_qemu, walked, missing;
};
void xlate_counts(struct xlate_counts *c);

#endif
