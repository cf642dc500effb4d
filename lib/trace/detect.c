/* Attributing disk detections to guest calls: see include/vigil/detect.h. */
#include "vigil/detect.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "trace/internal.h"
#include "vigil/syscalls.h"

#define MAX_WAITING 256
/* Writers named per detection.  A guest can keep many decoy calls in
 * flight; past this many the rest are counted ("writers_omitted"). */
#define MAX_WRITERS 16
/* How long a detection waits for the calls that were in flight when its
 * request arrived, in guest time as the trace shows it: the call carrying
 * the data was in the guest then (the request is its I/O), and so was any
 * decoy; every one of them is named, so the detection waits for all of
 * them rather than leaving with the first.  Trace time, because the trace
 * can lag behind the filter on a busy host; the host-time limit covers a
 * quiet trace. */
#define WAIT_NS      (3ull * 1000000000)
#define WAIT_HOST_NS (30ull * 1000000000)
/* Nesting kept when a filter line is written out again (the filter's lines
 * are flat); deeper values become null. */
#define MAX_DEPTH 16
/* Longest line written; a longer detection is replaced by an error record. */
#define MAX_LINE (16u << 20)

/* A disk-writing call: one seen (its event may come before the detection
 * is read from the filter's pipe), or one named as a writer. */
struct call {
    int32_t tgid, tid;
    char comm[17];
    const char *name;
    uint64_t ts_enter, ts_exit; /* exit 0: never returned */
};

struct waiting {
    json_t *obj;
    int64_t req_ts;
    uint64_t deadline;
    size_t nwriters;  /* named, up to MAX_WRITERS */
    uint64_t omitted; /* beyond that */
    struct call writers[MAX_WRITERS];
};

#define NRECENT 1024
#define NR_BITS 1024 /* above every call number of both tables */

struct vdet {
    /* The calls that write (writes_to_disk), by number: [0] 64-bit ABI,
     * [1] i386.  Every traced call is looked up here. */
    uint64_t writes[2][NR_BITS / 64];
    struct call recent[NRECENT];
    size_t nrecent; /* ever recorded; the last NRECENT are kept */
    vdet_emit_fn emit;
    void *ctx;
    struct waiting w[MAX_WAITING];
    size_t n;
    uint64_t progress; /* the latest call entry the trace has shown */
};

/* Calls that move data to a file or wait for it to reach the disk. */
static void mark_writing_calls(struct vdet *d)
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

static bool writes_to_disk(const struct vdet *d, uint64_t nr, bool compat)
{
    return nr < NR_BITS && (d->writes[compat][nr / 64] >> (nr % 64)) & 1;
}

int vdet_new(struct vdet **out, vdet_emit_fn emit, void *ctx)
{
    struct vdet *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->emit = emit;
    d->ctx = ctx;
    mark_writing_calls(d);
    *out = d;
    return 0;
}

/* ---- output: printable ASCII only ---- */

/* JSON string bodies are bytes, as the trace writes them: ob_jquote. */
static void put_str(struct obuf *o, const char *s, size_t n)
{
    ob_jquote(o, (const uint8_t *)s, n);
}

static void put_value(struct obuf *o, json_t *v, int depth)
{
    if (depth > MAX_DEPTH) {
        ob_puts(o, "null");
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *val;
        bool first = true;
        ob_putc(o, '{');
        json_object_foreach(v, key, val)
        {
            ob_puts(o, first ? "\"" : ",\"");
            first = false;
            put_str(o, key, strlen(key));
            ob_puts(o, "\":");
            put_value(o, val, depth + 1);
        }
        ob_putc(o, '}');
        break;
    }
    case JSON_ARRAY:
        ob_putc(o, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                ob_putc(o, ',');
            put_value(o, json_array_get(v, i), depth + 1);
        }
        ob_putc(o, ']');
        break;
    case JSON_STRING:
        ob_putc(o, '"');
        put_str(o, json_string_value(v), json_string_length(v));
        ob_putc(o, '"');
        break;
    case JSON_INTEGER:
        ob_dec(o, json_integer_value(v));
        break;
    case JSON_REAL:
        ob_printf(o, "%.17g", json_real_value(v));
        break;
    case JSON_TRUE:
        ob_puts(o, "true");
        break;
    case JSON_FALSE:
        ob_puts(o, "false");
        break;
    default:
        ob_puts(o, "null");
        break;
    }
}

static void put_writers(struct obuf *o, const struct waiting *w)
{
    if (w->nwriters == 0)
        return;
    ob_puts(o, ",\"writers\":[");
    for (size_t i = 0; i < w->nwriters; i++) {
        const struct call *c = &w->writers[i];
        ob_puts(o, i ? ",{\"pid\":" : "{\"pid\":");
        ob_dec(o, c->tgid);
        ob_puts(o, ",\"tid\":");
        ob_dec(o, c->tid);
        ob_puts(o, ",\"comm\":\"");
        put_str(o, c->comm, strnlen(c->comm, 16));
        ob_puts(o, "\",\"syscall\":\"");
        ob_puts(o, c->name);
        ob_puts(o, "\"}");
    }
    ob_putc(o, ']');
    if (w->omitted) {
        ob_puts(o, ",\"writers_omitted\":");
        ob_udec(o, w->omitted);
    }
}

/* The filter's object, its "writers" (if it had any) replaced by ours. */
static void put_detection(struct obuf *o, const struct waiting *w)
{
    const char *key;
    json_t *val;
    bool first = true;
    ob_putc(o, '{');
    json_object_foreach(w->obj, key, val)
    {
        if (!strcmp(key, "writers") || !strcmp(key, "writers_omitted"))
            continue;
        ob_puts(o, first ? "\"" : ",\"");
        first = false;
        put_str(o, key, strlen(key));
        ob_puts(o, "\":");
        put_value(o, val, 1);
    }
    put_writers(o, w);
    ob_putc(o, '}');
}

static void emit_detection(struct vdet *d, const struct waiting *w)
{
    for (size_t cap = 4096; cap <= MAX_LINE; cap *= 2) {
        char *buf = malloc(cap);
        if (!buf)
            break;
        struct obuf o;
        ob_init(&o, buf, cap);
        put_detection(&o, w);
        int n = ob_finish(&o);
        if (n >= 0)
            d->emit(d->ctx, buf, (size_t)n);
        free(buf);
        if (n >= 0)
            return;
    }
    static const char err[] =
        "{\"type\":\"detection\",\"error\":\"detection too large\"}";
    d->emit(d->ctx, err, sizeof(err) - 1);
}

/* A line passed through: every byte outside printable ASCII as \u00XX, so
 * a line that was JSON but for its bytes becomes JSON in the trace's
 * escaping, and a terminal sees no control bytes. */
static void emit_escaped(struct vdet *d, const char *line, size_t n)
{
    size_t cap = n * 6 + 1;
    char *buf = n < MAX_LINE ? malloc(cap) : NULL;
    if (!buf)
        return;
    struct obuf o;
    ob_init(&o, buf, cap);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)line[i];
        if (c >= 0x20 && c < 0x7f)
            ob_putc(&o, (char)c);
        else
            ob_printf(&o, "\\u%04x", c);
    }
    int len = ob_finish(&o);
    if (len >= 0)
        d->emit(d->ctx, buf, (size_t)len);
    free(buf);
}

/* ---- attribution ---- */

static void leave(struct vdet *d, size_t i)
{
    struct waiting *w = &d->w[i];
    emit_detection(d, w);
    json_decref(w->obj);
    memmove(w, w + 1, (d->n - i - 1) * sizeof(*w));
    d->n--;
}

static bool spans(uint64_t t, uint64_t enter, uint64_t exit)
{
    return t >= enter && (exit == 0 || t <= exit);
}

static void add_writer(struct waiting *w, const struct call *c)
{
    if (w->nwriters < MAX_WRITERS)
        w->writers[w->nwriters++] = *c;
    else
        w->omitted++;
}

void vdet_add(struct vdet *d, const char *line, size_t n, uint64_t now_ns)
{
    json_t *obj = json_loadb(line, n, JSON_ALLOW_NUL, NULL);
    json_t *ts =
        json_is_object(obj) ? json_object_get(obj, "request_ts") : NULL;
    if (!json_is_integer(ts)) {
        json_decref(obj);
        emit_escaped(d, line, n);
        return;
    }
    if (d->n == MAX_WAITING)
        leave(d, 0); /* the oldest goes out with the writers it has */
    struct waiting *w = &d->w[d->n++];
    w->obj = obj;
    w->req_ts = json_integer_value(ts);
    w->deadline = now_ns + WAIT_HOST_NS;
    w->nwriters = 0;
    w->omitted = 0;
    size_t first = d->nrecent > NRECENT ? d->nrecent - NRECENT : 0;
    for (size_t i = first; i < d->nrecent; i++) {
        const struct call *c = &d->recent[i % NRECENT];
        if (spans((uint64_t)w->req_ts, c->ts_enter, c->ts_exit))
            add_writer(w, c);
    }
}

void vdet_offer(struct vdet *d, const struct vigil_syscall *ev)
{
    if (ev->ts_enter_ns > d->progress)
        d->progress = ev->ts_enter_ns;
    if (!writes_to_disk(d, ev->nr, ev->compat))
        return;
    const struct vsys_ent *e = vsys_lookup(ev->nr, ev->compat);
    struct call *c = &d->recent[d->nrecent++ % NRECENT];
    *c = (struct call){.tgid = ev->tgid,
                       .tid = ev->tid,
                       .name = e->name,
                       .ts_enter = ev->ts_enter_ns,
                       .ts_exit = ev->ts_exit_ns};
    memcpy(c->comm, ev->comm, sizeof(c->comm));
    c->comm[16] = '\0';
    for (size_t i = 0; i < d->n; i++)
        if (spans((uint64_t)d->w[i].req_ts, c->ts_enter, c->ts_exit))
            add_writer(&d->w[i], c);
}

void vdet_flush(struct vdet *d, uint64_t now_ns, bool all)
{
    for (size_t i = 0; i < d->n;) {
        const struct waiting *w = &d->w[i];
        uint64_t req = (uint64_t)w->req_ts;
        if (all || now_ns >= w->deadline ||
            (req <= UINT64_MAX - WAIT_NS && d->progress > req + WAIT_NS))
            leave(d, i);
        else
            i++;
    }
}

void vdet_free(struct vdet *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        json_decref(d->w[i].obj);
    free(d);
}
