/* The filter's work counters: see stats.h. */
#include "stats.h"

#include <inttypes.h>
#include <stdio.h>

/* Set by nbdkit's `-D vigil.stats=1` (nbdkit finds it by this name). */
__attribute__((visibility("default"))) int vigil_debug_stats;

static uint64_t counters[ST_N];

static const char *const names[ST_N] = {
    [ST_REQUESTS] = "requests",
    [ST_REQ_BYTES] = "request_bytes",
    [ST_AROUND_PREADS] = "around_preads",
    [ST_AROUND_BYTES] = "around_bytes",
    [ST_AROUND_NS] = "around_ns",
    [ST_RANGE_WAIT_NS] = "range_wait_ns",
    [ST_SCANS_INLINE] = "scans_inline",
    [ST_SCAN_INLINE_NS] = "scan_inline_ns",
    [ST_SCANS_BEHIND] = "scans_behind",
    [ST_SCAN_BEHIND_NS] = "scan_behind_ns",
    [ST_COPY_BYTES] = "copy_bytes",
    [ST_QUEUE_WAIT_NS] = "queue_wait_ns",
    [ST_PASS_NS] = "pass_ns",
};

void stats_add(enum stat_id id, uint64_t n)
{
    __atomic_fetch_add(&counters[id], n, __ATOMIC_RELAXED);
}

void stats_print(const char *disk)
{
    if (!vigil_debug_stats)
        return;
    char line[1024];
    size_t k = 0;
    for (int i = 0; i < ST_N && k < sizeof(line); i++) {
        int n = snprintf(line + k, sizeof(line) - k, " %s=%" PRIu64, names[i],
                         __atomic_load_n(&counters[i], __ATOMIC_RELAXED));
        if (n < 0)
            break;
        k += (size_t)n;
    }
    fprintf(stderr, "vigil-filter: stats disk=%s%s\n", disk, line);
}
