/* Attributing disk detections to guest calls: see run-detect.h. */
#include "run-detect.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/syscalls.h"

#define MAX_WAITING 256
#define MAX_WRITERS 8
/* How long a detection waits for the call that carried its data, in guest
 * time as the trace shows it: that call was in the guest when the request
 * arrived (the request is its I/O), so it ends soon after, unless the data
 * went out by writeback.  Trace time, because the trace can lag behind the
 * filter on a busy host; the host-time limit covers a quiet trace. */
#define WAIT_NS      (3ull * 1000000000)
#define WAIT_HOST_NS (30ull * 1000000000)

struct waiting {
    json_t *obj;
    int64_t req_ts;
    uint64_t deadline;
    json_t *writers; /* array, or NULL */
};

/* A disk-writing call already handed out: its detection may be read from
 * the filter's pipe only after the call's event went by. */
struct recent {
    int32_t tgid, tid;
    char comm[17];
    const char *name;
    uint64_t ts_enter, ts_exit; /* exit 0: never returned */
};

#define NRECENT 128
#define NR_BITS 1024 /* above every call number of both tables */

struct run_detect {
    /* The calls that write (writes_to_disk), by number: [0] 64-bit ABI,
     * [1] i386.  Every traced call is looked up here. */
    uint64_t writes[2][NR_BITS / 64];
    struct recent recent[NRECENT];
    size_t nrecent; /* ever recorded; the last NRECENT are kept */
    run_detect_emit_fn emit;
    void *ctx;
    struct waiting w[MAX_WAITING];
    size_t n;
    uint64_t progress; /* the latest call entry the trace has shown */
};

/* Calls that move data to a file or wait for it to reach the disk. */
static void mark_writing_calls(struct run_detect *d)
{
    static const char *const names[] = {
        "write",          "pwrite64",        "writev",          "pwritev",
        "pwritev2",       "fsync",           "fdatasync",       "sync",
        "syncfs",         "msync",           "sync_file_range", "io_submit",
        "io_uring_enter", "copy_file_range", "sendfile",        "splice",
        "umount2",        "fallocate",       "ftruncate",       "truncate",
        "close", /* the last close of a block device writes it out */
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        int nr[2] = {vsys_number(names[i]), vsys_number_compat(names[i])};
        for (int abi = 0; abi < 2; abi++)
            if (nr[abi] >= 0 && nr[abi] < NR_BITS)
                d->writes[abi][nr[abi] / 64] |= 1ull << (nr[abi] % 64);
    }
}

static bool writes_to_disk(const struct run_detect *d, uint64_t nr, bool compat)
{
    return nr < NR_BITS && (d->writes[compat][nr / 64] >> (nr % 64)) & 1;
}

int run_detect_new(struct run_detect **out, run_detect_emit_fn emit, void *ctx)
{
    struct run_detect *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->emit = emit;
    d->ctx = ctx;
    mark_writing_calls(d);
    *out = d;
    return 0;
}

static void emit_json(struct run_detect *d, json_t *obj)
{
    char *s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s) {
        d->emit(d->ctx, s, strlen(s));
        free(s);
    }
}

static void leave(struct run_detect *d, size_t i)
{
    struct waiting *w = &d->w[i];
    if (w->writers)
        json_object_set_new(w->obj, "writers", w->writers);
    emit_json(d, w->obj);
    json_decref(w->obj);
    memmove(w, w + 1, (d->n - i - 1) * sizeof(*w));
    d->n--;
}

static bool spans(uint64_t t, uint64_t enter, uint64_t exit)
{
    return t >= enter && (exit == 0 || t <= exit);
}

static void add_writer(struct waiting *w, const struct recent *r)
{
    if (!w->writers)
        w->writers = json_array();
    if (!w->writers || json_array_size(w->writers) >= MAX_WRITERS)
        return;
    json_array_append_new(w->writers, json_pack("{s:i, s:i, s:s, s:s}", "pid",
                                                r->tgid, "tid", r->tid, "comm",
                                                r->comm, "syscall", r->name));
}

void run_detect_add(struct run_detect *d, const char *line, size_t n,
                    uint64_t now_ns)
{
    json_t *obj = json_loadb(line, n, 0, NULL);
    json_t *ts = obj ? json_object_get(obj, "request_ts") : NULL;
    if (!json_is_integer(ts)) {
        json_decref(obj);
        d->emit(d->ctx, line, n);
        return;
    }
    if (d->n == MAX_WAITING)
        leave(d, 0); /* the oldest goes out unattributed */
    struct waiting *w = &d->w[d->n++];
    *w = (struct waiting){.obj = obj,
                          .req_ts = json_integer_value(ts),
                          .deadline = now_ns + WAIT_HOST_NS};
    size_t first = d->nrecent > NRECENT ? d->nrecent - NRECENT : 0;
    for (size_t i = first; i < d->nrecent; i++) {
        const struct recent *r = &d->recent[i % NRECENT];
        if (spans((uint64_t)w->req_ts, r->ts_enter, r->ts_exit))
            add_writer(w, r);
    }
}

void run_detect_offer(struct run_detect *d, const struct vigil_syscall *ev)
{
    if (ev->ts_enter_ns > d->progress)
        d->progress = ev->ts_enter_ns;
    if (!writes_to_disk(d, ev->nr, ev->compat))
        return;
    const struct vsys_ent *e = vsys_lookup(ev->nr, ev->compat);
    struct recent *r = &d->recent[d->nrecent++ % NRECENT];
    *r = (struct recent){.tgid = ev->tgid,
                         .tid = ev->tid,
                         .name = e->name,
                         .ts_enter = ev->ts_enter_ns,
                         .ts_exit = ev->ts_exit_ns};
    memcpy(r->comm, ev->comm, sizeof(r->comm));
    for (size_t i = 0; i < d->n; i++)
        if (spans((uint64_t)d->w[i].req_ts, r->ts_enter, r->ts_exit))
            add_writer(&d->w[i], r);
}

void run_detect_flush(struct run_detect *d, uint64_t now_ns, bool all)
{
    for (size_t i = 0; i < d->n;) {
        const struct waiting *w = &d->w[i];
        if (all || w->writers || now_ns >= w->deadline ||
            d->progress > (uint64_t)w->req_ts + WAIT_NS)
            leave(d, i);
        else
            i++;
    }
}

void run_detect_free(struct run_detect *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        json_decref(d->w[i].obj);
        json_decref(d->w[i].writers);
    }
    free(d);
}
