/* A traced process's executable mappings, read from the guest kernel's
 * maple tree and sent as VRAW_VMAS records (--callers, plugin/vma.c). */
#ifndef VIGIL_PLUGIN_VMA_H
#define VIGIL_PLUGIN_VMA_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu.h"
#include "vigil/ring.h"

/* Off unless @on and the profile gave every offset (cfg->vma). */
void vma_setup(const struct vring_config *cfg, bool on);

/* Before a call's entry record: the map of an address space not seen yet
 * (a new process, a fork's child). */
void vma_on_entry(struct vring_map *ring, unsigned vcpu, struct vcpu *v,
                  const struct vraw_task *t);

/* After a call's return record: the map again when the call may have
 * changed it (execve, mmap, munmap, mprotect, mremap, brk, shmat...). */
void vma_on_return(struct vring_map *ring, unsigned vcpu, struct vcpu *v,
                   const struct vraw_task *t, uint64_t nr, bool compat,
                   int64_t ret);

#endif
