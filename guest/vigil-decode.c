/* A guest program making each call whose output structure vigil decodes
 * (tests/test-trace-guest-strace.sh compares vigil's text with strace's
 * for it): the stat family, statx, time, limits, uname, signal masks and
 * actions, a child's wait status, directory reads, prctl names and socket
 * address lengths, statfs, utimensat's times, terminal (TCGETS, TCSETS*)
 * and FIONREAD ioctls, group lists, netlink protocols, poll, rusage, socket
 * options, epoll, sendmsg/recvmsg's msghdr, select/pselect6 sets, ppoll,
 * recvfrom's address and a long execve; each
 * also with an unreadable pointer where the kernel reports EFAULT. Raw system
 * calls, so that libc neither adds nor merges calls nor answers from the vDSO.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "vigil-decode/decode.h"

struct ksigaction {
    unsigned long handler, flags, restorer;
    uint64_t mask;
};

static void on_usr1(int sig)
{
    (void)sig;
}

static void files(void)
{
    struct stat st;
    char sx[256];
    char buf[4096];
    int fd;

    syscall(SYS_newfstatat, AT_FDCWD, "/dev/null", &st, 0);
    syscall(SYS_newfstatat, AT_FDCWD, "/", &st, AT_SYMLINK_NOFOLLOW);
    syscall(SYS_newfstatat, AT_FDCWD, "/nonexistent", &st, 0);
    syscall(SYS_newfstatat, AT_FDCWD, "/", BAD, 0);
    syscall(SYS_stat, "/tmp", &st);
    syscall(SYS_lstat, "/bin/sh", &st);
    syscall(SYS_fstat, 1, &st);
    syscall(SYS_statx, AT_FDCWD, "/", 0, 0xfff, sx);
    syscall(SYS_statx, AT_FDCWD, "/dev/null", 0x800, 0x7ff, sx);
    syscall(SYS_statx, AT_FDCWD, "/", 0, 2, BAD);
    fd = (int)syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY | O_DIRECTORY);
    while (syscall(SYS_getdents64, fd, buf, sizeof(buf)) > 0)
        ;
    syscall(SYS_getdents64, 999, buf, sizeof(buf));
    syscall(SYS_close, fd);
}

static void times_limits(void)
{
    struct timespec ts = {0, 1000};
    uint64_t tv[2], rl[2] = {1024, 2048}, old[2];
    char uts[390];

    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
    syscall(SYS_clock_gettime, CLOCK_REALTIME, BAD);
    syscall(SYS_clock_getres, CLOCK_MONOTONIC, &ts);
    syscall(SYS_gettimeofday, tv, NULL);
    ts.tv_sec = 0;
    ts.tv_nsec = 1000;
    syscall(SYS_nanosleep, &ts, &ts);
    syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts, &ts);
    syscall(SYS_getrlimit, RLIMIT_STACK, old);
    syscall(SYS_getrlimit, RLIMIT_NOFILE, BAD);
    syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, old);
    syscall(SYS_prlimit64, 0, RLIMIT_CORE, rl, old);
    syscall(SYS_prlimit64, 0, RLIMIT_CORE, old, NULL);
    syscall(SYS_uname, uts);
    syscall(SYS_uname, BAD);
}

static void signals(void)
{
    struct ksigaction sa = {(unsigned long)on_usr1, 0x04000000 | 0x10000000, 0,
                            1u << 16},
                      old;
    uint64_t set = (1ull << 16) | (1ull << 9), oset;
    int status;
    pid_t child;

    syscall(SYS_rt_sigaction, SIGUSR1, &sa, &old, 8);
    syscall(SYS_rt_sigaction, SIGUSR1, NULL, &old, 8);
    syscall(SYS_rt_sigaction, SIGUSR2, BAD, NULL, 8);
    sa.handler = 1; /* SIG_IGN */
    sa.flags = 0;
    syscall(SYS_rt_sigaction, SIGUSR2, &sa, NULL, 8);
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, &oset, 8);
    set = ~0ull;
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, &oset, 8);
    set = 0;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, &oset, 8);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, NULL, 4);
    child = (pid_t)syscall(SYS_fork);
    if (child == 0)
        syscall(SYS_exit_group, 3);
    syscall(SYS_wait4, child, &status, 0, NULL);
}

static void usage(void)
{
    struct rusage ru;

    syscall(SYS_getrusage, RUSAGE_SELF, &ru);
    syscall(SYS_getrusage, RUSAGE_CHILDREN, BAD);
}

static void names(void)
{
    char name[16];

    syscall(SYS_prctl, 15, "vigil-decode-long-name");
    syscall(SYS_prctl, 16, name);
    syscall(SYS_prctl, 15, "decode");
    syscall(SYS_prctl, 16, name);
    syscall(SYS_prctl, 1, SIGKILL);
    syscall(SYS_prctl, 1, 0);
}

static void sockets(void)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int l, c, a;

    strcpy(un.sun_path, "/tmp/vigil-decode.sock");
    unlink(un.sun_path);
    l = socket(AF_UNIX, SOCK_STREAM, 0);
    bind(l, (struct sockaddr *)&un, sizeof(un));
    listen(l, 1);
    syscall(SYS_getsockname, l, &ss, &len);
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    connect(c, (struct sockaddr *)&un, sizeof(un));
    len = sizeof(ss);
    a = (int)syscall(SYS_accept4, l, &ss, &len, SOCK_CLOEXEC);
    len = sizeof(ss);
    syscall(SYS_getpeername, c, &ss, &len);
    len = sizeof(ss);
    syscall(SYS_getpeername, l, &ss, &len);
    syscall(SYS_getsockname, c, &ss, BAD);
    close(a);
    close(c);
    close(l);
    unlink(un.sun_path);
}

static void fs_ids(void)
{
    char sfs[120];
    struct timespec t[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
    struct winsize ws;
    unsigned gids[64];
    int fd, p[2], n;
    long ng;

    syscall(SYS_statfs, "/", sfs);
    syscall(SYS_statfs, "/proc", sfs);
    syscall(SYS_statfs, "/nonexistent", sfs);
    syscall(SYS_statfs, "/", BAD);
    syscall(SYS_fstatfs, 1, sfs);
    fd = (int)syscall(SYS_openat, AT_FDCWD, "/tmp/vigil-decode.f",
                      O_WRONLY | O_CREAT, 0644);
    syscall(SYS_utimensat, AT_FDCWD, "/tmp/vigil-decode.f", t, 0);
    t[0].tv_sec = 1700000000;
    t[0].tv_nsec = 5;
    t[1].tv_sec = 1700000001;
    t[1].tv_nsec = 0;
    syscall(SYS_utimensat, fd, NULL, t, 0);
    syscall(SYS_utimensat, AT_FDCWD, "/tmp/vigil-decode.f", BAD, 0);
    syscall(SYS_close, fd);
    syscall(SYS_unlinkat, AT_FDCWD, "/tmp/vigil-decode.f", 0);
    syscall(SYS_ioctl, 0, TIOCGWINSZ, &ws);
    syscall(SYS_ioctl, 0, TIOCGWINSZ, BAD);
    {
        struct termios tio;
        int con = (int)syscall(SYS_openat, AT_FDCWD, "/dev/console",
                               O_RDONLY | O_NOCTTY);

        syscall(SYS_ioctl, 0, TCGETS, &tio);
        syscall(SYS_ioctl, con, TCGETS, &tio);
        syscall(SYS_ioctl, con, TCGETS, BAD);
        /* the settings read back, unchanged */
        syscall(SYS_ioctl, con, TCSETS, &tio);
        syscall(SYS_ioctl, con, TCSETSW, &tio);
        syscall(SYS_ioctl, con, TCSETSF, &tio);
        syscall(SYS_ioctl, con, TCSETS, BAD);
        syscall(SYS_close, con);
    }
    syscall(SYS_pipe2, p, 0);
    syscall(SYS_write, p[1], "abc", 3);
    syscall(SYS_ioctl, p[0], FIONREAD, &n);
    {
        struct pollfd pf[3] = {
            {p[0], POLLIN, 0}, {p[1], POLLIN | POLLOUT, 0}, {-1, POLLIN, 0}};
        syscall(SYS_poll, pf, 3, 100);
        pf[0].events = POLLPRI;
        syscall(SYS_poll, pf, 1, 0);
        syscall(SYS_poll, BAD, 1, 0);
    }
    syscall(SYS_close, p[0]);
    syscall(SYS_close, p[1]);
    ng = syscall(SYS_getgroups, 64, gids);
    syscall(SYS_getgroups, 0, NULL);
    syscall(SYS_getgroups, 64, BAD);
    syscall(SYS_setgroups, ng > 0 ? ng : 0, gids);
    syscall(SYS_setgroups, 2, BAD);
    fd = (int)syscall(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0);
    syscall(SYS_close, fd);
    fd = (int)syscall(SYS_socket, AF_NETLINK, SOCK_DGRAM, 15);
    syscall(SYS_close, fd);
    syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 99);
}

/* strace -s 32 cuts this argv after 32 strings, and the long one at 32
 * bytes; the child execs a path that does not exist. */
static void long_exec(void)
{
    static char a1[] = "A=1", b2[] = "B=2", name[] = "vigil-nothing", a[] = "a";
    char *const env[] = {a1, b2, NULL};
    char *argv[41];
    char longarg[80];
    struct rusage ru;
    int status;
    pid_t child;

    memset(longarg, 'x', sizeof(longarg) - 1);
    longarg[sizeof(longarg) - 1] = 0;
    argv[0] = name;
    argv[1] = longarg;
    for (int i = 2; i < 40; i++)
        argv[i] = a;
    argv[40] = NULL;
    child = (pid_t)syscall(SYS_fork);
    if (child == 0) {
        syscall(SYS_execve, "/nonexistent/vigil-nothing", argv, env);
        syscall(SYS_exit_group, 0);
    }
    syscall(SYS_wait4, child, &status, 0, &ru);
}

int main(void)
{
    files();
    times_limits();
    signals();
    names();
    sockets();
    fs_ids();
    long_exec();
    usage();
    sockopts();
    epolls();
    messages();
    selects();
    ppolls();
    recvfroms();
    return 0;
}
