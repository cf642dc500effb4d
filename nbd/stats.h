/* Where the filter's time goes, per request kind of work: counted always
 * (relaxed atomics, a few per request), printed at shutdown when nbdkit
 * runs with `-D vigil.stats=1` (bench/disk does).  See docs/disk.md. */
#ifndef VIGIL_NBD_STATS_H
#define VIGIL_NBD_STATS_H

#include <stdint.h>

enum stat_id {
    ST_REQUESTS,      /* write, write-zeroes and trim requests */
    ST_REQ_BYTES,     /* their bytes */
    ST_AROUND_PREADS, /* next->pread calls for the surroundings */
    ST_AROUND_BYTES,  /* bytes they read */
    ST_AROUND_NS,     /* time in them */
    ST_RANGE_WAIT_NS, /* time waiting for a nearby request's range */
    ST_SCANS_INLINE,  /* requests scanned before they were passed on */
    ST_SCAN_INLINE_NS,
    ST_SCANS_BEHIND, /* requests scanned behind the I/O */
    ST_SCAN_BEHIND_NS,
    ST_COPY_BYTES,    /* bytes copied for scanning behind */
    ST_QUEUE_WAIT_NS, /* writers waiting for room in the behind queue */
    ST_PASS_NS,       /* time in the plugin's pwrite/zero/trim */
    ST_N
};

void stats_add(enum stat_id id, uint64_t n);

/* Print the counters on stderr when `-D vigil.stats=1` asked for them. */
void stats_print(const char *disk);

#endif
