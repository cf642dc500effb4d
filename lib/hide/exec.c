/* One hidden call, run on the host (see exec.h, docs/hide.md).
 *
 * Every host socket is non-blocking. Whether the guest asked for
 * O_NONBLOCK is kept in its table; a call that would block when the guest
 * did not ask for that is kept aside and tried again when its socket is
 * ready (or its SO_RCVTIMEO/SO_SNDTIMEO passes), while the guest thread
 * waits in the guest kernel.
 *
 * The calls run as root in vigil's network namespace (or --hide-netns),
 * for a process of a guest that may be compromised: what could reach
 * beyond the network traffic the process is there to make is refused.
 * Only AF_INET and AF_INET6 sockets are made here (the plugin leaves the
 * others to the guest), socket options are a list of the ordinary ones,
 * and control messages at SOL_SOCKET (SCM_RIGHTS would pass vigil's own
 * descriptors) are not sent.
 */
#include "hide/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MMSG_MAX 64

static int64_t neg(long r)
{
    return r < 0 ? -errno : r;
}

/* Whether the pointer arguments of @s lie inside its data, by its
 * shape. */
static bool inside(const struct vhide_slot *s, const struct vhide_shape *sh)
{
    for (int k = 0; k < VHIDE_PTRS; k++) {
        const struct vhide_ptr *p = &sh->ptr[k];
        if (p->argi < 0 || s->args[p->argi] < 0)
            continue;
        uint64_t off = (uint64_t)s->args[p->argi], len = 0;
        if (p->len_kind == VHIDE_LEN_ARG)
            len = (uint64_t)s->args[p->len_arg];
        else if (p->len_kind == VHIDE_LEN_FIXED)
            len = p->fixed;
        else if (s->args[p->len_arg] >= 0 &&
                 (uint64_t)s->args[p->len_arg] + 4 <= VHIDE_DATA) {
            uint32_t sl;
            memcpy(&sl, s->data + s->args[p->len_arg], 4);
            len = sl;
        } else {
            return false;
        }
        if (off > VHIDE_DATA || len > VHIDE_DATA - off)
            return false;
    }
    return true;
}

/* The socket options a service sets in the ordinary course: buffers,
 * timeouts, keepalive, TCP tuning, address reuse, TTL and TOS, multicast
 * membership. Not among them: what needs privilege (SO_BINDTODEVICE,
 * SO_MARK, SO_PRIORITY above 6) or hands the kernel pointers
 * (SO_ATTACH_FILTER). */
bool hide_option_allowed(int64_t level, int64_t name)
{
    static const int sol[] = {SO_REUSEADDR, SO_REUSEPORT, SO_KEEPALIVE,
                              SO_BROADCAST, SO_LINGER,    SO_RCVBUF,
                              SO_SNDBUF,    SO_RCVLOWAT,  SO_SNDLOWAT,
                              SO_OOBINLINE, 20,           21, /* *TIMEO */
                              66,           67,               /* *TIMEO_NEW */
                              SO_TIMESTAMP};
    static const int tcp[] = {
        TCP_NODELAY,       TCP_MAXSEG,      TCP_CORK,     TCP_KEEPIDLE,
        TCP_KEEPINTVL,     TCP_KEEPCNT,     TCP_QUICKACK, TCP_USER_TIMEOUT,
        TCP_NOTSENT_LOWAT, TCP_DEFER_ACCEPT};
    static const int ip[] = {IP_TOS,
                             IP_TTL,
                             IP_RECVERR,
                             IP_PKTINFO,
                             IP_MTU_DISCOVER,
                             IP_MULTICAST_TTL,
                             IP_MULTICAST_LOOP,
                             IP_ADD_MEMBERSHIP,
                             IP_DROP_MEMBERSHIP,
                             IP_BIND_ADDRESS_NO_PORT,
                             IP_RECVTOS,
                             IP_RECVTTL};
    static const int ip6[] = {IPV6_V6ONLY,         IPV6_UNICAST_HOPS,
                              IPV6_MULTICAST_HOPS, IPV6_MULTICAST_LOOP,
                              IPV6_RECVPKTINFO,    IPV6_TCLASS,
                              IPV6_RECVERR,        IPV6_MTU_DISCOVER,
                              IPV6_JOIN_GROUP,     IPV6_LEAVE_GROUP};
    const int *list = NULL;
    size_t n = 0;
#define LIST(a) (list = (a), n = sizeof(a) / sizeof *(a))
    switch (level) {
    case SOL_SOCKET:
        LIST(sol);
        break;
    case IPPROTO_TCP:
        LIST(tcp);
        break;
    case IPPROTO_IP:
        LIST(ip);
        break;
    case IPPROTO_IPV6:
        LIST(ip6);
        break;
    case IPPROTO_UDP:
        return true; /* UDP_CORK, UDP_SEGMENT: no privilege, no pointer */
    }
#undef LIST
    for (size_t i = 0; i < n; i++)
        if (list[i] == name)
            return true;
    return false;
}

static uint64_t timeval_ns(const void *p, size_t len)
{
    int64_t tv[2] = {0, 0};
    if (len < sizeof tv)
        return 0;
    memcpy(tv, p, sizeof tv);
    if (tv[0] < 0 || tv[1] < 0)
        return 0;
    return (uint64_t)tv[0] * 1000000000ull + (uint64_t)tv[1] * 1000ull;
}

/* A would-block result: wait for the socket, or give up as the guest
 * asked (O_NONBLOCK, MSG_DONTWAIT, an SO_*TIMEO that passed). */
static bool must_wait(const struct hfd *f, int64_t r, int flags,
                      const struct hide_pending *w, uint64_t now,
                      uint64_t timeo)
{
    if (r != -EAGAIN || f->nonblock || (flags & MSG_DONTWAIT))
        return false;
    return timeo == 0 || !w->waiting || now - w->since < timeo;
}

/* The messages of a sendmsg/recvmsg family call (struct vhide_msg
 * blocks) as host message headers pointing into the slot. */
static int64_t msg_layout(struct vhide_slot *s, uint64_t first, uint64_t n,
                          struct mmsghdr *mm, struct iovec *iov,
                          struct vhide_msg **hdr)
{
    uint64_t off = first;
    for (uint64_t k = 0; k < n; k++) {
        struct vhide_msg_at at;
        if (!vhide_msg_at(s->data, off, &at))
            return -EINVAL;
        struct vhide_msg *h = (struct vhide_msg *)(s->data + off);
        iov[k] = (struct iovec){s->data + at.data, h->data_len};
        mm[k].msg_hdr = (struct msghdr){
            .msg_name = h->name_len ? s->data + at.name : NULL,
            .msg_namelen = h->name_len,
            .msg_iov = &iov[k],
            .msg_iovlen = 1,
            .msg_control = h->control_len ? s->data + at.control : NULL,
            .msg_controllen = h->control_len,
        };
        mm[k].msg_len = 0;
        hdr[k] = h;
        off = at.end;
    }
    return 0;
}

static bool sends_descriptors(struct msghdr *m)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c))
        if (c->cmsg_level == SOL_SOCKET)
            return true;
    return false;
}

static bool run_msg(struct vhide_slot *s, struct hfd *f,
                    const struct hide_pending *w, uint64_t now)
{
    bool send = s->op == SYS_sendmsg || s->op == SYS_sendmmsg;
    bool many = s->op == SYS_recvmmsg || s->op == SYS_sendmmsg;
    uint64_t n = many ? (uint64_t)s->args[2] : 1;
    int flags = (int)(many ? s->args[3] : s->args[2]);
    struct mmsghdr mm[MMSG_MAX];
    struct iovec iov[MMSG_MAX];
    struct vhide_msg *hdr[MMSG_MAX];
    if (n == 0 || n > MMSG_MAX ||
        msg_layout(s, (uint64_t)s->args[1], n, mm, iov, hdr) < 0) {
        s->result = n == 0 ? 0 : -EINVAL;
        return true;
    }
    for (uint64_t k = 0; send && k < n; k++)
        if (mm[k].msg_hdr.msg_controllen && sends_descriptors(&mm[k].msg_hdr)) {
            s->result = -EOPNOTSUPP;
            return true;
        }
    int host_flags = flags | MSG_DONTWAIT | (send ? MSG_NOSIGNAL : 0);
    if (!send)
        host_flags |= MSG_CMSG_CLOEXEC;
    int64_t r;
    if (many)
        r = neg(send ? sendmmsg(f->host, mm, (unsigned)n, host_flags)
                     : recvmmsg(f->host, mm, (unsigned)n, host_flags, NULL));
    else
        r = neg(send ? sendmsg(f->host, &mm[0].msg_hdr, host_flags)
                     : recvmsg(f->host, &mm[0].msg_hdr, host_flags));
    if (must_wait(f, r, flags, w, now, send ? f->sndtimeo_ns : f->rcvtimeo_ns))
        return false;
    uint64_t got = r < 0 ? 0 : many ? (uint64_t)r : 1;
    for (uint64_t k = 0; k < got; k++) {
        uint64_t len = many ? mm[k].msg_len : (uint64_t)r;
        hdr[k]->len = (uint32_t)len;
        if (!send) {
            hdr[k]->name_out = mm[k].msg_hdr.msg_namelen;
            hdr[k]->control_out = (uint32_t)mm[k].msg_hdr.msg_controllen;
            hdr[k]->flags = mm[k].msg_hdr.msg_flags & ~MSG_CMSG_CLOEXEC;
        }
    }
    s->result = r;
    return true;
}

/* poll over hidden descriptors only (the plugin merges the guest's). */
static bool run_poll(struct hproc *p, struct vhide_slot *s,
                     struct hide_pending *w, uint64_t now)
{
    uint64_t n = (uint64_t)s->args[1];
    struct pollfd host[256];
    if (n > 256 || n * 8 > VHIDE_DATA) {
        s->result = -EINVAL;
        return true;
    }
    if (!w->waiting)
        w->deadline = s->args[2] < 0 ? UINT64_MAX
                                     : now + (uint64_t)s->args[2] * 1000000ull;
    int invalid = 0;
    for (uint64_t k = 0; k < n; k++) {
        struct pollfd g;
        memcpy(&g, s->data + k * 8, 8);
        struct hfd *f = hide_hfd(p, g.fd);
        host[k] = (struct pollfd){f ? f->host : -1, g.events, 0};
        invalid += f == NULL;
    }
    int r = poll(host, n, 0);
    if (r < 0) {
        s->result = -errno;
        return true;
    }
    if (r == 0 && invalid == 0 && now < w->deadline)
        return false;
    for (uint64_t k = 0; k < n; k++) {
        struct pollfd g;
        memcpy(&g, s->data + k * 8, 8);
        g.revents = host[k].fd < 0 ? POLLNVAL : host[k].revents;
        memcpy(s->data + k * 8, &g, 8);
    }
    s->result = r + invalid;
    return true;
}

static void run_epoll_ctl(struct hproc *p, struct vhide_slot *s)
{
    struct hfd *f = hide_hfd(p, s->args[2]);
    int op = (int)s->args[1];
    if (f == NULL) {
        s->result = -EBADF;
        return;
    }
    int ep = hide_epoll(p, (int32_t)s->args[0], op == EPOLL_CTL_ADD);
    if (ep < 0) {
        s->result = op == EPOLL_CTL_ADD ? -ENOMEM : -ENOENT;
        return;
    }
    struct epoll_event ev = {0};
    if (op != EPOLL_CTL_DEL)
        memcpy(&ev, s->data, sizeof ev);
    s->result = neg(epoll_ctl(ep, op, f->host, &ev));
}

static void run_epoll_wait(struct hproc *p, struct vhide_slot *s)
{
    int ep = hide_epoll(p, (int32_t)s->args[0], false);
    int64_t max = s->args[2];
    if (max > (int64_t)(VHIDE_DATA / sizeof(struct epoll_event)))
        max = VHIDE_DATA / sizeof(struct epoll_event);
    s->result =
        ep < 0 || max <= 0
            ? 0
            : neg(epoll_wait(ep, (struct epoll_event *)s->data, (int)max, 0));
}

static int64_t run_fcntl(struct hproc *p, struct hfd *f, const int64_t *a)
{
    switch (a[1]) {
    case F_GETFL:
        return O_RDWR | (f->nonblock ? O_NONBLOCK : 0);
    case F_SETFL:
        f->nonblock = (a[2] & O_NONBLOCK) != 0;
        return 0;
    case F_GETFD:
        return f->cloexec ? FD_CLOEXEC : 0;
    case F_SETFD:
        f->cloexec = (a[2] & FD_CLOEXEC) != 0;
        return 0;
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
        int fd = fcntl(f->host, F_DUPFD_CLOEXEC, 3);
        return fd < 0 ? -errno
                      : hide_new_fd(p, fd, f->nonblock, a[1] == F_DUPFD_CLOEXEC,
                                    a[2]);
    }
    }
    return -EINVAL;
}

static int64_t run_dup(struct hproc *p, struct hfd *f, int op, const int64_t *a)
{
    int64_t target = (int64_t)(int32_t)a[1];
    if (op != SYS_dup &&
        (target < VHIDE_FD_BASE || target >= VHIDE_FD_BASE + VHIDE_FDS ||
         (op == SYS_dup3 && (a[1] == a[0] || (a[2] & ~O_CLOEXEC)))))
        return -EINVAL;
    if (op == SYS_dup2 && a[1] == a[0])
        return a[1]; /* dup2 onto itself */
    int fd = fcntl(f->host, F_DUPFD_CLOEXEC, 3);
    if (fd < 0)
        return -errno;
    if (op == SYS_dup)
        return hide_new_fd(p, fd, f->nonblock, false, 0);
    return hide_put_fd(p, target, fd, f->nonblock,
                       op == SYS_dup3 && (a[2] & O_CLOEXEC));
}

static int64_t run_socket(struct hproc *p, const int64_t *a)
{
    /* The plugin sends only AF_INET and AF_INET6. */
    if (a[0] != AF_INET && a[0] != AF_INET6)
        return -EAFNOSUPPORT;
    bool nb = (a[1] & SOCK_NONBLOCK) != 0, ce = (a[1] & SOCK_CLOEXEC) != 0;
    int fd = socket((int)a[0], (int)(a[1] | SOCK_NONBLOCK | SOCK_CLOEXEC),
                    (int)a[2]);
    return fd < 0 ? -errno : hide_new_fd(p, fd, nb, ce, 0);
}

/* Only the allowed options reach the host socket; the timeouts are also
 * kept, since vigil waits for the guest's blocking calls itself. */
static int64_t run_setsockopt(struct hfd *f, const int64_t *a, const long *x,
                              struct hide_counts *n)
{
    if (!hide_option_allowed(a[1], a[2])) {
        n->refused++;
        return -EPERM;
    }
    int64_t r = neg(setsockopt(f->host, (int)a[1], (int)a[2], (void *)x[3],
                               (socklen_t)a[4]));
    if (r != 0 || a[1] != SOL_SOCKET)
        return r;
    uint64_t ns = timeval_ns((void *)x[3], (size_t)a[4]);
    if (a[2] == SO_RCVTIMEO_OLD || a[2] == SO_RCVTIMEO_NEW)
        f->rcvtimeo_ns = ns;
    else if (a[2] == SO_SNDTIMEO_OLD || a[2] == SO_SNDTIMEO_NEW)
        f->sndtimeo_ns = ns;
    return 0;
}

/* A blocking connect waits here for the host socket (it is non-blocking)
 * to finish, or for SO_SNDTIMEO.  Returns false while it is waiting. */
static bool run_connect(struct hfd *f, struct vhide_slot *s, const long *x,
                        struct hide_pending *w, uint64_t now)
{
    if (!w->waiting) {
        int64_t r = neg(connect(f->host, (void *)x[1], (socklen_t)x[2]));
        if (r != -EINPROGRESS || f->nonblock) {
            s->result = r;
            return true;
        }
    }
    if (f->sndtimeo_ns && now - w->since >= f->sndtimeo_ns) {
        s->result = -EINPROGRESS;
        return true;
    }
    struct pollfd pf = {.fd = f->host, .events = POLLOUT};
    if (poll(&pf, 1, 0) <= 0)
        return false;
    int e = 0;
    socklen_t el = sizeof e;
    getsockopt(f->host, SOL_SOCKET, SO_ERROR, &e, &el);
    s->result = -e;
    return true;
}

static bool run_accept(struct hproc *p, struct hfd *f, struct vhide_slot *s,
                       const long *x, struct hide_pending *w, uint64_t now)
{
    int fl = s->op == SYS_accept4 ? (int)s->args[3] : 0;
    int fd = accept4(f->host, (void *)x[1], (socklen_t *)x[2],
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    int64_t r = fd < 0 ? -errno : fd;
    if (must_wait(f, r, 0, w, now, f->rcvtimeo_ns))
        return false;
    s->result = r < 0 ? r
                      : hide_new_fd(p, fd, (fl & SOCK_NONBLOCK) != 0,
                                    (fl & SOCK_CLOEXEC) != 0, 0);
    return true;
}

/* The calls that move data or ask the socket something, run on the host
 * socket as they are (never blocking vigil); a blocking one waits here
 * for its socket or its timeout.  Returns false while it is waiting. */
static bool run_plain(struct hfd *f, struct vhide_slot *s, long x[6],
                      struct hide_pending *w, uint64_t now)
{
    uint64_t timeo = 0;
    int flags = 0;
    int64_t r;
    switch (s->op) {
    case SYS_read: /* a receive */
        r = neg(recvfrom(f->host, (void *)x[1], (size_t)x[2], MSG_DONTWAIT,
                         NULL, NULL));
        timeo = f->rcvtimeo_ns;
        break;
    case SYS_write: /* a send, without SIGPIPE for vigil */
        r = neg(sendto(f->host, (void *)x[1], (size_t)x[2],
                       MSG_DONTWAIT | MSG_NOSIGNAL, NULL, 0));
        timeo = f->sndtimeo_ns;
        break;
    case SYS_sendto:
    case SYS_recvfrom:
        flags = (int)s->args[3];
        x[3] |= MSG_DONTWAIT | (s->op == SYS_sendto ? MSG_NOSIGNAL : 0);
        timeo = s->op == SYS_sendto ? f->sndtimeo_ns : f->rcvtimeo_ns;
        /* fall through */
    case SYS_shutdown:
    case SYS_bind:
    case SYS_listen:
    case SYS_getsockname:
    case SYS_getpeername:
    case SYS_getsockopt:
        /* As it is, on the host socket: every pointer it takes is one the
         * shape describes, so an offset into the slot. */
        r = neg(syscall(s->op, x[0], x[1], x[2], x[3], x[4], x[5]));
        break;
    default:
        /* Not a call the plugin posts: its pointers would be vigil's. */
        s->result = -ENOSYS;
        return true;
    }
    if (must_wait(f, r, flags, w, now, timeo))
        return false;
    s->result = r;
    return true;
}

/* The host-side arguments: the guest's descriptor as the host socket,
 * and every pointer the shape describes as its place in the slot. */
static void host_args(const struct vhide_slot *s, const struct vhide_shape *sh,
                      const struct hfd *f, long x[6])
{
    for (int i = 0; i < 6; i++)
        x[i] = (long)s->args[i];
    if (f != NULL)
        x[0] = f->host;
    for (int k = 0; k < VHIDE_PTRS; k++) {
        int ai = sh->ptr[k].argi;
        if (ai >= 0)
            x[ai] =
                s->args[ai] < 0 ? 0 : (long)(uintptr_t)(s->data + s->args[ai]);
    }
}

bool hide_run_call(struct hide_table *tb, struct vhide_slot *s,
                   struct hide_pending *w, uint64_t now, struct hide_counts *n)
{
    const struct vhide_shape *sh = vhide_shape(s->op);
    struct hproc *p = hide_proc(tb, s->tgid, s->ppid, true);
    int64_t *a = s->args;
    if (sh == NULL || p == NULL || !inside(s, sh)) {
        s->result = sh == NULL || p == NULL ? -ENOSYS : -EINVAL;
        return true;
    }
    switch (s->op) {
    case SYS_poll:
        return run_poll(p, s, w, now);
    case SYS_epoll_wait:
        run_epoll_wait(p, s);
        return true;
    case SYS_epoll_ctl:
        run_epoll_ctl(p, s);
        return true;
    case SYS_socket:
        s->result = run_socket(p, a);
        return true;
    }
    struct hfd *f = NULL;
    if (sh->fd_args & 1) {
        f = hide_hfd(p, a[0]);
        if (f == NULL) {
            s->result = -EBADF;
            return true;
        }
    }
    long x[6];
    host_args(s, sh, f, x);
    switch (s->op) {
    case SYS_close:
        close(f->host);
        f->host = -1;
        s->result = 0;
        return true;
    case SYS_dup:
    case SYS_dup2:
    case SYS_dup3:
        s->result = run_dup(p, f, s->op, a);
        return true;
    case SYS_fcntl:
        s->result = run_fcntl(p, f, a);
        return true;
    case SYS_ioctl: /* FIONREAD only */
        s->result = a[1] == FIONREAD
                        ? neg(ioctl(f->host, FIONREAD, (int *)x[2]))
                        : -ENOTTY;
        return true;
    case SYS_setsockopt:
        s->result = run_setsockopt(f, a, x, n);
        return true;
    case SYS_connect:
        return run_connect(f, s, x, w, now);
    case SYS_accept:
    case SYS_accept4:
        return run_accept(p, f, s, x, w, now);
    case SYS_readv:
    case SYS_writev:
    case SYS_sendmsg:
    case SYS_recvmsg:
    case SYS_recvmmsg:
    case SYS_sendmmsg:
        return run_msg(s, f, w, now);
    }
    return run_plain(f, s, x, w, now);
}

bool hide_interrupts(struct hide_table *tb, const struct vhide_slot *s,
                     bool restart)
{
    if (s->op == SYS_poll || s->op == SYS_epoll_wait || !restart)
        return true;
    struct hproc *p = hide_proc(tb, s->tgid, s->ppid, false);
    struct hfd *f = p != NULL ? hide_hfd(p, s->args[0]) : NULL;
    if (f == NULL)
        return true;
    bool sending = s->op == SYS_write || s->op == SYS_writev ||
                   s->op == SYS_sendto || s->op == SYS_sendmsg ||
                   s->op == SYS_sendmmsg || s->op == SYS_connect;
    /* A socket's wait with a timeout ends in EINTR (sock_intr_errno). */
    return (sending ? f->sndtimeo_ns : f->rcvtimeo_ns) != 0;
}
