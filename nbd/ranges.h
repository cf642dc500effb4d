/* Disk ranges in use by requests in flight.
 *
 * A write is scanned with the disk bytes around it, so two requests close
 * enough to form one signature together must not run at the same time:
 * each would read the other's range before it is written, and both would
 * pass.  A request takes its range (its own bytes and the surroundings it
 * reads) before reading them and gives it back once its data is written;
 * a request whose range overlaps one in flight waits for it.  Requests
 * far apart still run in parallel. */
#ifndef VIGIL_NBD_RANGES_H
#define VIGIL_NBD_RANGES_H

#include <stdint.h>

struct ranges;

/* Return 0 or -ENOMEM. */
int ranges_new(struct ranges **out);
void ranges_free(struct ranges *rs);

/* Wait until no range in flight overlaps [lo, hi), then take it.
 * Return a handle for ranges_put, or -ENOMEM. */
int ranges_take(struct ranges *rs, uint64_t lo, uint64_t hi);
void ranges_put(struct ranges *rs, int handle);

#endif
