/* The ring header's kernel facts, from the profile (run-trace-config.c). */
#ifndef VIGIL_CLI_RUN_TRACE_CONFIG_H
#define VIGIL_CLI_RUN_TRACE_CONFIG_H

#include "run-trace.h"
#include "vigil/profile.h"
#include "vigil/ring.h"

/* The profile: from --profile FILE, or derived from the kernel image
 * @kernel. Returns 0, or a negative errno after printing why. */
int run_trace_profile(const struct run_trace_opts *o, const char *kernel,
                      struct vprof **out);

/* Fill *c from the profile and the options. Returns 0, or a negative errno
 * after printing what the profile lacks (what the plugin cannot do
 * without). */
int run_trace_config(const struct vprof *p, const struct run_trace_opts *o,
                     struct vring_config *c);

#endif
