/* Requests the plugin posts to vigil (run-requests.c). */
#ifndef VIGIL_CLI_RUN_REQUESTS_H
#define VIGIL_CLI_RUN_REQUESTS_H

#include "run-update.h"

struct vring_map;
struct run_requests;

/* Serve @ring's request slot on a thread of its own, so that slow work (a
 * signed update's checks and the new database) never holds up the trace.
 * @update may be NULL: updates are then refused as not enabled. 0 or -1. */
int run_requests_start(struct run_requests **out, struct vring_map *ring,
                       struct run_update *update);
void run_requests_stop(struct run_requests *r);

/* The guest's rax for an update refused for @r (docs/updates.md). */
#define RUN_UPDATE_REFUSED(r) (-1000 - (int64_t)(r))

#endif
