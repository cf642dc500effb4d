/* Edge cases of a hidden service's life, for tests/test-hide.sh (one boot
 * runs them one after the other; each prints what it saw):
 *
 *   vigil-hide-edge exit-last IP PORT  connect; the main thread ends by
 *                                      exit (not exit_group); the other
 *                                      thread, now the last, asks the
 *                                      server how many connections it
 *                                      has ("alive: conns N"), then ends
 *                                      by exit too
 *
 * The server is tests/echo.py.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in server;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0)
        (void)!write(1, line, (size_t)n < sizeof line ? (size_t)n : sizeof line);
}

static int tcp_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&server, sizeof server) < 0) {
        say("connect: %s\n", strerror(errno));
        return -1;
    }
    return fd;
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* ---- exit-last ---- */

static int exit_fd = -1;

/* Whether the process's first thread is a zombie: it ended, the process
 * lives on in this one. */
static int leader_gone(void)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)getpid());
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    return p != NULL && p[1] == ' ' && p[2] == 'Z';
}

static void *last_thread(void *unused)
{
    (void)unused;
    for (int i = 0; i < 500 && !leader_gone(); i++)
        nap_ms(10);
    say("leader %s\n", leader_gone() ? "gone" : "still there");
    char buf[64];
    ssize_t n = -1;
    if (write(exit_fd, "conns?", 6) == 6)
        n = read(exit_fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    say("alive: %s\n", n > 0 ? buf : strerror(errno));
    /* The last thread ends by exit: no exit_group anywhere. */
    syscall(SYS_exit, 0);
    return NULL;
}

static int exit_last(void)
{
    exit_fd = tcp_connect();
    if (exit_fd < 0)
        return 1;
    pthread_t th;
    if (pthread_create(&th, NULL, last_thread, NULL) != 0) {
        say("pthread_create failed\n");
        return 1;
    }
    syscall(SYS_exit, 0);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: vigil-hide-edge exit-last IP PORT\n");
        return 2;
    }
    server.sin_family = AF_INET;
    server.sin_port = htons((uint16_t)atoi(argv[3]));
    if (inet_pton(AF_INET, argv[2], &server.sin_addr) != 1)
        return 2;
    if (!strcmp(argv[1], "exit-last"))
        return exit_last();
    fprintf(stderr, "vigil-hide-edge: unknown mode %s\n", argv[1]);
    return 2;
}
