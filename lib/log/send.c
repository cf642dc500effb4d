/* The sender's data path: pack queued records into authenticated
 * datagrams (UDP, sendmmsg batches) or length-prefixed frames (TCP, one
 * writev per batch), and end a session with FIN. */
#include <errno.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sender-int.h"
#include "vigil/clock.h"

#define FIN_COPIES 5
/* Less than a datagram's worth of records waits this long for more: a
 * producer at a high but steady rate then fills datagrams (and batches)
 * instead of the sender sending each few records on their own, at most
 * this much later. */
#define HOLD_NS 1000000ull

static void count(struct vlog_sender *s, uint64_t *field, uint64_t n)
{
    pthread_mutex_lock(&s->lock);
    *field += n;
    pthread_mutex_unlock(&s->lock);
}

static void tcp_close(struct vlog_sender *s)
{
    if (s->data_fd >= 0)
        close(s->data_fd);
    s->data_fd = -1;
}

static bool tcp_ready(struct vlog_sender *s)
{
    if (s->data_fd >= 0) {
        /* logd closes connections idle too long: notice it before
         * writing a batch into one that is gone, and reconnect. */
        struct pollfd p = {.fd = s->data_fd, .events = POLLRDHUP};
        if (poll(&p, 1, 0) <= 0 ||
            !(p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
            return true;
        tcp_close(s);
    }
    uint64_t now = vigil_now_ns(CLOCK_MONOTONIC);
    if (now < s->next_connect_ns)
        return false;
    int fd = socket(s->dst.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    int one = 1, buf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&s->dst, s->dstlen) < 0) {
        close(fd);
        s->backoff_ns = s->backoff_ns == 0 ? 100000000ull : s->backoff_ns * 2;
        if (s->backoff_ns > 2000000000ull)
            s->backoff_ns = 2000000000ull;
        s->next_connect_ns = now + s->backoff_ns;
        count(s, &s->st.send_errors, 1);
        return false;
    }
    s->backoff_ns = 0;
    s->data_fd = fd;
    count(s, &s->st.reconnects, 1);
    return true;
}

static uint8_t *dg_at(struct vlog_sender *s, unsigned i)
{
    return s->dg + i * (VLOG_FRAME_HDR + (size_t)s->mtu);
}

/* UDP, datagrams [from, from + n) of s->dg, one sendmmsg entry each; a
 * datagram that fails is lost (logd sees the gap). Returns the bytes
 * sent; *errors counts the failures. */
static uint64_t send_mmsg(struct vlog_sender *s, unsigned from, unsigned n,
                          unsigned *errors)
{
    struct mmsghdr mm[SENDER_BATCH];
    struct iovec iov[SENDER_BATCH];
    unsigned done = 0;
    uint64_t bytes = 0;
    memset(mm, 0, sizeof mm);
    for (unsigned i = 0; i < n; i++) {
        iov[i].iov_base = dg_at(s, from + i) + VLOG_FRAME_HDR;
        iov[i].iov_len = s->dglen[from + i];
        mm[i].msg_hdr.msg_iov = &iov[i];
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    while (done < n) {
        int r = sendmmsg(s->data_fd, mm + done, n - done, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            (*errors)++;
            done++;
            continue;
        }
        for (int i = 0; i < r; i++)
            bytes += s->dglen[from + done + (unsigned)i];
        done += (unsigned)r;
    }
    return bytes;
}

long vlog_send_segmented(int fd, struct iovec *iov, unsigned n, uint16_t seg)
{
    union {
        char buf[CMSG_SPACE(sizeof(uint16_t))];
        struct cmsghdr align;
    } ctrl;
    memset(&ctrl, 0, sizeof ctrl);
    struct msghdr m = {.msg_iov = iov,
                       .msg_iovlen = n,
                       .msg_control = ctrl.buf,
                       .msg_controllen = sizeof ctrl.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof seg);
    memcpy(CMSG_DATA(c), &seg, sizeof seg);
    for (;;) {
        ssize_t r = sendmsg(fd, &m, 0);
        if (r >= 0)
            return (long)r; /* UDP sends all or nothing */
        if (errno != EINTR)
            return -errno;
    }
}

size_t vlog_recv_segment_size(struct msghdr *m)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL;
         c = CMSG_NXTHDR(m, c)) {
        int v;
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO &&
            c->cmsg_len >= CMSG_LEN(sizeof v)) {
            memcpy(&v, CMSG_DATA(c), sizeof v);
            return v > 0 ? (size_t)v : 0;
        }
    }
    return 0;
}

/* Datagrams [from, from + n) of s->dg as one send cut by the kernel. */
static long send_gso(struct vlog_sender *s, unsigned from, unsigned n)
{
    struct iovec iov[SENDER_BATCH];
    for (unsigned i = 0; i < n; i++) {
        iov[i].iov_base = dg_at(s, from + i) + VLOG_FRAME_HDR;
        iov[i].iov_len = s->dglen[from + i];
    }
    return vlog_send_segmented(s->data_fd, iov, n, (uint16_t)s->dglen[from]);
}

/* Segments of one send: the kernel's limit (UDP_MAX_SEGMENTS, 64 before
 * Linux 6.1) and an IP packet's 64 KiB. */
#define GSO_SEGS  64
#define GSO_BYTES 65000

/* UDP: the n datagrams in s->dg. Runs of datagrams of one size (every
 * datagram is filled, so a batch is mostly one run) go out as one send
 * each, cut into datagrams by the kernel: one syscall and one trip through
 * the stack per run instead of per datagram, the datagrams on the wire the
 * same. A send refused for a reason of the socket or the route (no
 * segmentation offload: an old kernel, an MTU below the datagrams', a
 * device without checksum offload) turns it off for good; any other
 * failure sends that run again datagram by datagram, so that one error
 * costs one datagram, as without it. */
static uint64_t send_udp(struct vlog_sender *s, unsigned n, unsigned *errors)
{
    if (s->no_gso)
        return send_mmsg(s, 0, n, errors);
    uint64_t bytes = 0;
    for (unsigned i = 0; i < n;) {
        unsigned k = 1;
        size_t total = s->dglen[i];
        while (i + k < n && k < GSO_SEGS &&
               total + s->dglen[i + k] <= GSO_BYTES &&
               s->dglen[i + k] <= s->dglen[i]) {
            total += s->dglen[i + k];
            /* A shorter datagram can only end a run. */
            if (s->dglen[i + k++] < s->dglen[i])
                break;
        }
        long r = k > 1 && !s->no_gso ? send_gso(s, i, k) : -EAGAIN;
        if (r >= 0) {
            bytes += (uint64_t)r;
            s->gso_sends++;
        } else {
            if (r == -EINVAL || r == -EIO || r == -EOPNOTSUPP ||
                r == -ENOPROTOOPT || r == -EMSGSIZE)
                s->no_gso = true;
            bytes += send_mmsg(s, i, k, errors);
        }
        i += k;
    }
    return bytes;
}

/* TCP: the n packets as frames in one writev; on an error the connection
 * is closed and all n count as errors. Returns the bytes sent. */
static uint64_t send_tcp(struct vlog_sender *s, unsigned n, unsigned *errors)
{
    struct iovec iov[SENDER_BATCH];
    size_t total = 0;
    for (unsigned i = 0; i < n; i++) {
        uint8_t *f = dg_at(s, i);
        vlog_frame_put(f, (uint32_t)s->dglen[i]);
        iov[i].iov_base = f;
        iov[i].iov_len = VLOG_FRAME_HDR + s->dglen[i];
        total += iov[i].iov_len;
    }
    struct iovec *v = iov;
    int vn = (int)n;
    size_t left = total;
    while (left > 0 && s->data_fd >= 0) {
        ssize_t r = writev(s->data_fd, v, vn);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            tcp_close(s);
            *errors = n;
            return 0;
        }
        left -= (size_t)r;
        while (vn > 0 && (size_t)r >= v->iov_len) {
            r -= (ssize_t)v->iov_len;
            v++;
            vn--;
        }
        if (vn > 0) {
            v->iov_base = (uint8_t *)v->iov_base + r;
            v->iov_len -= (size_t)r;
        }
    }
    return left == 0 ? total : 0;
}

static void send_batch(struct vlog_sender *s, unsigned n)
{
    unsigned errors = 0;
    if (n == 0)
        return;
    uint64_t bytes = s->tcp ? send_tcp(s, n, &errors) : send_udp(s, n, &errors);
    pthread_mutex_lock(&s->lock);
    s->st.datagrams += n - errors;
    s->st.bytes += bytes;
    s->st.send_errors += errors;
    s->st.gso_sends = s->gso_sends;
    pthread_mutex_unlock(&s->lock);
}

static bool filter_pass(const struct vlog_sender *s, const char *rec,
                        size_t len)
{
    static const char sc[] = "{\"type\":\"syscall\"";
    if (s->filter[0] == '\0')
        return true;
    if (len < sizeof sc - 1 || memcmp(rec, sc, sizeof sc - 1) != 0)
        return true; /* drops, summaries and the like always go */
    const char *f = s->filter;
    while (*f) {
        const char *comma = strchr(f, ',');
        size_t fl = comma ? (size_t)(comma - f) : strlen(f);
        char needle[96];
        if (fl > 0 && fl < 64) {
            int n = snprintf(needle, sizeof needle, "\"name\":\"%.*s\"",
                             (int)fl, f);
            if (n > 0 && memmem(rec, len, needle, (size_t)n) != NULL)
                return true;
        }
        if (comma == NULL)
            break;
        f = comma + 1;
    }
    return false;
}

static void finish_dg(struct vlog_sender *s, unsigned i, uint64_t first,
                      uint32_t n, uint16_t flags, size_t plen)
{
    uint8_t *buf = dg_at(s, i) + VLOG_FRAME_HDR;
    struct vlog_hdr h = {
        .type = VLOG_T_DATA,
        .flags = flags,
        .session = s->session,
        .seq = s->seq++,
        .time_ns = vigil_now_ns(CLOCK_REALTIME),
        .first = first,
        .count = n,
    };
    int r = vlog_encode(buf, s->mtu, &h, buf + VLOG_HDR_LEN, plen, s->key);
    s->dglen[i] = r > 0 ? (size_t)r : 0;
}

/* Packing state of one drain round. */
struct pack {
    unsigned ndg;
    size_t plen;
    uint32_t count;
    uint16_t flags;
    uint64_t first;
    uint8_t *payload;
    uint64_t trunc, split;
};

/* Close the datagram being filled and begin the next; false when the
 * batch is full. */
static bool next_dg(struct vlog_sender *s, struct pack *p)
{
    if (p->count > 0) {
        finish_dg(s, p->ndg, p->first, p->count, p->flags, p->plen);
        p->ndg++;
    }
    p->plen = 0;
    p->count = 0;
    p->flags = 0;
    if (p->ndg == SENDER_BATCH)
        return false;
    p->payload = dg_at(s, p->ndg) + VLOG_FRAME_HDR + VLOG_HDR_LEN;
    return true;
}

/* Add the rest of one record (from s->cont_off) to the round, splitting
 * it across datagrams so that each is filled. True when the record is
 * all packed; false when the batch filled first (what is left of it goes
 * at the head of the next round, s->cont_off tells where). */
static bool pack_record(struct vlog_sender *s, struct pack *p, const char *rec,
                        size_t len)
{
    size_t pcap = s->mtu - VLOG_OVERHEAD;
    bool cut = len > VLOG_REC_MAX;
    if (cut)
        len = VLOG_REC_MAX;
    for (;;) {
        /* A fragment of at least one byte (or an empty record whole). */
        if (pcap - p->plen < 3 && !next_dg(s, p))
            return false;
        size_t off = s->cont_off, n = len - off;
        if (n > pcap - p->plen - 2)
            n = pcap - p->plen - 2;
        if (n > VLOG_FRAG_MAX)
            n = VLOG_FRAG_MAX;
        bool last = off + n == len;
        if (off == 0)
            s->rec_next++;
        if (p->count == 0) {
            p->first = s->rec_next - 1;
            p->flags = off > 0 ? VLOG_F_CONT : 0;
        }
        vlog_frag_put(p->payload + p->plen, n,
                      last ? (cut ? VLOG_REC_TRUNC : 0) : VLOG_REC_MORE);
        memcpy(p->payload + p->plen + 2, rec + off, n);
        p->plen += 2 + n;
        p->count++;
        if (last) {
            p->trunc += cut;
            p->split += off > 0;
            s->cont_off = 0;
            return true;
        }
        /* A record that goes on ends its datagram. */
        s->cont_off = off + n;
        if (!next_dg(s, p))
            return false;
    }
}

/* Whether to leave a short queue for the next round (see HOLD_NS). Over
 * TCP the stream is not cut into datagrams: nothing to fill, no wait. */
static bool hold(struct vlog_sender *s, const struct vlog_queue_cursor *c)
{
    if (!s->started || s->tcp || c->end - c->pos >= s->mtu - VLOG_OVERHEAD) {
        s->hold_ns = 0;
        return false;
    }
    uint64_t now = vigil_now_ns(CLOCK_MONOTONIC);
    if (s->hold_ns == 0)
        s->hold_ns = now;
    if (now - s->hold_ns < HOLD_NS)
        return true;
    s->hold_ns = 0;
    return false;
}

uint64_t sender_drain(struct vlog_sender *s, bool flush)
{
    struct vlog_queue_cursor c;
    uint64_t consumed = 0, unsent = 0, filtered = 0, sent = 0;
    vlog_queue_begin(&s->queue, &c);
    if (c.pos == c.end || (!flush && hold(s, &c)))
        return 0;
    if (s->started && s->tcp && !tcp_ready(s))
        return 0; /* keep the records queued while reconnecting */
    struct pack p = {
        .ndg = 0,
        .plen = 0,
        .count = 0,
        .flags = 0,
        .first = s->rec_next,
        .payload = dg_at(s, 0) + VLOG_FRAME_HDR + VLOG_HDR_LEN,
        .trunc = 0,
        .split = 0,
    };
    uint32_t len;
    const char *rec;
    while ((rec = vlog_queue_peek(&s->queue, &c, &len)) != NULL) {
        /* A record begun in the last round was counted and filtered
         * then. */
        if (!s->started) {
            unsent++;
        } else if (s->cont_off == 0 && !filter_pass(s, rec, len)) {
            filtered++;
        } else {
            if (!pack_record(s, &p, rec, len))
                break;
            sent++;
        }
        vlog_queue_next(&s->queue, &c);
        consumed++;
    }
    if (p.count > 0) {
        finish_dg(s, p.ndg, p.first, p.count, p.flags, p.plen);
        p.ndg++;
    }
    send_batch(s, p.ndg);
    vlog_queue_commit(&s->queue, &c);
    pthread_mutex_lock(&s->lock);
    s->st.unsent += unsent;
    s->st.filtered += filtered;
    s->st.sent_records += sent;
    s->st.session_records = s->rec_next;
    s->st.truncated += p.trunc;
    s->st.split += p.split;
    pthread_mutex_unlock(&s->lock);
    /* Progress: a round may send a long record's middle and consume
     * nothing. */
    return consumed + p.ndg;
}

/* The session's end and total. Over UDP the copies are spread over about
 * 130 ms: a receiver whose socket buffer is full when the session ends
 * (logd still writing the burst before it) drops copies sent back to
 * back all at once, and then never learns the total. */
static void send_fin(struct vlog_sender *s)
{
    static const unsigned gap_ms[FIN_COPIES] = {0, 1, 5, 25, 100};
    if (s->tcp && !tcp_ready(s))
        return;
    unsigned copies = s->tcp ? 1 : FIN_COPIES;
    for (unsigned i = 0; i < copies; i++) {
        if (gap_ms[i] > 0)
            nanosleep(&(struct timespec){0, (long)gap_ms[i] * 1000000}, NULL);
        uint8_t *buf = dg_at(s, 0) + VLOG_FRAME_HDR;
        struct vlog_hdr h = {
            .type = VLOG_T_FIN,
            .session = s->session,
            .seq = s->seq++,
            .time_ns = vigil_now_ns(CLOCK_REALTIME),
            .first = s->rec_next,
        };
        int n = vlog_encode(buf, s->mtu, &h, NULL, 0, s->key);
        s->dglen[0] = n > 0 ? (size_t)n : 0;
        send_batch(s, 1);
    }
}

void sender_stop_session(struct vlog_sender *s)
{
    if (!s->started)
        return;
    /* What was queued before the stop still belongs to the session. */
    for (int i = 0; i < 1000 && sender_drain(s, true) > 0; i++)
        ;
    send_fin(s);
    s->started = false;
    s->cont_off = 0;
    if (s->tcp)
        tcp_close(s);
    pthread_mutex_lock(&s->lock);
    s->st.started = false;
    pthread_mutex_unlock(&s->lock);
}
