/* The system call tracer inside the plugin (tracer.c). */
#ifndef VIGIL_PLUGIN_TRACER_H
#define VIGIL_PLUGIN_TRACER_H

#include <stddef.h>
#include <stdint.h>

#include "qemu-api.h"

struct vring_map;
struct vcpu;
struct vraw_task;

/* Start tracing into `ring`, whose header holds the kernel profile. Returns
 * 0, or -1 with a message in err. */
int tracer_install(qemu_plugin_id_t id, struct vring_map *ring, char *err,
                   size_t errlen);
/* Per-vCPU setup; called from the plugin's vCPU init callback (QEMU keeps
 * one callback per event and plugin). */
void tracer_vcpu_init(unsigned int vcpu);
/* A hidden call (hide.c) of thread @t whose wait a signal handler
 * interrupted: its return is traced as the kernel's would be, with
 * ERESTARTSYS, before the handler's calls; when the thread comes back to
 * the instruction (hide_take_restart()), the call is traced anew. */
void tracer_hidden_interrupted(struct vcpu *v, const struct vraw_task *t,
                               uint64_t nr);
/* One line on what was attached, for the plugin's log. */
void tracer_report(char *buf, size_t len);

#endif
