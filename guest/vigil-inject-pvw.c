/* Guest program for tests/test-origin.sh: injects code into a running
 * process without stopping it: writes shellcode into memory of the victim
 * that is writable and executable, then overwrites a function pointer one
 * of its threads calls through (the hijacked thread).
 *
 *   vigil-inject-pvw PID HOOK ARENA [METHOD]   (addresses in hex)
 *
 * METHOD says how the shellcode is written, each at its own place in the
 * arena (so that one injection's evidence is not another's):
 *   pvw      process_vm_writev, one remote iovec (the default; ARENA + 0)
 *   split    process_vm_writev, the shellcode in the second and third
 *            remote iovecs (a first one writes scratch bytes elsewhere)
 *   writev   lseek + writev on /proc/PID/mem
 *   pwritev  pwritev on /proc/PID/mem
 *   move     as pvw, after creating /tmp/victim-move: the victim moves
 *            the arena with mremap before it calls the shellcode
 *   tid      as pvw, naming the victim's other thread, not its pid
 *   dup      /proc//PID/./task/TID/../TID/mem opened, dup2'ed to 100 and
 *            the first descriptor closed, then lseek + writev on 100
 *   fork     /proc/PID/mem opened, then a forked child pwritev's on it
 *            (the child is the writer: its pid is printed)
 *   symlink  a symbolic link /tmp/vigil-mem-PID to /proc/PID/mem opened,
 *            then lseek + write on it
 *   scm      a forked helper opens /proc/PID/mem and sends the descriptor
 *            over a Unix socket pair (SCM_RIGHTS); this process receives
 *            it and pwrite64's on it
 * The function pointer is always written with process_vm_writev. Prints
 * "pvw injected into PID at ADDR by OWNPID METHOD".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vigil-inject-shellcode.h"

static int put(pid_t pid, uint64_t addr, void *data, size_t len)
{
    struct iovec local = {data, len};
    struct iovec remote = {(void *)(uintptr_t)addr, len};
    return process_vm_writev(pid, &local, 1, &remote, 1, 0) == (ssize_t)len
               ? 0
               : -1;
}

/* Scratch bytes at ARENA + 0xf00, then the shellcode in two pieces. */
static int put_split(pid_t pid, uint64_t arena, uint64_t at, unsigned char *sc,
                     size_t n)
{
    unsigned char buf[8 + 64];
    memset(buf, 0x90, 8);
    memcpy(buf + 8, sc, n);
    struct iovec local = {buf, 8 + n};
    struct iovec remote[3] = {{(void *)(uintptr_t)(arena + 0xf00), 8},
                              {(void *)(uintptr_t)at, 10},
                              {(void *)(uintptr_t)(at + 10), n - 10}};
    return process_vm_writev(pid, &local, 1, remote, 3, 0) == (ssize_t)(8 + n)
               ? 0
               : -1;
}

/* A thread of @pid other than its first, or @pid. */
static pid_t other_thread(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *d = opendir(path);
    pid_t t = pid;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL)
        if (atoi(e->d_name) > 0 && atoi(e->d_name) != pid)
            t = atoi(e->d_name);
    if (d != NULL)
        closedir(d);
    return t;
}

/* The file /proc/PID/mem, by a roundabout path, on descriptor 100. */
static int open_dup(pid_t pid)
{
    char path[96];
    pid_t t = other_thread(pid);
    snprintf(path, sizeof path, "/proc//%d/./task/%d/../%d/mem", pid, t, t);
    int fd = open(path, O_RDWR);
    if (fd < 0 || dup2(fd, 100) != 100)
        return -1;
    close(fd);
    return 100;
}

static int put_mem(pid_t pid, uint64_t at, unsigned char *sc, size_t n,
                   int vectored_at_offset, int roundabout)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", pid);
    int fd = roundabout ? open_dup(pid) : open(path, O_RDWR);
    if (fd < 0)
        return -1;
    struct iovec iov[2] = {{sc, 12}, {sc + 12, n - 12}};
    ssize_t w;
    if (vectored_at_offset) {
        w = pwritev(fd, iov, 2, (off_t)at);
    } else {
        if (lseek(fd, (off_t)at, SEEK_SET) != (off_t)at) {
            close(fd);
            return -1;
        }
        w = writev(fd, iov, 2);
    }
    close(fd);
    return w == (ssize_t)n ? 0 : -1;
}

/* /proc/PID/mem opened here, written by a forked child through the
 * inherited descriptor; *writer is the child. */
static int put_forked(pid_t pid, uint64_t at, unsigned char *sc, size_t n,
                      pid_t *writer)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", pid);
    int fd = open(path, O_RDWR);
    if (fd < 0)
        return -1;
    pid_t c = fork();
    if (c == 0)
        _exit(pwrite(fd, sc, n, (off_t)at) == (ssize_t)n ? 0 : 1);
    int st = 1;
    if (c < 0 || waitpid(c, &st, 0) != c)
        st = 1;
    close(fd);
    *writer = c;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Through a symbolic link the trace cannot tell from any other file. */
static int put_symlink(pid_t pid, uint64_t at, unsigned char *sc, size_t n)
{
    char target[64], link[64];
    snprintf(target, sizeof target, "/proc/%d/mem", pid);
    snprintf(link, sizeof link, "/tmp/vigil-mem-%d", pid);
    unlink(link);
    if (symlink(target, link) < 0)
        return -1;
    int fd = open(link, O_RDWR);
    unlink(link);
    if (fd < 0)
        return -1;
    ssize_t w = -1;
    if (lseek(fd, (off_t)at, SEEK_SET) == (off_t)at)
        w = write(fd, sc, n);
    close(fd);
    return w == (ssize_t)n ? 0 : -1;
}

/* The helper's side: open /proc/PID/mem and send the descriptor. */
static int send_mem_fd(int sock, pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", pid);
    int fd = open(path, O_RDWR);
    if (fd < 0)
        return -1;
    char byte = 'm';
    struct iovec iov = {&byte, 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    return sendmsg(sock, &mh, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
    char byte;
    struct iovec iov = {&byte, 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf};
    if (recvmsg(sock, &mh, 0) != 1)
        return -1;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    int fd = -1;
    if (c != NULL && c->cmsg_level == SOL_SOCKET &&
        c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
        memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

/* A descriptor another process opened, received over a Unix socket: the
 * trace sees no open of the file in this process. */
static int put_scm(pid_t pid, uint64_t at, unsigned char *sc, size_t n)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return -1;
    pid_t c = fork();
    if (c == 0) {
        close(sv[0]);
        _exit(send_mem_fd(sv[1], pid) == 0 ? 0 : 1);
    }
    close(sv[1]);
    int fd = c > 0 ? recv_fd(sv[0]) : -1;
    close(sv[0]);
    if (c > 0)
        waitpid(c, NULL, 0);
    if (fd < 0)
        return -1;
    ssize_t w = pwrite(fd, sc, n, (off_t)at);
    close(fd);
    return w == (ssize_t)n ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: vigil-inject-pvw PID HOOK ARENA [METHOD]\n");
        return 2;
    }
    pid_t pid = (pid_t)atoi(argv[1]);
    uint64_t hook = strtoull(argv[2], NULL, 16);
    uint64_t arena = strtoull(argv[3], NULL, 16);
    const char *how = argc == 5 ? argv[4] : "pvw";
    static const char *const methods[] = {
        "pvw", "split", "writev", "pwritev", "move",
        "tid", "dup",   "fork",   "symlink", "scm"};
    int m = -1;
    for (int i = 0; i < (int)(sizeof methods / sizeof methods[0]); i++)
        if (!strcmp(how, methods[i]))
            m = i;
    if (m < 0) {
        fprintf(stderr, "vigil-inject-pvw: unknown method %s\n", how);
        return 2;
    }
    uint64_t at = arena + 256 * (uint64_t)m;
    unsigned char sc[64];
    size_t n = shellcode(sc, 0xc3); /* ret: back into the thread's loop */
    int r;
    pid_t writer = getpid();
    if (m == 1) {
        r = put_split(pid, arena, at, sc, n);
    } else if (m == 2 || m == 3 || m == 6) {
        r = put_mem(pid, at, sc, n, m == 3, m == 6);
    } else if (m == 7) {
        r = put_forked(pid, at, sc, n, &writer);
    } else if (m == 8) {
        r = put_symlink(pid, at, sc, n);
    } else if (m == 9) {
        r = put_scm(pid, at, sc, n);
    } else {
        r = put(m == 5 ? other_thread(pid) : pid, at, sc, n);
    }
    if (m == 4) {
        int fd = open("/tmp/victim-move", O_WRONLY | O_CREAT, 0600);
        if (fd >= 0)
            close(fd);
    }
    if (r < 0 || put(pid, hook, &at, 8) < 0) {
        perror(how);
        return 1;
    }
    printf("pvw injected into %d at %#llx by %d %s\n", pid,
           (unsigned long long)at, writer, how);
    return 0;
}
