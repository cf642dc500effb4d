/* System call tracing for `vigil run` (run-trace.c). */
#ifndef VIGIL_RUN_TRACE_H
#define VIGIL_RUN_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/act.h"
#include "vigil/consumer.h"

struct run_trace_opts {
    struct vigil_select sel;
    bool text;           /* strace-like text instead of JSON Lines */
    const char *output;  /* NULL or "-": stderr */
    const char *profile; /* JSON profile; NULL: derive from the kernel */
    uint32_t str_max, buf_max, argv_max;
    const char *log_url;      /* --log: stream events to vigil logd */
    const char *log_key;      /* --key: pre-shared key file */
    unsigned log_ctl_port;    /* 0: 7701 */
    const char *log_ctl_bind; /* control address; NULL: 0.0.0.0 */
    unsigned log_wait_s;      /* wait for START before the guest boots */
    unsigned log_hb_missed;   /* stop after this many missed heartbeats */
    bool log_hb_set;          /* log_hb_missed given (else 3) */
    struct vact_config act;   /* --inject rules, hypercalls (sel: above) */
    size_t ring_bytes;        /* --ring-size; 0: the default */
    bool channel_only;        /* no trace: the plugin's channel for
                                 hypercalls alone (--update-key) */
};

/* --ring-size's bounds: a record may take a quarter of a ring, and a
 * memory map record takes up to 64 KiB. */
#define VIGIL_RING_MIN (256u << 10)
#define VIGIL_RING_MAX (1024u << 20)

struct run_trace;

/* Prepare tracing before QEMU starts; fills plugin_arg with the plugin's
 * "ring=..." argument. Messages are printed; returns 0 or -errno. */
int run_trace_start(struct run_trace **out, const struct run_trace_opts *o,
                    const char *kernel, unsigned nvcpus, char *plugin_arg,
                    size_t arglen);
/* Merge JSON Lines read from @fd (the disk filter's detections) into the
 * trace's sinks; @fd is owned from now on and read until its writer closes
 * it, at the latest in run_trace_stop(). */
void run_trace_add_events(struct run_trace *t, int fd);

/* The channel to the plugin (for the request thread). */
struct vring_map *run_trace_ring(struct run_trace *t);

/* After QEMU exited: drain, summarize, free. Returns -1 when the trace is
 * not trustworthy (plugin never attached, profile mismatch). */
int run_trace_stop(struct run_trace *t, bool verbose);

/* Parse all | pid=N | comm=NAME | exe=PATH. */
int run_trace_parse_select(const char *spec, struct vigil_select *sel);

#endif
