/* The structure decoders (lib/trace/decode-*.c) through the formatter:
 * captured bytes laid out as the x86-64 kernel writes them, and strace
 * 6.1's own line for the same call as the expectation (recorded on the
 * host from a program making each call, see the comments); plus short
 * (truncated) and unreadable captures, which strace shows as the bare
 * address, and the JSON objects of docs/events.md. */
#undef NDEBUG
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/event.h"

#include "check.h"

static struct vigil_syscall ev_new(uint64_t nr, int64_t ret)
{
    struct vigil_syscall ev;

    memset(&ev, 0, sizeof(ev));
    ev.ts_enter_ns = 1000;
    ev.ts_exit_ns = 2500;
    ev.tid = 42;
    ev.tgid = 42;
    ev.nr = nr;
    ev.ret = ret;
    ev.state = VIGIL_SC_DONE;
    return ev;
}

static void args(struct vigil_syscall *ev, uint64_t a0, uint64_t a1,
                 uint64_t a2, uint64_t a3, uint64_t a4)
{
    ev->args[0] = a0;
    ev->args[1] = a1;
    ev->args[2] = a2;
    ev->args[3] = a3;
    ev->args[4] = a4;
}

static struct vigil_capture *cap(struct vigil_syscall *ev, unsigned argi,
                                 unsigned kind, bool at_exit, const void *data,
                                 size_t len)
{
    struct vigil_capture *c = &ev->caps[ev->ncaps++];

    c->argi = (uint8_t)argi;
    c->kind = (uint8_t)kind;
    c->at_exit = at_exit;
    c->data = data;
    c->len = (uint16_t)len;
    return c;
}

static struct vigil_capture *out(struct vigil_syscall *ev, unsigned argi,
                                 const void *data, size_t len)
{
    return cap(ev, argi, VSYS_CAP_STRUCT, true, data, len);
}

static struct vigil_capture *in(struct vigil_syscall *ev, unsigned argi,
                                const void *data, size_t len)
{
    return cap(ev, argi, VSYS_CAP_STRUCT, false, data, len);
}

/* An unreadable address: the plugin's blob with the fault flag, no data. */
static void unreadable(struct vigil_syscall *ev, unsigned argi, bool at_exit)
{
    static const uint8_t none[1];
    cap(ev, argi, VSYS_CAP_STRUCT, at_exit, none, 0)->fault = true;
}

/* strace's line (without the pid) against vigil's text form. */
static void text(const struct vigil_syscall *ev, const char *strace)
{
    char buf[4096], want[4096];
    int n = vigil_syscall_text(ev, buf, sizeof(buf));

    snprintf(want, sizeof(want), "[pid    42] %s", strace);
    CHECK(n >= 0 && strcmp(buf, want) == 0, "%s%s%s", strace,
          n >= 0 && strcmp(buf, want) ? "\n    vigil: " : "",
          n >= 0 && strcmp(buf, want) ? buf : "");
}

/* The JSON form's "decoded" array. */
static void decoded(const struct vigil_syscall *ev, const char *want)
{
    char buf[8192];
    int n = vigil_syscall_json(ev, buf, sizeof(buf));
    const char *d = n >= 0 ? strstr(buf, "\"decoded\":") : NULL;
    const char *end = d ? strstr(d, "],\"ret\":") : NULL;
    size_t len = strlen(want);
    bool same = d && end && (size_t)(end + 1 - (d + 10)) == len &&
                memcmp(d + 10, want, len) == 0;

    CHECK(same, "decoded %s%s%.*s", want, !same && end ? "\n    vigil: " : "",
          !same && end ? (int)(end + 1 - (d + 10)) : 0, d ? d + 10 : "");
}

/* ---- the stat family ---- */

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

/* struct stat (x86-64): mode at 24, rdev at 40, size at 48. */
static void mkstat(uint8_t st[144], uint32_t mode, uint64_t rdev, uint64_t size)
{
    memset(st, 0, 144);
    put64(st, 0x803);           /* st_dev */
    put64(st + 8, 131);         /* st_ino */
    put64(st + 16, 1);          /* st_nlink */
    put32(st + 24, mode);       /* st_mode */
    put32(st + 28, 1000);       /* st_uid */
    put32(st + 32, 100);        /* st_gid */
    put64(st + 40, rdev);       /* st_rdev */
    put64(st + 48, size);       /* st_size */
    put64(st + 56, 4096);       /* st_blksize */
    put64(st + 64, 8);          /* st_blocks */
    put64(st + 88, 1700000000); /* st_mtime */
    put64(st + 96, 5);
}

static void test_stat(void)
{
    static uint8_t st[144];
    struct vigil_syscall ev;

    mkstat(st, 020666, 0x103, 0);
    ev = ev_new(262, 0);
    args(&ev, (uint64_t)-100, 0x1000, 0x7ffd0000, 0, 0);
    cap(&ev, 1, VSYS_CAP_STR, false, "/dev/null", 10);
    out(&ev, 2, st, sizeof(st));
    text(&ev, "newfstatat(AT_FDCWD, \"/dev/null\", {st_mode=S_IFCHR|0666, "
              "st_rdev=makedev(0x1, 0x3), ...}, 0) = 0");
    decoded(&ev, "[\"AT_FDCWD\",\"/dev/null\",{\"st_mode\":\"S_IFCHR|0666\","
                 "\"st_dev\":2051,\"st_ino\":131,\"st_nlink\":1,"
                 "\"st_uid\":1000,\"st_gid\":100,\"st_rdev\":259,"
                 "\"st_size\":0,\"st_blksize\":4096,\"st_blocks\":8,"
                 "\"st_atime\":{\"sec\":0,\"nsec\":0},"
                 "\"st_mtime\":{\"sec\":1700000000,\"nsec\":5},"
                 "\"st_ctime\":{\"sec\":0,\"nsec\":0}},\"0\"]");

    /* fstat(0, {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}) */
    ev = ev_new(5, 0);
    args(&ev, 0, 0x7ffd0000, 0, 0, 0);
    out(&ev, 1, st, sizeof(st));
    text(&ev, "fstat(0, {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), "
              "...}) = 0");

    mkstat(st, 0104755, 0, 68248);
    ev = ev_new(4, 0);
    args(&ev, 0x1000, 0x7ffd0000, 0, 0, 0);
    cap(&ev, 0, VSYS_CAP_STR, false, "/usr/bin/passwd", 16);
    out(&ev, 1, st, sizeof(st));
    text(&ev, "stat(\"/usr/bin/passwd\", {st_mode=S_IFREG|S_ISUID|0755, "
              "st_size=68248, ...}) = 0");

    mkstat(st, 0120777, 0, 7);
    ev = ev_new(6, 0);
    args(&ev, 0x1000, 0x7ffd0000, 0, 0, 0);
    cap(&ev, 0, VSYS_CAP_STR, false, "/bin", 5);
    out(&ev, 1, st, sizeof(st));
    text(&ev, "lstat(\"/bin\", {st_mode=S_IFLNK|0777, st_size=7, ...}) = 0");

    mkstat(st, 041777, 0, 20480);
    ev = ev_new(262, 0);
    args(&ev, (uint64_t)-100, 0x1000, 0x7ffd0000, 0, 0);
    cap(&ev, 1, VSYS_CAP_STR, false, "/tmp", 5);
    out(&ev, 2, st, sizeof(st));
    text(&ev, "newfstatat(AT_FDCWD, \"/tmp\", {st_mode=S_IFDIR|S_ISVTX|0777, "
              "st_size=20480, ...}, 0) = 0");

    /* Cut short (a page boundary): strace shows the address. */
    ev.caps[1].len = 100;
    ev.caps[1].fault = true;
    text(&ev, "newfstatat(AT_FDCWD, \"/tmp\", 0x7ffd0000, 0) = 0");

    /* Unreadable; and the failed call, which the plan does not capture. */
    ev = ev_new(262, 0);
    args(&ev, (uint64_t)-100, 0x1000, 0x8, 0, 0);
    cap(&ev, 1, VSYS_CAP_STR, false, "/dev/null", 10);
    unreadable(&ev, 2, true);
    text(&ev, "newfstatat(AT_FDCWD, \"/dev/null\", 0x8, 0) = 0");
    ev.ncaps = 1;
    ev.ret = -14;
    text(&ev, "newfstatat(AT_FDCWD, \"/dev/null\", 0x8, 0) = -1 EFAULT (Bad "
              "address)");
}

static void test_statx(void)
{
    static uint8_t sx[144];
    struct vigil_syscall ev;

    memset(sx, 0, sizeof(sx));
    put32(sx, 0x1fff);
    put32(sx + 28, 020666);
    ev = ev_new(332, 0);
    args(&ev, (uint64_t)-100, 0x1000, 0, 0xfff, 0x7ffd0000);
    cap(&ev, 1, VSYS_CAP_STR, false, "/dev/null", 10);
    out(&ev, 4, sx, sizeof(sx));
    text(&ev, "statx(AT_FDCWD, \"/dev/null\", AT_STATX_SYNC_AS_STAT, "
              "STATX_ALL, {stx_mask=STATX_ALL|STATX_MNT_ID, "
              "stx_attributes=0, stx_mode=S_IFCHR|0666, stx_size=0, "
              "...}) = 0");

    put32(sx, 0x173f);
    put64(sx + 8, 0x2000);
    put32(sx + 28, 040755);
    put64(sx + 40, 4096);
    args(&ev, (uint64_t)-100, 0x1000, 0x800, 2, 0x7ffd0000);
    ev.caps[0].data = (const uint8_t *)"/";
    ev.caps[0].len = 2;
    text(&ev, "statx(AT_FDCWD, \"/\", AT_STATX_SYNC_AS_STAT|AT_NO_AUTOMOUNT, "
              "STATX_MODE, {stx_mask=STATX_TYPE|STATX_MODE|STATX_NLINK|"
              "STATX_UID|STATX_GID|STATX_ATIME|STATX_INO|STATX_SIZE|"
              "STATX_BLOCKS|STATX_MNT_ID, "
              "stx_attributes=STATX_ATTR_MOUNT_ROOT, "
              "stx_mode=S_IFDIR|0755, stx_size=4096, ...}) = 0");
    ev.caps[1].len = 40;
    text(&ev, "statx(AT_FDCWD, \"/\", AT_STATX_SYNC_AS_STAT|AT_NO_AUTOMOUNT, "
              "STATX_MODE, 0x7ffd0000) = 0");
}

/* ---- signals ---- */

/* The kernel's struct sigaction on x86-64. */
static void mksa(uint8_t sa[32], uint64_t h, uint64_t flags, uint64_t rest,
                 uint64_t mask)
{
    put64(sa, h);
    put64(sa + 8, flags);
    put64(sa + 16, rest);
    put64(sa + 24, mask);
}

static void test_signals(void)
{
    static uint8_t a[32], o[32], m1[8], m2[8];
    struct vigil_syscall ev;

    mksa(a, 0x1234, 0xdc000007, 0x5678, 0x10001);
    mksa(o, 0, 0, 0, 0);
    ev = ev_new(13, 0);
    args(&ev, 10, 0x7ffd0000, 0x7ffd0100, 8, 0);
    in(&ev, 1, a, 32);
    out(&ev, 2, o, 32);
    text(&ev, "rt_sigaction(SIGUSR1, {sa_handler=0x1234, sa_mask=[HUP CHLD], "
              "sa_flags=SA_RESTORER|SA_ONSTACK|SA_RESTART|SA_NODEFER|"
              "SA_RESETHAND|SA_SIGINFO|SA_NOCLDSTOP|SA_NOCLDWAIT, "
              "sa_restorer=0x5678}, {sa_handler=SIG_DFL, sa_mask=[], "
              "sa_flags=0}, 8) = 0");
    decoded(&ev, "[\"SIGUSR1\",{\"sa_handler\":\"0x1234\",\"sa_mask\":"
                 "[\"SIGHUP\",\"SIGCHLD\"],\"sa_flags\":\"SA_RESTORER|"
                 "SA_ONSTACK|SA_RESTART|SA_NODEFER|SA_RESETHAND|SA_SIGINFO|"
                 "SA_NOCLDSTOP|SA_NOCLDWAIT\",\"sa_restorer\":\"0x5678\"},"
                 "{\"sa_handler\":\"SIG_DFL\",\"sa_mask\":[],\"sa_flags\":"
                 "\"0\"},8]");

    /* Failed (EINVAL): the old action is not captured. */
    mksa(a, 1, 0x400, 0, 0x10001);
    ev.ncaps = 1;
    ev.args[3] = 4;
    ev.ret = -22;
    text(&ev, "rt_sigaction(SIGUSR1, {sa_handler=SIG_IGN, sa_mask=[HUP CHLD], "
              "sa_flags=0x400 /* SA_??? */}, 0x7ffd0100, 4) = -1 EINVAL "
              "(Invalid argument)");

    mksa(a, 0x55dc7b597dc0, 0x04000000, 0x7fb3bc83a050, ~(uint64_t)0x180000000);
    ev = ev_new(13, 0);
    args(&ev, 17, 0x7ffd0000, 0, 8, 0);
    in(&ev, 1, a, 32);
    text(&ev, "rt_sigaction(SIGCHLD, {sa_handler=0x55dc7b597dc0, "
              "sa_mask=~[RTMIN RT_1], sa_flags=SA_RESTORER, "
              "sa_restorer=0x7fb3bc83a050}, NULL, 8) = 0");
    ev.caps[0].len = 31;
    text(&ev, "rt_sigaction(SIGCHLD, 0x7ffd0000, NULL, 8) = 0");
    ev.ncaps = 0;
    unreadable(&ev, 1, false);
    ev.ret = -14;
    text(&ev, "rt_sigaction(SIGCHLD, 0x7ffd0000, NULL, 8) = -1 EFAULT (Bad "
              "address)");

    put64(m1, (1ull << 63) | (1ull << 31) | (1ull << 16));
    put64(m2, 0);
    ev = ev_new(14, 0);
    args(&ev, 0, 0x7ffd0000, 0x7ffd0100, 8, 0);
    in(&ev, 1, m1, 8);
    out(&ev, 2, m2, 8);
    text(&ev, "rt_sigprocmask(SIG_BLOCK, [CHLD RTMIN RT_32], [], 8) = 0");
    decoded(&ev, "[\"SIG_BLOCK\",[\"SIGCHLD\",\"SIGRTMIN\",\"SIGRT_32\"],[],"
                 "8]");
    ev.caps[0].data = (const uint8_t *)"\xff\xff\xff\xff\xff\xff\xff\xff";
    ev.caps[1].data = m1;
    text(&ev, "rt_sigprocmask(SIG_BLOCK, ~[], [CHLD RTMIN RT_32], 8) = 0");
    ev.args[0] = 2;
    ev.caps[0].data = m2;
    ev.caps[1].data = (const uint8_t *)"\xff\xfe\xff\xff\xff\xff\xff\xff";
    /* SIGKILL (9) and SIGSTOP (19) clear */
    ev.caps[1].data = (const uint8_t *)"\xff\xfe\xfb\xff\xff\xff\xff\xff";
    text(&ev, "rt_sigprocmask(SIG_SETMASK, [], ~[KILL STOP], 8) = 0");
    ev.args[3] = 4;
    ev.ret = -22;
    ev.ncaps = 1;
    text(&ev, "rt_sigprocmask(SIG_SETMASK, 0x7ffd0000, 0x7ffd0100, 4) = -1 "
              "EINVAL (Invalid argument)");
}

/* ---- time, limits, uname ---- */

static void test_time_limits(void)
{
    static uint8_t ts[16], tv[16], rl_new[16], rl_old[16], uts[390];
    struct vigil_syscall ev;

    put64(ts, 31340);
    put64(ts + 8, 159571521);
    ev = ev_new(228, 0);
    args(&ev, 1, 0x7ffd0000, 0, 0, 0);
    out(&ev, 1, ts, 16);
    text(&ev, "clock_gettime(CLOCK_MONOTONIC, {tv_sec=31340, "
              "tv_nsec=159571521}) = 0");
    decoded(&ev, "[\"CLOCK_MONOTONIC\",{\"sec\":31340,\"nsec\":159571521}]");

    put64(tv, 1796378896);
    put64(tv + 8, 68026);
    ev = ev_new(96, 0);
    args(&ev, 0x7ffd0000, 0, 0, 0, 0);
    out(&ev, 0, tv, 16);
    text(&ev, "gettimeofday({tv_sec=1796378896, tv_usec=68026}, NULL) = 0");
    decoded(&ev, "[{\"sec\":1796378896,\"usec\":68026},null]");

    /* nanosleep: the remaining time only when interrupted */
    put64(ts, 0);
    put64(ts + 8, 1000);
    ev = ev_new(35, 0);
    args(&ev, 0x7ffd0000, 0x7ffd0100, 0, 0, 0);
    in(&ev, 0, ts, 16);
    text(&ev, "nanosleep({tv_sec=0, tv_nsec=1000}, 0x7ffd0100) = 0");
    ev.ret = -4;
    out(&ev, 1, ts, 16);
    text(&ev, "nanosleep({tv_sec=0, tv_nsec=1000}, {tv_sec=0, "
              "tv_nsec=1000}) = -1 EINTR (Interrupted system call)");

    put64(rl_new, 1024);
    put64(rl_new + 8, 2048);
    put64(rl_old, 0);
    put64(rl_old + 8, UINT64_MAX);
    ev = ev_new(302, 0);
    args(&ev, 0, 4, 0x7ffd0000, 0x7ffd0100, 0);
    in(&ev, 2, rl_new, 16);
    out(&ev, 3, rl_old, 16);
    text(&ev, "prlimit64(0, RLIMIT_CORE, {rlim_cur=1024, rlim_max=2*1024}, "
              "{rlim_cur=0, rlim_max=RLIM64_INFINITY}) = 0");
    decoded(&ev, "[0,\"RLIMIT_CORE\",{\"rlim_cur\":1024,\"rlim_max\":2048},"
                 "{\"rlim_cur\":0,\"rlim_max\":\"RLIM64_INFINITY\"}]");
    put64(rl_new, 0);
    put64(rl_new + 8, 1025);
    ev.caps[1].data = (const uint8_t *)"\0\4\0\0\0\0\0\0\0\x08\0\0\0\0\0\0";
    text(&ev, "prlimit64(0, RLIMIT_CORE, {rlim_cur=0, rlim_max=1025}, "
              "{rlim_cur=1024, rlim_max=2*1024}) = 0");

    put64(rl_old, 8192 * 1024);
    ev = ev_new(97, 0);
    args(&ev, 3, 0x7ffd0000, 0, 0, 0);
    out(&ev, 1, rl_old, 16);
    text(&ev, "getrlimit(RLIMIT_STACK, {rlim_cur=8192*1024, "
              "rlim_max=RLIM64_INFINITY}) = 0");
    ev.ncaps = 0;
    ev.args[1] = 8;
    ev.ret = -14;
    text(&ev, "getrlimit(RLIMIT_STACK, 0x8) = -1 EFAULT (Bad address)");

    memset(uts, 0, sizeof(uts));
    memcpy(uts, "Linux", 5);
    memcpy(uts + 65, "vm", 2);
    memcpy(uts + 130, "6.1.0-40-cloud-amd64", 20);
    memcpy(uts + 260, "x86_64", 6);
    memcpy(uts + 325, "(none)", 6);
    ev = ev_new(63, 0);
    args(&ev, 0x7ffd0000, 0, 0, 0, 0);
    out(&ev, 0, uts, sizeof(uts));
    text(&ev, "uname({sysname=\"Linux\", nodename=\"vm\", ...}) = 0");
    decoded(&ev, "[{\"sysname\":\"Linux\",\"nodename\":\"vm\",\"release\":"
                 "\"6.1.0-40-cloud-amd64\",\"version\":\"\",\"machine\":"
                 "\"x86_64\",\"domainname\":\"(none)\"}]");
    /* A field without its NUL stops at the field's end. */
    memset(uts + 65, 'n', 65);
    text(&ev, "uname({sysname=\"Linux\", nodename=\"nnnnnnnnnnnnnnnnnnnnnnnnn"
              "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn\", ...}) = 0");
    ev.caps[0].len = 129;
    text(&ev, "uname(0x7ffd0000) = 0");
}

/* ---- directories, prctl, socket address lengths ---- */

static void test_misc(void)
{
    static const uint32_t n29 = 29, n0 = 0;
    static const int32_t l128 = 128, l16 = 16;
    static uint8_t sin[16] = {2, 0, 0xb8, 0x8f, 127, 0, 0, 1};
    struct vigil_syscall ev;

    ev = ev_new(217, 776);
    args(&ev, 3, 0x7fffc0875e30, 4096, 0, 0);
    cap(&ev, 1, VSYS_CAP_DIRENTS, true, &n29, 4);
    text(&ev, "getdents64(3, 0x7fffc0875e30 /* 29 entries */, 4096) = 776");
    decoded(&ev, "[3,{\"addr\":\"0x7fffc0875e30\",\"entries\":29},4096]");
    ev.ret = 0;
    ev.caps[0].data = (const uint8_t *)&n0;
    text(&ev, "getdents64(3, 0x7fffc0875e30 /* 0 entries */, 4096) = 0");
    ev.ncaps = 0;
    ev.ret = -9;
    text(&ev, "getdents64(3, 0x7fffc0875e30, 4096) = -1 EBADF (Bad file "
              "descriptor)");

    ev = ev_new(157, 0);
    args(&ev, 16, 0x7ffd0000, 0, 0, 0);
    cap(&ev, 1, VSYS_CAP_STR, true, "p", 2);
    text(&ev, "prctl(PR_GET_NAME, \"p\") = 0");
    decoded(&ev, "[\"PR_GET_NAME\",\"p\",\"0\",\"0\",\"0\"]");
    ev = ev_new(157, 0);
    args(&ev, 15, 0x7ffd0000, 0, 0, 0);
    cap(&ev, 1, VSYS_CAP_STR, false, "abcdefghijklmnopqrstuvwxyz", 27);
    text(&ev, "prctl(PR_SET_NAME, \"abcdefghijklmno\"...) = 0");
    ev.ncaps = 0;
    unreadable(&ev, 1, false);
    ev.caps[0].kind = VSYS_CAP_STR;
    text(&ev, "prctl(PR_SET_NAME, 0x7ffd0000) = 0");
    ev = ev_new(157, 0);
    args(&ev, 1, 9, 0, 0, 0);
    text(&ev, "prctl(PR_SET_PDEATHSIG, SIGKILL) = 0");
    args(&ev, 38, 1, 0, 0, 0);
    text(&ev, "prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) = 0");
    args(&ev, 4, 0, 0, 0, 0);
    text(&ev, "prctl(PR_SET_DUMPABLE, SUID_DUMP_DISABLE) = 0");

    /* getsockname(5, {...}, [128 => 16]) = 0 */
    ev = ev_new(51, 0);
    args(&ev, 5, 0x7ffd0000, 0x7ffd0100, 0, 0);
    cap(&ev, 1, VSYS_CAP_SOCKADDR, true, sin, 16);
    in(&ev, 2, &l128, 4);
    out(&ev, 2, &l16, 4);
    text(&ev, "getsockname(5, {sa_family=AF_INET, sin_port=htons(47247), "
              "sin_addr=inet_addr(\"127.0.0.1\")}, [128 => 16]) = 0");
    decoded(&ev, "[5,{\"family\":\"AF_INET\",\"port\":47247,\"addr\":"
                 "\"127.0.0.1\"},{\"in\":128,\"out\":16}]");
    ev.caps[1].data = (const uint8_t *)&l16;
    text(&ev, "getsockname(5, {sa_family=AF_INET, sin_port=htons(47247), "
              "sin_addr=inet_addr(\"127.0.0.1\")}, [16]) = 0");
    /* getpeername(3, 0x7ffd0000, [16]) = -1 ENOTCONN: entry length only */
    ev = ev_new(52, -107);
    args(&ev, 3, 0x7ffd0000, 0x7ffd0100, 0, 0);
    in(&ev, 2, &l16, 4);
    text(&ev, "getpeername(3, 0x7ffd0000, [16]) = -1 ENOTCONN (Transport "
              "endpoint is not connected)");
    ev.ncaps = 0;
    unreadable(&ev, 2, false);
    text(&ev, "getpeername(3, 0x7ffd0000, 0x7ffd0100) = -1 ENOTCONN "
              "(Transport endpoint is not connected)");
}

/* clone in strace's named form; glibc's fork, and a thread (strace 6.1
 * in the guest). */
static void test_clone(void)
{
    static const int32_t tid = 124;
    static uint8_t sa[32];
    struct vigil_syscall ev;

    ev = ev_new(56, 147);
    args(&ev, 0x1200011, 0, 0, 0xb810690, 0);
    text(&ev, "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|"
              "CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0xb810690) = 147");
    ev = ev_new(56, 124);
    args(&ev, 0x3d0f00, 0x7f0000001000, 0x7f0000002000, 0x7f0000002000,
         0x7f0000003000);
    out(&ev, 2, &tid, 4);
    text(&ev, "clone(child_stack=0x7f0000001000, flags=CLONE_VM|CLONE_FS|"
              "CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|"
              "CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, "
              "parent_tid=[124], tls=0x7f0000003000, "
              "child_tidptr=0x7f0000002000) = 124");
    ev.ncaps = 0;
    text(&ev, "clone(child_stack=0x7f0000001000, flags=CLONE_VM|CLONE_FS|"
              "CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|"
              "CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, "
              "parent_tid=0x7f0000002000, tls=0x7f0000003000, "
              "child_tidptr=0x7f0000002000) = 124");

    /* rt_sigreturn({mask=[]}): the frame's mask, read through the stack
     * pointer; without it, no argument. */
    ev = ev_new(15, 147);
    args(&ev, 0, 0, 0, 0, 0);
    cap(&ev, 0, VSYS_CAP_FRAME_MASK, false, "\0\0\0\0\0\0\0\0", 8);
    text(&ev, "rt_sigreturn({mask=[]}) = 147");
    decoded(&ev, "[{\"mask\":[]}]");
    ev.caps[0].data = (const uint8_t *)"\0\0\1\0\0\0\0\0";
    text(&ev, "rt_sigreturn({mask=[CHLD]}) = 147");
    ev.ncaps = 0;
    text(&ev, "rt_sigreturn() = 147");

    /* A static program's sigaction without a restorer address. */
    mksa(sa, 0x4019b0, 0x14000000, 0, 1u << 16);
    ev = ev_new(13, 0);
    args(&ev, 10, 0, 0x7ffd0000, 8, 0);
    out(&ev, 2, sa, 32);
    text(&ev, "rt_sigaction(SIGUSR1, NULL, {sa_handler=0x4019b0, "
              "sa_mask=[CHLD], sa_flags=SA_RESTORER|SA_RESTART, "
              "sa_restorer=NULL}, 8) = 0");
}

int main(void)
{
    test_clone();
    test_stat();
    test_statx();
    test_signals();
    test_time_limits();
    test_misc();
    return failures != 0;
}
