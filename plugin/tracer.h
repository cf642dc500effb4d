/* The system call tracer inside the plugin (tracer.c). */
#ifndef VIGIL_PLUGIN_TRACER_H
#define VIGIL_PLUGIN_TRACER_H

#include <stddef.h>

#include "qemu-api.h"

struct vring_map;

/* Start tracing into `ring`, whose header holds the kernel profile. Returns
 * 0, or -1 with a message in err. */
int tracer_install(qemu_plugin_id_t id, struct vring_map *ring, char *err,
                   size_t errlen);
/* Per-vCPU setup; called from the plugin's vCPU init callback (QEMU keeps
 * one callback per event and plugin). */
void tracer_vcpu_init(unsigned int vcpu);
/* One line on what was attached, for the plugin's log. */
void tracer_report(char *buf, size_t len);

#endif
