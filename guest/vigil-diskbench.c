/* vigil-diskbench: the guest side of bench/disk, timed by the guest's own
 * monotonic clock in nanoseconds (/proc/uptime's 10 ms were a few percent
 * of a 128 MiB write, too coarse for a 5 % goal).
 *
 *   vigil-diskbench DEVICE DATA REPS
 *
 * Reads the file DATA into memory, then writes it REPS times to DEVICE,
 * each time to fresh blocks (the n-th copy at n times its size), by 1 MiB
 * O_DIRECT writes: every write() is one request to the disk. Then once
 * more, after those, through the page cache and fsync(). Prints
 *   direct SECONDS      (the fastest of the REPS)
 *   buffered SECONDS
 * and exits 1 on any failed call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BLOCK (1u << 20)

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "vigil-diskbench: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* @len bytes of @buf to @fd at @off, in BLOCK writes. */
static void write_all(int fd, const char *buf, size_t len, off_t off)
{
    for (size_t done = 0; done < len;) {
        size_t n = len - done < BLOCK ? len - done : BLOCK;
        ssize_t r = pwrite(fd, buf + done, n, off + (off_t)done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            die("write");
        done += (size_t)r;
    }
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: vigil-diskbench DEVICE DATA REPS\n");
        return 2;
    }
    int reps = atoi(argv[3]);
    int in = open(argv[2], O_RDONLY);
    struct stat st;
    if (in < 0 || fstat(in, &st) < 0)
        die(argv[2]);
    /* Whole blocks: O_DIRECT needs aligned lengths. */
    size_t len = (size_t)st.st_size / BLOCK * BLOCK;
    char *buf;
    if (reps < 1 || len == 0 || posix_memalign((void **)&buf, 4096, len) != 0) {
        fprintf(stderr, "vigil-diskbench: nothing to write\n");
        return 2;
    }
    for (size_t done = 0; done < len;) {
        ssize_t r = read(in, buf + done, len - done);
        if (r <= 0)
            die("read");
        done += (size_t)r;
    }
    close(in);
    int fd = open(argv[1], O_WRONLY | O_DIRECT);
    if (fd < 0)
        die(argv[1]);
    double best = 0;
    for (int i = 0; i < reps; i++) {
        double a = now();
        write_all(fd, buf, len, (off_t)i * (off_t)len);
        double d = now() - a;
        if (i == 0 || d < best)
            best = d;
    }
    close(fd);
    fd = open(argv[1], O_WRONLY);
    if (fd < 0)
        die(argv[1]);
    double a = now();
    write_all(fd, buf, len, (off_t)reps * (off_t)len);
    if (fsync(fd) < 0)
        die("fsync");
    double buffered = now() - a;
    printf("direct %.6f\nbuffered %.6f\n", best, buffered);
    return 0;
}
