/* vigil-decode, the sockets' and waits' calls: socket options, epoll,
 * sendmsg/recvmsg's msghdr, select/pselect6 sets, ppoll and recvfrom's
 * address, each also with an unreadable pointer. */
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

#include "decode.h"

/* Options at SOL_IP, SOL_IPV6 and SOL_UDP: ints, a byte, multicast
 * membership (struct ip_mreq, and one too short), netfilter's getsockopt
 * request, unknown options. */
static void ip_sockopts(void)
{
    int u = (int)syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0),
        u6 = (int)syscall(SYS_socket, AF_INET6, SOCK_DGRAM, 0), one = 1,
        v[4] = {0};
    unsigned char tos = 0x10;
    struct ip_mreq mr = {.imr_multiaddr.s_addr = htonl(0xe00000fb)};
    socklen_t l;

    syscall(SYS_setsockopt, u, SOL_IP, IP_TOS, &tos, 1);
    syscall(SYS_setsockopt, u, SOL_IP, IP_TTL, &one, 4);
    syscall(SYS_setsockopt, u, SOL_IP, IP_RECVERR, &one, 4);
    syscall(SYS_setsockopt, u, SOL_IP, IP_MULTICAST_LOOP, &one, 4);
    syscall(SYS_setsockopt, u, SOL_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr);
    syscall(SYS_setsockopt, u, SOL_IP, IP_ADD_MEMBERSHIP, &mr, 4);
    syscall(SYS_setsockopt, u, SOL_IP, IP_DROP_MEMBERSHIP, BAD, sizeof mr);
    syscall(SYS_setsockopt, u, SOL_IP, 66, &one, 4);
    syscall(SYS_setsockopt, u, SOL_UDP, UDP_CORK, &one, 4);
    syscall(SYS_setsockopt, u, SOL_UDP, 105, &one, 4);
    l = 4;
    syscall(SYS_getsockopt, u, SOL_IP, IP_TTL, v, &l);
    l = 1;
    syscall(SYS_getsockopt, u, SOL_IP, IP_TOS, v, &l);
    l = 4;
    syscall(SYS_getsockopt, u, SOL_IP, 64, v, &l); /* IPT_SO_GET_INFO */
    l = 4;
    syscall(SYS_getsockopt, u, SOL_UDP, UDP_CORK, v, &l);
    if (u6 >= 0) {
        syscall(SYS_setsockopt, u6, SOL_IPV6, IPV6_V6ONLY, &one, 4);
        syscall(SYS_setsockopt, u6, SOL_IPV6, IPV6_RECVERR, &one, 4);
        syscall(SYS_setsockopt, u6, SOL_IPV6, 0, &one, 4);
        l = 4;
        syscall(SYS_getsockopt, u6, SOL_IPV6, IPV6_V6ONLY, v, &l);
        l = 4;
        syscall(SYS_getsockopt, u6, SOL_IPV6, IPV6_TCLASS, v, &l);
        syscall(SYS_close, u6);
    }
    syscall(SYS_close, u);
}

/* getsockopt/setsockopt: ints, SO_LINGER, TCP_NODELAY, lengths the
 * kernel changes or that are short, unknown options and bad pointers. */
void sockopts(void)
{
    int s = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0), one = 1,
        v[8] = {0};
    struct linger lg = {1, 5};
    socklen_t l;
    int sv[2];

    syscall(SYS_setsockopt, s, SOL_SOCKET, SO_REUSEADDR, &one, 4);
    syscall(SYS_setsockopt, s, SOL_SOCKET, SO_KEEPALIVE, &one, 4);
    syscall(SYS_setsockopt, s, SOL_SOCKET, SO_LINGER, &lg, 8);
    syscall(SYS_setsockopt, s, IPPROTO_TCP, TCP_NODELAY, &one, 4);
    syscall(SYS_setsockopt, s, SOL_SOCKET, SO_RCVBUF, BAD, 4);
    syscall(SYS_setsockopt, s, SOL_SOCKET, SO_SNDBUF, &one, 2);
    syscall(SYS_setsockopt, s, SOL_SOCKET, 1000, &one, 4);
    syscall(SYS_setsockopt, s, SOL_SOCKET, SO_RCVTIMEO_OLD, v, 8);
    syscall(SYS_setsockopt, s, SOL_SOCKET, SO_REUSEADDR, NULL, 0);
    l = 4;
    syscall(SYS_getsockopt, s, SOL_SOCKET, SO_TYPE, v, &l);
    l = 4;
    syscall(SYS_getsockopt, s, SOL_SOCKET, SO_ERROR, v, &l);
    l = 4;
    syscall(SYS_getsockopt, s, IPPROTO_TCP, TCP_NODELAY, v, &l);
    l = 8;
    syscall(SYS_getsockopt, s, SOL_SOCKET, SO_LINGER, v, &l);
    l = 8;
    syscall(SYS_getsockopt, s, SOL_SOCKET, SO_KEEPALIVE, v, &l);
    l = 3;
    syscall(SYS_getsockopt, s, SOL_SOCKET, SO_REUSEADDR, v, &l);
    l = 4;
    syscall(SYS_getsockopt, s, SOL_SOCKET, SO_TYPE, BAD, &l);
    syscall(SYS_getsockopt, s, SOL_SOCKET, SO_TYPE, v, BAD);
    l = 4;
    syscall(SYS_getsockopt, s, SOL_SOCKET, 1000, v, &l);
    syscall(SYS_close, s);
    if (syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv) == 0) {
        l = 32;
        syscall(SYS_getsockopt, sv[0], SOL_SOCKET, SO_PEERCRED, v, &l);
        syscall(SYS_close, sv[0]);
        syscall(SYS_close, sv[1]);
    }
    ip_sockopts();
}

/* More ready events than strace shows (-s 32), and more than vigil
 * captured before (16). */
static void many_events(void)
{
    struct epoll_event ev = {.events = EPOLLIN}, evs[64];
    int e = (int)syscall(SYS_epoll_create1, 0), p[40][2], n = 0;

    for (; n < 40 && syscall(SYS_pipe2, p[n], 0) == 0; n++) {
        syscall(SYS_write, p[n][1], "x", 1);
        ev.data.u64 = (uint64_t)p[n][0];
        syscall(SYS_epoll_ctl, e, EPOLL_CTL_ADD, p[n][0], &ev);
    }
    syscall(SYS_epoll_wait, e, evs, 20, 0);
    syscall(SYS_epoll_wait, e, evs, 64, 0);
    while (n-- > 0) {
        syscall(SYS_close, p[n][0]);
        syscall(SYS_close, p[n][1]);
    }
    syscall(SYS_close, e);
}

/* epoll: an event added, changed and deleted, ready events returned
 * (none, one, two), an unknown operation and bad pointers. */
void epolls(void)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 3}, evs[4];
    uint64_t mask = 1u << (SIGUSR1 - 1);
    int p[2], e = (int)syscall(SYS_epoll_create1, EPOLL_CLOEXEC);

    if (e < 0 || syscall(SYS_pipe2, p, 0) != 0)
        return;
    syscall(SYS_epoll_ctl, e, EPOLL_CTL_ADD, p[0], &ev);
    syscall(SYS_epoll_wait, e, evs, 4, 0);
    syscall(SYS_write, p[1], "x", 1);
    ev.events = EPOLLOUT | EPOLLET;
    ev.data.u64 = 0x1234567890abcdefULL;
    syscall(SYS_epoll_ctl, e, EPOLL_CTL_ADD, p[1], &ev);
    syscall(SYS_epoll_wait, e, evs, 4, 0);
    syscall(SYS_epoll_pwait, e, evs, 1, 0, &mask, 8);
    syscall(SYS_epoll_pwait, e, evs, 4, 0, NULL, 8);
    ev.events = 0;
    syscall(SYS_epoll_ctl, e, EPOLL_CTL_MOD, p[1], &ev);
    syscall(SYS_epoll_ctl, e, 7, p[1], &ev);
    syscall(SYS_epoll_ctl, e, EPOLL_CTL_ADD, p[1], BAD);
    syscall(SYS_epoll_ctl, e, EPOLL_CTL_DEL, p[1], &ev);
    syscall(SYS_epoll_wait, e, BAD, 4, 0);
    many_events();
    syscall(SYS_close, p[0]);
    syscall(SYS_close, p[1]);
    syscall(SYS_close, e);
}

/* sendmsg/recvmsg: iovecs (one longer than strace's -s), descriptors
 * passed with SCM_RIGHTS, credentials, an address, control messages
 * strace walks past, and unreadable parts. */
void messages(void)
{
    char a[] = "hello world", b[] = "0123456789abcdefghijklmnopqrstuvwxyzABC";
    char r1[4], r2[64], cb[64];
    struct iovec iov[3] = {{a, 5}, {b, sizeof b - 1}, {a + 6, 5}};
    struct iovec riov[2] = {{r1, sizeof r1}, {r2, sizeof r2}};
    struct sockaddr_un sun;
    struct sockaddr_in sin = {.sin_family = AF_INET,
                              .sin_port = htons(9),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = 3, .msg_control = cb};
    struct msghdr rm = {.msg_iov = riov, .msg_iovlen = 2};
    struct cmsghdr *c = (struct cmsghdr *)cb;
    int sv[2], fds[2] = {0, 1}, one = 1, u;

    if (syscall(SYS_socketpair, AF_UNIX, SOCK_DGRAM, 0, sv) != 0)
        return;
    memset(cb, 0, sizeof cb);
    c->cmsg_len = CMSG_LEN(sizeof fds);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    memcpy(CMSG_DATA(c), fds, sizeof fds);
    m.msg_controllen = CMSG_SPACE(sizeof fds);
    syscall(SYS_sendmsg, sv[0], &m, MSG_DONTWAIT);
    rm.msg_name = &sun;
    rm.msg_namelen = sizeof sun;
    rm.msg_control = cb;
    rm.msg_controllen = sizeof cb;
    if (syscall(SYS_recvmsg, sv[1], &rm, MSG_CMSG_CLOEXEC) > 0 &&
        rm.msg_controllen >= CMSG_LEN(sizeof fds)) {
        memcpy(fds, CMSG_DATA(c), sizeof fds);
        syscall(SYS_close, fds[0]);
        syscall(SYS_close, fds[1]);
    }
    syscall(SYS_recvmsg, sv[1], &rm, MSG_DONTWAIT); /* EAGAIN */
    syscall(SYS_setsockopt, sv[1], SOL_SOCKET, SO_PASSCRED, &one, 4);
    m.msg_iovlen = 1;
    m.msg_control = NULL;
    m.msg_controllen = 0;
    syscall(SYS_sendmsg, sv[0], &m, 0);
    rm.msg_namelen = sizeof sun;
    rm.msg_controllen = sizeof cb;
    syscall(SYS_recvmsg, sv[1], &rm, 0);
    /* a cmsg_len below the header: strace walks no further */
    m.msg_control = cb;
    m.msg_controllen = 48;
    memset(cb, 0, sizeof cb);
    c->cmsg_len = 8;
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    syscall(SYS_sendmsg, sv[0], &m, 0);
    m.msg_controllen = 8; /* shorter than a cmsghdr: the address */
    syscall(SYS_sendmsg, sv[0], &m, 0);
    m.msg_control = BAD;
    m.msg_controllen = 24;
    syscall(SYS_sendmsg, sv[0], &m, 0);
    m.msg_control = NULL;
    m.msg_controllen = 0;
    m.msg_iov = BAD;
    syscall(SYS_sendmsg, sv[0], &m, 0);
    syscall(SYS_sendmsg, sv[0], BAD, 0);
    syscall(SYS_recvmsg, sv[1], NULL, MSG_DONTWAIT);
    u = (int)syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0);
    if (u >= 0) {
        m.msg_iov = iov;
        m.msg_name = &sin;
        m.msg_namelen = sizeof sin;
        syscall(SYS_sendmsg, u, &m, 0);
        m.msg_name = BAD;
        syscall(SYS_sendmsg, u, &m, 0);
        syscall(SYS_close, u);
    }
    syscall(SYS_close, sv[0]);
    syscall(SYS_close, sv[1]);
}

/* select/pselect6: sets in and out, the time left, a timeout, pselect6's
 * mask (set, NULL, unreadable), more than 64 descriptors, bad pointers. */
void selects(void)
{
    fd_set r, w, e;
    struct timeval tv = {1, 500};
    struct timespec ts = {0, 5000};
    uint64_t mask = 1u << (SIGUSR1 - 1);
    struct {
        void *ss;
        size_t len;
    } sm = {&mask, 8};
    int p[2];

    if (syscall(SYS_pipe2, p, 0) != 0)
        return;
    syscall(SYS_write, p[1], "x", 1);
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&e);
    FD_SET(p[0], &r);
    FD_SET(p[1], &w);
    FD_SET(0, &e);
    syscall(SYS_select, p[1] + 1, &r, &w, &e, &tv);
    FD_ZERO(&r);
    FD_SET(p[1], &r);
    tv.tv_sec = 0;
    tv.tv_usec = 0;
    syscall(SYS_select, p[1] + 1, &r, NULL, NULL, &tv); /* Timeout */
    syscall(SYS_select, 0, NULL, NULL, NULL, &tv);
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    syscall(SYS_select, p[0] + 1, &r, NULL, NULL, NULL);
    syscall(SYS_select, p[0] + 1, BAD, NULL, NULL, NULL);
    syscall(SYS_select, p[0] + 1, &r, NULL, NULL, BAD);
    syscall(SYS_select, -1, &r, NULL, NULL, NULL);
    FD_SET(100, &r);
    syscall(SYS_select, 101, &r, NULL, NULL, &tv); /* EBADF */
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    syscall(SYS_pselect6, p[0] + 1, &r, NULL, NULL, &ts, &sm);
    FD_ZERO(&r);
    FD_SET(p[1], &r);
    ts.tv_nsec = 0;
    syscall(SYS_pselect6, p[1] + 1, &r, NULL, NULL, &ts, NULL);
    sm.ss = NULL;
    syscall(SYS_pselect6, p[1] + 1, &r, NULL, NULL, &ts, &sm);
    sm.ss = BAD;
    syscall(SYS_pselect6, p[1] + 1, &r, NULL, NULL, &ts, &sm);
    syscall(SYS_pselect6, p[1] + 1, &r, NULL, NULL, &ts, BAD);
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(p[0], &r);
    FD_SET(p[1], &w);
    syscall(SYS_pselect6, p[1] + 1, &r, &w, NULL, NULL, NULL);
    syscall(SYS_close, p[0]);
    syscall(SYS_close, p[1]);
}

/* ppoll: descriptors ready, a timeout, the time left, its mask (set,
 * NULL, of another size), more descriptors than a capture holds, bad
 * pointers. */
void ppolls(void)
{
    struct pollfd pf[20];
    struct timespec ts = {1, 500};
    uint64_t mask = 1u << (SIGUSR1 - 1);
    int p[2];

    if (syscall(SYS_pipe2, p, 0) != 0)
        return;
    syscall(SYS_write, p[1], "x", 1);
    memset(pf, 0, sizeof pf);
    pf[0] = (struct pollfd){.fd = p[0], .events = POLLIN};
    pf[1] = (struct pollfd){.fd = p[1], .events = POLLIN | POLLOUT};
    pf[2] = (struct pollfd){.fd = -1, .events = POLLIN};
    syscall(SYS_ppoll, pf, 3, &ts, &mask, 8);
    ts.tv_sec = 0;
    ts.tv_nsec = 0;
    syscall(SYS_ppoll, pf + 1, 1, &ts, NULL, 8);
    pf[1].events = POLLIN;
    syscall(SYS_ppoll, pf + 1, 1, &ts, NULL, 8); /* Timeout */
    syscall(SYS_ppoll, pf, 2, NULL, NULL, 8);
    syscall(SYS_ppoll, BAD, 1, &ts, NULL, 8);
    syscall(SYS_ppoll, pf, 1, BAD, NULL, 8);
    syscall(SYS_ppoll, pf + 1, 1, &ts, BAD, 8);
    syscall(SYS_ppoll, pf + 1, 1, &ts, &mask, 4); /* EINVAL */
    syscall(SYS_ppoll, NULL, 0, &ts, NULL, 8);
    ts.tv_nsec = 1000000;
    syscall(SYS_ppoll, pf + 1, 1, &ts, &mask, 8);
    for (int i = 0; i < 16; i++)
        pf[i] = (struct pollfd){.fd = p[0], .events = POLLIN};
    syscall(SYS_ppoll, pf, 16, &ts, NULL, 8);
    syscall(SYS_close, p[0]);
    syscall(SYS_close, p[1]);
}

/* recvfrom: the sender's address and its length before and after (the
 * same, longer, shorter than the address), no address asked, EAGAIN,
 * bad pointers; unix datagram sockets, which need no network. */
void recvfroms(void)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX}, b = {.sun_family = AF_UNIX};
    struct sockaddr_storage ss;
    socklen_t sl;
    char buf[64];
    int r = (int)syscall(SYS_socket, AF_UNIX, SOCK_DGRAM, 0),
        w = (int)syscall(SYS_socket, AF_UNIX, SOCK_DGRAM, 0);

    strcpy(a.sun_path, "/tmp/vigil-rf-a");
    strcpy(b.sun_path, "/tmp/vigil-rf-b");
    syscall(SYS_unlink, a.sun_path);
    syscall(SYS_unlink, b.sun_path);
    if (r < 0 || w < 0 || syscall(SYS_bind, r, &a, sizeof a) != 0 ||
        syscall(SYS_bind, w, &b, sizeof b) != 0)
        return;
    for (int i = 0; i < 4; i++)
        syscall(SYS_sendto, w, "hello", 5, 0, &a, sizeof a);
    sl = sizeof ss;
    syscall(SYS_recvfrom, r, buf, sizeof buf, 0, &ss, &sl);
    sl = sizeof b;
    syscall(SYS_recvfrom, r, buf, sizeof buf, 0, &ss, &sl);
    sl = 4;
    syscall(SYS_recvfrom, r, buf, sizeof buf, 0, &ss, &sl);
    syscall(SYS_recvfrom, r, buf, sizeof buf, 0, NULL, NULL);
    sl = sizeof ss;
    syscall(SYS_recvfrom, r, buf, sizeof buf, MSG_DONTWAIT, &ss, &sl);
    syscall(SYS_recvfrom, r, buf, sizeof buf, MSG_DONTWAIT, &ss, BAD);
    syscall(SYS_unlink, a.sun_path);
    syscall(SYS_unlink, b.sun_path);
    syscall(SYS_close, r);
    syscall(SYS_close, w);
}
