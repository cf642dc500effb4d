/* Events, warnings and counters: see record.h. */
#include "record.h"

#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vigil/clock.h>

/* Console warnings per second: a guest writing a signature in a loop must
 * not drown the console (every detection is still an event). */
#define WARN_PER_SEC 10

static struct record_opts opts = {.events_fd = -1, .events_pipe = -1};
static pthread_mutex_t warn_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t warn_sec; /* the second warnings are being counted in */
static unsigned warned;  /* warnings printed in it */
static uint64_t unshown; /* detections not warned about since */
static uint64_t overflows;

void record_init(const struct record_opts *o)
{
    opts = *o;
}

void record_warn(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "vigil-filter: warning: %s\n", line);
}

static void warn_unshown_locked(void)
{
    if (unshown)
        record_warn("%" PRIu64 " more detections on disk %s not shown here "
                    "(every one is an event)",
                    unshown, opts.disk);
    unshown = 0;
}

/* The console warning for one detection, at most WARN_PER_SEC a second;
 * the next one printed says how many were not. */
static void warn_detection(const struct ds_hit *h, const char *action)
{
    int64_t sec = vigil_now_ns(CLOCK_MONOTONIC) / 1000000000;
    pthread_mutex_lock(&warn_lock);
    if (sec != warn_sec) {
        warn_sec = sec;
        warned = 0;
    }
    if (warned == WARN_PER_SEC) {
        unshown++;
        pthread_mutex_unlock(&warn_lock);
        return;
    }
    warned++;
    warn_unshown_locked();
    record_warn("detection on disk %s: signature %.128s at offset %" PRIu64
                ", %" PRIu64 " bytes; policy %s: %s",
                opts.disk, h->name, h->off, h->end - h->off,
                nbd_policy_name(h->policy), action);
    pthread_mutex_unlock(&warn_lock);
}

static json_t *event_json(const struct record_req *rq, const struct ds_hit *h,
                          const char *action, uint64_t zoff, uint64_t zlen,
                          const char *error)
{
    char name[128]; /* bounded: an event stays one write() to a pipe */
    snprintf(name, sizeof(name), "%s", h->name);
    json_t *j = json_pack(
        "{s:s, s:I, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}",
        "type", "detection", "ts", (json_int_t)vigil_now_ns(CLOCK_MONOTONIC),
        "disk", opts.disk, "offset", (json_int_t)h->off, "length",
        (json_int_t)(h->end - h->off), "signature", name, "policy",
        nbd_policy_name(h->policy), "action", action, "write", rq->fate,
        "request", nbd_op_name(rq->op), "request_offset",
        (json_int_t)rq->offset, "request_length", (json_int_t)rq->count,
        "request_ts", (json_int_t)rq->ts);
    if (!j)
        return NULL;
    if (zlen) {
        json_object_set_new(j, "zeroed_offset", json_integer((json_int_t)zoff));
        json_object_set_new(j, "zeroed_length", json_integer((json_int_t)zlen));
    }
    if (error)
        json_object_set_new(j, "error", json_string(error));
    if (rq->unrecorded)
        json_object_set_new(j, "unrecorded",
                            json_integer((json_int_t)rq->unrecorded));
    return j;
}

void record_hit(const struct record_req *rq, const struct ds_hit *h,
                const char *action, uint64_t zoff, uint64_t zlen,
                const char *error)
{
    warn_detection(h, action);
    if (opts.events_fd < 0 && opts.events_pipe < 0)
        return;
    json_t *j = event_json(rq, h, action, zoff, zlen, error);
    if (!j)
        return;
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (!s)
        return;
    size_t len = strlen(s);
    s[len] = '\n'; /* overwrite the NUL: one write() per line */
    /* Lines stay whole in a pipe: each is one write() (PIPE_BUF covers
     * every event, names being bounded). */
    int fds[] = {opts.events_fd, opts.events_pipe};
    for (size_t i = 0; i < 2; i++) {
        if (fds[i] < 0)
            continue;
        ssize_t n = write(fds[i], s, len + 1);
        if (n != (ssize_t)(len + 1))
            record_warn("%s: short write: %m",
                        i ? "vigil-events-fd" : "vigil-events");
    }
    free(s);
}

void record_count_overflow(void)
{
    __atomic_add_fetch(&overflows, 1, __ATOMIC_RELAXED);
}

void record_summary(void)
{
    pthread_mutex_lock(&warn_lock);
    warn_unshown_locked();
    pthread_mutex_unlock(&warn_lock);
    uint64_t n = __atomic_load_n(&overflows, __ATOMIC_RELAXED);
    if (n)
        record_warn("disk %s: %" PRIu64 " requests refused with more matches "
                    "than recorded",
                    opts.disk, n);
}
