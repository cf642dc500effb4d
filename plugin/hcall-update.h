/* The signed update hypercall (hcall-update.c). */
#ifndef VIGIL_PLUGIN_HCALL_UPDATE_H
#define VIGIL_PLUGIN_HCALL_UPDATE_H

#include <stdint.h>

#include "vcpu.h"
#include "vigil/ring.h"

#define HCALL_UPDATE     2
#define HCALL_UPDATE_MSG VREQ_MSG_MAX /* the result buffer's size */

/* Where requests and their data go (the channel's request slot). */
void hcall_update_setup(struct vring_map *ring);

/* RAX=2 at the vmcall at @ip; does not return. */
void hcall_update(struct vcpu *v, uint64_t ip);

#endif
