/* vigil-hidden suite: every socket call a service makes, on a hidden
 * socket, each checked against what the host kernel answers for it (the
 * suite runs unchanged on the host too). */
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

struct sockaddr_in server;
char why[256];
static int failures;

static void report(const char *name, const char *err)
{
    if (err == NULL) {
        printf("ok %s\n", name);
    } else {
        printf("FAIL %s: %s\n", name, err);
        failures++;
    }
}

int tcp_to_server(void)
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
const char *read_all(int fd, char *buf, size_t len)
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

int after_exec(int keep, int gone)
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

int suite(const char *self, const char *ip, int port)
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
