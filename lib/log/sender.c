/* The log sender: a bounded single-producer queue between the event
 * producer and a sender thread that packs records into authenticated
 * datagrams (UDP, sendmmsg batches) or length-prefixed frames (TCP).
 *
 * The producer never blocks: a full queue drops the record and counts it;
 * the count goes out in-band as a {"type":"drops"} record as soon as there
 * is room again. The thread also owns the control socket: nothing is sent
 * before an authentic START, and sending ends on STOP or when heartbeats
 * stop arriving.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "vigil/log.h"

#define BATCH       64 /* datagrams per sendmmsg / writev */
#define CTL_WINDOWS 8
#define FILTER_MAX  512
#define FIN_COPIES  5

struct ctl_window {
    uint64_t session;
    uint64_t used; /* LRU stamp; 0: free */
    struct vlog_replay w;
};

struct vlog_sender {
    uint8_t key[VLOG_KEY_LEN];
    bool tcp;
    struct sockaddr_storage dst;
    unsigned dstlen;
    unsigned mtu;
    unsigned hb_ms, hb_missed;
    int ctl_fd, data_fd;
    uint16_t ctl_port;

    /* queue: [u32 len][bytes] records, wrapping */
    uint8_t *q;
    uint64_t qcap;
    uint64_t head;          /* written by producer (atomic) */
    uint64_t tail;          /* written by the thread after sending (atomic) */
    uint64_t pending_drops; /* producer only */
    uint64_t dropped_total; /* atomic */
    uint64_t queued;        /* atomic */

    pthread_t thread;
    int quit; /* atomic */

    /* thread state */
    bool started;
    uint64_t session, seq, rec_next;
    uint64_t last_ctl_ns;
    uint64_t ctl_owner; /* control session whose START began ours */
    char filter[FILTER_MAX];
    struct ctl_window ctlw[CTL_WINDOWS];
    uint64_t ctl_stamp;
    uint8_t *dg; /* BATCH buffers of 4 + mtu bytes */
    size_t dglen[BATCH];
    uint8_t *scratch; /* one record that wraps around the queue end */
    uint64_t next_connect_ns, backoff_ns;

    pthread_mutex_t lock; /* protects st */
    struct vlog_sender_stats st;
};

static uint64_t now_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void qcopy_in(struct vlog_sender *s, uint64_t pos, const void *src,
                     size_t n)
{
    size_t off = (size_t)(pos & (s->qcap - 1));
    size_t first = n < s->qcap - off ? n : (size_t)(s->qcap - off);
    memcpy(s->q + off, src, first);
    memcpy(s->q, (const uint8_t *)src + first, n - first);
}

static void qcopy_out(const struct vlog_sender *s, uint64_t pos, void *dst,
                      size_t n)
{
    size_t off = (size_t)(pos & (s->qcap - 1));
    size_t first = n < s->qcap - off ? n : (size_t)(s->qcap - off);
    memcpy(dst, s->q + off, first);
    memcpy((uint8_t *)dst + first, s->q, n - first);
}

static bool qput(struct vlog_sender *s, const char *rec, uint32_t len)
{
    uint64_t head = s->head;
    uint64_t tail = __atomic_load_n(&s->tail, __ATOMIC_ACQUIRE);
    if (s->qcap - (head - tail) < 4 + (uint64_t)len)
        return false;
    qcopy_in(s, head, &len, 4);
    qcopy_in(s, head + 4, rec, len);
    __atomic_store_n(&s->head, head + 4 + len, __ATOMIC_RELEASE);
    return true;
}

/* Queue the {"type":"drops"} record for what was dropped since the last
 * one, if there is room. Producer only. */
static void push_drops(struct vlog_sender *s)
{
    if (s->pending_drops > 0) {
        char d[128];
        int n = snprintf(d, sizeof d,
                         "{\"type\":\"drops\",\"records\":%llu,\"total\":%llu,"
                         "\"reason\":\"log queue full\"}",
                         (unsigned long long)s->pending_drops,
                         (unsigned long long)__atomic_load_n(&s->dropped_total,
                                                             __ATOMIC_RELAXED));
        if (n > 0 && (size_t)n < sizeof d && qput(s, d, (uint32_t)n))
            s->pending_drops = 0;
    }
}

int vlog_sender_push(struct vlog_sender *s, const char *rec, size_t len)
{
    if (s == NULL || (rec == NULL && len > 0))
        return -EINVAL;
    if (len > UINT16_MAX * 16u)
        len = UINT16_MAX * 16u; /* cut later to the datagram anyway */
    push_drops(s);
    if (s->pending_drops > 0 || !qput(s, rec, (uint32_t)len)) {
        s->pending_drops++;
        __atomic_add_fetch(&s->dropped_total, 1, __ATOMIC_RELAXED);
        return -ENOBUFS;
    }
    __atomic_add_fetch(&s->queued, 1, __ATOMIC_RELAXED);
    return 0;
}

bool vlog_sender_room(struct vlog_sender *s, size_t len)
{
    uint64_t tail = __atomic_load_n(&s->tail, __ATOMIC_ACQUIRE);
    return s->qcap - (s->head - tail) >= 4 + (uint64_t)len + 256;
}

/* ---- data path ---- */

static void tcp_close(struct vlog_sender *s)
{
    if (s->data_fd >= 0)
        close(s->data_fd);
    s->data_fd = -1;
}

static bool tcp_ready(struct vlog_sender *s)
{
    if (s->data_fd >= 0)
        return true;
    uint64_t now = now_ns(CLOCK_MONOTONIC);
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
        pthread_mutex_lock(&s->lock);
        s->st.send_errors++;
        pthread_mutex_unlock(&s->lock);
        return false;
    }
    s->backoff_ns = 0;
    s->data_fd = fd;
    pthread_mutex_lock(&s->lock);
    s->st.reconnects++;
    pthread_mutex_unlock(&s->lock);
    return true;
}

/* Send the n datagrams in s->dg; returns how many went out. */
static unsigned send_batch(struct vlog_sender *s, unsigned n)
{
    unsigned done = 0, errors = 0;
    uint64_t bytes = 0;
    size_t stride = 4 + s->mtu;
    if (n == 0)
        return 0;
    if (!s->tcp) {
        struct mmsghdr mm[BATCH];
        struct iovec iov[BATCH];
        memset(mm, 0, sizeof mm);
        for (unsigned i = 0; i < n; i++) {
            iov[i].iov_base = s->dg + i * stride + 4;
            iov[i].iov_len = s->dglen[i];
            mm[i].msg_hdr.msg_iov = &iov[i];
            mm[i].msg_hdr.msg_iovlen = 1;
        }
        while (done < n) {
            int r = sendmmsg(s->data_fd, mm + done, n - done, 0);
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                errors++;
                done++; /* this datagram is lost; logd sees the gap */
                continue;
            }
            for (int i = 0; i < r; i++)
                bytes += s->dglen[done + (unsigned)i];
            done += (unsigned)r;
        }
        done -= errors;
    } else {
        struct iovec iov[BATCH];
        size_t total = 0;
        for (unsigned i = 0; i < n; i++) {
            uint8_t *f = s->dg + i * stride;
            uint32_t l = (uint32_t)s->dglen[i];
            f[0] = (uint8_t)(l >> 24);
            f[1] = (uint8_t)(l >> 16);
            f[2] = (uint8_t)(l >> 8);
            f[3] = (uint8_t)l;
            iov[i].iov_base = f;
            iov[i].iov_len = 4 + l;
            total += 4 + l;
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
                errors = n;
                break;
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
        if (left == 0) {
            done = n;
            bytes = total;
        }
    }
    pthread_mutex_lock(&s->lock);
    s->st.datagrams += done;
    s->st.bytes += bytes;
    s->st.send_errors += errors;
    pthread_mutex_unlock(&s->lock);
    return done;
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

static size_t finish_dg(struct vlog_sender *s, unsigned i, uint64_t first,
                        uint32_t count, size_t plen)
{
    uint8_t *buf = s->dg + i * (4 + (size_t)s->mtu) + 4;
    struct vlog_hdr h = {
        .type = VLOG_T_DATA,
        .session = s->session,
        .seq = s->seq++,
        .time_ns = now_ns(CLOCK_REALTIME),
        .first = first,
        .count = count,
    };
    int n = vlog_encode(buf, s->mtu, &h, buf + VLOG_HDR_LEN, plen, s->key);
    s->dglen[i] = n > 0 ? (size_t)n : 0;
    return s->dglen[i];
}

/* Pack queued records into up to BATCH datagrams and send them. Returns
 * the number of records consumed from the queue. */
static uint64_t drain(struct vlog_sender *s)
{
    uint64_t cur = s->tail;
    uint64_t head = __atomic_load_n(&s->head, __ATOMIC_ACQUIRE);
    uint64_t consumed = 0, unsent = 0, filtered = 0, sent = 0, trunc = 0;
    if (cur == head)
        return 0;
    if (s->started && s->tcp && !tcp_ready(s))
        return 0; /* keep the records queued while reconnecting */
    size_t pcap = s->mtu - VLOG_OVERHEAD;
    unsigned ndg = 0;
    size_t plen = 0;
    uint32_t count = 0;
    uint64_t first = s->rec_next;
    uint8_t *payload = s->dg + 4 + VLOG_HDR_LEN;
    while (cur != head) {
        uint32_t len;
        qcopy_out(s, cur, &len, 4);
        size_t off = (size_t)((cur + 4) & (s->qcap - 1));
        const char *rec;
        if (off + len <= s->qcap) {
            rec = (const char *)s->q + off;
        } else {
            qcopy_out(s, cur + 4, s->scratch, len);
            rec = (const char *)s->scratch;
        }
        if (!s->started) {
            unsent++;
        } else if (!filter_pass(s, rec, len)) {
            filtered++;
        } else {
            size_t rl = len;
            uint16_t flag = 0;
            if (rl > pcap - 2) {
                rl = pcap - 2;
                flag = VLOG_REC_TRUNC;
                trunc++;
            }
            if (plen + 2 + rl > pcap) {
                finish_dg(s, ndg, first, count, plen);
                ndg++;
                first = s->rec_next;
                plen = 0;
                count = 0;
                if (ndg == BATCH)
                    break; /* this record starts the next round */
                payload = s->dg + ndg * (4 + (size_t)s->mtu) + 4 + VLOG_HDR_LEN;
            }
            uint16_t w = (uint16_t)(rl | flag);
            payload[plen] = (uint8_t)(w >> 8);
            payload[plen + 1] = (uint8_t)w;
            memcpy(payload + plen + 2, rec, rl);
            plen += 2 + rl;
            count++;
            s->rec_next++;
            sent++;
        }
        cur += 4 + (uint64_t)len;
        consumed++;
    }
    if (count > 0) {
        finish_dg(s, ndg, first, count, plen);
        ndg++;
    }
    send_batch(s, ndg);
    __atomic_store_n(&s->tail, cur, __ATOMIC_RELEASE);
    pthread_mutex_lock(&s->lock);
    s->st.unsent += unsent;
    s->st.filtered += filtered;
    s->st.sent_records += sent;
    s->st.session_records = s->rec_next;
    s->st.truncated += trunc;
    pthread_mutex_unlock(&s->lock);
    return consumed;
}

static void send_fin(struct vlog_sender *s)
{
    if (s->tcp && !tcp_ready(s))
        return;
    unsigned copies = s->tcp ? 1 : FIN_COPIES;
    for (unsigned i = 0; i < copies; i++) {
        uint8_t *buf = s->dg + i * (4 + (size_t)s->mtu) + 4;
        struct vlog_hdr h = {
            .type = VLOG_T_FIN,
            .session = s->session,
            .seq = s->seq++,
            .time_ns = now_ns(CLOCK_REALTIME),
            .first = s->rec_next,
        };
        int n = vlog_encode(buf, s->mtu, &h, NULL, 0, s->key);
        s->dglen[i] = n > 0 ? (size_t)n : 0;
    }
    send_batch(s, copies);
}

static void stop_session(struct vlog_sender *s)
{
    if (!s->started)
        return;
    /* What was queued before the stop still belongs to the session. */
    for (int i = 0; i < 1000 && drain(s) > 0; i++)
        ;
    send_fin(s);
    s->started = false;
    if (s->tcp)
        tcp_close(s);
    pthread_mutex_lock(&s->lock);
    s->st.started = false;
    pthread_mutex_unlock(&s->lock);
}

/* ---- control ---- */

static struct vlog_replay *ctl_window(struct vlog_sender *s, uint64_t session)
{
    struct ctl_window *lru = &s->ctlw[0];
    for (int i = 0; i < CTL_WINDOWS; i++) {
        if (s->ctlw[i].used && s->ctlw[i].session == session) {
            s->ctlw[i].used = ++s->ctl_stamp;
            return &s->ctlw[i].w;
        }
        if (s->ctlw[i].used < lru->used)
            lru = &s->ctlw[i];
    }
    memset(lru, 0, sizeof *lru);
    lru->session = session;
    lru->used = ++s->ctl_stamp;
    return &lru->w;
}

static bool filter_ok(const uint8_t *p, size_t n)
{
    if (n >= FILTER_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(p[i] == ',' || p[i] == '_' || (p[i] >= '0' && p[i] <= '9') ||
              (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')))
            return false;
    return true;
}

static void handle_ctl(struct vlog_sender *s, const uint8_t *pkt, size_t len)
{
    struct vlog_hdr h;
    const uint8_t *pl;
    bool ok = false;
    if (vlog_decode(pkt, len, &h, &pl, s->key, NULL) < 0)
        goto out;
    if (h.type != VLOG_T_START && h.type != VLOG_T_STOP &&
        h.type != VLOG_T_HEARTBEAT)
        goto out;
    uint64_t now = now_ns(CLOCK_REALTIME);
    uint64_t age = now > h.time_ns ? now - h.time_ns : h.time_ns - now;
    if (age > VLOG_CTL_MAX_AGE_NS)
        goto out;
    if (h.type == VLOG_T_START && !filter_ok(pl, h.payload_len))
        goto out;
    if (h.type != VLOG_T_START && h.payload_len != 0)
        goto out;
    if (vlog_replay_check(ctl_window(s, h.session), h.seq) < 0)
        goto out;
    ok = true;
    s->last_ctl_ns = now_ns(CLOCK_MONOTONIC);
    if (h.type == VLOG_T_START) {
        /* A START from another control session (a restarted logd, or a
         * second one-shot START) ends ours and begins a new one, so a
         * receiver always sees a session from its first record. */
        if (s->started && h.session != s->ctl_owner)
            stop_session(s);
        memcpy(s->filter, pl, h.payload_len);
        s->filter[h.payload_len] = '\0';
        s->ctl_owner = h.session;
        if (!s->started) {
            s->started = true;
            randombytes_buf(&s->session, sizeof s->session);
            s->seq = 0;
            s->rec_next = 0;
            pthread_mutex_lock(&s->lock);
            s->st.started = true;
            s->st.session = s->session;
            s->st.sessions++;
            s->st.session_records = 0;
            pthread_mutex_unlock(&s->lock);
        }
    } else if (h.type == VLOG_T_STOP) {
        stop_session(s);
    }
out:
    pthread_mutex_lock(&s->lock);
    if (ok)
        s->st.ctl_ok++;
    else
        s->st.ctl_rejected++;
    pthread_mutex_unlock(&s->lock);
}

static void poll_ctl(struct vlog_sender *s)
{
    uint8_t buf[2048];
    for (int i = 0; i < 64; i++) {
        ssize_t r = recv(s->ctl_fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
        if (r < 0)
            break;
        if ((size_t)r > sizeof buf) {
            pthread_mutex_lock(&s->lock);
            s->st.ctl_rejected++;
            pthread_mutex_unlock(&s->lock);
            continue;
        }
        handle_ctl(s, buf, (size_t)r);
    }
    if (s->started && s->hb_missed > 0 &&
        now_ns(CLOCK_MONOTONIC) - s->last_ctl_ns >
            (uint64_t)s->hb_ms * s->hb_missed * 1000000ull)
        stop_session(s);
}

static void *sender_main(void *arg)
{
    struct vlog_sender *s = arg;
    uint64_t give_up = 0;
    for (;;) {
        poll_ctl(s);
        uint64_t n = drain(s);
        if (n == 0) {
            if (__atomic_load_n(&s->quit, __ATOMIC_ACQUIRE)) {
                if (__atomic_load_n(&s->head, __ATOMIC_ACQUIRE) == s->tail)
                    break;
                /* Not connected at exit: after 2 s the rest is unsent. */
                if (give_up == 0)
                    give_up = now_ns(CLOCK_MONOTONIC) + 2000000000ull;
                else if (now_ns(CLOCK_MONOTONIC) > give_up)
                    s->started = false;
            }
            struct pollfd p = {.fd = s->ctl_fd, .events = POLLIN};
            poll(&p, 1, 1);
        }
    }
    stop_session(s);
    return NULL;
}

/* ---- lifetime ---- */

static int open_ctl(struct vlog_sender *s, const struct vlog_sender_opts *o)
{
    char url[300];
    struct sockaddr_storage ss;
    unsigned sl;
    bool tcp;
    snprintf(url, sizeof url, "udp://%s:%u",
             o->ctl_bind ? o->ctl_bind : "0.0.0.0", o->ctl_port);
    int err = vlog_parse_url(url, &tcp, &ss, &sl);
    if (err < 0)
        return err;
    s->ctl_fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s->ctl_fd < 0)
        return -errno;
    if (bind(s->ctl_fd, (struct sockaddr *)&ss, sl) < 0)
        return -errno;
    socklen_t l = sizeof ss;
    if (getsockname(s->ctl_fd, (struct sockaddr *)&ss, &l) < 0)
        return -errno;
    s->ctl_port = ntohs(ss.ss_family == AF_INET
                            ? ((struct sockaddr_in *)&ss)->sin_port
                            : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

int vlog_sender_new(struct vlog_sender **out, const struct vlog_sender_opts *o)
{
    if (out == NULL || o == NULL || o->url == NULL || o->key == NULL)
        return -EINVAL;
    if (sodium_init() < 0)
        return -EIO;
    struct vlog_sender *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    s->ctl_fd = s->data_fd = -1;
    pthread_mutex_init(&s->lock, NULL);
    memcpy(s->key, o->key, VLOG_KEY_LEN);
    int err = vlog_parse_url(o->url, &s->tcp, &s->dst, &s->dstlen);
    if (err < 0)
        goto fail;
    s->mtu = o->mtu ? o->mtu : s->tcp ? 16384 : VLOG_MTU_DEFAULT;
    if (s->mtu < VLOG_MTU_MIN || s->mtu > VLOG_MTU_MAX) {
        err = -EINVAL;
        goto fail;
    }
    s->hb_ms = o->hb_ms ? o->hb_ms : 1000;
    s->hb_missed = o->hb_missed;
    s->qcap = 1;
    size_t want = o->queue_bytes ? o->queue_bytes : 8u << 20;
    while (s->qcap < want && s->qcap < (1ull << 32))
        s->qcap <<= 1;
    if (s->qcap < 2 * (uint64_t)UINT16_MAX * 16u + 8)
        s->qcap = 4u << 20; /* room for the largest record */
    s->q = malloc(s->qcap);
    s->scratch = malloc(UINT16_MAX * 16u);
    s->dg = malloc(BATCH * (4 + (size_t)s->mtu));
    if (s->q == NULL || s->scratch == NULL || s->dg == NULL) {
        err = -ENOMEM;
        goto fail;
    }
    err = open_ctl(s, o);
    if (err < 0)
        goto fail;
    if (!s->tcp) {
        s->data_fd = socket(s->dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s->data_fd < 0) {
            err = -errno;
            goto fail;
        }
        int buf = 4 << 20;
        setsockopt(s->data_fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
        if (connect(s->data_fd, (struct sockaddr *)&s->dst, s->dstlen) < 0) {
            err = -errno;
            goto fail;
        }
    }
    err = -pthread_create(&s->thread, NULL, sender_main, s);
    if (err < 0)
        goto fail;
    *out = s;
    return 0;
fail:
    if (s->ctl_fd >= 0)
        close(s->ctl_fd);
    if (s->data_fd >= 0)
        close(s->data_fd);
    free(s->q);
    free(s->scratch);
    free(s->dg);
    pthread_mutex_destroy(&s->lock);
    free(s);
    return err;
}

uint16_t vlog_sender_ctl_port(const struct vlog_sender *s)
{
    return s ? s->ctl_port : 0;
}

void vlog_sender_stats(struct vlog_sender *s, struct vlog_sender_stats *st)
{
    pthread_mutex_lock(&s->lock);
    *st = s->st;
    pthread_mutex_unlock(&s->lock);
    st->queued = __atomic_load_n(&s->queued, __ATOMIC_RELAXED);
    st->dropped = __atomic_load_n(&s->dropped_total, __ATOMIC_RELAXED);
}

bool vlog_sender_wait_started(struct vlog_sender *s, unsigned timeout_ms)
{
    for (unsigned t = 0;; t += 10) {
        pthread_mutex_lock(&s->lock);
        bool st = s->st.started;
        pthread_mutex_unlock(&s->lock);
        if (st)
            return true;
        if (t >= timeout_ms)
            return false;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

int vlog_sender_flush(struct vlog_sender *s, unsigned timeout_ms)
{
    for (unsigned t = 0;; t++) {
        push_drops(s); /* the last drops are reported too */
        if (__atomic_load_n(&s->tail, __ATOMIC_ACQUIRE) == s->head)
            return 0;
        if (t >= timeout_ms)
            return -ETIMEDOUT;
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

void vlog_sender_free(struct vlog_sender *s)
{
    if (s == NULL)
        return;
    __atomic_store_n(&s->quit, 1, __ATOMIC_RELEASE);
    pthread_join(s->thread, NULL);
    close(s->ctl_fd);
    if (s->data_fd >= 0)
        close(s->data_fd);
    sodium_memzero(s->key, sizeof s->key);
    free(s->q);
    free(s->scratch);
    free(s->dg);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
