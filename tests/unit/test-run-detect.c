/* vigil run's attribution of disk detections to guest calls
 * (cli/run-detect.c): which calls count as writers, calls seen before or
 * after the detection, expiry by trace time, lines passed through. */
#undef NDEBUG
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/run-detect.c"

static char out[16][1024];
static int nout, failures;

static void emit(void *ctx, const char *line, size_t n)
{
    (void)ctx;
    if (nout < 16)
        snprintf(out[nout], sizeof(out[0]), "%.*s", (int)n, line);
    nout++;
}

static void expect(const char *what, bool ok)
{
    printf("%s: %s\n", ok ? "ok" : "NOT OK", what);
    failures += !ok;
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

static void add(struct run_detect *d, uint64_t req_ts)
{
    char line[256];
    int n = snprintf(line, sizeof(line),
                     "{\"type\":\"detection\",\"request_ts\":%llu}",
                     (unsigned long long)req_ts);
    run_detect_add(d, line, (size_t)n, 0);
}

int main(void)
{
    struct run_detect *d;
    if (run_detect_new(&d, emit, NULL) < 0)
        return 1;

    run_detect_add(d, "not json", 8, 0);
    expect("a line that is not a detection passes at once",
           nout == 1 && !strcmp(out[0], "not json"));

    /* The writer completes after the detection arrived. */
    add(d, 1000);
    struct vigil_syscall ev = call("getpid", 7, 900, 1100);
    run_detect_offer(d, &ev);
    run_detect_flush(d, 0, false);
    expect("a call that writes nothing is no writer", nout == 1);
    ev = call("pwrite64", 8, 900, 1100);
    run_detect_offer(d, &ev);
    run_detect_flush(d, 0, false);
    expect("a pwrite64 spanning request_ts is the writer",
           nout == 2 && strstr(out[1], "\"writers\":[{\"pid\":8,\"tid\":8,"
                                       "\"comm\":\"t8\",\"syscall\":"
                                       "\"pwrite64\"}]"));

    /* The writer's event went by before the detection arrived. */
    ev = call("fsync", 9, 2000, 2500);
    run_detect_offer(d, &ev);
    add(d, 2200);
    run_detect_flush(d, 0, false);
    expect("a writer seen earlier is found",
           nout == 3 && strstr(out[2], "\"syscall\":\"fsync\""));

    /* No writer: it waits until the trace is 3 s past request_ts. */
    add(d, 5000);
    ev = call("write", 10, 6000, 6100); /* after the request: not it */
    run_detect_offer(d, &ev);
    run_detect_flush(d, 0, false);
    expect("no writer yet: it waits", nout == 3);
    ev = call("getpid", 11, 5000 + WAIT_NS + 1, 5000 + WAIT_NS + 2);
    run_detect_offer(d, &ev);
    run_detect_flush(d, 0, false);
    expect("the trace moved past: it leaves without writers",
           nout == 4 && !strstr(out[3], "writers"));

    add(d, 1ull << 40);
    run_detect_flush(d, 0, false);
    expect("waiting", nout == 4);
    run_detect_flush(d, 0, true);
    expect("the end lets every detection out", nout == 5);
    run_detect_free(d);
    printf("%s\n", failures ? "FAIL" : "all checks passed");
    return failures != 0;
}
