/* vigil-hidden suite, the waits: poll, ppoll and epoll over hidden and
 * mixed sets, a call that waits for its socket, and a signal during that
 * wait (as Linux ends it: EINTR, or the call goes on under SA_RESTART). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hidden.h"

const char *t_poll(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n = poll(&p, 1, 0);
    if (n != 0)
        FAILF("an idle socket polls %d (revents %#x)", n, p.revents);
    if (write(fd, "p", 1) != 1)
        FAILF("write: %s", strerror(errno));
    n = poll(&p, 1, 5000);
    if (n != 1 || !(p.revents & POLLIN))
        FAILF("poll after the echo: %d revents %#x", n, p.revents);
    char c;
    return read_all(fd, &c, 1);
}

/* A set that mixes a hidden socket with a pipe of the guest's own. */
const char *t_poll_mixed(int fd)
{
    int pp[2];
    TRY(pipe(pp));
    struct pollfd p[2] = {{.fd = pp[0], .events = POLLIN},
                          {.fd = fd, .events = POLLIN}};
    int n = poll(p, 2, 50);
    if (n != 0)
        FAILF("idle set polls %d", n);
    if (write(pp[1], "x", 1) != 1)
        FAILF("pipe write");
    n = poll(p, 2, 5000);
    if (n != 1 || p[0].revents != POLLIN || p[1].revents != 0)
        FAILF("pipe ready: %d, revents %#x %#x", n, p[0].revents, p[1].revents);
    char c;
    if (read(pp[0], &c, 1) != 1)
        FAILF("pipe read");
    if (write(fd, "m", 1) != 1)
        FAILF("write: %s", strerror(errno));
    n = poll(p, 2, 5000);
    if (n != 1 || p[0].revents != 0 || !(p[1].revents & POLLIN))
        FAILF("socket ready: %d, revents %#x %#x", n, p[0].revents,
              p[1].revents);
    if (p[0].fd != pp[0] || p[1].fd != fd)
        FAILF("poll changed the descriptors");
    close(pp[0]);
    close(pp[1]);
    return read_all(fd, &c, 1);
}

const char *t_epoll(int fd)
{
    int pp[2], ep = epoll_create1(EPOLL_CLOEXEC);
    TRY(ep);
    TRY(pipe(pp));
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 7};
    TRY(epoll_ctl(ep, EPOLL_CTL_ADD, pp[0], &ev));
    ev.data.u64 = 42;
    TRY(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
    struct epoll_event got[4];
    int n = epoll_wait(ep, got, 4, 50);
    if (n != 0)
        FAILF("idle epoll: %d", n);
    if (write(fd, "e", 1) != 1)
        FAILF("write: %s", strerror(errno));
    n = epoll_wait(ep, got, 4, 5000);
    if (n != 1 || got[0].data.u64 != 42 || !(got[0].events & EPOLLIN))
        FAILF("socket ready: %d events, data %llu", n,
              n > 0 ? (unsigned long long)got[0].data.u64 : 0ull);
    char c;
    const char *e = read_all(fd, &c, 1);
    if (e != NULL)
        return e;
    if (write(pp[1], "x", 1) != 1)
        FAILF("pipe write");
    n = epoll_wait(ep, got, 4, 5000);
    if (n != 1 || got[0].data.u64 != 7)
        FAILF("pipe ready: %d events", n);
    TRY(epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL));
    if (epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL) != -1 || errno != ENOENT)
        FAILF("deleted twice");
    close(ep);
    close(pp[0]);
    close(pp[1]);
    return NULL;
}

/* The server waits before it answers: the call waits for its socket. */
const char *t_slow(int fd)
{
    const char msg[] = "sleep:300 late";
    char buf[16];
    if (write(fd, msg, sizeof msg - 1) != (ssize_t)sizeof msg - 1)
        FAILF("write: %s", strerror(errno));
    return read_all(fd, buf, sizeof msg - 1);
}

static volatile sig_atomic_t alarms;
static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

/* A blocking receive that a signal interrupts 200 ms in, while the server
 * answers only after 1.5 s: with a handler without SA_RESTART the call
 * fails with EINTR after the handler ran; with SA_RESTART it goes on and
 * returns the answer; so does it when SO_RCVTIMEO is set and the signal
 * comes with SA_RESTART (then Linux too gives EINTR). Either way the late
 * answer is read, so that the connection stays in step. */
static const char *signal_case(int fd, int flags, bool timeo, int *got_errno)
{
    struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = flags};
    sigemptyset(&sa.sa_mask);
    TRY(sigaction(SIGALRM, &sa, NULL));
    struct timeval tv = {timeo ? 10 : 0, 0};
    TRY(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    const char msg[] = "sleep:1500 intr";
    char buf[32];
    if (write(fd, msg, sizeof msg - 1) != (ssize_t)sizeof msg - 1)
        FAILF("write: %s", strerror(errno));
    alarms = 0;
    struct itimerval it = {.it_value = {0, 200 * 1000}};
    TRY(setitimer(ITIMER_REAL, &it, NULL));
    ssize_t n = recv(fd, buf, sizeof msg - 1, MSG_WAITALL);
    *got_errno = n < 0 ? errno : 0;
    if (alarms != 1)
        FAILF("the handler ran %d times", (int)alarms);
    if (n < 0 && errno != EINTR)
        FAILF("recv: %s", strerror(errno));
    if (n < 0) /* the answer still comes */
        return read_all(fd, buf, sizeof msg - 1);
    if (n != (ssize_t)sizeof msg - 1)
        FAILF("recv: %zd bytes", n);
    return NULL;
}

const char *t_signal(int fd)
{
    int e1 = -1, e2 = -1, e3 = -1;
    const char *err = signal_case(fd, 0, false, &e1);
    if (err == NULL)
        err = signal_case(fd, SA_RESTART, false, &e2);
    if (err == NULL)
        err = signal_case(fd, SA_RESTART, true, &e3);
    struct timeval tv = {0, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    signal(SIGALRM, SIG_DFL);
    if (err != NULL)
        return err;
    if (e1 != EINTR || e2 != 0 || e3 != EINTR)
        FAILF("errnos %s, %s, %s (want EINTR, none, EINTR)",
              e1 ? strerror(e1) : "none", e2 ? strerror(e2) : "none",
              e3 ? strerror(e3) : "none");
    return NULL;
}
