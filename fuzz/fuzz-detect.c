/* libFuzzer: attribution of disk detections to guest calls
 * (lib/trace/detect.c). The input is a script of operations on one
 * attributor: add a detection line (bytes from the input, often a JSON
 * object with a request_ts near the calls' times), offer a call (number,
 * thread, times and a comm of arbitrary bytes), flush. Every line it emits
 * must be printable ASCII (what reaches a terminal in text mode), and a
 * line made from a JSON object must parse again as JSON (the script's raw
 * lines start with '#', so they are told apart). */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/detect.h"
#include "vigil/syscalls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
    const uint8_t *p;
    size_t n;
};

static uint64_t take(struct input *in, size_t bytes)
{
    uint64_t v = 0;
    for (size_t i = 0; i < bytes && in->n; i++, in->p++, in->n--)
        v |= (uint64_t)*in->p << (8 * i);
    return v;
}

static void on_line(void *ctx, const char *line, size_t n)
{
    (void)ctx;
    for (size_t i = 0; i < n; i++)
        if (line[i] < 0x20 || line[i] > 0x7e)
            abort(); /* a raw byte would reach the terminal */
    /* Raw lines start with '#'; every other line the script adds is a
     * JSON object, and must still be one. */
    if (n > 0 && line[0] == '{') {
        json_t *j = json_loadb(line, n, JSON_ALLOW_NUL, NULL);
        if (j == NULL)
            abort();
        json_decref(j);
    }
}

static const char *const calls[] = {
    "write", "pwrite64", "fsync", "close", "getpid", "io_uring_enter", "read"};

static void offer(struct vdet *d, struct input *in)
{
    struct vigil_syscall ev;
    memset(&ev, 0, sizeof ev);
    uint8_t sel = (uint8_t)take(in, 1);
    int nr = vsys_number(calls[sel % (sizeof calls / sizeof calls[0])]);
    ev.nr = nr >= 0 ? (uint64_t)nr : 0;
    if (sel & 0x80)
        ev.nr = take(in, 2); /* any number, known or not */
    ev.tid = ev.tgid = (int32_t)take(in, 2);
    ev.ts_enter_ns = take(in, 2) * 100;
    ev.ts_exit_ns = (sel & 0x40) ? 0 : ev.ts_enter_ns + take(in, 2) * 100;
    ev.state = ev.ts_exit_ns ? 0 : 2;
    for (size_t i = 0; i < 16; i++)
        ev.comm[i] = (char)take(in, 1);
    vdet_offer(d, &ev);
}

static void add(struct vdet *d, struct input *in)
{
    uint8_t sel = (uint8_t)take(in, 1);
    size_t len = (size_t)take(in, 1);
    if (len > in->n)
        len = in->n;
    char line[4096];
    size_t n = 0;
    if (sel & 1) { /* raw bytes, after a '#' */
        line[n++] = '#';
        memcpy(line + n, in->p, len);
        n += len;
    } else { /* a detection whose signature name is the bytes, escaped */
        n = (size_t)snprintf(line, sizeof line,
                             "{\"type\":\"detection\",\"request_ts\":%llu,"
                             "\"signature\":\"",
                             (unsigned long long)(sel >> 1) * 2000);
        for (size_t i = 0; i < len; i++)
            n += (size_t)snprintf(line + n, sizeof line - n, "\\u00%02x",
                                  in->p[i]);
        n += (size_t)snprintf(line + n, sizeof line - n, "\"}");
    }
    in->p += len;
    in->n -= len;
    vdet_add(d, line, n, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vdet *d;
    if (vdet_new(&d, on_line, NULL) < 0)
        return 0;
    struct input in = {data, size};
    while (in.n > 0) {
        uint8_t op = (uint8_t)take(&in, 1);
        switch (op % 3) {
        case 0:
            add(d, &in);
            break;
        case 1:
            offer(d, &in);
            break;
        default:
            vdet_flush(d, take(&in, 1) * 1000000000ull, op & 4);
            break;
        }
    }
    vdet_flush(d, 0, true);
    vdet_free(d);
    return 0;
}
