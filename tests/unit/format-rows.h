/* The rows of test-trace-format.c: one call each, with strace's text for
 * it and the JSON (the whole event, or a fragment it must contain). Where
 * the text form follows strace, the expectation is strace 6.1's own line
 * for the same call on the host. */
#ifndef VIGIL_TESTS_FORMAT_ROWS_H
#define VIGIL_TESTS_FORMAT_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/event.h"

struct cap_row {
    uint8_t argi, kind;
    bool at_exit, trunc, fault;
    const char *data;
    size_t len;
};

enum {
    R_COMPAT = 1,     /* the i386 ABI */
    R_UNFINISHED = 2, /* never saw its return */
    R_NORETURN = 4,   /* a call that does not return (no exit time) */
    R_BOUNDARIES = 8, /* also checked at every buffer size */
};

struct row {
    uint64_t nr;
    int64_t ret;
    uint64_t a[6];
    struct cap_row caps[6];
    const char *text; /* strace's line without the pid; NULL: unchecked */
    const char *json; /* '{': the whole event; else a fragment; NULL */
    unsigned opts;
};

/* Captures: a string literal's bytes; _Z with its NUL, _L with a length. */
#define CAP(i, k, x, lit)                                                      \
    {                                                                          \
        .argi = (i), .kind = (k), .at_exit = (x), .data = (lit),               \
        .len = sizeof(lit) - 1                                                 \
    }
#define CAP_Z(i, k, x, lit)                                                    \
    {                                                                          \
        .argi = (i), .kind = (k), .at_exit = (x), .data = (lit),               \
        .len = sizeof(lit)                                                     \
    }
#define STR(i, lit)     CAP_Z(i, VSYS_CAP_STR, false, lit)
#define STR_OUT(i, lit) CAP_Z(i, VSYS_CAP_STR, true, lit)
#define BUF(i, lit)     CAP(i, VSYS_CAP_BUF, false, lit)
#define BUF_OUT(i, lit) CAP(i, VSYS_CAP_BUF, true, lit)
#define ARGV(i, lit)    CAP(i, VSYS_CAP_ARGV, false, lit)
#define SA(i, lit)      CAP(i, VSYS_CAP_SOCKADDR, false, lit)
#define SA_OUT(i, lit)  CAP(i, VSYS_CAP_SOCKADDR, true, lit)
#define IN(i, lit)      CAP(i, VSYS_CAP_STRUCT, false, lit)
#define OUT(i, lit)     CAP(i, VSYS_CAP_STRUCT, true, lit)
/* The plugin's blob for an address it could not read (or read in part). */
#define FAULT(i, k)                                                            \
    {                                                                          \
        .argi = (i), .kind = (k), .fault = true                                \
    }
#define FAULT_PART(i, k, lit)                                                  \
    {                                                                          \
        .argi = (i), .kind = (k), .fault = true, .data = (lit),                \
        .len = sizeof(lit) - 1                                                 \
    }
#define CUT(i, k, lit)                                                         \
    {                                                                          \
        .argi = (i), .kind = (k), .trunc = true, .data = (lit),                \
        .len = sizeof(lit) - 1                                                 \
    }

/* A row checked against strace's text alone: {nr, ret, {arguments},
 * {captures}, text}, no JSON, no options. */
#define TEXT_ROW(...)                                                          \
    {                                                                          \
        __VA_ARGS__, NULL, 0                                                   \
    }

/* The JSON event's fields before "nr" for the rows' common header. */
#define JHEAD(abi)                                                             \
    "{\"type\":\"syscall\",\"ts\":1000,\"ts_exit\":2500,\"vcpu\":1,"           \
    "\"pid\":40,\"tid\":42,\"ppid\":1,\"comm\":\"cat\",\"abi\":\"" abi "\","
#define JTAIL "\"state\":\"done\",\"ip\":\"0x401000\"}"

#define AT_FDCWD_  ((uint64_t)-100)
#define WRITE_DATA "hello\n\t\"\\\0\177\200\3771"
#define SIN        "\2\0\0\x09\x7f\0\0\1\0\0\0\0\0\0\0\0"
/* struct statfs (the 88 bytes through f_flags) of "/" and of /proc */
#define STATFS_ROOT                                                            \
    "\x53\xef\x00\x00\x00\x00\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x9d\xe3" \
    "\xef\x03\x00\x00\x00\x00\xf5\xcd\x9e\x03\x00\x00\x00\x00\xe1\xab\x2d\x01" \
    "\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x3c\xdc\xf8\x00\x00\x00" \
    "\x00\x00\x3c\x48\xff\xec\x4f\xd0\x8f\xa8\xff\x00\x00\x00\x00\x00\x00\x00" \
    "\x00\x10\x00\x00\x00\x00\x00\x00\x20\x10\x00\x00\x00\x00\x00\x00"
#define STATFS_PROC                                                            \
    "\xa0\x9f\x00\x00\x00\x00\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x00" \
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" \
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" \
    "\x00\x00\x14\x00\x00\x00\x00\x00\x00\x00\xff\x00\x00\x00\x00\x00\x00\x00" \
    "\x00\x10\x00\x00\x00\x00\x00\x00\x2f\x14\x00\x00\x00\x00\x00\x00"
/* utimensat's pairs of timespec */
#define UTIMES_NOW_OMIT                                                        \
    "\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\x3f\x00\x00\x00\x00\x00\x00" \
    "\x00\x00\x00\x00\x00\x00\xfe\xff\xff\x3f\x00\x00\x00\x00"
#define UTIMES_SET                                                             \
    "\x00\xf1\x53\x65\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x01\xf1" \
    "\x53\x65\x00\x00\x00\x00\xff\xff\xff\x3f\x00\x00\x00\x00"
#define UTIMES_NEG                                                             \
    "\x00\xf1\x53\x65\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff" \
    "\xff\xff\xff\xff\xff\xff\xff\xc9\x9a\x3b\x00\x00\x00\x00"
#define UTIMES_BAD                                                             \
    "\x01\x00\x00\x00\x00\x00\x00\x00\xfe\xff\xff\x3f\x00\x00\x00\x00\x02\x00" \
    "\x00\x00\x00\x00\x00\x00\x00\x94\x35\x77\x00\x00\x00\x00"
#define POLL3_IN  "\3\0\0\0\1\0\0\0\4\0\0\0\5\0\0\0\xff\xff\xff\xff\1\0\0\0"
#define POLL3_OUT "\3\0\0\0\1\0\1\0\4\0\0\0\5\0\4\0\xff\xff\xff\xff\1\0\0\0"
#define RUSAGE_CHILD                                                           \
    "\x00\x00\x00\x00\x00\x00\x00\x00\x0b\x5d\x00\x00\x00\x00\x00\x00\x00\x00" \
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xd2\x04\x00\x00" \
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" \
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x64\x00\x00\x00\x00\x00\x00\x00" \
    "\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x08\x00" \
    "\x00\x00\x00\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" \
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" \
    "\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00"
#define RUSAGE_SELF                                                            \
    "\x00\x00\x00\x00\x00\x00\x00\x00\xeb\x1c\x00\x00\x00\x00\x00\x00\x00\x00" \
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" \
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" \
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" \
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" \
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" \
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" \
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
#define GROUPS "\0\0\0\0\4\0\0\0\x18\0\0\0\x63\0\0\0"

static const struct row rows[] = {
    /* ---- files ---- */

    {257,
     3,
     {AT_FDCWD_, 0x1000, 02000000},
     {STR(1, "/etc/passwd")},
     "openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY|O_CLOEXEC) = 3",
     JHEAD("x86_64") "\"nr\":257,\"name\":\"openat\","
                     "\"args\":[18446744073709551516,4096,524288,0],"
                     "\"decoded\":[\"AT_FDCWD\",\"/etc/passwd\","
                     "\"O_RDONLY|O_CLOEXEC\",\"000\"],\"ret\":3," JTAIL,
     R_BOUNDARIES},
    {257,
     -2,
     {AT_FDCWD_, 0x1000, 02000000},
     {STR(1, "/etc/passwd")},
     "openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No "
     "such file or directory)",
     "\"ret\":-2,\"error\":\"ENOENT\"",
     0},
    /* a string captured without its NUL */
    {257,
     3,
     {5, 0x1000, 01101, 0644},
     {CAP(1, VSYS_CAP_STR, false, "out.txt")},
     "openat(5, \"out.txt\", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 3",
     NULL,
     0},
    /* From strace: O_SYNC is two bits, and mode 0 prints as 000 */
    TEXT_ROW(
        257, 3, {AT_FDCWD_, 0x1000, 04010101 | 02000000, 0644},
        {STR(1, "/tmp/xx_f")},
        "openat(AT_FDCWD, \"/tmp/xx_f\", O_WRONLY|O_CREAT|O_SYNC|O_CLOEXEC, "
        "0644) = 3"),
    {83,
     0,
     {0x1000},
     {STR(0, "/tmp/xx_t")},
     "mkdir(\"/tmp/xx_t\", 000) = 0",
     "\"decoded\":[\"/tmp/xx_t\",\"000\"]",
     0},
    {95, 022, {0}, {{0}}, "umask(000) = 022", NULL, 0},
    TEXT_ROW(259, 0, {AT_FDCWD_, 0x1000, 010600}, {STR(1, "/tmp/xx_n")},
             "mknodat(AT_FDCWD, \"/tmp/xx_n\", S_IFIFO|0600, 0) = 0"),
    TEXT_ROW(90, 0, {0x1000, 04755}, {STR(0, "/tmp/xx_f")},
             "chmod(\"/tmp/xx_f\", 04755) = 0"),
    {262,
     0,
     {3, 0x1000, 0x7ffdc11367d0, 0x1000},
     {STR(1, "")},
     "newfstatat(3, \"\", 0x7ffdc11367d0, AT_EMPTY_PATH) = 0",
     "\"decoded\":[3,\"\",\"0x7ffdc11367d0\",\"AT_EMPTY_PATH\"]",
     0},
    TEXT_ROW(21, -13, {0x1000, 7}, {STR(0, "/etc/passwd")},
             "access(\"/etc/passwd\", R_OK|W_OK|X_OK) = -1 EACCES (Permission "
             "denied)"),
    TEXT_ROW(21, 0, {0x1000, 0}, {STR(0, "/etc/passwd")},
             "access(\"/etc/passwd\", F_OK) = 0"),
    {8,
     1162,
     {255, (uint64_t)-2179, 1},
     {{0}},
     "lseek(255, -2179, SEEK_CUR) = 1162",
     "\"decoded\":[255,-2179,\"SEEK_CUR\"]",
     0},
    TEXT_ROW(72, -9, {255, 1, 0xdead}, {{0}},
             "fcntl(255, F_GETFD) = -1 EBADF (Bad file descriptor)"),
    {72, 0, {255, 2, 1}, {{0}}, "fcntl(255, F_SETFD, FD_CLOEXEC) = 0", NULL, 0},
    {72, 11, {2, 0, 10}, {{0}}, "fcntl(2, F_DUPFD, 10) = 11", NULL, 0},
    TEXT_ROW(72, 0, {3, 4, 04002}, {{0}},
             "fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0"),
    {316,
     0,
     {AT_FDCWD_, 0x1000, 7, 0x2000, 1},
     {STR(1, "a"), STR(3, "b")},
     "renameat2(AT_FDCWD, \"a\", 7, \"b\", RENAME_NOREPLACE) = 0",
     NULL,
     0},
    /* readlink: the target comes back at exit, ret bytes, no NUL */
    TEXT_ROW(
        89, 19, {0x1000, 0x2000, 4096},
        {STR(0, "/proc/self/exe"), BUF_OUT(1, "/usr/bin/python3.11")},
        "readlink(\"/proc/self/exe\", \"/usr/bin/python3.11\", 4096) = 19"),
    {79,
     6,
     {0x1000, 4096},
     {STR_OUT(0, "/root")},
     "getcwd(\"/root\", 4096) = 6",
     NULL,
     0},

    /* ---- I/O ---- */
    /* strace 6.1: write(7, "hello\n\t\"\\\0\177\200\3771", 14) = 14 */
    {1,
     14,
     {7, 0x1000, 14},
     {BUF(1, WRITE_DATA)},
     "write(7, \"hello\\n\\t\\\"\\\\\\0\\177\\200\\3771\", 14) = 14",
     JHEAD("x86_64") "\"nr\":1,\"name\":\"write\",\"args\":[7,4096,14],"
                     "\"decoded\":[7,\"hello\\n\\t\\\"\\\\\\u0000\\u007f"
                     "\\u0080\\u00ff1\",14],\"ret\":14," JTAIL,
     R_BOUNDARIES},
    /* an octal escape is three digits when an octal digit follows */
    {1,
     11,
     {1, 0x1000, 11},
     {BUF(1, "\1"
             "2\0"
             "8\33"
             "a\v\f\r\177z")},
     "write(1, \"\\0012\\08\\33a\\v\\f\\r\\177z\", 11) = 11",
     NULL,
     0},
    {1,
     26,
     {1, 0x1000, 26},
     {CUT(1, VSYS_CAP_BUF, "abcdefgh")},
     "write(1, \"abcdefgh\"..., 26) = 26",
     JHEAD("x86_64") "\"nr\":1,\"name\":\"write\",\"args\":[1,4096,26],"
                     "\"decoded\":[1,\"abcdefgh\",26],\"ret\":26,"
                     "\"state\":\"done\",\"ip\":\"0x401000\","
                     "\"truncated\":[1]}",
     0},
    TEXT_ROW(0, 14, {6, 0x7ffc0000, 100}, {BUF_OUT(1, WRITE_DATA)},
             "read(6, \"hello\\n\\t\\\"\\\\\\0\\177\\200\\3771\", 100) = 14"),
    TEXT_ROW(0, -11, {6, 0x7ffc0000, 100}, {{0}},
             "read(6, 0x7ffc0000, 100) = -1 EAGAIN (Resource temporarily "
             "unavailable)"),
    {0,
     -11,
     {6, 0x7ffc0000, 100},
     {{0}},
     "read(6, 0x7ffc0000, 100) = ?",
     "{\"type\":\"syscall\",\"ts\":1000,\"ts_exit\":null,\"vcpu\":1,"
     "\"pid\":40,\"tid\":42,\"ppid\":1,\"comm\":\"cat\","
     "\"abi\":\"x86_64\",\"nr\":0,\"name\":\"read\","
     "\"args\":[6,2147221504,100],\"decoded\":[6,\"0x7ffc0000\",100],"
     "\"ret\":null,\"state\":\"unfinished\",\"ip\":\"0x401000\"}",
     R_UNFINISHED},
    /* an unreadable address */
    {257,
     -14,
     {AT_FDCWD_, 0x1234, 0},
     {FAULT(1, VSYS_CAP_STR)},
     "openat(AT_FDCWD, 0x1234, O_RDONLY) = -1 EFAULT (Bad address)",
     JHEAD("x86_64") "\"nr\":257,\"name\":\"openat\","
                     "\"args\":[18446744073709551516,4660,0,0],"
                     "\"decoded\":[\"AT_FDCWD\",{\"addr\":\"0x1234\","
                     "\"error\":\"unreadable\"},\"O_RDONLY\",\"000\"],"
                     "\"ret\":-14,\"error\":\"EFAULT\"," JTAIL,
     0},
    /* readable in part: what was read, marked as cut */
    {257,
     -14,
     {AT_FDCWD_, 0x1234, 0},
     {FAULT_PART(1, VSYS_CAP_STR, "/et")},
     "openat(AT_FDCWD, \"/et\"..., O_RDONLY) = -1 EFAULT (Bad address)",
     "\"truncated\":[1]",
     0},
    /* the path of utimensat may be NULL */
    {280, 0, {3, 0, 0, 0}, {{0}}, "utimensat(3, NULL, NULL, 0) = 0", NULL, 0},
    {318,
     8,
     {0x1000, 8, 1},
     {BUF_OUT(0, "\x8b\x01\xb2\xc0\xc1\xa3\x8d\x05")},
     "getrandom(\"\\x8b\\x01\\xb2\\xc0\\xc1\\xa3\\x8d\\x05\", 8, "
     "GRND_NONBLOCK) = 8",
     NULL,
     0},

    /* ---- processes ---- */
    {59,
     0,
     {0x1000, 0x2000, 0x7ffec408e788},
     {STR(0, "/bin/ls"), ARGV(1, "ls\0-l\0/tmp dir\0")},
     "execve(\"/bin/ls\", [\"ls\", \"-l\", \"/tmp dir\"], 0x7ffec408e788) = 0",
     JHEAD("x86_64") "\"nr\":59,\"name\":\"execve\","
                     "\"args\":[4096,8192,140732187338632],"
                     "\"decoded\":[\"/bin/ls\",[\"ls\",\"-l\",\"/tmp dir\"],"
                     "\"0x7ffec408e788\"],\"ret\":0," JTAIL,
     R_BOUNDARIES},
    TEXT_ROW(59, 0, {0x1000, 0x2000, 0x7ffec408e788},
             {STR(0, "/bin/ls"), CUT(1, VSYS_CAP_ARGV, "ls\0-l\0/tmp dir\0")},
             "execve(\"/bin/ls\", [\"ls\", \"-l\", \"/tmp dir\", ...], "
             "0x7ffec408e788) = 0"),
    TEXT_ROW(59, 0, {0x1000, 0x2000, 0x7ffec408e788},
             {STR(0, "/bin/ls"), CUT(1, VSYS_CAP_ARGV, "sh\0-c\0echo hel")},
             "execve(\"/bin/ls\", [\"sh\", \"-c\", \"echo hel\"...], "
             "0x7ffec408e788) = 0"),
    TEXT_ROW(59, 0, {0x1000, 0x2000, 0x7ffec408e788},
             {STR(0, "/bin/ls"), ARGV(1, "")},
             "execve(\"/bin/ls\", [], 0x7ffec408e788) = 0"),
    TEXT_ROW(
        56, 10180, {0x1200011, 0, 0, 0x7f06e9894e50, 0}, {{0}},
        "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|"
        "SIGCHLD, child_tidptr=0x7f06e9894e50) = 10180"),
    TEXT_ROW(61, 10180, {10180, 0x1000, 0, 0}, {OUT(1, "\x00\x03\x00\x00")},
             "wait4(10180, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = "
             "10180"),
    TEXT_ROW(61, 10180, {10180, 0x1000, 0, 0}, {OUT(1, "\x89\x00\x00\x00")},
             "wait4(10180, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL && "
             "WCOREDUMP(s)}], 0, NULL) = 10180"),
    {231,
     0,
     {3},
     {{0}},
     "exit_group(3) = ?",
     "{\"type\":\"syscall\",\"ts\":1000,\"ts_exit\":null,\"vcpu\":1,"
     "\"pid\":40,\"tid\":42,\"ppid\":1,\"comm\":\"cat\","
     "\"abi\":\"x86_64\",\"nr\":231,\"name\":\"exit_group\","
     "\"args\":[3],\"decoded\":[3],\"ret\":null,"
     "\"state\":\"noreturn\",\"ip\":\"0x401000\"}",
     R_NORETURN},
    {62,
     0,
     {1, 15},
     {{0}},
     "kill(1, SIGTERM) = 0",
     "\"decoded\":[1,\"SIGTERM\"]",
     0},
    TEXT_ROW(13, 0, {2, 0x1000, 0x2000, 8}, {{0}},
             "rt_sigaction(SIGINT, 0x1000, 0x2000, 8) = 0"),
    TEXT_ROW(230, 0, {1, 1, 0x1000},
             {IN(2, "\x7a\x09\0\0\0\0\0\0\xdc\xcc\x24\x0b\0\0\0\0")},
             "clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, {tv_sec=2426, "
             "tv_nsec=186961116}, NULL) = 0"),
    TEXT_ROW(158, 0, {0x1002, 0x7fe89a1ff740}, {{0}},
             "arch_prctl(ARCH_SET_FS, 0x7fe89a1ff740) = 0"),
    TEXT_ROW(202, 0, {0x7fe89a3d6a4c, 129, 2147483647}, {{0}},
             "futex(0x7fe89a3d6a4c, FUTEX_WAKE_PRIVATE, 2147483647) = 0"),
    {302,
     0,
     {0, 3, 0, 0x7ffc1000},
     {{0}},
     "prlimit64(0, RLIMIT_STACK, NULL, 0x7ffc1000) = 0",
     NULL,
     0},

    /* ---- memory ---- */
    TEXT_ROW(
        9, 0x7fe89a228000, {0x7fe89a228000, 1400832, 5, 0x812, 3, 0x26000},
        {{0}},
        "mmap(0x7fe89a228000, 1400832, PROT_READ|PROT_EXEC, "
        "MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x26000) = 0x7fe89a228000"),
    TEXT_ROW(
        9, 0x7fe89a3ef000, {0, 8192, 3, 0x22, (uint64_t)-1, 0}, {{0}},
        "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, "
        "0) = 0x7fe89a3ef000"),
    TEXT_ROW(
        9, -12, {0, 8192, 3, 0x22, (uint64_t)-1, 0}, {{0}},
        "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, "
        "0) = -1 ENOMEM (Cannot allocate memory)"),
    TEXT_ROW(10, 0, {0x1000, 4096, 0}, {{0}},
             "mprotect(0x1000, 4096, PROT_NONE) = 0"),
    {12, 0x560756dfb000, {0}, {{0}}, "brk(NULL) = 0x560756dfb000", NULL, 0},

    /* ---- sockets ---- */
    /* ioctl TCSETS, TCSETSW, TCSETSF: strace 6.1 on the host */
    {16,
     0,
     {4, 0x5402, 0x7ffe2000},
     {IN(2,
         "\x00\x05\x00\x00\x05\x00\x00\x00\xbf\x00\x00\x00\x3b\x8a\x00\x00")},
     "ioctl(4, SNDCTL_TMR_START or TCSETS, {c_iflag=ICRNL|IXON, "
     "c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR, c_cflag=B38400|CS8|CREAD, "
     "c_lflag=ISIG|ICANON|ECHO|ECHOE|ECHOK|IEXTEN|ECHOCTL|ECHOKE, ...}) = 0",
     "\"decoded\":[4,\"TCSETS\",{\"c_iflag\":\"ICRNL|IXON\",\"c_oflag\":"
     "\"NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR\",\"c_cflag\":\"B38400|CS8|"
     "CREAD\",\"c_lflag\":\"ISIG|ICANON|ECHO|ECHOE|ECHOK|IEXTEN|ECHOCTL|"
     "ECHOKE\"}]",
     0},
    {16,
     0,
     {4, 0x5403, 0x7ffe2000},
     {IN(2,
         "\x00\x05\x00\x00\x05\x00\x00\x00\xbf\x00\x00\x00\x33\x8a\x00\x00")},
     "ioctl(4, SNDCTL_TMR_STOP or TCSETSW, {c_iflag=ICRNL|IXON, "
     "c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR, c_cflag=B38400|CS8|CREAD, "
     "c_lflag=ISIG|ICANON|ECHOE|ECHOK|IEXTEN|ECHOCTL|ECHOKE, ...}) = 0",
     NULL,
     0},
    {16,
     0,
     {4, 0x5404, 0x7ffe2000},
     {IN(2,
         "\x00\x05\x00\x00\x05\x00\x00\x00\xbf\x00\x00\x00\x33\x8a\x00\x00")},
     "ioctl(4, SNDCTL_TMR_CONTINUE or TCSETSF, {c_iflag=ICRNL|IXON, "
     "c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR, c_cflag=B38400|CS8|CREAD, "
     "c_lflag=ISIG|ICANON|ECHOE|ECHOK|IEXTEN|ECHOCTL|ECHOKE, ...}) = 0",
     NULL,
     0},
    {16,
     -14,
     {4, 0x5402, 0x8},
     {FAULT(2, VSYS_CAP_STRUCT), FAULT(2, VSYS_CAP_STRUCT)},
     "ioctl(4, SNDCTL_TMR_START or TCSETS, 0x8) = -1 EFAULT (Bad address)",
     NULL,
     0},
    /* not captured (the ring was full): the address */
    {16,
     0,
     {4, 0x5402, 0x7ffe2000},
     {},
     "ioctl(4, SNDCTL_TMR_START or TCSETS, 0x7ffe2000) = 0",
     NULL,
     0},
    /* ioctl TCGETS: strace 6.1's lines on the host (the all-ones and
     * mixed words from TCSETS, which strace shows the same way) */
    {16,
     0,
     {4, 0x5401, 0x7ffe2000},
     {OUT(2,
          "\x00\x05\x00\x00\x05\x00\x00\x00\xbf\x00\x00\x00\x3b\x8a\x00\x00")},
     "ioctl(4, TCGETS, {c_iflag=ICRNL|IXON, "
     "c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR, c_cflag=B38400|CS8|CREAD, "
     "c_lflag=ISIG|ICANON|ECHO|ECHOE|ECHOK|IEXTEN|ECHOCTL|ECHOKE, ...}) = 0",
     "\"decoded\":[4,\"TCGETS\",{\"c_iflag\":\"ICRNL|IXON\",\"c_oflag\":"
     "\"NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR\",\"c_cflag\":\"B38400|CS8|"
     "CREAD\",\"c_lflag\":\"ISIG|ICANON|ECHO|ECHOE|ECHOK|IEXTEN|ECHOCTL|"
     "ECHOKE\"}]",
     0},
    {16,
     0,
     {4, 0x5401, 0x7ffe2000},
     {OUT(2,
          "\x00\x00\x00\x00\x00\x00\x00\x00\xb0\x00\x00\x00\x00\x00\x00\x00")},
     "ioctl(4, TCGETS, {c_iflag=, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|, "
     "c_cflag=B0|CS8|CREAD, c_lflag=, ...}) = 0",
     NULL,
     0},
    {16,
     0,
     {4, 0x5401, 0x7ffe2000},
     {OUT(2,
          "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff")},
     "ioctl(4, TCGETS, "
     "{c_iflag=IGNBRK|BRKINT|IGNPAR|PARMRK|INPCK|ISTRIP|INLCR|IGNCR|ICRNL|"
     "IUCLC|IXON|IXANY|IXOFF|IMAXBEL|IUTF8|0xffff8000, "
     "c_oflag=NL1|CR3|XTABS|BS1|VT1|FF1|OPOST|OLCUC|ONLCR|OCRNL|ONOCR|ONLRET|"
     "OFILL|OFDEL|0xffff0000, "
     "c_cflag=B4000000|B4000000<<IBSHIFT|CS8|CSTOPB|CREAD|PARENB|PARODD|HUPCL|"
     "CLOCAL|CMSPAR|CRTSCTS|0x2ff0e000, "
     "c_lflag=ISIG|ICANON|XCASE|ECHO|ECHOE|ECHOK|ECHONL|NOFLSH|IEXTEN|ECHOCTL|"
     "ECHOPRT|ECHOKE|FLUSHO|PENDIN|TOSTOP|EXTPROC|0xfffe2000, ...}) = 0",
     NULL,
     0},
    {16,
     0,
     {4, 0x5401, 0x7ffe2000},
     {OUT(2,
          "\x01\x00\x00\x10\x01\xfd\x00\x00\x62\x19\x00\x80\x08\x00\x00\x40")},
     "ioctl(4, TCGETS, {c_iflag=IGNBRK|0x10000000, "
     "c_oflag=NL1|CR2|XTABS|BS1|VT1|FF1|OPOST, "
     "c_cflag=B115200|CS7|CSTOPB|PARENB|CLOCAL|CRTSCTS, "
     "c_lflag=ECHO|0x40000000, ...}) = 0",
     NULL,
     0},
    {16,
     0,
     {4, 0x5401, 0x7ffe2000},
     {OUT(2,
          "\x01\x00\x00\x10\x01\xfd\x00\x00\x1d\x00\x00\x00\x08\x00\x00\x40")},
     "ioctl(4, TCGETS, {c_iflag=IGNBRK|0x10000000, "
     "c_oflag=NL1|CR2|XTABS|BS1|VT1|FF1|OPOST, c_cflag=B9600|CS6|, "
     "c_lflag=ECHO|0x40000000, ...}) = 0",
     NULL,
     0},
    TEXT_ROW(16, -14, {4, 0x5401, 0x8}, {{0}},
             "ioctl(4, TCGETS, 0x8) = -1 EFAULT (Bad address)"),
    TEXT_ROW(
        16, -9, {1000, 0x5401, 0x7ffe2000}, {{0}},
        "ioctl(1000, TCGETS, 0x7ffe2000) = -1 EBADF (Bad file descriptor)"),
    {16,
     0,
     {4, 0x5401, 0x7ffe2000},
     {FAULT_PART(2, VSYS_CAP_STRUCT, "\0\5\0\0")},
     "ioctl(4, TCGETS, 0x7ffe2000) = 0",
     NULL,
     0},
    /* epoll: strace 6.1's lines on the host */
    {291,
     5,
     {02000000},
     {{0}},
     "epoll_create1(EPOLL_CLOEXEC) = 5",
     "\"decoded\":[\"EPOLL_CLOEXEC\"]",
     0},
    {291, 5, {0}, {{0}}, "epoll_create1(0) = 5", NULL, 0},
    TEXT_ROW(291, -22, {02000001}, {{0}},
             "epoll_create1(EPOLL_CLOEXEC|0x1) = -1 EINVAL (Invalid argument)"),
    {233,
     0,
     {5, 1, 3, 0x7ffd3000},
     {IN(3, "\x01\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00")},
     "epoll_ctl(5, EPOLL_CTL_ADD, 3, {events=EPOLLIN, data={u32=3, u64=3}}) = "
     "0",
     "\"decoded\":[5,\"EPOLL_CTL_ADD\",3,{\"events\":\"EPOLLIN\",\"data\":3}]",
     0},
    TEXT_ROW(
        233,
        -22,
        {5, 1, 4, 0x7ffd3000},
        {IN(3, "\x04\x20\x00\xf0\xef\xcd\xab\x90\x78\x56\x34\x12")},
        "epoll_ctl(5, EPOLL_CTL_ADD, 4, "
        "{events=EPOLLOUT|EPOLLRDHUP|EPOLLEXCLUSIVE|EPOLLWAKEUP|EPOLLONESHOT|"
        "EPOLLET, data={u32=2427178479, u64=1311768467294899695}}) = -1 EINVAL "
        "(Invalid argument)"),
    TEXT_ROW(233, 0, {5, 3, 4, 0x7ffd3000},
             {IN(3, "\x00\x00\x00\x00\xff\xff\xff\xff\x00\x00\x00\x00")},
             "epoll_ctl(5, EPOLL_CTL_MOD, 4, {events=0, data={u32=4294967295, "
             "u64=4294967295}}) = 0"),
    TEXT_ROW(233, 0, {5, 2, 4, 0}, {{0}},
             "epoll_ctl(5, EPOLL_CTL_DEL, 4, NULL) = 0"),
    TEXT_ROW(233, -2, {5, 2, 4, 0x7ffd3000},
             {IN(3, "\x00\x00\x00\x10\xff\xff\xff\xff\x00\x00\x00\x00")},
             "epoll_ctl(5, EPOLL_CTL_DEL, 4, 0x7ffd3000) = -1 ENOENT (No such "
             "file or "
             "directory)"),
    TEXT_ROW(233, -22, {5, 7, 4, 0x7ffd3000},
             {IN(3, "\x00\x00\x00\x10\xff\xff\xff\xff\x00\x00\x00\x00")},
             "epoll_ctl(5, 0x7 /* EPOLL_CTL_??? */, 4, {events=EPOLLEXCLUSIVE, "
             "data={u32=4294967295, u64=4294967295}}) = -1 EINVAL (Invalid "
             "argument)"),
    TEXT_ROW(233, -14, {5, 1, 4, 0x8}, {FAULT(3, VSYS_CAP_STRUCT)},
             "epoll_ctl(5, EPOLL_CTL_ADD, 4, 0x8) = -1 EFAULT (Bad address)"),
    TEXT_ROW(
        233,
        -22,
        {5, 3, 4, 0x7ffd3000},
        {IN(3, "\xff\xff\xff\xff\x05\x00\x00\x00\x00\x00\x00\x00")},
        "epoll_ctl(5, EPOLL_CTL_MOD, 4, "
        "{events=EPOLLIN|EPOLLPRI|EPOLLOUT|EPOLLERR|EPOLLHUP|EPOLLNVAL|"
        "EPOLLRDNORM|EPOLLRDBAND|EPOLLWRNORM|EPOLLWRBAND|EPOLLMSG|EPOLLRDHUP|"
        "EPOLLEXCLUSIVE|EPOLLWAKEUP|EPOLLONESHOT|EPOLLET|0xfffd800, "
        "data={u32=5, "
        "u64=5}}) = -1 EINVAL (Invalid argument)"),
    TEXT_ROW(233, -22, {5, 1, 4, 0x7ffd3000},
             {FAULT_PART(3, VSYS_CAP_STRUCT, "\1\0\0\0")},
             "epoll_ctl(5, EPOLL_CTL_ADD, 4, 0x7ffd3000) = -1 EINVAL (Invalid "
             "argument)"),
    {232,
     2,
     {5, 0x7ffd3000, 20, 0},
     {OUT(1, "\x01\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00"
             "\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
             "\x00\x00\x00\x00")},
     "epoll_wait(5, [{events=EPOLLIN, data={u32=3, u64=3}}, {events=EPOLLOUT, "
     "data={u32=5, u64=5}}], 20, 0) = 2",
     "\"decoded\":[5,[{\"events\":\"EPOLLIN\",\"data\":3},{\"events\":"
     "\"EPOLLOUT\",\"data\":5}],20,0]",
     0},
    /* more events than the old capture's 16: strace 6.1 shows -s (32) of
     * them, and "..." */
    {232,
     20,
     {5, 0x7ffd3000, 20, 0},
     {OUT(1,
          "\x01\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00"
          "\x05\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x06\x00\x00\x00"
          "\x00\x00\x00\x00\x01\x00\x00\x00\x07\x00\x00\x00\x00\x00\x00\x00"
          "\x01\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00"
          "\x09\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x0a\x00\x00\x00"
          "\x00\x00\x00\x00\x01\x00\x00\x00\x0b\x00\x00\x00\x00\x00\x00\x00"
          "\x01\x00\x00\x00\x0c\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00"
          "\x0d\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x0e\x00\x00\x00"
          "\x00\x00\x00\x00\x01\x00\x00\x00\x0f\x00\x00\x00\x00\x00\x00\x00"
          "\x01\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00"
          "\x11\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x12\x00\x00\x00"
          "\x00\x00\x00\x00\x01\x00\x00\x00\x13\x00\x00\x00\x00\x00\x00\x00"
          "\x01\x00\x00\x00\x14\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00"
          "\x15\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x16\x00\x00\x00"
          "\x00\x00\x00\x00\x01\x00\x00\x00\x17\x00\x00\x00\x00\x00\x00\x00")},
     "epoll_wait(5, [{events=EPOLLIN, data={u32=4, u64=4}}, {events=EPOLLIN, "
     "data={u32=5, u64=5}}, {events=EPOLLIN, data={u32=6, u64=6}}, "
     "{events=EPOLLIN, data={u32=7, u64=7}}, {events=EPOLLIN, data={u32=8, "
     "u64=8}}, {events=EPOLLIN, data={u32=9, u64=9}}, {events=EPOLLIN, "
     "data={u32=10, u64=10}}, {events=EPOLLIN, data={u32=11, u64=11}}, "
     "{events=EPOLLIN, data={u32=12, u64=12}}, {events=EPOLLIN, data={u32=13, "
     "u64=13}}, {events=EPOLLIN, data={u32=14, u64=14}}, {events=EPOLLIN, "
     "data={u32=15, u64=15}}, {events=EPOLLIN, data={u32=16, u64=16}}, "
     "{events=EPOLLIN, data={u32=17, u64=17}}, {events=EPOLLIN, data={u32=18, "
     "u64=18}}, {events=EPOLLIN, data={u32=19, u64=19}}, {events=EPOLLIN, "
     "data={u32=20, u64=20}}, {events=EPOLLIN, data={u32=21, u64=21}}, "
     "{events=EPOLLIN, data={u32=22, u64=22}}, {events=EPOLLIN, data={u32=23, "
     "u64=23}}], 20, 0) = 20",
     NULL,
     0},
    {232,
     40,
     {5, 0x7ffd3000, 64, 0},
     {{.argi = 1,
       .kind = VSYS_CAP_STRUCT,
       .at_exit = true,
       .trunc = true,
       .data =
           "\x01\x00\x00\x00\x0a\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00"
           "\x0b\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x0c\x00\x00\x00"
           "\x00\x00\x00\x00\x01\x00\x00\x00\x0d\x00\x00\x00\x00\x00\x00\x00"
           "\x01\x00\x00\x00\x0e\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00"
           "\x0f\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x10\x00\x00\x00"
           "\x00\x00\x00\x00\x01\x00\x00\x00\x11\x00\x00\x00\x00\x00\x00\x00"
           "\x01\x00\x00\x00\x12\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00"
           "\x13\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x14\x00\x00\x00"
           "\x00\x00\x00\x00\x01\x00\x00\x00\x15\x00\x00\x00\x00\x00\x00\x00"
           "\x01\x00\x00\x00\x16\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00"
           "\x17\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x18\x00\x00\x00"
           "\x00\x00\x00\x00\x01\x00\x00\x00\x19\x00\x00\x00\x00\x00\x00\x00"
           "\x01\x00\x00\x00\x1a\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00"
           "\x1b\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x1c\x00\x00\x00"
           "\x00\x00\x00\x00\x01\x00\x00\x00\x1d\x00\x00\x00\x00\x00\x00\x00"
           "\x01\x00\x00\x00\x1e\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00"
           "\x1f\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x20\x00\x00\x00"
           "\x00\x00\x00\x00\x01\x00\x00\x00\x21\x00\x00\x00\x00\x00\x00\x00"
           "\x01\x00\x00\x00\x22\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00"
           "\x23\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x24\x00\x00\x00"
           "\x00\x00\x00\x00\x01\x00\x00\x00\x25\x00\x00\x00\x00\x00\x00\x00"
           "\x01\x00\x00\x00\x26\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00"
           "\x27\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x28\x00\x00\x00"
           "\x00\x00\x00\x00\x01\x00\x00\x00\x29\x00\x00\x00\x00\x00\x00\x00",
       .len = 384}},
     "epoll_wait(5, [{events=EPOLLIN, data={u32=10, u64=10}}, {events=EPOLLIN, "
     "data={u32=11, u64=11}}, {events=EPOLLIN, data={u32=12, u64=12}}, "
     "{events=EPOLLIN, data={u32=13, u64=13}}, {events=EPOLLIN, data={u32=14, "
     "u64=14}}, {events=EPOLLIN, data={u32=15, u64=15}}, {events=EPOLLIN, "
     "data={u32=16, u64=16}}, {events=EPOLLIN, data={u32=17, u64=17}}, "
     "{events=EPOLLIN, data={u32=18, u64=18}}, {events=EPOLLIN, data={u32=19, "
     "u64=19}}, {events=EPOLLIN, data={u32=20, u64=20}}, {events=EPOLLIN, "
     "data={u32=21, u64=21}}, {events=EPOLLIN, data={u32=22, u64=22}}, "
     "{events=EPOLLIN, data={u32=23, u64=23}}, {events=EPOLLIN, data={u32=24, "
     "u64=24}}, {events=EPOLLIN, data={u32=25, u64=25}}, {events=EPOLLIN, "
     "data={u32=26, u64=26}}, {events=EPOLLIN, data={u32=27, u64=27}}, "
     "{events=EPOLLIN, data={u32=28, u64=28}}, {events=EPOLLIN, data={u32=29, "
     "u64=29}}, {events=EPOLLIN, data={u32=30, u64=30}}, {events=EPOLLIN, "
     "data={u32=31, u64=31}}, {events=EPOLLIN, data={u32=32, u64=32}}, "
     "{events=EPOLLIN, data={u32=33, u64=33}}, {events=EPOLLIN, data={u32=34, "
     "u64=34}}, {events=EPOLLIN, data={u32=35, u64=35}}, {events=EPOLLIN, "
     "data={u32=36, u64=36}}, {events=EPOLLIN, data={u32=37, u64=37}}, "
     "{events=EPOLLIN, data={u32=38, u64=38}}, {events=EPOLLIN, data={u32=39, "
     "u64=39}}, {events=EPOLLIN, data={u32=40, u64=40}}, {events=EPOLLIN, "
     "data={u32=41, u64=41}}, ...], 64, 0) = 40",
     NULL,
     0},
    TEXT_ROW(
        232,
        1, {5, 0x7ffd3000, 1, 0},
        {OUT(1, "\x01\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00")},
        "epoll_wait(5, [{events=EPOLLIN, data={u32=3, u64=3}}], 1, 0) = 1"),
    TEXT_ROW(232, -14, {5, 0x8, 20, 0}, {{0}},
             "epoll_wait(5, 0x8, 20, 0) = -1 EFAULT (Bad address)"),
    TEXT_ROW(232, -22, {5, 0x7ffd3000, 0, 0}, {{0}},
             "epoll_wait(5, 0x7ffd3000, 0, 0) = -1 EINVAL (Invalid argument)"),
    TEXT_ROW(
        232,
        -9, {-1, 0x7ffd3000, 20, 0}, {{0}},
        "epoll_wait(-1, 0x7ffd3000, 20, 0) = -1 EBADF (Bad file descriptor)"),
    TEXT_ROW(232, 0, {5, 0x7ffd3000, 20, 0}, {{0}},
             "epoll_wait(5, [], 20, 0) = 0"),
    {232,
     3,
     {5, 0x7ffd3000, 20, 0},
     {FAULT_PART(1, VSYS_CAP_STRUCT,
                 "\x01\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00"
                 "\x00\x05\x00\x00\x00\x00\x00\x00\x00")},
     "epoll_wait(5, 0x7ffd3000, 20, 0) = 3",
     NULL,
     0},
    {281,
     2,
     {5, 0x7ffd3000, 20, 0, 0x7ffd4000, 8},
     {OUT(1, "\x04\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00"
             "\x03\x00\x00\x00\x00\x00\x00\x00"),
      IN(4, "\0\2\0\0\0\0\0\0")},
     "epoll_pwait(5, [{events=EPOLLOUT, data={u32=5, u64=5}}, {events=EPOLLIN, "
     "data={u32=3, u64=3}}], 20, 0, [USR1], 8) = 2",
     NULL,
     0},
    {281,
     1,
     {5, 0x7ffd3000, 20, 0, 0, 8},
     {OUT(1, "\x04\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00")},
     "epoll_pwait(5, [{events=EPOLLOUT, data={u32=5, u64=5}}], 20, 0, NULL, 8) "
     "= 1",
     NULL,
     0},
    /* getsockopt, setsockopt: strace 6.1's lines on the host */
    TEXT_ROW(54, 0, {3, 1, 2, 0x7ffd1000, 4}, {BUF(3, "\1\0\0\0")},
             "setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0"),
    TEXT_ROW(54, 0, {3, 1, 9, 0x7ffd1000, 4}, {BUF(3, "\1\0\0\0")},
             "setsockopt(3, SOL_SOCKET, SO_KEEPALIVE, [1], 4) = 0"),
    {54,
     0,
     {3, 1, 13, 0x7ffd1000, 8},
     {BUF(3, "\1\0\0\0\5\0\0\0")},
     "setsockopt(3, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=5}, 8) = 0",
     "\"decoded\":[3,\"SOL_SOCKET\",\"SO_LINGER\",{\"l_onoff\":1,"
     "\"l_linger\":5},8]",
     0},
    TEXT_ROW(54, 0, {3, 6, 1, 0x7ffd1000, 4}, {BUF(3, "\1\0\0\0")},
             "setsockopt(3, SOL_TCP, TCP_NODELAY, [1], 4) = 0"),
    TEXT_ROW(54, -14, {3, 1, 8, 0x8, 4}, {FAULT(3, VSYS_CAP_BUF)},
             "setsockopt(3, SOL_SOCKET, SO_RCVBUF, 0x8, 4) = -1 EFAULT (Bad "
             "address)"),
    TEXT_ROW(54, -22, {3, 1, 7, 0x7ffd1000, 2}, {BUF(3, "\1\0")},
             "setsockopt(3, SOL_SOCKET, SO_SNDBUF, 0x7ffd1000, 2) = -1 EINVAL "
             "(Invalid "
             "argument)"),
    TEXT_ROW(54, 0, {3, 1, 7, 0x7ffd1000, 8}, {BUF(3, "\1\0\0\0\0\0\0\0")},
             "setsockopt(3, SOL_SOCKET, SO_SNDBUF, [1], 8) = 0"),
    TEXT_ROW(54, -22, {3, 1, 13, 0x7ffd1000, 4}, {BUF(3, "\1\0\0\0")},
             "setsockopt(3, SOL_SOCKET, SO_LINGER, 0x7ffd1000, 4) = -1 EINVAL "
             "(Invalid "
             "argument)"),
    TEXT_ROW(54, -92, {3, 1, 1000, 0x7ffd1000, 4}, {BUF(3, "\1\0\0\0")},
             "setsockopt(3, SOL_SOCKET, 0x3e8 /* SO_??? */, [1], 4) = -1 "
             "ENOPROTOOPT "
             "(Protocol not available)"),
    {54,
     -92,
     {3, 999, 1, 0x7ffd1000, 4},
     {BUF(3, "\1\0\0\0")},
     "setsockopt(3, 0x3e7 /* SOL_?? */, 1, [1], 4) = -1 ENOPROTOOPT (Protocol "
     "not available)",
     "\"decoded\":[3,999,1,1,4]",
     0},
    TEXT_ROW(
        54, -92, {3, 6, 9999, 0x7ffd1000, 4}, {BUF(3, "\1\0\0\0")},
        "setsockopt(3, SOL_TCP, 0x270f /* TCP_??? */, [1], 4) = -1 ENOPROTOOPT "
        "(Protocol not available)"),
    TEXT_ROW(
        54, -22, {3, 1, 2, 0, 0}, {{0}},
        "setsockopt(3, SOL_SOCKET, SO_REUSEADDR, NULL, 0) = -1 EINVAL (Invalid "
        "argument)"),
    TEXT_ROW(54, -92, {3, 1, 1000, 0x7ffd1000, 8}, {BUF(3, "\7\0\0\0\0\0\0\0")},
             "setsockopt(3, SOL_SOCKET, 0x3e8 /* SO_??? */, "
             "\"\\7\\0\\0\\0\\0\\0\\0\\0\", 8) = -1 ENOPROTOOPT (Protocol not "
             "available)"),
    TEXT_ROW(
        54, -22, {3, 1, 1000, 0x7ffd1000, 0}, {BUF(3, "")},
        "setsockopt(3, SOL_SOCKET, 0x3e8 /* SO_??? */, \"\", 0) = -1 EINVAL "
        "(Invalid argument)"),
    TEXT_ROW(54, -22, {3, 1, 20, 0x7ffd1000, 8}, {BUF(3, "\0\0\0\0\0\0\0\0")},
             "setsockopt(3, SOL_SOCKET, SO_RCVTIMEO_OLD, "
             "\"\\0\\0\\0\\0\\0\\0\\0\\0\", "
             "8) = -1 EINVAL (Invalid argument)"),
    TEXT_ROW(
        54, -19, {3, 1, 25, 0x7ffd1000, 100},
        {CUT(3, VSYS_CAP_BUF, "\1\0\0\0\0\0\0\0")},
        "setsockopt(3, SOL_SOCKET, SO_BINDTODEVICE, "
        "\"\\1\\0\\0\\0\\0\\0\\0\\0\"..., 100) = -1 ENODEV (No such device)"),
    TEXT_ROW(
        54, -22, {3, 1, 2, 0x7ffd1000, (uint64_t)-1},
        {CUT(3, VSYS_CAP_BUF, "\1\0\0\0")},
        "setsockopt(3, SOL_SOCKET, SO_REUSEADDR, 0x7ffd1000, -1) = -1 EINVAL "
        "(Invalid argument)"),
    {54,
     0,
     {3, 0, 1, 0x7ffd1000, 4},
     {BUF(3, "\1\0\0\0")},
     "setsockopt(3, SOL_IP, IP_TOS, [1], 4) = 0",
     "\"decoded\":[3,\"SOL_IP\",\"IP_TOS\",1,4]",
     0},
    /* recvfrom: strace 6.1 on the host */
    {45,
     5,
     {3, 0x7ffd1000, 64, 0, 0x7ffd2000, 0x7ffd3000},
     {BUF_OUT(1, "hello"), SA_OUT(4, "\2\0\304\363\177\0\0\1\0\0\0\0\0\0\0\0"),
      IN(5, "\200\0\0\0"), OUT(5, "\20\0\0\0")},
     "recvfrom(3, \"hello\", 64, 0, {sa_family=AF_INET, sin_port=htons(50419), "
     "sin_addr=inet_addr(\"127.0.0.1\")}, [128 => 16]) = 5",
     "\"decoded\":[3,\"hello\",64,\"0\",{\"family\":\"AF_INET\",\"port\":50419,"
     "\"addr\":\"127.0.0.1\"},{\"in\":128,\"out\":16}]",
     0},
    {45,
     5,
     {3, 0x7ffd1000, 64, 0, 0x7ffd2000, 0x7ffd3000},
     {BUF_OUT(1, "hello"), SA_OUT(4, "\2\0\304\363\177\0\0\1\0\0\0\0\0\0\0\0"),
      IN(5, "\20\0\0\0"), OUT(5, "\20\0\0\0")},
     "recvfrom(3, \"hello\", 64, 0, {sa_family=AF_INET, sin_port=htons(50419), "
     "sin_addr=inet_addr(\"127.0.0.1\")}, [16]) = 5",
     NULL,
     0},
    {45,
     5,
     {3, 0x7ffd1000, 64, 0, 0x7ffd2000, 0x7ffd3000},
     {BUF_OUT(1, "hello"), SA_OUT(4, "\2\0\304\363\12\0\0\2\0\0\0\0\0\0\0\0"),
      IN(5, "\4\0\0\0"), OUT(5, "\20\0\0\0")},
     "recvfrom(3, \"hello\", 64, 0, {sa_family=AF_INET, "
     "sa_data=\"\\304\\363\"}, [4 => 16]) = 5",
     NULL,
     0},
    TEXT_ROW(45, 5, {3, 0x7ffd1000, 64, 0, 0, 0}, {BUF_OUT(1, "hello")},
             "recvfrom(3, \"hello\", 64, 0, NULL, NULL) = 5"),
    TEXT_ROW(45, -11, {3, 0x7ffec76971f0, 64, 0x40, 0x7ffec7697170, 0x7ffd3000},
             {IN(5, "\200\0\0\0")},
             "recvfrom(3, 0x7ffec76971f0, 64, MSG_DONTWAIT, 0x7ffec7697170, "
             "[128]) = "
             "-1 EAGAIN (Resource temporarily unavailable)"),
    TEXT_ROW(45, -11, {3, 0x7ffec76971f0, 64, 0x40, 0x7ffec7697170, 8},
             {FAULT(5, VSYS_CAP_STRUCT), FAULT(5, VSYS_CAP_STRUCT)},
             "recvfrom(3, 0x7ffec76971f0, 64, MSG_DONTWAIT, 0x7ffec7697170, "
             "0x8) = -1 "
             "EAGAIN (Resource temporarily unavailable)"),
    TEXT_ROW(45, -14, {3, 0x7ffec76971f0, 64, 0, 8, 0x7ffd3000},
             {IN(5, "\200\0\0\0")},
             "recvfrom(3, 0x7ffec76971f0, 64, 0, 0x8, [128]) = -1 EFAULT (Bad "
             "address)"),
    {45,
     -14,
     {3, 0x7ffec76971f0, 64, 0, 0x7ffec7697170, 0},
     {},
     "recvfrom(3, 0x7ffec76971f0, 64, 0, 0x7ffec7697170, NULL) = -1 EFAULT "
     "(Bad address)",
     NULL,
     0},
    /* the IP levels: strace 6.1 on the host */
    TEXT_ROW(54, 0, {3, 0, 1, 0x7ffd1000, 1}, {BUF(3, "\3")},
             "setsockopt(3, SOL_IP, IP_TOS, \"\\3\", 1) = 0"),
    TEXT_ROW(
        54, 0, {3, 0, 2, 0x7ffd1000, 8}, {BUF(3, "\5\0\0\0\0\0\0\0")},
        "setsockopt(3, SOL_IP, IP_TTL, \"\\5\\0\\0\\0\\0\\0\\0\\0\", 8) = 0"),
    {54,
     0,
     {3, 0, 35, 0x7ffd1000, 8},
     {BUF(3, "\340\0\0\373\0\0\0\0")},
     "setsockopt(3, SOL_IP, IP_ADD_MEMBERSHIP, "
     "{imr_multiaddr=inet_addr(\"224.0.0.251\"), "
     "imr_interface=inet_addr(\"0.0.0.0\")}, 8) = 0",
     "\"decoded\":[3,\"SOL_IP\",\"IP_ADD_MEMBERSHIP\",{\"imr_multiaddr\":\"224."
     "0.0.251\",\"imr_interface\":\"0.0.0.0\"},8]",
     0},
    TEXT_ROW(54, 0, {3, 0, 36, 0x7ffd1000, 12},
             {BUF(3, "\340\0\0\373\177\0\0\1\1\0\0\0")},
             "setsockopt(3, SOL_IP, IP_DROP_MEMBERSHIP, "
             "{imr_multiaddr=inet_addr(\"224.0.0.251\"), "
             "imr_interface=inet_addr(\"127.0.0.1\")}, 12) = 0"),
    TEXT_ROW(54, -22, {3, 0, 35, 0x7ffc59754930, 4}, {BUF(3, "\340\0\0\373")},
             "setsockopt(3, SOL_IP, IP_ADD_MEMBERSHIP, 0x7ffc59754930, 4) = -1 "
             "EINVAL "
             "(Invalid argument)"),
    TEXT_ROW(
        54, -14, {3, 0, 35, 0x8, 8}, {FAULT(3, VSYS_CAP_BUF)},
        "setsockopt(3, SOL_IP, IP_ADD_MEMBERSHIP, 0x8, 8) = -1 EFAULT (Bad "
        "address)"),
    TEXT_ROW(54, 0, {3, 0, 32, 0x7ffd1000, 4}, {BUF(3, "\177\0\0\1")},
             "setsockopt(3, SOL_IP, IP_MULTICAST_IF, [16777343], 4) = 0"),
    TEXT_ROW(
        54, -92, {3, 0, 66, 0x7ffd1000, 4}, {BUF(3, "\1\0\0\0")},
        "setsockopt(3, SOL_IP, 0x42 /* IP_??? */, [1], 4) = -1 ENOPROTOOPT "
        "(Protocol not available)"),
    TEXT_ROW(54, -92, {3, 0, 0, 0x7ffd1000, 4}, {BUF(3, "\1\0\0\0")},
             "setsockopt(3, SOL_IP, 0 /* IP_??? */, [1], 4) = -1 ENOPROTOOPT "
             "(Protocol "
             "not available)"),
    TEXT_ROW(54, 0, {4, 41, 26, 0x7ffd1000, 4}, {BUF(3, "\2\0\0\0")},
             "setsockopt(4, SOL_IPV6, IPV6_V6ONLY, [2], 4) = 0"),
    TEXT_ROW(54, 0, {4, 41, 25, 0x7ffd1000, 4}, {BUF(3, "\2\0\0\0")},
             "setsockopt(4, SOL_IPV6, IPV6_RECVERR, [2], 4) = 0"),
    TEXT_ROW(54, 0, {4, 41, 67, 0x7ffd1000, 4}, {BUF(3, "\2\0\0\0")},
             "setsockopt(4, SOL_IPV6, IPV6_TCLASS, [2], 4) = 0"),
    TEXT_ROW(
        54, -92, {4, 41, 0, 0x7ffd1000, 4}, {BUF(3, "\1\0\0\0")},
        "setsockopt(4, SOL_IPV6, 0 /* IPV6_??? */, [1], 4) = -1 ENOPROTOOPT "
        "(Protocol not available)"),
    TEXT_ROW(54, 0, {3, 17, 1, 0x7ffd1000, 4}, {BUF(3, "\2\0\0\0")},
             "setsockopt(3, SOL_UDP, UDP_CORK, [2], 4) = 0"),
    TEXT_ROW(54, 0, {3, 17, 104, 0x7ffd1000, 4}, {BUF(3, "\1\0\0\0")},
             "setsockopt(3, SOL_UDP, UDP_GRO, [1], 4) = 0"),
    TEXT_ROW(
        54, -92, {3, 17, 105, 0x7ffd1000, 4}, {BUF(3, "\1\0\0\0")},
        "setsockopt(3, SOL_UDP, 0x69 /* UDP_??? */, [1], 4) = -1 ENOPROTOOPT "
        "(Protocol not available)"),
    TEXT_ROW(55, -22, {3, 0, 64, 0x7ffc370b8378, 0x7ffd2000},
             {IN(4, "\4\0\0\0")},
             "getsockopt(3, SOL_IP, IPT_SO_GET_INFO, 0x7ffc370b8378, [4]) = -1 "
             "EINVAL "
             "(Invalid argument)"),
    TEXT_ROW(55, -22, {4, 41, 68, 0x7ffc370b8378, 0x7ffd2000},
             {IN(4, "\4\0\0\0")},
             "getsockopt(4, SOL_IPV6, IP6T_SO_GET_REVISION_MATCH, "
             "0x7ffc370b8378, [4]) "
             "= -1 EINVAL (Invalid argument)"),
    TEXT_ROW(55, 0, {4, 41, 67, 0x7ffd1000, 0x7ffd2000},
             {BUF_OUT(3, "\0\0\0\0"), IN(4, "\4\0\0\0"), OUT(4, "\4\0\0\0")},
             "getsockopt(4, SOL_IPV6, IPV6_TCLASS, [0], [4]) = 0"),
    TEXT_ROW(55, 0, {3, 0, 2, 0x7ffd1000, 0x7ffd2000},
             {BUF_OUT(3, "\5"), IN(4, "\1\0\0\0"), OUT(4, "\1\0\0\0")},
             "getsockopt(3, SOL_IP, IP_TTL, \"\\5\", [1]) = 0"),
    TEXT_ROW(55, 0, {3, 0, 4, 0x7ffc370b8378, 0x7ffd2000},
             {BUF_OUT(3, ""), IN(4, "\4\0\0\0"), OUT(4, "\0\0\0\0")},
             "getsockopt(3, SOL_IP, IP_OPTIONS, 0x7ffc370b8378, [4 => 0]) = 0"),
    {55,
     0,
     {4, 41, 26, 0x7ffd1000, 0x7ffd2000},
     {BUF_OUT(3, "\1\0\0\0"), IN(4, "\4\0\0\0"), OUT(4, "\4\0\0\0")},
     "getsockopt(4, SOL_IPV6, IPV6_V6ONLY, [1], [4]) = 0",
     "\"decoded\":[4,\"SOL_IPV6\",\"IPV6_V6ONLY\",1,{\"in\":4,\"out\":4}]",
     0},
    TEXT_ROW(55, 0, {3, 17, 1, 0x7ffd1000, 0x7ffd2000},
             {BUF_OUT(3, "\1\0\0\0"), IN(4, "\4\0\0\0"), OUT(4, "\4\0\0\0")},
             "getsockopt(3, SOL_UDP, UDP_CORK, [1], [4]) = 0"),
    TEXT_ROW(55, 0, {3, 1, 3, 0x7ffd1000, 0x7ffd2000},
             {BUF_OUT(3, "\1\0\0\0"), IN(4, "\4\0\0\0"), OUT(4, "\4\0\0\0")},
             "getsockopt(3, SOL_SOCKET, SO_TYPE, [1], [4]) = 0"),
    {55,
     0,
     {3, 1, 4, 0x7ffd1000, 0x7ffd2000},
     {BUF_OUT(3, "\x6f\0\0\0"), IN(4, "\4\0\0\0"), OUT(4, "\4\0\0\0")},
     "getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0",
     "\"decoded\":[3,\"SOL_SOCKET\",\"SO_ERROR\",111,"
     "{\"in\":4,\"out\":4}]",
     0},
    TEXT_ROW(55, 0, {3, 1, 4, 0x7ffd1000, 0x7ffd2000},
             {BUF_OUT(3, "\0\0\0\0"), IN(4, "\4\0\0\0"), OUT(4, "\4\0\0\0")},
             "getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0"),
    TEXT_ROW(55, 0, {3, 1, 8, 0x7ffd1000, 0x7ffd2000},
             {BUF_OUT(3, "\0\0\2\0"), IN(4, "\4\0\0\0"), OUT(4, "\4\0\0\0")},
             "getsockopt(3, SOL_SOCKET, SO_RCVBUF, [131072], [4]) = 0"),
    TEXT_ROW(55, 0, {3, 6, 1, 0x7ffd1000, 0x7ffd2000},
             {BUF_OUT(3, "\1\0\0\0"), IN(4, "\4\0\0\0"), OUT(4, "\4\0\0\0")},
             "getsockopt(3, SOL_TCP, TCP_NODELAY, [1], [4]) = 0"),
    TEXT_ROW(55, 0, {3, 6, 2, 0x7ffd1000, 0x7ffd2000},
             {BUF_OUT(3, "\x18\2\0\0"), IN(4, "\4\0\0\0"), OUT(4, "\4\0\0\0")},
             "getsockopt(3, SOL_TCP, TCP_MAXSEG, [536], [4]) = 0"),
    TEXT_ROW(55, 0, {3, 1, 13, 0x7ffd1000, 0x7ffd2000},
             {BUF_OUT(3, "\1\0\0\0\5\0\0\0"), IN(4, "\10\0\0\0"),
              OUT(4, "\10\0\0\0")},
             "getsockopt(3, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=5}, "
             "[8]) = 0"),
    {55,
     0,
     {3, 1, 3, 0x7ffd1000, 0x7ffd2000},
     {BUF_OUT(3, "\1\0\0\0"), IN(4, "\10\0\0\0"), OUT(4, "\4\0\0\0")},
     "getsockopt(3, SOL_SOCKET, SO_TYPE, [1], [8 => 4]) = 0",
     "\"decoded\":[3,\"SOL_SOCKET\",\"SO_TYPE\",1,{\"in\":8,\"out\":4}]",
     0},
    {55,
     0,
     {3, 1, 3, 0x7ffd1000, 0x7ffd2000},
     {BUF_OUT(3, "\1\0"), IN(4, "\2\0\0\0"), OUT(4, "\2\0\0\0")},
     "getsockopt(3, SOL_SOCKET, SO_TYPE, \"\\1\\0\", [2]) = 0",
     "\"decoded\":[3,\"SOL_SOCKET\",\"SO_TYPE\",\"\\u0001\\u0000\",{\"in\":2,"
     "\"out\":2}]",
     0},
    TEXT_ROW(55, 0, {3, 1, 3, 0x7ffd1000, 0x7ffd2000},
             {BUF_OUT(3, "\1\0\0"), IN(4, "\3\0\0\0"), OUT(4, "\3\0\0\0")},
             "getsockopt(3, SOL_SOCKET, SO_TYPE, \"\\1\\0\\0\", [3]) = 0"),
    TEXT_ROW(55, 0, {3, 1, 2, 0x7ffd1000, 0x7ffd2000},
             {BUF_OUT(3, "\0\0\0"), IN(4, "\3\0\0\0"), OUT(4, "\3\0\0\0")},
             "getsockopt(3, SOL_SOCKET, SO_REUSEADDR, \"\\x00\\x00\\x00\", "
             "[3]) = 0"),
    TEXT_ROW(55, 0, {3, 6, 1, 0x7ffd1000, 0x7ffd2000},
             {BUF_OUT(3, "\0\0\0"), IN(4, "\3\0\0\0"), OUT(4, "\3\0\0\0")},
             "getsockopt(3, SOL_TCP, TCP_NODELAY, \"\\0\\0\\0\", [3]) = 0"),
    TEXT_ROW(55, 0, {3, 1, 13, 0x7ffd1000, 0x7ffd2000},
             {BUF_OUT(3, "\1\0\0\0"), IN(4, "\4\0\0\0"), OUT(4, "\4\0\0\0")},
             "getsockopt(3, SOL_SOCKET, SO_LINGER, {l_onoff=1}, [4]) = 0"),
    TEXT_ROW(
        55, 0, {3, 1, 13, 0x7ffd1000, 0x7ffd2000},
        {BUF_OUT(3, "\0\0\0\0\0\0"), IN(4, "\6\0\0\0"), OUT(4, "\6\0\0\0")},
        "getsockopt(3, SOL_SOCKET, SO_LINGER, {l_onoff=0, "
        "l_linger=\"\\x00\\x00\"}, [6]) = 0"),
    TEXT_ROW(55, 0, {3, 1, 13, 0x7ffd1000, 0x7ffd2000},
             {BUF_OUT(3, ""), IN(4, "\0\0\0\0"), OUT(4, "\0\0\0\0")},
             "getsockopt(3, SOL_SOCKET, SO_LINGER, 0x7ffd1000, [0]) = 0"),
    {55,
     0,
     {3, 1, 17, 0x7ffd1000, 0x7ffd2000},
     {BUF_OUT(3, "\xeb\x66\0\0\0\0\0\0\0\0\0\0"), IN(4, "\40\0\0\0"),
      OUT(4, "\14\0\0\0")},
     "getsockopt(3, SOL_SOCKET, SO_PEERCRED, {pid=26347, uid=0, gid=0}, [32 => "
     "12]) = 0",
     NULL,
     0},
    {55,
     0,
     {3, 1, 17, 0x7ffd1000, 0x7ffd2000},
     {BUF_OUT(3, "\xeb\x66\0\0\0\0\0\0"), IN(4, "\10\0\0\0"),
      OUT(4, "\10\0\0\0")},
     "getsockopt(3, SOL_SOCKET, SO_PEERCRED, {pid=26347, uid=0}, [8]) = 0",
     NULL,
     0},
    TEXT_ROW(
        55, -92, {3, 1, 1000, 0x7ffd1000, 0x7ffd2000}, {IN(4, "\4\0\0\0")},
        "getsockopt(3, SOL_SOCKET, 0x3e8 /* SO_??? */, 0x7ffd1000, [4]) = -1 "
        "ENOPROTOOPT (Protocol not available)"),
    TEXT_ROW(55, -14, {3, 1, 3, 0x8, 0x7ffd2000}, {IN(4, "\4\0\0\0")},
             "getsockopt(3, SOL_SOCKET, SO_TYPE, 0x8, [4]) = -1 EFAULT (Bad "
             "address)"),
    TEXT_ROW(
        55, -14, {3, 1, 3, 0x7ffd1000, 0x8}, {FAULT(4, VSYS_CAP_STRUCT)},
        "getsockopt(3, SOL_SOCKET, SO_TYPE, 0x7ffd1000, 0x8) = -1 EFAULT (Bad "
        "address)"),
    TEXT_ROW(
        55, -9, {-1, 1, 3, 0x7ffd1000, 0x7ffd2000}, {IN(4, "\4\0\0\0")},
        "getsockopt(-1, SOL_SOCKET, SO_TYPE, 0x7ffd1000, [4]) = -1 EBADF (Bad "
        "file descriptor)"),
    TEXT_ROW(
        41, 3, {2, 04000 | 02000000 | 1, 0}, {{0}},
        "socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = "
        "3"),
    TEXT_ROW(41, 3, {1, 2 | 02000000, 0}, {{0}},
             "socket(AF_UNIX, SOCK_DGRAM|SOCK_CLOEXEC, 0) = 3"),
    {42,
     -115,
     {3, 0x1000, 16},
     {SA(1, SIN)},
     "connect(3, {sa_family=AF_INET, sin_port=htons(9), "
     "sin_addr=inet_addr(\"127.0.0.1\")}, 16) = -1 EINPROGRESS (Operation "
     "now in progress)",
     JHEAD("x86_64") "\"nr\":42,\"name\":\"connect\",\"args\":[3,4096,16],"
                     "\"decoded\":[3,{\"family\":\"AF_INET\",\"port\":9,"
                     "\"addr\":\"127.0.0.1\"},16],\"ret\":-115,"
                     "\"error\":\"EINPROGRESS\"," JTAIL,
     0},
    TEXT_ROW(42, -2, {4, 0x1000, 20},
             {SA(1, "\1\0/tmp/nonexist\n\1\303\251\0")},
             "connect(4, {sa_family=AF_UNIX, "
             "sun_path=\"/tmp/nonexist\\n\\1\\303\\251\"}"
             ", 20) = -1 ENOENT (No such file or directory)"),
    {42,
     -2,
     {4, 0x1000, 20},
     {SA(1, "\1\0\0vigil.sock")},
     "connect(4, {sa_family=AF_UNIX, sun_path=@\"vigil.sock\"}, 20) = -1 "
     "ENOENT (No such file or directory)",
     JHEAD("x86_64") "\"nr\":42,\"name\":\"connect\",\"args\":[4,4096,20],"
                     "\"decoded\":[4,{\"family\":\"AF_UNIX\","
                     "\"path\":\"vigil.sock\",\"abstract\":true},20],"
                     "\"ret\":-2,\"error\":\"ENOENT\"," JTAIL,
     0},
    /* strace 6.1, the same call */
    {44,
     6,
     {5, 0x1000, 6, 0, 0x2000, 28},
     {BUF(1, "x\0\1abc"), SA(4, "\12\0\0\65\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
                                "\0\0\0\1\0\0\0\0")},
     "sendto(5, \"x\\0\\1abc\", 6, 0, {sa_family=AF_INET6, "
     "sin6_port=htons(53), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "
     "\"::1\", &sin6_addr), sin6_scope_id=0}, 28) = 6",
     NULL,
     0},
    {49,
     0,
     {3, 0x1000, 12},
     {SA(1, "\x10\0\0\0"
            "90\0\0\1\0\0\0")},
     "bind(3, {sa_family=AF_NETLINK, nl_pid=12345, nl_groups=00000001}, 12) "
     "= 0",
     NULL,
     0},
    TEXT_ROW(
        49, 0, {3, 0x1000, 12}, {SA(1, "\x11\0a\0\xff\"")},
        "bind(3, {sa_family=AF_PACKET, sa_data=\"a\\0\\377\\\"\"}, 12) = 0"),
    {49, 0, {3, 0x1000, 12}, {SA(1, "\x11")}, "bind(3, {}, 12) = 0", NULL, 0},
    TEXT_ROW(288, 4, {3, 0x1000, 0x2000, 02000000}, {SA_OUT(1, SIN)},
             "accept4(3, {sa_family=AF_INET, sin_port=htons(9), "
             "sin_addr=inet_addr(\"127.0.0.1\")}, 0x2000, SOCK_CLOEXEC) = 4"),
    TEXT_ROW(293, 0, {0x1000, 02000000}, {OUT(0, "\x06\0\0\0\x07\0\0\0")},
             "pipe2([6, 7], O_CLOEXEC) = 0"),
    {293,
     0,
     {0x1000, 0},
     {OUT(0, "\x06\0\0\0\x07\0\0\0")},
     "pipe2([6, 7], 0) = 0",
     JHEAD("x86_64") "\"nr\":293,\"name\":\"pipe2\",\"args\":[4096,0],"
                     "\"decoded\":[[6,7],\"0\"],\"ret\":0," JTAIL,
     0},

    /* ---- decoders of issue 18, second part: strace 6.1 on the host ---- */
    {137,
     0,
     {0x1000, 0x2000},
     {STR(0, "/"), OUT(1, STATFS_ROOT)},
     "statfs(\"/\", {f_type=EXT2_SUPER_MAGIC, f_bsize=4096, "
     "f_blocks=66053021, f_bfree=60739061, f_bavail=19770337, "
     "f_files=16777216, f_ffree=16309308, f_fsid={val=[0xecff483c, "
     "0xa88fd04f]}, f_namelen=255, f_frsize=4096, "
     "f_flags=ST_VALID|ST_RELATIME}) = 0",
     "\"decoded\":[\"/\",{\"f_type\":\"EXT2_SUPER_MAGIC\",\"f_bsize\":4096,"
     "\"f_blocks\":66053021,\"f_bfree\":60739061,\"f_bavail\":19770337,"
     "\"f_files\":16777216,\"f_ffree\":16309308,"
     "\"f_fsid\":[3976153148,2827997263],\"f_namelen\":255,"
     "\"f_frsize\":4096,\"f_flags\":\"ST_VALID|ST_RELATIME\"}]",
     R_BOUNDARIES},
    {138,
     0,
     {0, 0x2000},
     {OUT(1, STATFS_PROC)},
     "fstatfs(0, {f_type=PROC_SUPER_MAGIC, f_bsize=4096, f_blocks=0, "
     "f_bfree=0, f_bavail=0, f_files=0, f_ffree=0, f_fsid={val=[0x14, 0]}, "
     "f_namelen=255, f_frsize=4096, f_flags=ST_VALID|ST_RDONLY|ST_NOSUID|"
     "ST_NODEV|ST_NOEXEC|ST_NOATIME|ST_RELATIME}) = 0",
     NULL,
     0},
    /* failed (nothing captured), cut short, unreadable: the address */
    TEXT_ROW(
        137,
        -2, {0x1000, 0x7ffef46637f0}, {STR(0, "/nonexist")},
        "statfs(\"/nonexist\", 0x7ffef46637f0) = -1 ENOENT (No such file or "
        "directory)"),
    TEXT_ROW(138, 0, {0, 0x2000},
             {FAULT_PART(1, VSYS_CAP_STRUCT, "\xa0\x9f\0\0")},
             "fstatfs(0, 0x2000) = 0"),
    {138,
     0,
     {0, 0x2000},
     {FAULT(1, VSYS_CAP_STRUCT)},
     "fstatfs(0, 0x2000) = 0",
     "\"decoded\":[0,{\"addr\":\"0x2000\",\"error\":\"unreadable\"}]",
     0},
    {280,
     0,
     {AT_FDCWD_, 0x1000, 0x2000, 0},
     {STR(1, "/tmp/f"), IN(2, UTIMES_NOW_OMIT)},
     "utimensat(AT_FDCWD, \"/tmp/f\", [UTIME_NOW, UTIME_OMIT], 0) = 0",
     "\"decoded\":[\"AT_FDCWD\",\"/tmp/f\",[\"UTIME_NOW\",\"UTIME_OMIT\"],"
     "\"0\"]",
     0},
    {280,
     0,
     {3, 0, 0x2000, 0},
     {IN(2, UTIMES_SET)},
     "utimensat(3, NULL, [{tv_sec=1700000000, tv_nsec=5} /* "
     "2023-11-14T22:13:20.000000005+0000 */, UTIME_NOW], 0) = 0",
     "[{\"sec\":1700000000,\"nsec\":5},\"UTIME_NOW\"]",
     0},
    TEXT_ROW(280, 0, {3, 0, 0x2000, 0}, {IN(2, UTIMES_NEG)},
             "utimensat(3, NULL, [{tv_sec=1700000000, tv_nsec=0} /* "
             "2023-11-14T22:13:20+0000 */, {tv_sec=-1, tv_nsec=999999999} /* "
             "1969-12-31T23:59:59.999999999+0000 */], 0) = 0"),
    TEXT_ROW(
        280,
        -22,
        {3, 0, 0x2000, 0}, {IN(2, UTIMES_BAD)},
        "utimensat(3, NULL, [UTIME_OMIT, {tv_sec=2, tv_nsec=2000000000}], 0) = "
        "-1 EINVAL (Invalid argument)"),
    TEXT_ROW(
        280,
        -14,
        {AT_FDCWD_, 0x1000, 0x8, 0},
        {STR(1, "/tmp/f"), FAULT(2, VSYS_CAP_STRUCT)},
        "utimensat(AT_FDCWD, \"/tmp/f\", 0x8, 0) = -1 EFAULT (Bad address)"),
    TEXT_ROW(280, 0, {AT_FDCWD_, 0x1000, 0x2000, 0},
             {STR(1, "/tmp/f"), IN(2, "\0\0\0\0")},
             "utimensat(AT_FDCWD, \"/tmp/f\", 0x2000, 0) = 0"),
    {16,
     0,
     {1, 0x5413, 0x7ffe1000},
     {OUT(2, "\x18\0\x50\0\0\0\0\0")},
     "ioctl(1, TIOCGWINSZ, {ws_row=24, ws_col=80, ws_xpixel=0, "
     "ws_ypixel=0}) = 0",
     "\"decoded\":[1,\"TIOCGWINSZ\",{\"ws_row\":24,\"ws_col\":80,"
     "\"ws_xpixel\":0,\"ws_ypixel\":0}]",
     0},
    TEXT_ROW(
        16, -25, {0, 0x5413, 0x7ffef4663788}, {{0}},
        "ioctl(0, TIOCGWINSZ, 0x7ffef4663788) = -1 ENOTTY (Inappropriate ioctl "
        "for device)"),
    {16,
     0,
     {4, 0x541b, 0x7ffe1000},
     {OUT(2, "\3\0\0\0")},
     "ioctl(4, FIONREAD, [3]) = 0",
     "\"decoded\":[4,\"FIONREAD\",[3]]",
     0},
    /* a capture of another request's argument does not apply */
    TEXT_ROW(16, 0, {4, 0x5401, 0x7ffe1000}, {OUT(2, "\3\0\0\0")},
             "ioctl(4, TCGETS, 0x7ffe1000) = 0"),
    {41,
     6,
     {16, 3, 0},
     {{0}},
     "socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE) = 6",
     "\"decoded\":[\"AF_NETLINK\",\"SOCK_RAW\",\"NETLINK_ROUTE\"]",
     0},
    TEXT_ROW(41, 7, {16, 3 | 02000000, 15}, {{0}},
             "socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, "
             "NETLINK_KOBJECT_UEVENT) = 7"),
    TEXT_ROW(41, -93, {16, 2, 99}, {{0}},
             "socket(AF_NETLINK, SOCK_DGRAM, 0x63 /* NETLINK_??? */) = -1 "
             "EPROTONOSUPPORT (Protocol not supported)"),
    {115,
     3,
     {64, 0x1000},
     {OUT(1, GROUPS)},
     "getgroups(64, [0, 4, 24]) = 3",
     "\"decoded\":[64,[0,4,24]]",
     0},
    /* size 0 asks for the count only, but strace reads the array anyway */
    TEXT_ROW(115, 3, {0, 0x1000}, {OUT(1, GROUPS)},
             "getgroups(0, [0, 4, 24]) = 3"),
    {115, 0, {64, 0x1000}, {OUT(1, GROUPS)}, "getgroups(64, []) = 0", NULL, 0},
    {115, 0, {0, 0}, {{0}}, "getgroups(0, NULL) = 0", NULL, 0},
    {115,
     -22,
     {1, 0x7ffe5ba53450},
     {{0}},
     "getgroups(1, 0x7ffe5ba53450) = -1 EINVAL (Invalid argument)",
     NULL,
     0},
    /* fewer bytes than the count says: the address */
    TEXT_ROW(115, 3, {64, 0x1000},
             {FAULT_PART(1, VSYS_CAP_STRUCT, "\0\0\0\0\4\0\0\0")},
             "getgroups(64, 0x1000) = 3"),
    TEXT_ROW(116, 0, {3, 0x1000}, {IN(1, GROUPS)},
             "setgroups(3, [0, 4, 24]) = 0"),
    {116,
     -14,
     {2, 0x8},
     {FAULT(1, VSYS_CAP_STRUCT)},
     "setgroups(2, 0x8) = -1 EFAULT (Bad address)",
     NULL,
     0},
    /* none: strace reads nothing and shows [] whatever the address */
    TEXT_ROW(115, 0, {64, 0x8}, {FAULT(1, VSYS_CAP_STRUCT)},
             "getgroups(64, []) = 0"),
    {115, 0, {0, 0x8}, {{0}}, "getgroups(0, []) = 0", NULL, 0},
    {116,
     0,
     {0, 0x8},
     {FAULT(1, VSYS_CAP_STRUCT)},
     "setgroups(0, []) = 0",
     NULL,
     0},

    /* execve as strace -s 32 shows it: each string cut at 32 bytes, at most
     * 32 strings, the environment counted (VSYS_CAP_STRV, VSYS_CAP_COUNT) */
    {59,
     0,
     {0x1000, 0x2000, 0x7fff14c483e0},
     {STR(0, "/bin/sh"),
      CAP(1, VSYS_CAP_STRV, false,
          "\0sh\0\0-c\0\1ls -la / /dev/null >/dev/null; s\0"),
      CAP(2, VSYS_CAP_COUNT, false, "\6\0\0\0")},
     "execve(\"/bin/sh\", [\"sh\", \"-c\", \"ls -la / /dev/null >/dev/null; "
     "s\"...], 0x7fff14c483e0 /* 6 vars */) = 0",
     "\"decoded\":[\"/bin/sh\",[\"sh\",\"-c\",\"ls -la / /dev/null "
     ">/dev/null; s\"],{\"addr\":\"0x7fff14c483e0\",\"vars\":6}],\"ret\":0,"
     "\"state\":\"done\",\"ip\":\"0x401000\",\"truncated\":[1]}",
     R_BOUNDARIES},
    {59,
     0,
     {0x1000, 0x2000, 0xd7649e0},
     {STR(0, "/usr/bin/vigil-decode"),
      CAP(1, VSYS_CAP_STRV, false, "\0vigil-decode\0"),
      CAP(2, VSYS_CAP_COUNT, false, "\1\0\0\0")},
     "execve(\"/usr/bin/vigil-decode\", [\"vigil-decode\"], 0xd7649e0 /* 1 "
     "var */) = 0",
     NULL,
     0},
    /* strace -s 4: more strings than that, a cut one among them */
    {59,
     0,
     {0x1000, 0x2000, 0x7ffe74e40af0},
     {STR(0, "/bin/true"), CUT(1, VSYS_CAP_STRV, "\1/bin\0\0a\0\0b\0\1cccc\0"),
      CAP(2, VSYS_CAP_COUNT, false, "\x29\0\0\0")},
     "execve(\"/bin/true\", [\"/bin\"..., \"a\", \"b\", \"cccc\"..., ...], "
     "0x7ffe74e40af0 /* 41 vars */) = 0",
     NULL,
     0},
    /* cut by the capture's room inside a string, an empty argv, an
     * unreadable environment */
    {59,
     0,
     {0x1000, 0x2000, 0x3000},
     {STR(0, "/bin/sh"), CUT(1, VSYS_CAP_STRV, "\0sh\0\0-c\0\0echo"),
      FAULT(2, VSYS_CAP_COUNT)},
     "execve(\"/bin/sh\", [\"sh\", \"-c\", \"echo\"...], 0x3000) = 0",
     "\"echo\"],{\"addr\":\"0x3000\",\"error\":\"unreadable\"}]",
     0},
    {59,
     0,
     {0x1000, 0x2000, 0x3000},
     {STR(0, "/bin/sh"), CAP(1, VSYS_CAP_STRV, false, ""),
      CAP(2, VSYS_CAP_COUNT, false, "\0\0\0\0")},
     "execve(\"/bin/sh\", [], 0x3000 /* 0 vars */) = 0",
     NULL,
     0},
    /* a flag byte with nothing after it: an empty string, cut */
    {59,
     0,
     {0x1000, 0x2000, 0},
     {STR(0, "/bin/sh"), CUT(1, VSYS_CAP_STRV, "\0sh\0\0")},
     "execve(\"/bin/sh\", [\"sh\", \"\"...], NULL) = 0",
     NULL,
     0},

    /* poll: strace 6.1's lines on the host */
    {7,
     2,
     {0x1000, 3, 100},
     {IN(0, POLL3_IN), OUT(0, POLL3_OUT)},
     "poll([{fd=3, events=POLLIN}, {fd=4, events=POLLIN|POLLOUT}, {fd=-1}], "
     "3, 100) = 2 ([{fd=3, revents=POLLIN}, {fd=4, revents=POLLOUT}])",
     "\"decoded\":[[{\"fd\":3,\"events\":\"POLLIN\",\"revents\":\"POLLIN\"},"
     "{\"fd\":4,\"events\":\"POLLIN|POLLOUT\",\"revents\":\"POLLOUT\"},"
     "{\"fd\":-1,\"events\":\"POLLIN\",\"revents\":\"0\"}],3,100]",
     R_BOUNDARIES},
    TEXT_ROW(7, 0, {0x1000, 0, 0}, {IN(0, ""), OUT(0, "")},
             "poll([], 0, 0) = 0 (Timeout)"),
    TEXT_ROW(7, -14, {0x8, 1, 0}, {FAULT(0, VSYS_CAP_STRUCT)},
             "poll(0x8, 1, 0) = -1 EFAULT (Bad address)"),
    TEXT_ROW(7, 0, {0x1000, 1, 0},
             {IN(0, "\3\0\0\0\2\0\0\0"), OUT(0, "\3\0\0\0\2\0\0\0")},
             "poll([{fd=3, events=POLLPRI}], 1, 0) = 0 (Timeout)"),
    TEXT_ROW(7, 1, {0x1000, 1, 0},
             {IN(0, "\x63\0\0\0\1\0\0\0"), OUT(0, "\x63\0\0\0\1\0\x20\0")},
             "poll([{fd=99, events=POLLIN}], 1, 0) = 1 ([{fd=99, "
             "revents=POLLNVAL}])"),
    {7,
     1,
     {0x1000, 1, 0},
     {IN(0, "\3\0\0\0\1\x80\0\0"), OUT(0, "\3\0\0\0\1\x80\x11\0")},
     "poll([{fd=3, events=POLLIN|POLL_BUSY_LOOP}], 1, 0) = 1 ([{fd=3, "
     "revents=POLLIN|POLLHUP}])",
     NULL,
     0},
    /* an array shorter than its count says: the address, no result list */
    {7,
     1,
     {0x1000, 3, 0},
     {IN(0, "\3\0\0\0\1\0\0\0"), OUT(0, "\3\0\0\0\1\0\1\0")},
     "poll(0x1000, 3, 0) = 1",
     NULL,
     0},

    /* rusage (wait4, getrusage): strace 6.1's lines on the host */
    {61,
     21062,
     {21062, 0x1000, 0, 0x2000},
     {OUT(1, "\0\0\0\0"), OUT(3, RUSAGE_CHILD)},
     "wait4(21062, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, "
     "{ru_utime={tv_sec=0, tv_usec=23819}, ru_stime={tv_sec=0, tv_usec=0}, "
     "...}) = 21062",
     "\"0\",{\"ru_utime\":{\"sec\":0,\"usec\":23819},\"ru_stime\":{\"sec\":0,"
     "\"usec\":0},\"ru_maxrss\":1234,\"ru_ixrss\":0,\"ru_idrss\":0,"
     "\"ru_isrss\":0,\"ru_minflt\":100,\"ru_majflt\":2,\"ru_nswap\":0,"
     "\"ru_inblock\":8,\"ru_oublock\":16,\"ru_msgsnd\":0,\"ru_msgrcv\":0,"
     "\"ru_nsignals\":0,\"ru_nvcsw\":3,\"ru_nivcsw\":4}]",
     R_BOUNDARIES},
    TEXT_ROW(98, 0, {0, 0x2000}, {OUT(1, RUSAGE_SELF)},
             "getrusage(RUSAGE_SELF, {ru_utime={tv_sec=0, tv_usec=7403}, "
             "ru_stime={tv_sec=0, tv_usec=0}, ...}) = 0"),
    TEXT_ROW(98, -14, {(uint64_t)-1, 0x8}, {{0}},
             "getrusage(RUSAGE_CHILDREN, 0x8) = -1 EFAULT (Bad address)"),
    {61,
     -10,
     {(uint64_t)-1, 0x7ffda493588c, 1, 0x7ffda4935890},
     {{0}},
     "wait4(-1, 0x7ffda493588c, WNOHANG, 0x7ffda4935890) = -1 ECHILD (No "
     "child processes)",
     NULL,
     0},
    /* cut short: the address */
    {98,
     0,
     {0, 0x2000},
     {FAULT_PART(1, VSYS_CAP_STRUCT, "\0\0\0\0\0\0\0\0")},
     "getrusage(RUSAGE_SELF, 0x2000) = 0",
     NULL,
     0},

    /* ---- ABI, unknown calls, errors ---- */
    /* i386: 32-bit registers (upper halves ignored), 32-bit return */
    {5,
     0xfffffffe,
     {0xdeadbeef00001000, 0x8000, 0},
     {STR(0, "/x")},
     "[i386] open(\"/x\", O_RDONLY|O_LARGEFILE) = -1 ENOENT (No such file or "
     "directory)",
     JHEAD("i386") "\"nr\":5,\"name\":\"open\",\"args\":[4096,32768,0],"
                   "\"decoded\":[\"/x\",\"O_RDONLY|O_LARGEFILE\",\"000\"],"
                   "\"ret\":-2,\"error\":\"ENOENT\"," JTAIL,
     R_COMPAT},
    {192,
     0xf7f00000,
     {0, 4096, 3, 0x22, 0xffffffff, 0},
     {{0}},
     "[i386] mmap2(NULL, 4096, PROT_READ|PROT_WRITE, "
     "MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0xf7f00000",
     NULL,
     R_COMPAT},
    TEXT_ROW(999, 7, {1, 0, 0xffffffffffffffff, 3, 4, 5}, {{0}},
             "syscall_0x3e7(0x1, 0, 0xffffffffffffffff, 0x3, 0x4, 0x5) = 7"),
    TEXT_ROW(39, -512, {0}, {{0}},
             "getpid() = ? ERESTARTSYS (To be restarted if SA_RESTART is set)"),
    {39,
     -4000,
     {0},
     {{0}},
     "getpid() = -1 ERRNO_4000 (Unknown error 4000)",
     JHEAD("x86_64") "\"nr\":39,\"name\":\"getpid\",\"args\":[],"
                     "\"decoded\":[],\"ret\":-4000,\"error\":\"ERRNO_"
                     "4000\"," JTAIL,
     0},
    /* outside the errno range: a value */
    {39, -5000, {0}, {{0}}, "getpid() = -5000", NULL, 0},
};

#endif
