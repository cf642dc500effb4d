/* A guest service for the communication-hiding tests (tests/test-hide.sh):
 *
 *   vigil-hidden tcp IP PORT MESSAGE   connect, send, receive the echo
 *   vigil-hidden udp IP PORT MESSAGE   sendto, recvfrom the echo
 *   vigil-hidden suite IP PORT         every socket call a service makes,
 *                                      one "ok NAME" or "FAIL NAME: why"
 *                                      line each, against tests/echo.py
 *   vigil-hidden bench IP PORT N       nanoseconds per call (bench/hide)
 *   vigil-hidden hold IP PORT          connect, say "holding", wait for
 *                                      the server (until killed)
 *   vigil-hidden sniff SECONDS         count the packets a packet socket
 *                                      (AF_PACKET, every protocol, every
 *                                      interface) receives meanwhile
 *
 * While its sockets are open it looks for them where the guest would show
 * them: /proc/net/{tcp,udp}, /proc/self/fd. With vigil --hide the sockets
 * are vigil's, on the host, and the guest shows nothing of them. The suite
 * runs unchanged on the host too (the binary is static): the host kernel's
 * answers are what vigil's must match.
 */
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

#define HIDDEN_BASE (1 << 30) /* vigil's hidden descriptors (vigil/hide.h) */

/* Lines of @path after its header: sockets the guest kernel knows. */
static int proc_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[512];
    int n = -1;
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        n++;
    fclose(f);
    return n;
}

/* Entries of /proc/self/fd that are sockets. */
static int socket_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;
    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        char path[300], target[256];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t l = readlink(path, target, sizeof target - 1);
        if (l > 0) {
            target[l] = '\0';
            n += strncmp(target, "socket:", 7) == 0;
        }
    }
    closedir(d);
    return n;
}

static int echo_once(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    bool tcp = !strcmp(argv[1], "tcp");
    if (argc != 5)
        return 2;
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)atoi(argv[3]))};
    inet_pton(AF_INET, argv[2], &to.sin_addr);
    int fd = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
    if (fd < 0) {
        printf("socket: %s\n", strerror(errno));
        return 1;
    }
    printf("fd %s\n",
           fd >= HIDDEN_BASE ? "above the guest's range" : "a guest one");
    const char *msg = argv[4];
    size_t len = strlen(msg);
    char buf[512];
    ssize_t n;
    if (tcp) {
        if (connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
            printf("connect: %s\n", strerror(errno));
            return 1;
        }
        if (send(fd, msg, len, 0) != (ssize_t)len) {
            printf("send: %s\n", strerror(errno));
            return 1;
        }
    } else if (sendto(fd, msg, len, 0, (struct sockaddr *)&to, sizeof to) !=
               (ssize_t)len) {
        printf("sendto: %s\n", strerror(errno));
        return 1;
    }
    printf("guest sees: /proc/net/tcp %d, /proc/net/udp %d, socket fds %d\n",
           proc_lines("/proc/net/tcp"), proc_lines("/proc/net/udp"),
           socket_fds());
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    n = tcp ? recv(fd, buf, sizeof buf - 1, 0)
            : recvfrom(fd, buf, sizeof buf - 1, 0, (struct sockaddr *)&from,
                       &fl);
    if (n < 0) {
        printf("recv: %s\n", strerror(errno));
        return 1;
    }
    buf[n] = '\0';
    printf("echo: %s\n", buf);
    close(fd);
    return strcmp(buf, msg) == 0 ? 0 : 1;
}

static int hold(const char *ip, int port)
{
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, ip, &to.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
        printf("hold: %s\n", strerror(errno));
        return 1;
    }
    printf("holding\n");
    fflush(stdout);
    char c;
    return read(fd, &c, 1) < 0;
}

/* What a packet capture inside the guest sees: any packet of a connection
 * the guest kernel carried, even to a port nothing listens on (its SYN and
 * the RST), is counted. */
static int sniff(int seconds)
{
    int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    if (fd < 0) {
        printf("sniff: socket: %s\n", strerror(errno));
        return 1;
    }
    printf("sniffing\n");
    fflush(stdout);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned long packets = 0;
    char buf[2048];
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        long left = (t0.tv_sec + seconds - t.tv_sec) * 1000 +
                    (t0.tv_nsec - t.tv_nsec) / 1000000;
        if (left <= 0)
            break;
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, (int)left) > 0 && recv(fd, buf, sizeof buf, 0) >= 0)
            packets++;
    }
    printf("sniffed %lu packets\n", packets);
    close(fd);
    return 0;
}

/* ---- the suite ---- */

static struct sockaddr_in server;
static char why[256];
static int failures;

#define FAILF(...)                                                             \
    do {                                                                       \
        snprintf(why, sizeof why, __VA_ARGS__);                                \
        return why;                                                            \
    } while (0)
#define TRY(x)                                                                 \
    do {                                                                       \
        if ((x) < 0)                                                           \
            FAILF("%s: %s", #x, strerror(errno));                              \
    } while (0)

static void report(const char *name, const char *err)
{
    if (err == NULL) {
        printf("ok %s\n", name);
    } else {
        printf("FAIL %s: %s\n", name, err);
        failures++;
    }
}

static int tcp_to_server(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&server, sizeof server) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* Exactly @len bytes from @fd, or a failure. */
static const char *read_all(int fd, char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n <= 0)
            FAILF("read after %zu of %zu bytes: %s", got, len,
                  n == 0 ? "end of stream" : strerror(errno));
        got += (size_t)n;
    }
    return NULL;
}

static const char *t_echo(int fd, const char *msg)
{
    char buf[256];
    size_t len = strlen(msg);
    if (write(fd, msg, len) != (ssize_t)len)
        FAILF("write: %s", strerror(errno));
    const char *e = read_all(fd, buf, len);
    if (e != NULL)
        return e;
    if (memcmp(buf, msg, len) != 0)
        FAILF("echo differs");
    return NULL;
}

static const char *t_addresses(int fd)
{
    struct sockaddr_in me, peer;
    socklen_t ml = sizeof me, pl = sizeof peer;
    TRY(getsockname(fd, (struct sockaddr *)&me, &ml));
    TRY(getpeername(fd, (struct sockaddr *)&peer, &pl));
    if (ml != sizeof me || me.sin_family != AF_INET || me.sin_port == 0)
        FAILF("getsockname: family %d len %u", me.sin_family, ml);
    if (pl != sizeof peer || peer.sin_port != server.sin_port ||
        peer.sin_addr.s_addr != server.sin_addr.s_addr)
        FAILF("getpeername: not the server");
    /* Too little room: the address is cut, the length says its size. */
    struct sockaddr_in small;
    socklen_t sl = 4;
    memset(&small, 0xaa, sizeof small);
    TRY(getsockname(fd, (struct sockaddr *)&small, &sl));
    if (sl != sizeof me || ((unsigned char *)&small)[4] != 0xaa)
        FAILF("short getsockname: len %u", sl);
    return NULL;
}

static const char *t_options(int fd)
{
    int one = 1, v = 0, buf = 0;
    socklen_t l = sizeof v;
    TRY(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
    TRY(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &l));
    if (v == 0 || l != sizeof v)
        FAILF("TCP_NODELAY reads %d (len %u)", v, l);
    l = sizeof buf;
    TRY(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, &l));
    if (buf <= 0)
        FAILF("SO_RCVBUF %d", buf);
    int type = 0;
    l = sizeof type;
    TRY(getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l));
    if (type != SOCK_STREAM)
        FAILF("SO_TYPE %d", type);
    return NULL;
}

static const char *t_nonblock(int fd)
{
    char c;
    int fl = fcntl(fd, F_GETFL);
    TRY(fl);
    TRY(fcntl(fd, F_SETFL, fl | O_NONBLOCK));
    if (!(fcntl(fd, F_GETFL) & O_NONBLOCK))
        FAILF("O_NONBLOCK not kept");
    ssize_t n = recv(fd, &c, 1, 0);
    int e = errno;
    TRY(fcntl(fd, F_SETFL, fl));
    if (n != -1 || (e != EAGAIN && e != EWOULDBLOCK))
        FAILF("recv on an empty socket: %zd (%s)", n, strerror(e));
    n = recv(fd, &c, 1, MSG_DONTWAIT);
    if (n != -1 || errno != EAGAIN)
        FAILF("MSG_DONTWAIT: %zd", n);
    return NULL;
}

static const char *t_fionread(int fd)
{
    const char msg[] = "count me";
    int n = 0;
    if (write(fd, msg, 8) != 8)
        FAILF("write: %s", strerror(errno));
    for (int tries = 0; tries < 200 && n < 8; tries++) {
        TRY(ioctl(fd, FIONREAD, &n));
        if (n < 8)
            usleep(10000);
    }
    char buf[8];
    const char *e = read_all(fd, buf, 8);
    if (e != NULL)
        return e;
    if (n != 8)
        FAILF("FIONREAD %d, not 8", n);
    return NULL;
}

static const char *t_dup(int fd)
{
    int d = dup(fd);
    TRY(d);
    const char *e = t_echo(d, "via dup");
    if (e != NULL)
        return e;
    int d3 = dup3(fd, d, O_CLOEXEC);
    TRY(d3);
    if (d3 != d || fcntl(d3, F_GETFD) != FD_CLOEXEC)
        FAILF("dup3: %d, flags %d", d3, fcntl(d3, F_GETFD));
    int fl = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    TRY(fl);
    if (fcntl(fl, F_GETFD) != FD_CLOEXEC)
        FAILF("F_DUPFD_CLOEXEC without FD_CLOEXEC");
    close(fl);
    TRY(close(d));
    if (fcntl(d, F_GETFD) != -1 || errno != EBADF)
        FAILF("a closed dup still answers");
    return t_echo(fd, "still there");
}

static const char *t_vectors(int fd)
{
    char a[] = "scatter-", b[] = "gather", ra[8], rb[6];
    struct iovec out[2] = {{a, 8}, {b, 6}}, in[2] = {{ra, 8}, {rb, 6}};
    if (writev(fd, out, 2) != 14)
        FAILF("writev: %s", strerror(errno));
    size_t got = 0;
    while (got < 14) {
        struct iovec rest[2];
        int k = 0;
        if (got < 8)
            rest[k++] = (struct iovec){ra + got, 8 - got};
        rest[k++] =
            got < 8 ? in[1] : (struct iovec){rb + (got - 8), 6 - (got - 8)};
        ssize_t n = readv(fd, rest, k);
        if (n <= 0)
            FAILF("readv: %s", n == 0 ? "end of stream" : strerror(errno));
        got += (size_t)n;
    }
    if (memcmp(ra, a, 8) || memcmp(rb, b, 6))
        FAILF("vectors differ");
    return NULL;
}

static const char *t_msg(int fd)
{
    char a[] = "msg-", b[] = "header", buf[10];
    struct iovec out[2] = {{a, 4}, {b, 6}}, in = {buf, sizeof buf};
    struct msghdr m = {.msg_iov = out, .msg_iovlen = 2};
    if (sendmsg(fd, &m, 0) != 10)
        FAILF("sendmsg: %s", strerror(errno));
    size_t got = 0;
    while (got < 10) {
        in = (struct iovec){buf + got, 10 - got};
        struct msghdr r = {.msg_iov = &in, .msg_iovlen = 1};
        ssize_t n = recvmsg(fd, &r, 0);
        if (n <= 0)
            FAILF("recvmsg: %s", n == 0 ? "end of stream" : strerror(errno));
        if (r.msg_flags != 0)
            FAILF("recvmsg flags %#x", r.msg_flags);
        got += (size_t)n;
    }
    if (memcmp(buf, "msg-header", 10))
        FAILF("message differs");
    return NULL;
}

static const char *t_poll(int fd)
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
static const char *t_poll_mixed(int fd)
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

static const char *t_epoll(int fd)
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
static const char *t_slow(int fd)
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

static const char *t_signal(int fd)
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

static const char *t_shutdown(int fd)
{
    char c;
    TRY(shutdown(fd, SHUT_WR));
    ssize_t n = read(fd, &c, 1); /* the server closes at our end */
    if (n != 0)
        FAILF("read after shutdown: %zd (%s)", n, strerror(errno));
    TRY(close(fd));
    if (close(fd) != -1 || errno != EBADF)
        FAILF("closed twice");
    return NULL;
}

static const char *t_refused(void)
{
    struct sockaddr_in a = server;
    a.sin_port = htons(1); /* nothing listens there */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    TRY(fd);
    int r = connect(fd, (struct sockaddr *)&a, sizeof a);
    int e = errno;
    close(fd);
    if (r != -1 || e != ECONNREFUSED)
        FAILF("connect: %d (%s)", r, strerror(e));
    return NULL;
}

static const char *t_nonblock_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    TRY(fd);
    int r = connect(fd, (struct sockaddr *)&server, sizeof server);
    if (r < 0 && errno != EINPROGRESS)
        FAILF("connect: %s", strerror(errno));
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    if (r < 0 && (poll(&p, 1, 5000) != 1 || !(p.revents & POLLOUT)))
        FAILF("never writable");
    int err = -1;
    socklen_t l = sizeof err;
    TRY(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l));
    if (err != 0)
        FAILF("SO_ERROR %d", err);
    TRY(fcntl(fd, F_SETFL, 0));
    const char *e = t_echo(fd, "nonblocking");
    close(fd);
    return e;
}

/* Listen, connect and accept, all of it on vigil's side when hidden. */
static const char *t_accept(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    int one = 1, l = socket(AF_INET, SOCK_STREAM, 0);
    TRY(l);
    TRY(setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
    TRY(bind(l, (struct sockaddr *)&a, sizeof a));
    TRY(listen(l, 4));
    TRY(getsockname(l, (struct sockaddr *)&a, &al));
    int c = socket(AF_INET, SOCK_STREAM, 0);
    TRY(c);
    TRY(connect(c, (struct sockaddr *)&a, sizeof a));
    struct sockaddr_in peer, mine;
    socklen_t pl = sizeof peer, ml = sizeof mine;
    int s = accept4(l, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
    TRY(s);
    TRY(getsockname(c, (struct sockaddr *)&mine, &ml));
    if (pl != sizeof peer || peer.sin_port != mine.sin_port)
        FAILF("accept4: peer port %d, not %d", ntohs(peer.sin_port),
              ntohs(mine.sin_port));
    if (fcntl(s, F_GETFD) != FD_CLOEXEC)
        FAILF("SOCK_CLOEXEC not kept");
    char buf[5];
    if (write(c, "hello", 5) != 5)
        FAILF("write: %s", strerror(errno));
    const char *e = read_all(s, buf, 5);
    if (e == NULL && memcmp(buf, "hello", 5))
        e = "accepted bytes differ";
    close(s);
    close(c);
    close(l);
    return e;
}

static const char *t_udp(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    TRY(fd);
    if (sendto(fd, "datagram", 8, 0, (struct sockaddr *)&server,
               sizeof server) != 8)
        FAILF("sendto: %s", strerror(errno));
    char buf[16];
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    if (n != 8 || memcmp(buf, "datagram", 8))
        FAILF("recvfrom: %zd", n);
    if (fl != sizeof from || from.sin_port != server.sin_port)
        FAILF("recvfrom address: len %u port %d", fl, ntohs(from.sin_port));
    /* A datagram longer than the buffer: cut, the rest dropped. */
    if (sendto(fd, "0123456789", 10, 0, (struct sockaddr *)&server,
               sizeof server) != 10)
        FAILF("sendto: %s", strerror(errno));
    n = recv(fd, buf, 4, 0);
    if (n != 4 || memcmp(buf, "0123", 4))
        FAILF("short recv: %zd", n);
    n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n != -1 || errno != EAGAIN)
        FAILF("the rest of a datagram was kept: %zd", n);
    TRY(connect(fd, (struct sockaddr *)&server, sizeof server));
    if (send(fd, "connected", 9, 0) != 9 || recv(fd, buf, sizeof buf, 0) != 9)
        FAILF("connected udp: %s", strerror(errno));
    close(fd);
    return NULL;
}

static const char *t_fork(int fd)
{
    pid_t pid = fork();
    TRY(pid);
    if (pid == 0) {
        /* The child's copy of the socket: it writes, then closes it. */
        _exit(write(fd, "from child", 10) == 10 && close(fd) == 0 ? 0 : 1);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
        FAILF("child failed");
    char buf[10];
    const char *e = read_all(fd, buf, 10);
    if (e == NULL && memcmp(buf, "from child", 10))
        return "child's bytes differ";
    /* The child's close left the parent's copy open. */
    return e ? e : t_echo(fd, "after the child");
}

static const char *t_exec(int fd, const char *self)
{
    int keep = dup(fd), gone = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    TRY(keep);
    TRY(gone);
    pid_t pid = fork();
    TRY(pid);
    if (pid == 0) {
        char k[16], g[16];
        snprintf(k, sizeof k, "%d", keep);
        snprintf(g, sizeof g, "%d", gone);
        execl(self, self, "after-exec", k, g, (char *)NULL);
        _exit(3);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
        FAILF("exec'd child died");
    close(keep);
    close(gone);
    if (WEXITSTATUS(st) != 0)
        FAILF("after exec: %s",
              WEXITSTATUS(st) == 1   ? "the close-on-exec socket is open"
              : WEXITSTATUS(st) == 2 ? "the kept socket is gone"
                                     : "exec failed");
    return NULL;
}

static int after_exec(int keep, int gone)
{
    if (fcntl(gone, F_GETFD) != -1 || errno != EBADF)
        return 1;
    if (fcntl(keep, F_GETFD) != 0)
        return 2;
    return 0;
}

/* Guest-local families stay the guest's own. */
static const char *t_local(void)
{
    int u = socket(AF_UNIX, SOCK_STREAM, 0), sv[2];
    TRY(u);
    if (u >= HIDDEN_BASE)
        FAILF("AF_UNIX socket went to vigil");
    close(u);
    TRY(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    if (write(sv[0], "pair", 4) != 4)
        FAILF("socketpair write: %s", strerror(errno));
    char buf[4];
    const char *e = read_all(sv[1], buf, 4);
    close(sv[0]);
    close(sv[1]);
    return e;
}

/* Pointers no user store reaches: EFAULT, and the connection goes on. */
static const char *t_badptr(int fd)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    if (send(fd, (void *)8, 10, 0) != -1 || errno != EFAULT)
        FAILF("send from a bad pointer: %s", strerror(errno));
    if (getsockname(fd, (struct sockaddr *)-4096L, &al) != -1 ||
        errno != EFAULT)
        FAILF("getsockname into the kernel: %s", strerror(errno));
    struct iovec iov = {(void *)16, 4};
    if (writev(fd, &iov, 1) != -1 || errno != EFAULT)
        FAILF("writev from a bad pointer: %s", strerror(errno));
    /* A set at an address nothing is mapped at. */
    struct pollfd *p = (struct pollfd *)24;
    __asm__ volatile("" : "+r"(p)); /* an address the compiler cannot see */
    if (poll(p, 1, 0) != -1 || errno != EFAULT)
        FAILF("poll of a bad set: %s", strerror(errno));
    return t_echo(fd, "still fine");
}

static const char *t_badfd(void)
{
    char c;
    if (read(HIDDEN_BASE + 999, &c, 1) != -1 || errno != EBADF)
        FAILF("an unused hidden number reads: %s", strerror(errno));
    return NULL;
}

static int suite(const char *self, const char *ip, int port)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    server = (struct sockaddr_in){.sin_family = AF_INET,
                                  .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, ip, &server.sin_addr) != 1)
        return 2;
    int tcp0 = proc_lines("/proc/net/tcp");
    int fd = tcp_to_server();
    if (fd < 0) {
        printf("FAIL connect: %s\n", strerror(errno));
        return 1;
    }
    printf("descriptor %s\n", fd >= HIDDEN_BASE ? "hidden" : "guest");
    report("echo", t_echo(fd, "hello, hidden world"));
    report("addresses", t_addresses(fd));
    report("options", t_options(fd));
    report("nonblock", t_nonblock(fd));
    report("fionread", t_fionread(fd));
    report("dup", t_dup(fd));
    report("vectors", t_vectors(fd));
    report("msg", t_msg(fd));
    report("poll", t_poll(fd));
    report("poll-mixed", t_poll_mixed(fd));
    report("epoll", t_epoll(fd));
    report("slow", t_slow(fd));
    report("signal", t_signal(fd));
    report("fork", t_fork(fd));
    report("exec", t_exec(fd, self));
    report("badptr", t_badptr(fd));
    /* Seen from inside, with the connection open. */
    printf("guest sees: %d new tcp sockets, %d socket descriptors\n",
           proc_lines("/proc/net/tcp") - tcp0, socket_fds());
    report("shutdown", t_shutdown(fd));
    report("refused", t_refused());
    report("nonblock-connect", t_nonblock_connect());
    report("accept", t_accept());
    report("udp", t_udp());
    report("local", t_local());
    report("badfd", t_badfd());
    printf("%d failed\n", failures);
    return failures ? 1 : 0;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Per call, in the guest's clock: socket+close, a 64-byte UDP sendto, a
 * getsockopt (a call with no traffic), and a TCP round trip through an
 * echo server when one answers at IP:PORT. */
static int bench(const char *ip, int port, int n)
{
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port)};
    char buf[64] = {0};
    inet_pton(AF_INET, ip, &to.sin_addr);
    uint64_t t0 = now_ns();
    for (int i = 0; i < n; i++)
        close(socket(AF_INET, SOCK_DGRAM, 0));
    uint64_t t1 = now_ns();
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    for (int i = 0; i < n; i++)
        sendto(u, buf, sizeof buf, 0, (struct sockaddr *)&to, sizeof to);
    uint64_t t2 = now_ns();
    int v;
    socklen_t vl = sizeof v;
    for (int i = 0; i < n; i++)
        getsockopt(u, SOL_SOCKET, SO_RCVBUF, &v, &vl);
    uint64_t t3 = now_ns();
    close(u);
    printf("socket+close_ns %llu\nsendto_ns %llu\ngetsockopt_ns %llu\n",
           (unsigned long long)((t1 - t0) / (uint64_t)n),
           (unsigned long long)((t2 - t1) / (uint64_t)n),
           (unsigned long long)((t3 - t2) / (uint64_t)n));
    int fd = tcp_to_server();
    if (fd >= 0) {
        to.sin_port = server.sin_port;
        uint64_t t4 = now_ns();
        for (int i = 0; i < n / 10; i++)
            if (write(fd, buf, sizeof buf) != sizeof buf ||
                read_all(fd, buf, sizeof buf) != NULL)
                break;
        printf("tcp_rtt_ns %llu\n",
               (unsigned long long)((now_ns() - t4) / (uint64_t)(n / 10)));
        close(fd);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && (!strcmp(argv[1], "tcp") || !strcmp(argv[1], "udp")))
        return echo_once(argc, argv);
    if (argc == 4 && !strcmp(argv[1], "suite"))
        return suite("/proc/self/exe", argv[2], atoi(argv[3]));
    if (argc == 5 && !strcmp(argv[1], "bench") && atoi(argv[4]) >= 10) {
        server = (struct sockaddr_in){
            .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
        inet_pton(AF_INET, argv[2], &server.sin_addr);
        return bench(argv[2], atoi(argv[3]), atoi(argv[4]));
    }
    if (argc == 4 && !strcmp(argv[1], "hold"))
        return hold(argv[2], atoi(argv[3]));
    if (argc == 3 && !strcmp(argv[1], "sniff"))
        return sniff(atoi(argv[2]));
    if (argc == 4 && !strcmp(argv[1], "after-exec"))
        return after_exec(atoi(argv[2]), atoi(argv[3]));
    fprintf(stderr, "usage: vigil-hidden tcp|udp IP PORT MESSAGE\n"
                    "       vigil-hidden suite IP PORT\n");
    return 2;
}
