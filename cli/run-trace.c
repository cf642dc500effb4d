/* `vigil run --trace`: the host side of system call tracing.
 *
 * Before QEMU starts: derive the kernel profile, create the ring file with
 * the offsets the plugin needs (both in run-trace-config.c), start the
 * consumer thread. While the guest
 * runs: the thread drains the rings and writes events. After QEMU exits:
 * drain the rest, close unfinished calls, print a summary.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "vigil/detect.h"
#include "run-trace.h"
#include "run-trace-config.h"
#include "trace-sink.h"
#include "vigil/consumer.h"
#include "vigil/event.h"
#include "vigil/log.h"
#include "vigil/profile.h"
#include "vigil/ring.h"

/* Per vCPU, unless --ring-size. Also under --callers, whose records are
 * about four times a plain call's: a full ring makes the vCPU wait rather
 * than drop, and a larger ring cost every traced call more (a 32 MiB ring
 * slowed the bench's --callers runs by about 10 %, selected or not: the
 * producer's writes miss the caches further). */
#define RING_BYTES     (8u << 20)
#define LINE_MAX_BYTES (64 * 1024)
#define CALLERS_SHORT  64 /* branches kept when an event does not fit */
/* At the end, how long the disk filter (stopped first) may still take. */
#define EVENTS_END_WAIT_MS 2000

struct run_trace {
    struct run_trace_opts o;
    struct vring_map *ring;
    struct vcons *cons;
    struct trace_sink *out; /* the file or stderr, or NULL */
    pthread_t thread;
    bool thread_started;
    int stop; /* atomic */
    uint64_t dropped_reported;
    char *line;
    char *jline;             /* the JSON form for the network sink */
    struct vlog_sender *net; /* --log: the network sink, or NULL */
    int events_fd;           /* detections from the disk filter, or -1 */
    struct vdet *detect;     /* detections waiting for their writer */
    char *evbuf;             /* a partial line read from events_fd */
    size_t evlen;
    char ring_path[512];
};

#define LOG_CTL_PORT_DEFAULT 7701

static int render(const struct vigil_syscall *ev, bool text, char *buf)
{
    int n = text ? vigil_syscall_text(ev, buf, LINE_MAX_BYTES)
                 : vigil_syscall_json(ev, buf, LINE_MAX_BYTES);
    if (n < 0 && !text && ev->callers != NULL &&
        ev->callers->nbranch > CALLERS_SHORT) {
        /* --callers=1024 with large captures: the newest branches only. */
        struct vigil_syscall short_ev = *ev;
        struct vigil_callers c = *ev->callers;
        c.branches += c.nbranch - CALLERS_SHORT;
        c.nbranch = CALLERS_SHORT;
        short_ev.callers = &c;
        n = vigil_syscall_json(&short_ev, buf, LINE_MAX_BYTES);
    }
    if (n < 0)
        n = snprintf(buf, LINE_MAX_BYTES,
                     text ? "[pid %5d] syscall %llu <too long to show>"
                          : "{\"type\":\"syscall\",\"tid\":%d,"
                            "\"nr\":%llu,\"error\":\"event too large\"}",
                     ev->tid, (unsigned long long)ev->nr);
    return n;
}

/* The sinks: the file (or stderr) and/or the network sender. The sender
 * never blocks: a full queue is counted and reported in-band. */
static void write_event(const struct vigil_syscall *ev, void *ctx)
{
    struct run_trace *t = ctx;
    if (t->out != NULL) {
        /* Formatted where it is written from (trace-sink.c). */
        int n = render(ev, t->o.text, trace_sink_room(t->out));
        trace_sink_commit(t->out, (size_t)n);
    }
    if (t->net != NULL) {
        int n = render(ev, false, t->jline);
        vlog_sender_push(t->net, t->jline, (size_t)n);
    }
    if (t->detect != NULL) {
        vdet_offer(t->detect, ev);
        vdet_flush(t->detect, cli_now_ns(CLOCK_MONOTONIC), false);
    }
}

/* A non-event JSON record (drops, summary) for the network sink. */
static void net_record(struct run_trace *t, const char *rec, int n)
{
    if (t->net != NULL && n > 0 && n < LINE_MAX_BYTES)
        vlog_sender_push(t->net, rec, (size_t)n);
}

static int start_net(struct run_trace *t)
{
    uint8_t key[VLOG_KEY_LEN];
    int err = vlog_key_load(t->o.log_key, key);
    if (err < 0) {
        cli_error("--key %s: %s (expected 32 bytes or 64 hex digits)",
                  t->o.log_key, strerror(-err));
        return err;
    }
    struct vlog_sender_opts so = {
        .url = t->o.log_url,
        .key = key,
        .ctl_bind = t->o.log_ctl_bind,
        .ctl_port = (uint16_t)(t->o.log_ctl_port ? t->o.log_ctl_port
                                                 : LOG_CTL_PORT_DEFAULT),
        .hb_missed = t->o.log_hb_set ? t->o.log_hb_missed : 3,
    };
    err = vlog_sender_new(&t->net, &so);
    memset(key, 0, sizeof key);
    if (err < 0) {
        cli_error("--log %s: %s", t->o.log_url, strerror(-err));
        return err;
    }
    if (t->o.log_wait_s > 0 &&
        !vlog_sender_wait_started(t->net, t->o.log_wait_s * 1000u))
        cli_warn("--log: no START from a logging host within %u s; events "
                 "are counted as unsent until one arrives",
                 t->o.log_wait_s);
    return 0;
}

/* Drops are part of the stream: never silent. */
static void report_drops(struct run_trace *t)
{
    struct vcons_stats st;
    vcons_stats(t->cons, &st);
    if (st.dropped_records == t->dropped_reported)
        return;
    uint64_t n = st.dropped_records - t->dropped_reported;
    t->dropped_reported = st.dropped_records;
    char rec[160];
    int len = vlog_drops_record(rec, sizeof rec, n, st.dropped_records, NULL);
    if (len > 0)
        net_record(t, rec, len);
    if (t->out == NULL)
        return;
    if (t->o.text) {
        char line[96];
        int m = snprintf(line, sizeof line,
                         "+++ vigil: %llu records dropped (ring full) +++",
                         (unsigned long long)n);
        trace_sink_line(t->out, line, (size_t)m);
    } else if (len > 0) {
        trace_sink_line(t->out, rec, (size_t)len);
    }
}

/* One JSON line from another source (disk detections) into the sinks. */
static void foreign_record(void *ctx, const char *rec, size_t n)
{
    struct run_trace *t = ctx;
    if (n == 0)
        return;
    net_record(t, rec, (int)n);
    if (t->out == NULL)
        return;
    if (t->o.text) {
        char *d = trace_sink_room(t->out);
        int m = snprintf(d, LINE_MAX_BYTES, "+++ vigil: %.*s +++", (int)n, rec);
        trace_sink_commit(t->out,
                          m < LINE_MAX_BYTES ? (size_t)m : LINE_MAX_BYTES - 1);
    } else {
        trace_sink_line(t->out, rec, n);
    }
}

/* Move whole lines from events_fd into the sinks.  @wait_ms: how long to
 * wait for more (at the end: until the writer closes it). */
static void pump_events(struct run_trace *t, int wait_ms)
{
    int fd = __atomic_load_n(&t->events_fd, __ATOMIC_ACQUIRE);
    if (fd < 0)
        return;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, wait_ms) <= 0)
            return;
        ssize_t n = read(fd, t->evbuf + t->evlen, LINE_MAX_BYTES - t->evlen);
        if (n <= 0) {
            if (t->evlen) /* an unterminated tail */
                vdet_add(t->detect, t->evbuf, t->evlen,
                         cli_now_ns(CLOCK_MONOTONIC));
            t->evlen = 0;
            close(fd);
            __atomic_store_n(&t->events_fd, -1, __ATOMIC_RELEASE);
            return;
        }
        t->evlen += (size_t)n;
        char *start = t->evbuf, *nl;
        while ((nl = memchr(start, '\n', t->evlen - (start - t->evbuf)))) {
            if (nl > start)
                vdet_add(t->detect, start, (size_t)(nl - start),
                         cli_now_ns(CLOCK_MONOTONIC));
            start = nl + 1;
        }
        t->evlen -= (size_t)(start - t->evbuf);
        memmove(t->evbuf, start, t->evlen);
        if (t->evlen == LINE_MAX_BYTES) { /* no line is this long */
            vdet_add(t->detect, t->evbuf, t->evlen,
                     cli_now_ns(CLOCK_MONOTONIC));
            t->evlen = 0;
        }
        vdet_flush(t->detect, cli_now_ns(CLOCK_MONOTONIC), false);
    }
}

void run_trace_add_events(struct run_trace *t, int fd)
{
    /* Published by the store below, for the consumer thread. */
    if (vdet_new(&t->detect, foreign_record, t) < 0) {
        cli_warn("out of memory: disk detections left out of the trace");
        close(fd);
        return;
    }
    __atomic_store_n(&t->events_fd, fd, __ATOMIC_RELEASE);
}

struct vring_map *run_trace_ring(struct run_trace *t)
{
    return t->ring;
}

static void *consumer_main(void *arg)
{
    struct run_trace *t = arg;
    while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
        uint64_t n = vcons_poll(t->cons);
        report_drops(t);
        pump_events(t, 0);
        if (n == 0) {
            /* Idle: let readers of the trace see what there is. */
            if (t->out != NULL)
                trace_sink_flush(t->out);
            struct timespec ts = {0, 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

int run_trace_start(struct run_trace **out, const struct run_trace_opts *o,
                    const char *kernel, unsigned nvcpus, char *plugin_arg,
                    size_t arglen)
{
    struct run_trace *t = calloc(1, sizeof *t);
    if (t == NULL)
        return -ENOMEM;
    t->o = *o;
    t->line = malloc(LINE_MAX_BYTES);
    t->jline = malloc(LINE_MAX_BYTES);
    t->evbuf = malloc(LINE_MAX_BYTES);
    t->events_fd = -1;
    struct vprof *prof = NULL;
    struct vring_config cfg;
    int err = t->line && t->jline && t->evbuf
                  ? run_trace_profile(o, kernel, &prof)
                  : -ENOMEM;
    if (err == 0)
        err = run_trace_config(prof, o, &cfg);
    vprof_free(prof);
    if (err < 0)
        goto fail;

    size_t ring_bytes = o->ring_bytes ? o->ring_bytes : RING_BYTES;
    err = vring_create_mem(nvcpus, ring_bytes, &cfg, &t->ring, t->ring_path,
                           sizeof t->ring_path);
    if (err < 0) {
        cli_error("cannot create the trace ring: %s", strerror(-err));
        goto fail;
    }
    /* Read by the plugin once QEMU starts. */
    struct vact_config *act = &vring_shm(t->ring)->act;
    *act = o->act;
    act->sel = o->sel;
    if (!o->channel_only)
        act->flags |= VACT_TRACE;
    if (o->channel_only) {
        snprintf(plugin_arg, arglen, "ring=%s", t->ring_path);
        *out = t;
        return 0;
    }
    if (o->log_url != NULL) {
        err = start_net(t);
        if (err < 0)
            goto fail;
    }
    if (o->output == NULL && o->log_url != NULL) {
        t->out = NULL; /* the network is the only sink */
    } else {
        bool std = o->output == NULL || !strcmp(o->output, "-");
        err = trace_sink_open(&t->out, std ? NULL : o->output, LINE_MAX_BYTES);
        if (err < 0) {
            cli_error("%s: %s", std ? "stderr" : o->output, strerror(-err));
            goto fail;
        }
    }
    err = vcons_new(&t->cons, t->ring, &o->sel, write_event, t);
    if (err < 0)
        goto fail;
    err = -pthread_create(&t->thread, NULL, consumer_main, t);
    if (err < 0)
        goto fail;
    t->thread_started = true;
    snprintf(plugin_arg, arglen, "ring=%s", t->ring_path);
    *out = t;
    return 0;
fail:
    run_trace_stop(t, false);
    return err < 0 ? err : -EINVAL;
}

/* The consumer's last records, and the summary that closes the trace: in
 * the trace itself, to the log host, and on stderr.  Returns -1 when the
 * trace cannot be trusted (no plugin, or threads it could not read). */
static int finish_consumer(struct run_trace *t, bool verbose)
{
    /* The filter has stopped: its last detections wait for the calls that
     * finishing the consumer hands out. */
    pump_events(t, EVENTS_END_WAIT_MS);
    vcons_finish(t->cons);
    report_drops(t);
    if (t->detect != NULL)
        vdet_flush(t->detect, cli_now_ns(CLOCK_MONOTONIC), true);
    struct vcons_stats st;
    vcons_stats(t->cons, &st);
    char sum[512];
    int sl = snprintf(
        sum, sizeof sum,
        "{\"type\":\"summary\",\"records\":%llu,\"events\":%llu,"
        "\"dropped_records\":%llu,\"unpaired_returns\":%llu,"
        "\"unreadable_threads\":%llu",
        (unsigned long long)st.records, (unsigned long long)st.events,
        (unsigned long long)st.dropped_records,
        (unsigned long long)st.unpaired_exits, (unsigned long long)st.bad_task);
    if (st.ring_waits > 0)
        sl +=
            snprintf(sum + sl, sizeof sum - (size_t)sl, ",\"ring_waits\":%llu",
                     (unsigned long long)st.ring_waits);
    if (st.bad_maps > 0)
        sl += snprintf(sum + sl, sizeof sum - (size_t)sl, ",\"bad_maps\":%llu",
                       (unsigned long long)st.bad_maps);
    if (st.unfollowed_fds > 0)
        sl += snprintf(sum + sl, sizeof sum - (size_t)sl,
                       ",\"unfollowed_mem_fds\":%llu",
                       (unsigned long long)st.unfollowed_fds);
    sl += snprintf(sum + sl, sizeof sum - (size_t)sl, "}");
    if (!t->o.text && t->out != NULL)
        trace_sink_line(t->out, sum, (size_t)sl);
    if (t->out != NULL) /* before the warnings below, on the same stderr */
        trace_sink_flush(t->out);
    net_record(t, sum, sl);
    int rc = 0;
    if (!__atomic_load_n(&vring_shm(t->ring)->plugin_attached,
                         __ATOMIC_ACQUIRE)) {
        cli_error("the plugin never attached to the trace ring");
        rc = -1;
    }
    if (st.bad_task > 0) {
        cli_warn("%llu system calls came from threads that could not be "
                 "read: the kernel profile does not match the guest kernel",
                 (unsigned long long)st.bad_task);
        rc = -1;
    }
    if (st.dropped_records > 0)
        cli_warn("%llu trace records were dropped (ring full)",
                 (unsigned long long)st.dropped_records);
    if (st.bad_maps > 0)
        cli_warn("%llu memory maps from the plugin could not be parsed: "
                 "--callers named no module for the calls they covered",
                 (unsigned long long)st.bad_maps);
    if (st.unfollowed_fds > 0)
        cli_warn("%llu /proc/PID/mem descriptors were opened while vigil's "
                 "tables were full: --callers did not see writes through them",
                 (unsigned long long)st.unfollowed_fds);
    if (verbose)
        fprintf(stderr,
                "vigil: trace: %llu records, %llu events, %llu dropped, "
                "%llu unpaired returns\n",
                (unsigned long long)st.records, (unsigned long long)st.events,
                (unsigned long long)st.dropped_records,
                (unsigned long long)st.unpaired_exits);
    return rc;
}

/* Send what is queued for the log host, end the session, and say what
 * did not reach it. */
static void finish_log(struct run_trace *t, bool verbose)
{
    vlog_sender_flush(t->net, 5000);
    struct vlog_sender_stats ns;
    vlog_sender_stats(t->net, &ns);
    vlog_sender_free(t->net); /* ends the session with FIN */
    t->net = NULL;
    if (ns.dropped > 0 || ns.send_errors > 0)
        cli_warn("--log: %llu events dropped (send queue full), %llu send "
                 "errors",
                 (unsigned long long)ns.dropped,
                 (unsigned long long)ns.send_errors);
    if (ns.sessions == 0)
        cli_warn("--log: no START arrived; nothing was sent (%llu records "
                 "unsent)",
                 (unsigned long long)ns.unsent);
    if (verbose)
        fprintf(stderr,
                "vigil: log: %llu sessions, %llu records sent, %llu unsent "
                "(not started), %llu filtered, %llu dropped, %llu "
                "datagrams\n",
                (unsigned long long)ns.sessions,
                (unsigned long long)ns.sent_records,
                (unsigned long long)ns.unsent, (unsigned long long)ns.filtered,
                (unsigned long long)ns.dropped,
                (unsigned long long)ns.datagrams);
}

int run_trace_stop(struct run_trace *t, bool verbose)
{
    if (t == NULL)
        return 0;
    if (t->thread_started) {
        __atomic_store_n(&t->stop, 1, __ATOMIC_RELEASE);
        pthread_join(t->thread, NULL);
    }
    int rc = t->cons != NULL ? finish_consumer(t, verbose) : 0;
    if (t->net != NULL)
        finish_log(t, verbose);
    int werr = trace_sink_close(t->out);
    if (werr < 0) {
        cli_error("%s: the trace could not be written: %s",
                  t->o.output != NULL ? t->o.output : "stderr",
                  strerror(-werr));
        rc = -1;
    }
    vcons_free(t->cons);
    vring_close(t->ring);
    if (t->events_fd >= 0)
        close(t->events_fd);
    vdet_free(t->detect);
    free(t->line);
    free(t->jline);
    free(t->evbuf);
    free(t);
    return rc;
}

int run_trace_parse_select(const char *spec, struct vigil_select *sel)
{
    memset(sel, 0, sizeof *sel);
    if (!strcmp(spec, "all")) {
        sel->kind = VIGIL_SEL_ALL;
        return 0;
    }
    if (!strncmp(spec, "pid=", 4)) {
        char *end;
        errno = 0;
        long v = strtol(spec + 4, &end, 10);
        if (errno || end == spec + 4 || *end || v <= 0 || v > 4194304)
            return -EINVAL;
        sel->kind = VIGIL_SEL_PID;
        sel->pid = (int32_t)v;
        return 0;
    }
    const char *val = NULL;
    if (!strncmp(spec, "comm=", 5)) {
        sel->kind = VIGIL_SEL_COMM;
        val = spec + 5;
        if (strlen(val) > 15)
            return -EINVAL; /* the kernel keeps 15 characters */
    } else if (!strncmp(spec, "exe=", 4)) {
        sel->kind = VIGIL_SEL_EXE;
        val = spec + 4;
    }
    if (val == NULL || *val == '\0' || strlen(val) >= sizeof sel->name)
        return -EINVAL;
    snprintf(sel->name, sizeof sel->name, "%s", val);
    return 0;
}
