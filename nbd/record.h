/* Recording detections: JSON Lines events, rate-limited console warnings
 * and the filter's counters (reported at shutdown). */
#ifndef VIGIL_NBD_RECORD_H
#define VIGIL_NBD_RECORD_H

#include <stdint.h>

#include "diskscan/scan.h"
#include "request.h"

struct record_opts {
    const char *disk; /* vigil-disk */
    int events_fd;    /* vigil-events, or -1 */
    int events_pipe;  /* vigil-events-fd, or -1 */
};

/* Where events go; @o is copied (the strings must outlive the filter). */
void record_init(const struct record_opts *o);

/* One request as events see it. */
struct record_req {
    enum nbd_op op;
    uint64_t offset;
    uint32_t count;
    int64_t ts;        /* when it reached the filter */
    const char *fate;  /* "passed", "modified" or "denied" */
    size_t unrecorded; /* matches in it beyond those recorded */
};

/* One detection: an event line and a console warning.  @zlen 0: nothing
 * zeroed; @error: why a cut-net failed, or NULL. */
void record_hit(const struct record_req *rq, const struct ds_hit *h,
                const char *action, uint64_t zoff, uint64_t zlen,
                const char *error);

/* "vigil-filter: warning: ..." on stderr. */
void record_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Counters. */
void record_count_overflow(void); /* a request refused: too many matches */

/* At shutdown: warnings not shown and the counters. */
void record_summary(void);

#endif
