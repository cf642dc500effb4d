/* Formatting of synthetic events, table-driven: each row of format-rows.h
 * is one call (its number, return value, arguments and captured bytes)
 * with strace's text for it and the JSON (the whole event, or a fragment
 * it must contain).
 * strace's own output for the same calls (recorded from strace 6.1 on the
 * host, e.g. the escaping of "hello\n\t\"\\\0\177\200\3771") is the
 * expectation wherever the text form follows strace; rows also cover
 * escaping, truncation, faults, errno, compat and the JSON shape, and some
 * are checked at every buffer size for exact -ENOSPC boundaries with
 * canaries around the buffer.
 *
 * With --random N [SEED], prints N random events as JSON lines instead (for
 * tests/test-trace-json.sh, which checks them with a real JSON parser). */
#undef NDEBUG
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/event.h"

#include "check.h"
#include "xorshift.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

static struct vigil_syscall ev_new(uint64_t nr, int64_t ret)
{
    struct vigil_syscall ev;

    memset(&ev, 0, sizeof(ev));
    ev.ts_enter_ns = 1000;
    ev.ts_exit_ns = 2500;
    ev.vcpu = 1;
    ev.tid = 42;
    ev.tgid = 40;
    ev.ppid = 1;
    memcpy(ev.comm, "cat", 4);
    ev.nr = nr;
    ev.ret = ret;
    ev.ip = 0x401000;
    ev.state = VIGIL_SC_DONE;
    return ev;
}

static void args(struct vigil_syscall *ev, uint64_t a0, uint64_t a1,
                 uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
    ev->args[0] = a0;
    ev->args[1] = a1;
    ev->args[2] = a2;
    ev->args[3] = a3;
    ev->args[4] = a4;
    ev->args[5] = a5;
}

static struct vigil_capture *cap(struct vigil_syscall *ev, unsigned argi,
                                 unsigned kind, const void *data, size_t len)
{
    struct vigil_capture *c = &ev->caps[ev->ncaps++];

    c->argi = (uint8_t)argi;
    c->kind = (uint8_t)kind;
    c->data = data;
    c->len = (uint16_t)len;
    return c;
}

/* Every size from 0 to the exact fit: -ENOSPC below, the string at
 * length + 1, never a byte written outside the given size. */
static bool boundaries(const struct vigil_syscall *ev, bool json)
{
    char full[8192], buf[8192 + 64];
    int n = json ? vigil_syscall_json(ev, full, sizeof(full))
                 : vigil_syscall_text(ev, full, sizeof(full));

    if (n < 0)
        return false;
    for (size_t size = 0; size <= (size_t)n + 1; size++) {
        int m;

        memset(buf, 0xa5, sizeof(buf));
        m = json ? vigil_syscall_json(ev, buf + 32, size)
                 : vigil_syscall_text(ev, buf + 32, size);
        for (size_t k = 0; k < 32; k++)
            if ((uint8_t)buf[k] != 0xa5)
                return false;
        for (size_t k = 32 + size; k < sizeof(buf); k++)
            if ((uint8_t)buf[k] != 0xa5)
                return false;
        if (size <= (size_t)n) {
            if (m != -ENOSPC || (size > 0 && buf[32] != '\0'))
                return false;
        } else if (m != n || strcmp(buf + 32, full) != 0) {
            return false;
        }
    }
    return true;
}

#include "format-rows.h"

static struct vigil_syscall row_event(const struct row *r)
{
    struct vigil_syscall ev = ev_new(r->nr, r->ret);

    args(&ev, r->a[0], r->a[1], r->a[2], r->a[3], r->a[4], r->a[5]);
    ev.compat = r->opts & R_COMPAT;
    if (r->opts & R_UNFINISHED)
        ev.state = VIGIL_SC_UNFINISHED;
    if (r->opts & R_NORETURN) {
        ev.state = VIGIL_SC_NORETURN;
        ev.ts_exit_ns = 0;
    }
    for (size_t k = 0; k < NROWS(r->caps); k++) {
        const struct cap_row *c = &r->caps[k];
        struct vigil_capture *v;

        if (!c->data && !c->fault)
            break;
        v = cap(&ev, c->argi, c->kind, c->data, c->len);
        v->at_exit = c->at_exit;
        v->trunc = c->trunc;
        v->fault = c->fault;
    }
    return ev;
}

static void test_rows(void)
{
    for (size_t i = 0; i < NROWS(rows); i++) {
        const struct row *r = &rows[i];
        struct vigil_syscall ev = row_event(r);
        char got[4096], want[4096];
        bool ok;
        int n;

        if (r->text) {
            snprintf(want, sizeof(want), "[pid    42] %s", r->text);
            n = vigil_syscall_text(&ev, got, sizeof(got));
            ok = n >= 0 && (size_t)n == strlen(want) && !strcmp(got, want);
            CHECK(ok, "row %zu text: %s%s%s", i, want, ok ? "" : "\n    got: ",
                  ok       ? ""
                  : n >= 0 ? got
                           : "(error)");
        }
        if (r->json) {
            bool whole = r->json[0] == '{';

            n = vigil_syscall_json(&ev, got, sizeof(got));
            ok = n >= 0 &&
                 (whole ? !strcmp(got, r->json) : strstr(got, r->json) != NULL);
            CHECK(ok, "row %zu JSON %s: %s%s%s", i, whole ? "is" : "has",
                  r->json, ok ? "" : "\n    got: ",
                  ok       ? ""
                  : n >= 0 ? got
                           : "(error)");
        }
        if (r->opts & R_BOUNDARIES)
            CHECK(boundaries(&ev, false) && boundaries(&ev, true),
                  "row %zu: -ENOSPC up to the exact fit, nothing written "
                  "outside",
                  i);
    }
}

/* comm with bytes that need escaping, one without a NUL, and bad
 * arguments. */
static void test_comm(void)
{
    struct vigil_syscall ev = ev_new(39, 40);
    char buf[512];
    int n;

    memcpy(ev.comm, "a\"\\\n\x01\xff", 7);
    n = vigil_syscall_json(&ev, buf, sizeof(buf));
    CHECK(n > 0 && strstr(buf, ",\"comm\":\"a\\\"\\\\\\n\\u0001\\u00ff\","),
          "comm with quotes, controls and high bytes: escaped");
    memset(ev.comm, 'x', sizeof(ev.comm));
    n = vigil_syscall_json(&ev, buf, sizeof(buf));
    CHECK(n > 0 && strstr(buf, "\"comm\":\"xxxxxxxxxxxxxxxx\","),
          "comm without a NUL: at most 16 bytes");

    {
        char one[1] = {'x'};
        CHECK(vigil_syscall_text(NULL, one, 1) == -EINVAL &&
                  vigil_syscall_json(&ev, NULL, 10) == -EINVAL,
              "NULL arguments: -EINVAL");
        CHECK(vigil_syscall_text(&ev, one, 1) == -ENOSPC && one[0] == '\0',
              "one-byte buffer: -ENOSPC, empty string");
        CHECK(vigil_syscall_json(&ev, one, 0) == -ENOSPC && one[0] == '\0',
              "zero-byte buffer: -ENOSPC, untouched");
    }
}

/* ---- random events ---- */

static uint64_t rng;

static uint64_t rnd(void)
{
    return xorshift64(&rng);
}

static uint8_t pool[6][512];

static void random_event(struct vigil_syscall *ev)
{
    static const uint64_t interesting[] = {
        0,
        1,
        2,
        3,
        (uint64_t)-1,
        (uint64_t)-100,
        0x7ffc12345678,
        0xffffffff,
        0x80000000,
        0x8000000000000000,
        16,
        28,
        110,
    };

    memset(ev, 0, sizeof(*ev));
    ev->ts_enter_ns = rnd();
    ev->ts_exit_ns = rnd() % 4 ? rnd() : 0;
    ev->vcpu = (uint32_t)rnd();
    ev->tid = (int32_t)rnd();
    ev->tgid = (int32_t)rnd();
    ev->ppid = (int32_t)rnd();
    for (size_t i = 0; i < sizeof(ev->comm); i++)
        ev->comm[i] = (char)rnd();
    ev->compat = rnd() % 4 == 0;
    ev->nr = rnd() % 16 ? rnd() % 480 : rnd();
    for (int i = 0; i < 6; i++)
        ev->args[i] = rnd() % 2 ? interesting[rnd() % 13] : rnd();
    ev->ip = rnd();
    switch (rnd() % 4) {
    case 0:
        ev->ret = -(int64_t)(rnd() % 600);
        break;
    case 1:
        ev->ret = (int64_t)rnd();
        break;
    default:
        ev->ret = (int64_t)(rnd() % 1000);
        break;
    }
    ev->state = (enum vigil_sc_state)(rnd() % 3);
    ev->ncaps = (unsigned)(rnd() % 7);
    for (unsigned k = 0; k < ev->ncaps; k++) {
        struct vigil_capture *c = &ev->caps[k];
        uint8_t *d = pool[k];
        size_t len = rnd() % 2 ? rnd() % 40 : rnd() % sizeof(pool[k]);

        for (size_t i = 0; i < len; i++)
            d[i] = rnd() % 3 ? (uint8_t)(0x20 + rnd() % 95) : (uint8_t)rnd();
        if (len >= 2 && rnd() % 2) { /* a plausible address family */
            d[0] = (uint8_t)(rnd() % 3 ? (rnd() % 3 ? 2 : 10) : rnd() % 50);
            d[1] = 0;
        }
        c->argi = (uint8_t)(rnd() % 7);
        c->kind = (uint8_t)(rnd() % 7);
        c->at_exit = rnd() % 2;
        c->fault = rnd() % 8 == 0;
        c->trunc = rnd() % 4 == 0;
        c->len = (uint16_t)len;
        c->data = d;
    }
}

/* Random events in random buffer sizes: never a byte outside the buffer,
 * and -ENOSPC exactly when the output does not fit. */
static void test_random(void)
{
    static char full[16384], buf[16384 + 64];
    bool ok = true;
    int count = 0, raw = 0;

    rng = 0x9e3779b97f4a7c15;
    for (int iter = 0; iter < 20000 && ok; iter++) {
        struct vigil_syscall ev;
        bool json = iter % 2;
        int n, m;
        size_t size;

        random_event(&ev);
        n = json ? vigil_syscall_json(&ev, full, sizeof(full))
                 : vigil_syscall_text(&ev, full, sizeof(full));
        if (n < 0 || (size_t)n != strlen(full)) {
            ok = false;
            break;
        }
        for (int k = 0; k < n; k++)
            if (full[k] < 0x20 || full[k] > 0x7e)
                raw++; /* a guest byte a terminal would act on */
        size = rnd() % ((size_t)n + 2);
        memset(buf, 0x5a, sizeof(buf));
        m = json ? vigil_syscall_json(&ev, buf + 32, size)
                 : vigil_syscall_text(&ev, buf + 32, size);
        for (size_t k = 0; k < sizeof(buf); k++)
            if ((k < 32 || k >= 32 + size) && buf[k] != 0x5a)
                ok = false;
        if (size > (size_t)n)
            ok = ok && m == n && strcmp(buf + 32, full) == 0;
        else
            ok = ok && m == -ENOSPC;
        count++;
    }
    CHECK(ok, "%d random events: exact sizes, no write outside the buffer",
          count);
    CHECK(raw == 0,
          "random guest bytes: text and JSON are printable ASCII "
          "(%d raw bytes)",
          raw);
}

static int print_random(unsigned long n, unsigned long seed)
{
    static char line[16384];

    rng = seed ? seed : 1;
    for (unsigned long i = 0; i < n; i++) {
        struct vigil_syscall ev;

        random_event(&ev);
        if (vigil_syscall_json(&ev, line, sizeof(line)) < 0)
            return 1;
        puts(line);
    }
    return 0;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* --events: read "name ret a0 a1 a2 a3 a4 a5 [argi=hexbytes...]" lines
 * (ret "?" for a call that never returned, arguments in decimal) and print
 * each as text without the "[pid N] " prefix: tests/test-trace-strace.sh
 * compares that with strace's own line for the same call. */
static int format_events(void)
{
    static char line[1 << 17], out[1 << 17];
    static uint8_t bytes[6][1 << 15];

    while (fgets(line, sizeof(line), stdin)) {
        struct vigil_syscall ev;
        char name[64], ret[32];
        unsigned long long a[6];
        int used = 0, nr, n;
        const char *p;

        if (sscanf(line, "%63s %31s %llu %llu %llu %llu %llu %llu%n", name, ret,
                   &a[0], &a[1], &a[2], &a[3], &a[4], &a[5], &used) != 8)
            return 1;
        nr = vsys_number(name);
        if (nr < 0)
            return 1;
        ev = ev_new((uint64_t)nr, strtoll(ret, NULL, 0));
        if (!strcmp(ret, "?"))
            ev.state = VIGIL_SC_NORETURN;
        args(&ev, a[0], a[1], a[2], a[3], a[4], a[5]);
        p = line + used;
        for (;;) {
            while (*p == ' ')
                p++;
            if (*p == '\0' || *p == '\n' || ev.ncaps == 6)
                break;
            const struct vsys_ent *e = vsys_lookup((uint64_t)nr, false);
            unsigned argi = (unsigned)(p[0] - '0');
            uint8_t *d = bytes[ev.ncaps];
            size_t len = 0;
            char sig;

            if (argi >= e->nargs || p[1] != '=')
                return 1;
            for (p += 2; hexval(p[0]) >= 0 && hexval(p[1]) >= 0; p += 2)
                if (len < sizeof(bytes[0]))
                    d[len++] = (uint8_t)(hexval(p[0]) << 4 | hexval(p[1]));
            sig = e->sig[1 + argi];
            cap(&ev, argi,
                sig == 's'   ? VSYS_CAP_STR
                : sig == 'v' ? VSYS_CAP_ARGV
                             : VSYS_CAP_BUF,
                d, len);
        }
        n = vigil_syscall_text(&ev, out, sizeof(out));
        if (n < 0)
            return 1;
        p = strstr(out, "] ");
        puts(p ? p + 2 : out);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--events"))
        return format_events();
    if (argc > 2 && !strcmp(argv[1], "--random"))
        return print_random(strtoul(argv[2], NULL, 10),
                            argc > 3 ? strtoul(argv[3], NULL, 10) : 1);
    test_rows();
    test_comm();
    test_random();
    printf("%s (%d failures)\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
