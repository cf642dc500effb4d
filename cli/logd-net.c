/* logd's sockets: UDP datagrams and TCP connections in, packets out to the
 * session layer. TCP connections are a resource anyone who can reach the
 * port can take, so they are bounded: in all, per source address, and in
 * time (an authentic packet within --auth-timeout, then data at least
 * every --idle-timeout). When full, a new connection takes the place of
 * the oldest one that has not authenticated yet. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "logd.h"
#include "vigil/clock.h"

#define MAX_LISTEN 8
#define RECV_BATCH 64
#define CONN_BUF   (VLOG_FRAME_HDR + VLOG_MTU_MAX)
/* accept() failing for want of descriptors leaves the connection queued:
 * polling again at once would spin. Wait this long instead. */
#define ACCEPT_PAUSE_NS (200ull * 1000000ull)

struct conn {
    int fd;
    struct sockaddr_storage peer;
    uint8_t *buf;
    size_t have;
    bool authed;                 /* an authentic packet was used */
    uint64_t opened_ns, last_ns; /* last used packet */
};

struct logd_net {
    struct logd_net_opts o;
    int udp[MAX_LISTEN], nudp;
    int tcp[MAX_LISTEN], ntcp;
    struct conn *conns;
    unsigned nconns;
    uint64_t accept_paused_until;
    struct pollfd *pf;
    struct logd_net_stats st;
};

int logd_net_new(struct logd_net **out, const struct logd_net_opts *o)
{
    struct logd_net *n = calloc(1, sizeof *n);
    if (n == NULL)
        return -ENOMEM;
    n->o = *o;
    if (n->o.max_conns == 0)
        n->o.max_conns = 64;
    if (n->o.max_per_addr == 0)
        n->o.max_per_addr = 8;
    if (n->o.auth_s == 0)
        n->o.auth_s = 5;
    if (n->o.idle_s == 0)
        n->o.idle_s = 600;
    n->conns = calloc(n->o.max_conns, sizeof *n->conns);
    n->pf = calloc(2 * MAX_LISTEN + n->o.max_conns, sizeof *n->pf);
    if (n->conns == NULL || n->pf == NULL) {
        logd_net_free(n);
        return -ENOMEM;
    }
    *out = n;
    return 0;
}

static void close_conn(struct logd_net *n, unsigned i)
{
    close(n->conns[i].fd);
    free(n->conns[i].buf);
    n->conns[i] = n->conns[--n->nconns];
}

void logd_net_free(struct logd_net *n)
{
    if (n == NULL)
        return;
    while (n->nconns > 0)
        close_conn(n, n->nconns - 1);
    for (int i = 0; i < n->nudp; i++)
        close(n->udp[i]);
    for (int i = 0; i < n->ntcp; i++)
        close(n->tcp[i]);
    free(n->conns);
    free(n->pf);
    free(n);
}

int logd_net_listen(struct logd_net *n, const char *url)
{
    struct sockaddr_storage ss;
    unsigned sl;
    bool tcp;
    int err = vlog_parse_url(url, &tcp, &ss, &sl);
    if (err < 0) {
        cli_error("--listen %s: %s", url, strerror(-err));
        return err;
    }
    if ((tcp ? n->ntcp : n->nudp) >= MAX_LISTEN) {
        cli_error("too many --listen");
        return -E2BIG;
    }
    int fd = socket(ss.ss_family,
                    (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1, buf = 64 << 20;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    /* A sender's run of datagrams cut from one send (vigil's sender sends
     * its full datagrams so) arrives whole, with the size they were cut
     * at: read_udp takes it apart. A kernel without it (before 5.0)
     * delivers them one by one, as before. */
    if (!tcp)
        (void)setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0 ||
        (tcp && listen(fd, 64) < 0)) {
        err = -errno;
        cli_error("--listen %s: %s", url, strerror(errno));
        close(fd);
        return err;
    }
    if (tcp)
        n->tcp[n->ntcp++] = fd;
    else
        n->udp[n->nudp++] = fd;
    return 0;
}

static void read_udp(struct logd *d, struct logd_net *net, int fd)
{
    /* 64 KiB each: a coalesced run (UDP_GRO) is up to an IP packet. */
    static uint8_t bufs[RECV_BATCH][65536];
    static union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctrl[RECV_BATCH];
    struct mmsghdr mm[RECV_BATCH];
    struct iovec iov[RECV_BATCH];
    struct sockaddr_storage from[RECV_BATCH];
    for (int round = 0; round < 64; round++) {
        memset(mm, 0, sizeof mm);
        for (int i = 0; i < RECV_BATCH; i++) {
            iov[i].iov_base = bufs[i];
            iov[i].iov_len = sizeof bufs[i];
            mm[i].msg_hdr.msg_iov = &iov[i];
            mm[i].msg_hdr.msg_iovlen = 1;
            mm[i].msg_hdr.msg_name = &from[i];
            mm[i].msg_hdr.msg_namelen = sizeof from[i];
            mm[i].msg_hdr.msg_control = ctrl[i].buf;
            mm[i].msg_hdr.msg_controllen = sizeof ctrl[i].buf;
        }
        int n = recvmmsg(fd, mm, RECV_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return;
        uint64_t now = vigil_now_ns(CLOCK_MONOTONIC);
        uint64_t real = vigil_now_ns(CLOCK_REALTIME);
        for (int i = 0; i < n; i++) {
            size_t len = mm[i].msg_len,
                   seg = vlog_recv_segment_size(&mm[i].msg_hdr);
            if (mm[i].msg_hdr.msg_flags & MSG_TRUNC) {
                logd_sessions_reject(d->sessions, LOGD_REJ_SHORT);
                continue;
            }
            if (seg == 0 || seg >= len) {
                logd_sessions_packet(d->sessions, bufs[i], len, &from[i], now,
                                     real);
                continue;
            }
            /* The datagrams of one sender's run, as sent: each checked on
             * its own, as if it had come alone. */
            net->st.udp_coalesced++;
            for (size_t off = 0; off < len; off += seg)
                logd_sessions_packet(d->sessions, bufs[i] + off,
                                     len - off < seg ? len - off : seg,
                                     &from[i], now, real);
        }
        if (n < RECV_BATCH)
            return;
    }
}

/* The oldest connection that has not authenticated (from peer only, when
 * peer is not NULL); -1 when there is none. */
static int oldest_unauthed(const struct logd_net *n,
                           const struct sockaddr_storage *peer)
{
    int best = -1;
    for (unsigned i = 0; i < n->nconns; i++) {
        const struct conn *c = &n->conns[i];
        if (c->authed || (peer != NULL && !vlog_same_host(&c->peer, peer)))
            continue;
        if (best < 0 || c->opened_ns < n->conns[best].opened_ns)
            best = (int)i;
    }
    return best;
}

/* Room for a new connection from peer: true, after evicting one if need
 * be; false when every candidate has authenticated. */
static bool make_room(struct logd_net *n, const struct sockaddr_storage *peer)
{
    unsigned same = 0;
    for (unsigned i = 0; i < n->nconns; i++)
        same += vlog_same_host(&n->conns[i].peer, peer);
    int victim = -2;
    if (same >= n->o.max_per_addr)
        victim = oldest_unauthed(n, peer);
    else if (n->nconns >= n->o.max_conns)
        victim = oldest_unauthed(n, NULL);
    if (victim == -2)
        return true;
    if (victim < 0)
        return false;
    close_conn(n, (unsigned)victim);
    n->st.conns_evicted++;
    return true;
}

static void accept_tcp(struct logd_net *n, int lfd, uint64_t now)
{
    struct sockaddr_storage peer;
    socklen_t pl = sizeof peer;
    int fd = accept4(lfd, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
            errno == ENOMEM) {
            n->st.accept_errors++;
            n->accept_paused_until = now + ACCEPT_PAUSE_NS;
        }
        return;
    }
    if (!make_room(n, &peer)) {
        n->st.conns_refused++;
        close(fd);
        return;
    }
    struct conn *c = &n->conns[n->nconns];
    c->buf = malloc(CONN_BUF);
    if (c->buf == NULL) {
        close(fd);
        return;
    }
    int buf = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    c->fd = fd;
    c->peer = peer;
    c->have = 0;
    c->authed = false;
    c->opened_ns = c->last_ns = now;
    n->nconns++;
}

/* Returns false when the connection is finished. */
static bool read_tcp(struct logd *d, struct conn *c)
{
    ssize_t r = read(c->fd, c->buf + c->have, CONN_BUF - c->have);
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    if (r <= 0)
        return false;
    c->have += (size_t)r;
    size_t off = 0;
    uint64_t now = vigil_now_ns(CLOCK_MONOTONIC);
    uint64_t real = vigil_now_ns(CLOCK_REALTIME);
    for (;;) {
        const uint8_t *pkt;
        size_t len, used;
        int f = vlog_frame_next(c->buf + off, c->have - off, &pkt, &len, &used);
        if (f < 0) {
            logd_sessions_reject(d->sessions, LOGD_REJ_SHORT);
            return false; /* framing lost: drop the connection */
        }
        if (f == 0)
            break;
        if (logd_sessions_packet(d->sessions, pkt, len, &c->peer, now, real) ==
            0) {
            c->authed = true;
            c->last_ns = now;
        }
        off += used;
    }
    memmove(c->buf, c->buf + off, c->have - off);
    c->have -= off;
    return true;
}

/* Close connections past their deadline. */
static void expire(struct logd_net *n, uint64_t now)
{
    for (unsigned i = n->nconns; i-- > 0;) {
        const struct conn *c = &n->conns[i];
        uint64_t limit = c->authed ? n->o.idle_s : n->o.auth_s;
        if (now - c->last_ns > limit * 1000000000ull) {
            close_conn(n, i);
            n->st.conns_timed_out++;
        }
    }
}

void logd_net_poll(struct logd_net *n, struct logd *d, int timeout_ms)
{
    uint64_t now = vigil_now_ns(CLOCK_MONOTONIC);
    bool accepting = now >= n->accept_paused_until;
    expire(n, now);
    nfds_t k = 0;
    for (int i = 0; i < n->nudp; i++)
        n->pf[k++] = (struct pollfd){.fd = n->udp[i], .events = POLLIN};
    for (int i = 0; i < n->ntcp; i++)
        n->pf[k++] =
            (struct pollfd){.fd = accepting ? n->tcp[i] : -1, .events = POLLIN};
    unsigned nc = n->nconns;
    for (unsigned i = 0; i < nc; i++)
        n->pf[k++] = (struct pollfd){.fd = n->conns[i].fd, .events = POLLIN};
    if (poll(n->pf, k, timeout_ms) <= 0)
        return;
    k = 0;
    for (int i = 0; i < n->nudp; i++, k++)
        if (n->pf[k].revents & POLLIN)
            read_udp(d, n, n->udp[i]);
    /* Connections first, accepting after: an eviction moves connections
     * around, and the poll entries must still match them. Walk backwards
     * so closing one (the last takes its slot) skips none. */
    nfds_t base = k + (nfds_t)n->ntcp;
    for (unsigned i = nc; i-- > 0;) {
        if (!(n->pf[base + i].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        if (!read_tcp(d, &n->conns[i]))
            close_conn(n, i);
    }
    now = vigil_now_ns(CLOCK_MONOTONIC);
    for (int i = 0; i < n->ntcp; i++, k++)
        if (n->pf[k].revents & POLLIN)
            accept_tcp(n, n->tcp[i], now);
}

void logd_net_drain(struct logd_net *n, struct logd *d)
{
    for (int i = 0; i < n->nudp; i++)
        read_udp(d, n, n->udp[i]);
    for (unsigned i = n->nconns; i-- > 0;) {
        struct pollfd p = {.fd = n->conns[i].fd, .events = POLLIN};
        bool open = true;
        for (int k = 0; k < 100000 && open && poll(&p, 1, 0) > 0; k++)
            open = read_tcp(d, &n->conns[i]);
    }
}

void logd_net_stats(const struct logd_net *n, struct logd_net_stats *st)
{
    *st = n->st;
}
