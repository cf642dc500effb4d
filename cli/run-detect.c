/* Attributing disk detections to guest calls: see run-detect.h. */
#include "run-detect.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/syscalls.h"

#define MAX_WAITING 256
#define MAX_WRITERS 8
/* How long a detection waits for the call that carried its data: that
 * call is still in the guest (the request is its I/O), so it completes
 * soon after, unless the data went out by writeback. */
#define WAIT_NS (3ull * 1000000000)

struct waiting {
    json_t *obj;
    int64_t req_ts;
    uint64_t deadline;
    json_t *writers; /* array, or NULL */
};

struct run_detect {
    run_detect_emit_fn emit;
    void *ctx;
    struct waiting w[MAX_WAITING];
    size_t n;
};

/* Calls that move data to a file or wait for it to reach the disk. */
static bool writes_to_disk(const char *name)
{
    static const char *const names[] = {
        "write",          "pwrite64",        "writev",          "pwritev",
        "pwritev2",       "fsync",           "fdatasync",       "sync",
        "syncfs",         "msync",           "sync_file_range", "io_submit",
        "io_uring_enter", "copy_file_range", "sendfile",        "splice",
        "umount2",        "fallocate",       "ftruncate",       "truncate",
        "close", /* the last close of a block device writes it out */
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(name, names[i]))
            return true;
    return false;
}

int run_detect_new(struct run_detect **out, run_detect_emit_fn emit, void *ctx)
{
    struct run_detect *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->emit = emit;
    d->ctx = ctx;
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
    d->w[d->n++] = (struct waiting){.obj = obj,
                                    .req_ts = json_integer_value(ts),
                                    .deadline = now_ns + WAIT_NS};
}

void run_detect_offer(struct run_detect *d, const struct vigil_syscall *ev)
{
    if (d->n == 0)
        return;
    const struct vsys_ent *e = vsys_lookup(ev->nr, ev->compat);
    if (!e || !e->name || !writes_to_disk(e->name))
        return;
    for (size_t i = 0; i < d->n; i++) {
        struct waiting *w = &d->w[i];
        uint64_t t = (uint64_t)w->req_ts;
        if (t < ev->ts_enter_ns || (ev->ts_exit_ns && t > ev->ts_exit_ns))
            continue;
        if (!w->writers)
            w->writers = json_array();
        if (!w->writers || json_array_size(w->writers) >= MAX_WRITERS)
            continue;
        json_array_append_new(w->writers,
                              json_pack("{s:i, s:i, s:s, s:s}", "pid", ev->tgid,
                                        "tid", ev->tid, "comm", ev->comm,
                                        "syscall", e->name));
    }
}

void run_detect_flush(struct run_detect *d, uint64_t now_ns, bool all)
{
    for (size_t i = 0; i < d->n;) {
        if (all || d->w[i].writers || now_ns >= d->w[i].deadline)
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
