/* vigil run's attribution of disk detections to guest calls
 * (lib/trace/detect.c): which calls count as writers, calls seen before or
 * after the detection, expiry by trace time, lines passed through. */
#undef NDEBUG
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/trace/detect.c"
#include "check.h"

static char out[16][4096];
static int nout;

static void emit(void *ctx, const char *line, size_t n)
{
    (void)ctx;
    if (nout < 16)
        snprintf(out[nout], sizeof(out[0]), "%.*s", (int)n, line);
    nout++;
}

static struct vigil_syscall call(const char *name, int tid, uint64_t enter,
                                 uint64_t exit)
{
    struct vigil_syscall ev = {
        .ts_enter_ns = enter, .ts_exit_ns = exit, .tid = tid, .tgid = tid};
    ev.nr = (uint64_t)vsys_number(name);
    snprintf(ev.comm, sizeof(ev.comm), "t%d", tid);
    return ev;
}

static void add(struct vdet *d, uint64_t req_ts)
{
    char line[256];
    int n = snprintf(line, sizeof(line),
                     "{\"type\":\"detection\",\"request_ts\":%llu}",
                     (unsigned long long)req_ts);
    vdet_add(d, line, (size_t)n, 0);
}

/* Every byte of @s is printable ASCII: nothing a terminal acts on. */
static bool printable(const char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e)
            return false;
    return true;
}

/* Hostile input: a writer whose comm is not UTF-8, a decoy write that
 * completes first, control bytes and DEL in what the filter sent. */
static void hostile(void)
{
    struct vdet *d;
    if (vdet_new(&d, emit, NULL) < 0)
        return;
    nout = 0;
    add(d, 1500);
    struct vigil_syscall ev = call("write", 100, 1000, 2000);
    memcpy(ev.comm,
           "\xff\xfe"
           "evil\x1b[2J\x7f",
           12);
    vdet_offer(d, &ev);
    vdet_flush(d, 0, true);
    CHECK(nout == 1 && strstr(out[0], "\"comm\":\"\\u00ff\\u00feevil"
                                      "\\u001b[2J\\u007f\""),
          "a comm that is not UTF-8 is kept, byte-escaped");
    CHECK(nout == 1 && printable(out[0]), "the detection is printable ASCII");

    /* The decoy's write spans request_ts and completes first; the real
     * writer's fsync spans it too and completes later. */
    nout = 0;
    add(d, 10500);
    ev = call("write", 201, 10000, 10600); /* decoy */
    vdet_offer(d, &ev);
    vdet_flush(d, 0, false);
    ev = call("fsync", 202, 10100, 10900); /* the real writer */
    vdet_offer(d, &ev);
    vdet_flush(d, 0, false);
    ev = call("getpid", 203, 10500 + WAIT_NS + 1, 10500 + WAIT_NS + 2);
    vdet_offer(d, &ev);
    vdet_flush(d, 0, false);
    CHECK(nout == 1 && strstr(out[0], "\"pid\":201") &&
              strstr(out[0], "\"pid\":202"),
          "both calls in flight are named, not just the first");

    /* What the filter sent: a signature name with ESC and DEL (legal
     * JSON), and a line that is not JSON at all. */
    nout = 0;
    const char *sig = "{\"type\":\"detection\",\"signature\":"
                      "\"a\\u001b]0;pwn\\u0007\x7f\xc3\xa9\",\"request_ts\":5}";
    vdet_add(d, sig, strlen(sig), 0);
    vdet_flush(d, 0, true);
    CHECK(nout == 1 && printable(out[0]) &&
              strstr(out[0], "\"a\\u001b]0;pwn\\u0007\\u007f"
                             "\\u00c3\\u00a9\""),
          "a signature name with ESC and DEL comes out escaped");
    const char *nul = "{\"type\":\"detection\",\"signature\":\"a\\u0000b\","
                      "\"request_ts\":5}";
    vdet_add(d, nul, strlen(nul), 0);
    vdet_flush(d, 0, true);
    CHECK(nout == 2 && strstr(out[1], "\"a\\u0000b\""),
          "a NUL in a string keeps the line a detection");
    nout = 1;
    const char *raw = "\x1b[31mnot json\x7f\xff";
    vdet_add(d, raw, strlen(raw), 0);
    CHECK(nout == 2 && !strcmp(out[1], "\\u001b[31mnot json\\u007f\\u00ff"),
          "a line that is not JSON comes out escaped");
    vdet_free(d);
}

int main(void)
{
    struct vdet *d;
    if (vdet_new(&d, emit, NULL) < 0)
        return 1;

    vdet_add(d, "not json", 8, 0);
    CHECK(nout == 1 && !strcmp(out[0], "not json"),
          "a line that is not a detection passes at once");

    /* The writer completes after the detection arrived. */
    add(d, 1000);
    struct vigil_syscall ev = call("getpid", 7, 900, 1100);
    vdet_offer(d, &ev);
    vdet_flush(d, 0, false);
    CHECK(nout == 1, "a call that writes nothing is no writer");
    ev = call("pwrite64", 8, 900, 1100);
    vdet_offer(d, &ev);
    vdet_flush(d, 0, false);
    CHECK(nout == 1, "a writer found: it still waits for others in flight");
    ev = call("getpid", 7, 1000 + WAIT_NS + 1, 1000 + WAIT_NS + 2);
    vdet_offer(d, &ev);
    vdet_flush(d, 0, false);
    CHECK(nout == 2 && strstr(out[1], "\"writers\":[{\"pid\":8,\"tid\":8,"
                                      "\"comm\":\"t8\",\"syscall\":"
                                      "\"pwrite64\"}]"),
          "a pwrite64 spanning request_ts is the writer");

    /* The writer's event went by before the detection arrived. */
    ev = call("fsync", 9, 2000, 2500);
    vdet_offer(d, &ev);
    add(d, 2200);
    vdet_flush(d, 0, true);
    CHECK(nout == 3 && strstr(out[2], "\"syscall\":\"fsync\""),
          "a writer seen earlier is found");

    /* No writer: it waits until the trace is 3 s past request_ts. */
    add(d, 5000);
    ev = call("write", 10, 6000, 6100); /* after the request: not it */
    vdet_offer(d, &ev);
    vdet_flush(d, 0, false);
    CHECK(nout == 3, "no writer yet: it waits");
    ev = call("getpid", 11, 5000 + WAIT_NS + 1, 5000 + WAIT_NS + 2);
    vdet_offer(d, &ev);
    vdet_flush(d, 0, false);
    CHECK(nout == 4 && !strstr(out[3], "writers"),
          "the trace moved past: it leaves without writers");

    add(d, 1ull << 40);
    vdet_flush(d, 0, false);
    CHECK(nout == 4, "waiting");
    vdet_flush(d, 0, true);
    CHECK(nout == 5, "the end lets every detection out");
    vdet_free(d);
    hostile();
    printf("%s\n", failures ? "FAIL" : "all checks passed");
    return failures != 0;
}
