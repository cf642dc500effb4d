/* The executor of hidden socket calls (run-hide.c, docs/hide.md). */
#ifndef VIGIL_CLI_RUN_HIDE_H
#define VIGIL_CLI_RUN_HIDE_H

#include <stdbool.h>

struct vring_map;
struct run_hide;

/* Run the calls the plugin posts to @ring's slots, on a thread in the
 * network namespace @netns (a name under /var/run/netns, a path, or NULL
 * for vigil's own). Prints why on failure; 0 or -1. */
int run_hide_start(struct run_hide **out, struct vring_map *ring,
                   const char *netns);
/* Stop; every hidden socket still open is closed. */
void run_hide_stop(struct run_hide *h, bool verbose);

#endif
