/* Syscall-heavy guest workload for bench/trace, timed inside the guest:
 *   vigil-bench GETPPID_COUNT OPEN_COUNT
 * makes GETPPID_COUNT getppid() calls, then OPEN_COUNT rounds of
 * open/read/close on a small file, and prints
 *   vigil-bench calls=N elapsed_ns=T getppid_ns=T1 open_ns=T2
 * (T = T1 + T2: the two phases).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    long n_getppid = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
    long n_open = argc > 2 ? strtol(argv[2], NULL, 10) : 100000;
    const char *path = "/tmp/vigil-bench.dat";
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "0123456789abcdef", 16) != 16)
        return 1;
    close(fd);

    long long t0 = now_ns();
    for (long i = 0; i < n_getppid; i++)
        syscall(SYS_getppid);
    long long tm = now_ns();
    char buf[64];
    for (long i = 0; i < n_open; i++) {
        long f = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY);
        syscall(SYS_read, f, buf, sizeof buf);
        syscall(SYS_close, f);
    }
    long long t1 = now_ns();
    printf(
        "vigil-bench calls=%ld elapsed_ns=%lld getppid_ns=%lld open_ns=%lld\n",
        n_getppid + 3 * n_open, t1 - t0, tm - t0, t1 - tm);
    return 0;
}
