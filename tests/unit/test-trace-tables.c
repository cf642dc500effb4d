/* The syscall tables against peers: the host's kernel headers (asm/unistd_64.h
 * and asm/unistd_32.h, generated from the same syscall_*.tbl files), glibc's
 * errno and signal names, and internal consistency of signatures and capture
 * plans. With --names, prints "nr name" for every x86-64 entry (for
 * tests/test-trace-strace.sh). */
#undef NDEBUG
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/syscalls.h"

#include "check.h"

static const char *header_path(const char *base)
{
    static const char *const dirs[] = {
        "/usr/include/x86_64-linux-gnu/asm/",
        "/usr/include/asm/",
        "/usr/include/i386-linux-gnu/asm/",
    };
    static char path[256];

    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        FILE *f;
        snprintf(path, sizeof(path), "%s%s", dirs[i], base);
        f = fopen(path, "r");
        if (f) {
            fclose(f);
            return path;
        }
    }
    return NULL;
}

/* Compare one table with "#define __NR_name nr" lines of a header: every
 * header name must be in the table under its number, and every table entry
 * up to the header's highest number must be in the header. */
static void compare_header(const char *base, bool compat)
{
    const char *path = header_path(base);
    char line[256], name[128];
    bool seen[VSYS_NR_MAX + 1] = {false};
    int count = 0, maxnr = -1, bad = 0;
    FILE *f;

    if (!path) {
        printf("skip: no %s on this host\n", base);
        return;
    }
    f = fopen(path, "r");
    if (!f) {
        CHECK(0, "open %s", path);
        return;
    }
    while (fgets(line, sizeof(line), f)) {
        char *end;
        long nr;
        const struct vsys_ent *e;

        if (sscanf(line, "#define __NR_%127s", name) != 1)
            continue;
        end = strstr(line, name) + strlen(name);
        errno = 0;
        nr = strtol(end, &end, 10);
        if (errno || nr < 0 || nr > 100000)
            continue;
        count++;
        if (nr > maxnr)
            maxnr = (int)nr;
        if (nr > VSYS_NR_MAX) {
            CHECK_QUIET(0, "%s: %s (%ld) beyond VSYS_NR_MAX", base, name, nr);
            bad++;
            continue;
        }
        seen[nr] = true;
        e = vsys_lookup((uint64_t)nr, compat);
        if (!e || strcmp(e->name, name) != 0) {
            CHECK_QUIET(0, "%s: %ld is %s, table says %s", base, nr, name,
                        e ? e->name : "(nothing)");
            bad++;
        }
        if ((compat ? vsys_number_compat(name) : vsys_number(name)) != nr) {
            CHECK_QUIET(0, "%s: number of %s", base, name);
            bad++;
        }
    }
    fclose(f);
    CHECK(count > 300 && bad == 0, "%s: %d calls agree with %s", base, count,
          path);
    bad = 0;
    for (int nr = 0; nr <= maxnr && nr <= VSYS_NR_MAX; nr++) {
        const struct vsys_ent *e = vsys_lookup((uint64_t)nr, compat);
        /* Added after the numbers around them (Linux 6.11 and 6.13), so
         * older headers have a gap there. */
        if (e && !seen[nr] && !compat && (nr == 335 || nr == 336)) {
            printf("note: %s %d %s is newer than the host's headers\n", base,
                   nr, e->name);
            continue;
        }
        if (e && !seen[nr]) {
            CHECK_QUIET(0, "%s: table has %d %s, header does not", base, nr,
                        e->name);
            bad++;
        }
    }
    CHECK(bad == 0, "%s: no extra table entries up to %d", base, maxnr);
}

static void check_roundtrip(bool compat)
{
    int n = 0, bad = 0;

    for (int nr = 0; nr <= VSYS_NR_MAX; nr++) {
        const struct vsys_ent *e = vsys_lookup((uint64_t)nr, compat);
        int back;

        if (!e)
            continue;
        n++;
        back = compat ? vsys_number_compat(e->name) : vsys_number(e->name);
        if (back != nr) {
            CHECK_QUIET(0, "%s round trip: %d -> %s -> %d",
                        compat ? "i386" : "x86_64", nr, e->name, back);
            bad++;
        }
    }
    CHECK(bad == 0 && n > 350, "%s: %d names round-trip through the number",
          compat ? "i386" : "x86_64", n);
}

/* The signature alphabet of lib/syscalls/tables.h. */
static const char arg_chars[] = "dluxpfDsbBvkiWthoOmaEAPMFTYCSwnNcjHXRZKrGQIyVU"
                                "JgzqLe0123456789!^#%([]&*{)<@$~?}+=:;|>";

static int cap_kind_of(char c)
{
    switch (c) {
    case 's':
    case 'e': /* prctl's name, for two operations */
        return VSYS_CAP_STR;
    case '8':
        return VSYS_CAP_DIRENTS;
    case '!':
        return VSYS_CAP_FRAME_MASK;
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '9':
    case '^':
    case '#':
    case '%':
    case '(':
    case '[':
    case ']':
    case '{':
    case '}':
    case ')':
    case '&': /* ioctl: a structure per request */
        return VSYS_CAP_STRUCT;
    case 'b':
    case '~':
    case 'B':
        return VSYS_CAP_BUF;
    case 'v':
        return VSYS_CAP_STRV;
    case '*':
        return VSYS_CAP_COUNT;
    case 'k':
        return VSYS_CAP_SOCKADDR;
    case '=':
        return VSYS_CAP_MSGHDR;
    case ':':
        return VSYS_CAP_FDSETS;
    case '>':
        return VSYS_CAP_PPOLL;
    case 'i':
    case 'W':
    case 't':
    case 'h':
        return VSYS_CAP_STRUCT;
    default:
        return 0;
    }
}

static void check_signatures(bool compat)
{
    const char *abi = compat ? "i386" : "x86_64";
    int bad = 0, ncap = 0, noret = 0;

    for (int nr = 0; nr <= VSYS_NR_MAX; nr++) {
        const struct vsys_ent *e = vsys_lookup((uint64_t)nr, compat);
        struct vsys_cap caps[VSYS_MAX_CAPS];
        unsigned n, seen = 0;
        size_t len;

        if (!e)
            continue;
        len = e->sig ? strlen(e->sig) : 0;
        if (len < 1 || len - 1 != e->nargs || e->nargs > 6 ||
            !strchr("dxo", e->sig[0])) {
            CHECK_QUIET(0, "%s %s: signature \"%s\" vs nargs %u", abi, e->name,
                        e->sig ? e->sig : "(null)", e->nargs);
            bad++;
            continue;
        }
        for (size_t i = 1; i < len; i++)
            if (!strchr(arg_chars, e->sig[i])) {
                CHECK_QUIET(0, "%s %s: unknown signature character '%c'", abi,
                            e->name, e->sig[i]);
                bad++;
            }
        if (e->flags & VSYS_NORETURN)
            noret++;
        n = vsys_captures((uint64_t)nr, compat, caps);
        if (n > VSYS_MAX_CAPS) {
            CHECK_QUIET(0, "%s %s: %u captures", abi, e->name, n);
            bad++;
            continue;
        }
        for (unsigned k = 0; k < n; k++) {
            const struct vsys_cap *c = &caps[k];
            /* recvmsg's msghdr: also msg_namelen at entry (a STRUCT) */
            bool ok =
                c->argi < e->nargs &&
                (cap_kind_of(e->sig[1 + c->argi]) == c->kind ||
                 (e->sig[1 + c->argi] == '=' && c->kind == VSYS_CAP_STRUCT));

            if (c->len_from == VSYS_LEN_ARG || c->len_from == VSYS_LEN_PTR)
                ok = ok && c->len_arg < e->nargs;
            if (c->len_from == VSYS_LEN_RESULT)
                ok = ok && c->at_exit && c->only_ok;
            if (c->len_from == VSYS_LEN_RESULT_N)
                ok = ok && c->at_exit && c->only_ok && c->len_arg > 0 &&
                     c->fixed_len > 0;
            if (c->len_from == VSYS_LEN_FIXED)
                ok = ok && c->fixed_len > 0;
            if (c->kind == VSYS_CAP_STR || c->kind == VSYS_CAP_ARGV)
                ok = ok && c->len_from == VSYS_LEN_NUL;
            if (!ok) {
                CHECK_QUIET(0,
                            "%s %s: capture %u (arg %u kind %u) does not fit "
                            "\"%s\"",
                            abi, e->name, k, c->argi, c->kind, e->sig);
                bad++;
            }
            seen |= 1u << c->argi;
            ncap++;
        }
        for (unsigned i = 0; i < e->nargs; i++)
            /* select's sets are all in one capture at argument 1,
             * ppoll's parts in one at argument 0 */
            if (cap_kind_of(e->sig[1 + i]) && !(seen & (1u << i)) &&
                !(e->sig[1 + i] == ':' && (seen & 2u)) &&
                !(e->sig[1 + i] == '>' && (seen & 1u))) {
                CHECK_QUIET(0, "%s %s: argument %u ('%c') has no capture", abi,
                            e->name, i, e->sig[1 + i]);
                bad++;
            }
    }
    CHECK(bad == 0,
          "%s: signatures match nargs and capture plans (%d "
          "captures)",
          abi, ncap);
    CHECK(noret == 2, "%s: exactly two calls never return (%d)", abi, noret);
}

static void check_spots(void)
{
    static const struct {
        bool compat;
        int nr;
        const char *name;
        int nargs;
    } spots[] = {
        {false, 0, "read", 3},          {false, 5, "fstat", 2},
        {false, 13, "rt_sigaction", 4}, {false, 17, "pread64", 4},
        {false, 59, "execve", 3},       {false, 63, "uname", 1},
        {false, 262, "newfstatat", 4},  {false, 257, "openat", 4},
        {false, 435, "clone3", 2},      {false, 437, "openat2", 4},
        {false, 462, "mseal", 3},       {true, 5, "open", 3},
        {true, 11, "execve", 3},        {true, 102, "socketcall", 2},
        {true, 140, "_llseek", 5},      {true, 192, "mmap2", 6},
        {true, 252, "exit_group", 1},   {true, 295, "openat", 4},
    };
    struct vsys_cap caps[VSYS_MAX_CAPS];

    for (size_t i = 0; i < sizeof(spots) / sizeof(spots[0]); i++) {
        const struct vsys_ent *e =
            vsys_lookup((uint64_t)spots[i].nr, spots[i].compat);
        CHECK(e && !strcmp(e->name, spots[i].name) &&
                  e->nargs == spots[i].nargs,
              "%s %d is %s/%d", spots[i].compat ? "i386" : "x86_64",
              spots[i].nr, spots[i].name, spots[i].nargs);
    }
    CHECK(vsys_lookup(VSYS_NR_MAX + 1, false) == NULL, "past the end: NULL");
    CHECK(vsys_lookup(400, false) == NULL, "x86_64 400 unused: NULL");
    CHECK(vsys_lookup(0x40000000 | 1, false) == NULL, "x32 numbers: NULL");
    CHECK(vsys_lookup(UINT64_MAX, true) == NULL, "huge number: NULL");
    CHECK(vsys_captures(UINT64_MAX, false, caps) == 0, "no plan when unknown");
    CHECK(vsys_number("no_such_call") == -1 && vsys_number(NULL) == -1,
          "unknown names: -1");
    CHECK(vsys_number("stat64") == -1 && vsys_number_compat("stat64") == 195,
          "stat64 only in i386");
    CHECK((vsys_lookup(60, false)->flags & VSYS_NORETURN) &&
              (vsys_lookup(231, false)->flags & VSYS_NORETURN) &&
              (vsys_lookup(1, true)->flags & VSYS_NORETURN),
          "exit and exit_group never return");

    CHECK(vsys_captures(257, false, caps) == 1 && caps[0].argi == 1 &&
              caps[0].kind == VSYS_CAP_STR && !caps[0].at_exit,
          "openat: path at entry");
    CHECK(vsys_captures(0, false, caps) == 1 && caps[0].argi == 1 &&
              caps[0].kind == VSYS_CAP_BUF && caps[0].at_exit &&
              caps[0].len_from == VSYS_LEN_RESULT && caps[0].only_ok,
          "read: buffer at exit, result bytes, only on success");
    CHECK(vsys_captures(1, false, caps) == 1 && caps[0].argi == 1 &&
              !caps[0].at_exit && caps[0].len_from == VSYS_LEN_ARG &&
              caps[0].len_arg == 2,
          "write: buffer at entry, count bytes");
    CHECK(vsys_captures(59, false, caps) == 3 &&
              caps[1].kind == VSYS_CAP_STRV && caps[1].argi == 1 &&
              caps[2].kind == VSYS_CAP_COUNT && caps[2].argi == 2,
          "execve: path, argv, the environment's count");
    CHECK(vsys_captures(316, false, caps) == 2 && caps[0].argi == 1 &&
              caps[1].argi == 3,
          "renameat2: both paths");
    CHECK(vsys_captures(232, false, caps) == 1 &&
              caps[0].len_from == VSYS_LEN_RESULT_N && caps[0].len_arg == 12 &&
              caps[0].fixed_len == 12 * 32,
          "epoll_wait: as many events as returned, at most 32");
    CHECK(vsys_captures(45, false, caps) == 4 &&
              caps[1].kind == VSYS_CAP_SOCKADDR && caps[1].at_exit &&
              caps[1].len_from == VSYS_LEN_PTR && caps[1].len_arg == 5 &&
              caps[2].argi == 5 && !caps[2].at_exit && caps[3].argi == 5 &&
              caps[3].at_exit,
          "recvfrom: source address at exit, length through a pointer, "
          "the length before and after");
    CHECK(vsys_captures(44, false, caps) == 2 &&
              caps[1].kind == VSYS_CAP_SOCKADDR && !caps[1].at_exit &&
              caps[1].len_from == VSYS_LEN_ARG && caps[1].len_arg == 5,
          "sendto: destination address at entry");
    CHECK(vsys_captures(162, true, caps) == 1 && caps[0].fixed_len == 8 &&
              vsys_captures(35, false, caps) == 2 && caps[0].fixed_len == 16,
          "nanosleep timespec: 8 bytes on i386, 16 on x86-64");
    CHECK(vsys_captures(35, false, caps) == 2 && caps[1].argi == 1 &&
              caps[1].at_exit && caps[1].only_ok == VSYS_WHEN_ERR,
          "nanosleep: the remaining time only when interrupted");
    CHECK(vsys_captures(157, false, caps) == 2 && caps[0].cond_arg == 1 &&
              caps[0].cond_val == 15 && !caps[0].at_exit &&
              caps[1].cond_val == 16 && caps[1].at_exit,
          "prctl: the name at entry for PR_SET_NAME, at exit for "
          "PR_GET_NAME");
    CHECK(vsys_captures(51, false, caps) == 3 && caps[1].argi == 2 &&
              !caps[1].at_exit && caps[2].argi == 2 && caps[2].at_exit,
          "getsockname: the length before and after");
}

static void check_errnos(void)
{
    int bad = 0, n = 0;

    for (int e = 1; e < 134; e++) {
        const char *mine = vsys_errno_name(e), *libc = strerrorname_np(e);
        const char *desc = vsys_errno_desc(e), *ldesc = strerrordesc_np(e);

        if (!libc) {
            CHECK_QUIET(!mine, "errno %d: %s, glibc has none", e, mine);
            continue;
        }
        n++;
        /* glibc names the aliases' other spelling for two of them */
        if (!mine || (strcmp(mine, libc) != 0 &&
                      !(e == EDEADLK && !strcmp(mine, "EDEADLK")) &&
                      !(e == EOPNOTSUPP && !strcmp(mine, "EOPNOTSUPP")))) {
            CHECK_QUIET(0, "errno %d: %s, glibc says %s", e, mine ? mine : "-",
                        libc);
            bad++;
        }
        if (!desc || !ldesc || strcmp(desc, ldesc) != 0) {
            CHECK_QUIET(0, "errno %d: \"%s\", glibc says \"%s\"", e,
                        desc ? desc : "-", ldesc ? ldesc : "-");
            bad++;
        }
    }
    CHECK(bad == 0 && n >= 130, "%d errno names and texts agree with glibc", n);
    CHECK(!strcmp(vsys_errno_name(512), "ERESTARTSYS") &&
              !strcmp(vsys_errno_name(516), "ERESTART_RESTARTBLOCK") &&
              vsys_errno_name(0) == NULL && vsys_errno_name(-1) == NULL &&
              vsys_errno_name(4000) == NULL && vsys_errno_name(41) == NULL,
          "kernel-internal errnos and gaps");
}

static void check_signals(void)
{
    int bad = 0;

    for (int s = 1; s < 32; s++) {
        const char *mine = vsys_signal_name(s), *abbrev = sigabbrev_np(s);
        char want[32];

        if (!abbrev)
            continue;
        snprintf(want, sizeof(want), "SIG%s", abbrev);
        /* glibc prefers SIGIOT/SIGPOLL/SIGCLD spellings in some versions */
        if (!mine ||
            (strcmp(mine, want) != 0 && s != 6 && s != 29 && s != 17)) {
            CHECK_QUIET(0, "signal %d: %s, glibc says %s", s, mine ? mine : "-",
                        want);
            bad++;
        }
    }
    CHECK(bad == 0, "signal names 1..31 agree with glibc");
    CHECK(!strcmp(vsys_signal_name(32), "SIGRTMIN") &&
              !strcmp(vsys_signal_name(34), "SIGRT_2") &&
              !strcmp(vsys_signal_name(64), "SIGRT_32") &&
              vsys_signal_name(0) == NULL && vsys_signal_name(65) == NULL,
          "real-time signal names");
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--names")) {
        for (int nr = 0; nr <= VSYS_NR_MAX; nr++) {
            const struct vsys_ent *e = vsys_lookup((uint64_t)nr, false);
            if (e)
                printf("%d %s\n", nr, e->name);
        }
        return 0;
    }
    compare_header("unistd_64.h", false);
    compare_header("unistd_32.h", true);
    check_roundtrip(false);
    check_roundtrip(true);
    check_signatures(false);
    check_signatures(true);
    check_spots();
    check_errnos();
    check_signals();
    printf("%s (%d failures)\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
