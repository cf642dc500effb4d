/* `vigil logd`: the logging host. Receives authenticated record datagrams
 * (UDP) and frames (TCP) from many vigil instances, one session each,
 * writes JSON Lines per session and an SQLite database, counts losses from
 * the record numbers, and sends START/HEARTBEAT/STOP control packets.
 *
 * `vigil logd --start HOST:PORT` / `--stop HOST:PORT` only send one control
 * packet and exit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "logd-db.h"
#include "vigil/log.h"

#define MAX_LISTEN  8
#define MAX_CONTROL 16
#define MAX_CONNS   64
#define RECV_BATCH  64
#define CTL_MAX_AGE VLOG_CTL_MAX_AGE_NS

struct session {
    uint64_t id;
    struct sockaddr_storage src; /* port cleared: TCP reconnects keep it */
    char src_text[64];
    struct vlog_replay w;
    uint64_t received, expected_end, fin_total, truncated;
    /* Lowest record number received. Loss counts from record 0 (a lost
     * first packet is loss), so a logd that joined a session already
     * running (restarted while the sender had not yet stopped) counts the
     * records before it as lost; `first` in stats.json tells the two
     * apart for a reader. */
    uint64_t base;
    uint64_t record_bytes;              /* bytes of the records delivered */
    uint64_t first_pkt_ns, last_pkt_ns; /* data packets, monotonic */
    bool fin;
    uint64_t first_ns, last_report_ns, last_report_recs, bytes,
        last_report_bytes;
    FILE *out;
    uint64_t out_bytes;
    unsigned rotations;
    char hex[17];
};

struct conn {
    int fd;
    struct sockaddr_storage peer;
    uint8_t *buf;
    size_t have;
};

struct ctl_target {
    struct sockaddr_storage ss;
    unsigned sslen;
    const char *text;
};

struct logd {
    uint8_t key[VLOG_KEY_LEN];
    const char *outdir;
    uint64_t rotate_bytes;
    bool no_db;
    bool discard; /* benchmarks: count and check, write nothing */
    unsigned interval_s;
    const char *filter;
    int udp[MAX_LISTEN], nudp;
    int tcp[MAX_LISTEN], ntcp;
    struct conn conns[MAX_CONNS];
    int nconns;
    struct ctl_target ctl[MAX_CONTROL];
    int nctl, ctl_fd;
    uint64_t ctl_session, ctl_seq;
    struct session **sess;
    size_t nsess, capsess;
    struct logd_db *db; /* NULL: --no-db */
    uint64_t rej[VLOG_REJ_STALE + 1];
    uint64_t packets;
    /* delivery context */
    struct session *cur;
    uint64_t cur_rec;
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void logd_usage(FILE *f)
{
    fprintf(
        f,
        "usage: vigil logd --listen udp://ADDR:PORT [--listen "
        "tcp://ADDR:PORT]\n"
        "                  --key FILE --out DIR [--control udp://HOST:PORT]\n"
        "                  [--filter NAMES] [--rotate-size BYTES] [--no-db]\n"
        "                  [--interval SECONDS] [--discard]\n"
        "       vigil logd --start HOST:PORT --key FILE [--filter NAMES]\n"
        "       vigil logd --stop HOST:PORT --key FILE\n"
        "\n"
        "Receive vigil event streams (docs/protocol.md). Writes\n"
        "DIR/<session>.jsonl per session (rotated at --rotate-size, default\n"
        "64 MiB), DIR/events.db (SQLite) and DIR/stats.json. --control\n"
        "sends START (with --filter, comma-separated syscall names) to a\n"
        "`vigil run --log` control port every second, and STOP at exit.\n"
        "--discard (benchmarks) checks and counts records but stores none.\n");
}

/* ---- control packets ---- */

static int send_ctl(int fd, const struct sockaddr_storage *ss, unsigned sl,
                    uint8_t type, uint64_t session, uint64_t seq,
                    const char *filter, const uint8_t *key)
{
    uint8_t buf[1024];
    struct vlog_hdr h = {
        .type = type,
        .session = session,
        .seq = seq,
        .time_ns = cli_now_ns(CLOCK_REALTIME),
    };
    size_t fl = filter ? strlen(filter) : 0;
    int n = vlog_encode(buf, sizeof buf, &h, filter, fl, key);
    if (n < 0)
        return n;
    if (sendto(fd, buf, (size_t)n, 0, (const struct sockaddr *)ss, sl) < 0)
        return -errno;
    return 0;
}

static int ctl_oneshot(const char *target, uint8_t type, const char *filter,
                       const uint8_t *key)
{
    struct sockaddr_storage ss;
    unsigned sl;
    bool tcp;
    if (vlog_parse_url(target, &tcp, &ss, &sl) < 0 || tcp) {
        cli_error("expected udp://HOST:PORT or HOST:PORT, got '%s'", target);
        return VIGIL_EXIT_USAGE;
    }
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        cli_error("socket: %s", strerror(errno));
        return 1;
    }
    uint64_t session;
    randombytes_buf(&session, sizeof session);
    int err = send_ctl(fd, &ss, sl, type, session, 0, filter, key);
    close(fd);
    if (err < 0) {
        cli_error("%s: %s", target, strerror(-err));
        return 1;
    }
    return 0;
}

/* ---- sessions and output ---- */

static void addr_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
    const void *a =
        ss->ss_family == AF_INET
            ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
            : (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
    if (inet_ntop(ss->ss_family, a, buf, (socklen_t)len) == NULL)
        snprintf(buf, len, "?");
}

static bool same_host(const struct sockaddr_storage *a,
                      const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                   &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
}

static int open_out(struct logd *d, struct session *s)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.jsonl", d->outdir, s->hex);
    s->out = fopen(path, "a");
    if (s->out == NULL)
        return -errno;
    setvbuf(s->out, NULL, _IOFBF, 1 << 20);
    s->out_bytes = 0;
    return 0;
}

static void rotate(struct logd *d, struct session *s)
{
    char from[4096], to[4200];
    fclose(s->out);
    s->out = NULL;
    s->rotations++;
    snprintf(from, sizeof from, "%s/%s.jsonl", d->outdir, s->hex);
    snprintf(to, sizeof to, "%s.%u", from, s->rotations);
    if (rename(from, to) < 0)
        cli_warn("rename %s: %s", from, strerror(errno));
    if (open_out(d, s) < 0)
        cli_warn("%s: %s", from, strerror(errno));
}

static struct session *find_session(struct logd *d, uint64_t id,
                                    const struct sockaddr_storage *src)
{
    for (size_t i = d->nsess; i-- > 0;)
        if (d->sess[i]->id == id && same_host(&d->sess[i]->src, src))
            return d->sess[i];
    return NULL;
}

static struct session *new_session(struct logd *d, uint64_t id,
                                   const struct sockaddr_storage *src)
{
    if (d->nsess == d->capsess) {
        size_t nc = d->capsess ? d->capsess * 2 : 16;
        struct session **n = realloc(d->sess, nc * sizeof *n);
        if (n == NULL)
            return NULL;
        d->sess = n;
        d->capsess = nc;
    }
    struct session *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->id = id;
    s->src = *src;
    addr_text(src, s->src_text, sizeof s->src_text);
    snprintf(s->hex, sizeof s->hex, "%016" PRIx64, id);
    s->first_ns = s->last_report_ns = cli_now_ns(CLOCK_MONOTONIC);
    if (!d->discard && open_out(d, s) < 0)
        cli_warn("%s/%s.jsonl: %s", d->outdir, s->hex, strerror(errno));
    if (d->db != NULL)
        logd_db_session(d->db, s->hex, s->src_text,
                        cli_now_ns(CLOCK_REALTIME) / 1000000000ull);
    d->sess[d->nsess++] = s;
    return s;
}

static void deliver(const char *rec, size_t len, bool trunc, void *ctx)
{
    struct logd *d = ctx;
    struct session *s = d->cur;
    uint64_t recno = d->cur_rec++;
    char tmp[160];
    if (trunc) {
        /* A cut JSON object is not JSON: write what it was instead. */
        int n = snprintf(tmp, sizeof tmp,
                         "{\"type\":\"truncated\",\"rec\":%llu,"
                         "\"bytes\":%zu}",
                         (unsigned long long)recno, len);
        rec = tmp;
        len = (size_t)n;
        s->truncated++;
    }
    if (s->out != NULL) {
        fwrite(rec, 1, len, s->out);
        fputc('\n', s->out);
        s->out_bytes += len + 1;
        if (s->out_bytes >= d->rotate_bytes)
            rotate(d, s);
    }
    if (d->db != NULL)
        logd_db_insert(d->db, s->hex, recno, rec, len);
}

/* One packet from src; every rejection is counted, nothing of it used. */
static void handle_packet(struct logd *d, const uint8_t *pkt, size_t len,
                          const struct sockaddr_storage *src)
{
    struct vlog_hdr h;
    const uint8_t *pl;
    enum vlog_reject why = VLOG_REJ_FORMAT;
    d->packets++;
    if (vlog_decode(pkt, len, &h, &pl, d->key, &why) < 0) {
        d->rej[why]++;
        return;
    }
    if (h.type != VLOG_T_DATA && h.type != VLOG_T_FIN) {
        d->rej[VLOG_REJ_FORMAT]++;
        return;
    }
    if (h.type == VLOG_T_DATA &&
        vlog_records(pl, h.payload_len, h.count, NULL, NULL) < 0) {
        d->rej[VLOG_REJ_FORMAT]++;
        return;
    }
    if (h.type == VLOG_T_FIN && h.count != 0) {
        d->rej[VLOG_REJ_FORMAT]++;
        return;
    }
    uint64_t end;
    if (__builtin_add_overflow(h.first, (uint64_t)h.count, &end)) {
        d->rej[VLOG_REJ_FORMAT]++;
        return;
    }
    struct session *s = find_session(d, h.session, src);
    if (s == NULL && h.type == VLOG_T_FIN)
        return; /* the end of a session sent to an earlier logd */
    if (s == NULL) {
        /* A session nobody has seen: only from a fresh packet, so that a
         * capture replayed to a restarted logd is not taken as new. */
        uint64_t now = cli_now_ns(CLOCK_REALTIME);
        uint64_t age = now > h.time_ns ? now - h.time_ns : h.time_ns - now;
        if (age > CTL_MAX_AGE) {
            d->rej[VLOG_REJ_STALE]++;
            return;
        }
        s = new_session(d, h.session, src);
        if (s == NULL)
            return;
        s->base = h.first;
    }
    if (vlog_replay_check(&s->w, h.seq) < 0) {
        d->rej[VLOG_REJ_REPLAY]++;
        return;
    }
    if (h.type == VLOG_T_FIN) {
        s->fin = true;
        if (h.first > s->fin_total)
            s->fin_total = h.first;
        if (h.first > s->expected_end)
            s->expected_end = h.first;
        return;
    }
    if (end > s->expected_end)
        s->expected_end = end;
    if (h.first < s->base)
        s->base = h.first; /* reordered: an earlier packet came later */
    s->last_pkt_ns = cli_now_ns(CLOCK_MONOTONIC);
    if (s->first_pkt_ns == 0)
        s->first_pkt_ns = s->last_pkt_ns;
    s->record_bytes += h.payload_len - 2ull * h.count;
    d->cur = s;
    d->cur_rec = h.first;
    vlog_records(pl, h.payload_len, h.count, deliver, d);
    s->received += h.count;
    s->bytes += len;
}

/* ---- sockets ---- */

static int listen_url(struct logd *d, const char *url)
{
    struct sockaddr_storage ss;
    unsigned sl;
    bool tcp;
    int err = vlog_parse_url(url, &tcp, &ss, &sl);
    if (err < 0) {
        cli_error("--listen %s: %s", url, strerror(-err));
        return err;
    }
    if ((tcp ? d->ntcp : d->nudp) >= MAX_LISTEN) {
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
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0 ||
        (tcp && listen(fd, 64) < 0)) {
        err = -errno;
        cli_error("--listen %s: %s", url, strerror(errno));
        close(fd);
        return err;
    }
    if (tcp)
        d->tcp[d->ntcp++] = fd;
    else
        d->udp[d->nudp++] = fd;
    return 0;
}

static void read_udp(struct logd *d, int fd)
{
    static uint8_t bufs[RECV_BATCH][VLOG_MTU_MAX];
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
        }
        int n = recvmmsg(fd, mm, RECV_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return;
        for (int i = 0; i < n; i++) {
            if (mm[i].msg_hdr.msg_flags & MSG_TRUNC) {
                d->packets++;
                d->rej[VLOG_REJ_SHORT]++;
                continue;
            }
            handle_packet(d, bufs[i], mm[i].msg_len, &from[i]);
        }
        if (n < RECV_BATCH)
            return;
    }
}

static void accept_tcp(struct logd *d, int lfd)
{
    struct sockaddr_storage peer;
    socklen_t pl = sizeof peer;
    int fd = accept4(lfd, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    if (d->nconns >= MAX_CONNS) {
        close(fd);
        return;
    }
    int buf = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    struct conn *c = &d->conns[d->nconns];
    c->buf = malloc(4 + VLOG_MTU_MAX);
    if (c->buf == NULL) {
        close(fd);
        return;
    }
    c->fd = fd;
    c->peer = peer;
    c->have = 0;
    d->nconns++;
}

static void close_conn(struct logd *d, int i)
{
    close(d->conns[i].fd);
    free(d->conns[i].buf);
    d->conns[i] = d->conns[--d->nconns];
}

/* Returns false when the connection is finished. */
static bool read_tcp(struct logd *d, struct conn *c)
{
    ssize_t r = read(c->fd, c->buf + c->have, 4 + VLOG_MTU_MAX - c->have);
    if (r < 0 && errno == EINTR)
        return true;
    if (r <= 0)
        return false;
    c->have += (size_t)r;
    size_t off = 0;
    while (c->have - off >= 4) {
        const uint8_t *p = c->buf + off;
        uint32_t fl = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                      (uint32_t)p[2] << 8 | p[3];
        if (fl < VLOG_OVERHEAD || fl > VLOG_MTU_MAX) {
            d->packets++;
            d->rej[VLOG_REJ_SHORT]++;
            return false; /* framing lost: drop the connection */
        }
        if (c->have - off - 4 < fl)
            break;
        handle_packet(d, p + 4, fl, &c->peer);
        off += 4 + fl;
    }
    memmove(c->buf, c->buf + off, c->have - off);
    c->have -= off;
    return true;
}

/* ---- reporting ---- */

static uint64_t lost_of(const struct session *s)
{
    return s->expected_end > s->received ? s->expected_end - s->received : 0;
}

static void report(struct logd *d, bool final)
{
    uint64_t now = cli_now_ns(CLOCK_MONOTONIC);
    for (size_t i = 0; i < d->nsess; i++) {
        struct session *s = d->sess[i];
        double dt = (double)(now - s->last_report_ns) / 1e9;
        if (final)
            dt = (double)(now - s->first_ns) / 1e9;
        if (!final && s->received == s->last_report_recs)
            continue;
        uint64_t recs = final ? s->received : s->received - s->last_report_recs;
        uint64_t bytes = final ? s->bytes : s->bytes - s->last_report_bytes;
        fprintf(stderr,
                "vigil logd: session %s from %s: %llu records (%.0f/s, "
                "%.2f MB/s), lost %llu%s%s\n",
                s->hex, s->src_text, (unsigned long long)s->received,
                dt > 0 ? (double)recs / dt : 0.0,
                dt > 0 ? (double)bytes / dt / 1e6 : 0.0,
                (unsigned long long)lost_of(s), s->fin ? ", ended" : "",
                final ? " (final)" : "");
        s->last_report_ns = now;
        s->last_report_recs = s->received;
        s->last_report_bytes = s->bytes;
    }
    if (final || d->rej[1] + d->rej[2] + d->rej[3] + d->rej[4] + d->rej[5])
        fprintf(stderr,
                "vigil logd: %llu packets; rejected: %llu short, %llu "
                "forged, %llu malformed, %llu replayed, %llu stale\n",
                (unsigned long long)d->packets,
                (unsigned long long)d->rej[VLOG_REJ_SHORT],
                (unsigned long long)d->rej[VLOG_REJ_AUTH],
                (unsigned long long)d->rej[VLOG_REJ_FORMAT],
                (unsigned long long)d->rej[VLOG_REJ_REPLAY],
                (unsigned long long)d->rej[VLOG_REJ_STALE]);
}

static void write_stats(struct logd *d)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/stats.json", d->outdir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return;
    fprintf(f,
            "{\"packets\":%llu,\"rejected\":{\"short\":%llu,\"forged\":%llu,"
            "\"malformed\":%llu,\"replayed\":%llu,\"stale\":%llu},"
            "\"sessions\":[",
            (unsigned long long)d->packets,
            (unsigned long long)d->rej[VLOG_REJ_SHORT],
            (unsigned long long)d->rej[VLOG_REJ_AUTH],
            (unsigned long long)d->rej[VLOG_REJ_FORMAT],
            (unsigned long long)d->rej[VLOG_REJ_REPLAY],
            (unsigned long long)d->rej[VLOG_REJ_STALE]);
    for (size_t i = 0; i < d->nsess; i++) {
        struct session *s = d->sess[i];
        fprintf(
            f,
            "%s{\"session\":\"%s\",\"source\":\"%s\",\"records\":%llu,"
            "\"expected\":%llu,\"lost\":%llu,\"truncated\":%llu,"
            "\"bytes\":%llu,\"record_bytes\":%llu,\"seconds\":%.6f,"
            "\"first\":%llu,\"ended\":%s}",
            i ? "," : "", s->hex, s->src_text, (unsigned long long)s->received,
            (unsigned long long)s->expected_end, (unsigned long long)lost_of(s),
            (unsigned long long)s->truncated, (unsigned long long)s->bytes,
            (unsigned long long)s->record_bytes,
            (double)(s->last_pkt_ns - s->first_pkt_ns) / 1e9,
            (unsigned long long)s->base, s->fin ? "true" : "false");
    }
    fprintf(f, "]}\n");
    if (fclose(f) == 0)
        rename(tmp, path);
}

/* ---- main loop ---- */

static void send_ctl_all(struct logd *d, uint8_t type)
{
    for (int i = 0; i < d->nctl; i++) {
        int err = send_ctl(d->ctl_fd, &d->ctl[i].ss, d->ctl[i].sslen, type,
                           d->ctl_session, d->ctl_seq++,
                           type == VLOG_T_START ? d->filter : NULL, d->key);
        (void)err; /* the peer may not be up yet: START repeats */
    }
}

static int logd_loop(struct logd *d)
{
    uint64_t last_ctl = 0, last_report = cli_now_ns(CLOCK_MONOTONIC);
    struct pollfd pf[MAX_LISTEN * 2 + MAX_CONNS];
    while (!stop_flag) {
        uint64_t now = cli_now_ns(CLOCK_MONOTONIC);
        if (d->nctl > 0 && now - last_ctl >= 1000000000ull) {
            /* START doubles as the heartbeat; a vigil that came up late
             * starts on the next one. */
            send_ctl_all(d, VLOG_T_START);
            last_ctl = now;
        }
        if (now - last_report >= (uint64_t)d->interval_s * 1000000000ull) {
            report(d, false);
            write_stats(d);
            for (size_t i = 0; i < d->nsess; i++)
                if (d->sess[i]->out)
                    fflush(d->sess[i]->out);
            last_report = now;
        }
        logd_db_commit(d->db, false);
        int n = 0;
        for (int i = 0; i < d->nudp; i++)
            pf[n++] = (struct pollfd){.fd = d->udp[i], .events = POLLIN};
        for (int i = 0; i < d->ntcp; i++)
            pf[n++] = (struct pollfd){.fd = d->tcp[i], .events = POLLIN};
        for (int i = 0; i < d->nconns; i++)
            pf[n++] = (struct pollfd){.fd = d->conns[i].fd, .events = POLLIN};
        int r = poll(pf, (nfds_t)n, 100);
        if (r <= 0)
            continue;
        int k = 0;
        for (int i = 0; i < d->nudp; i++, k++)
            if (pf[k].revents & POLLIN)
                read_udp(d, d->udp[i]);
        for (int i = 0; i < d->ntcp; i++, k++)
            if (pf[k].revents & POLLIN)
                accept_tcp(d, d->tcp[i]);
        /* Connections: walk the poll entries backwards so closing one
         * (which moves the last into its slot) does not skip any. */
        int nc = n - k;
        for (int i = nc - 1; i >= 0; i--) {
            if (!(pf[k + i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (i < d->nconns && !read_tcp(d, &d->conns[i]))
                close_conn(d, i);
        }
    }
    /* Drain what is already queued in the sockets. */
    for (int i = 0; i < d->nudp; i++)
        read_udp(d, d->udp[i]);
    for (int i = d->nconns - 1; i >= 0; i--) {
        struct pollfd p = {.fd = d->conns[i].fd, .events = POLLIN};
        bool open = true;
        for (int k = 0; k < 100000 && open && poll(&p, 1, 0) > 0; k++)
            open = read_tcp(d, &d->conns[i]);
    }
    send_ctl_all(d, VLOG_T_STOP);
    return 0;
}

int cmd_logd(int argc, char **argv)
{
    enum {
        OPT_LISTEN = 256,
        OPT_KEY,
        OPT_OUT,
        OPT_CONTROL,
        OPT_FILTER,
        OPT_ROTATE,
        OPT_NODB,
        OPT_DISCARD,
        OPT_INTERVAL,
        OPT_START,
        OPT_STOP,
    };
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"key", required_argument, NULL, OPT_KEY},
        {"out", required_argument, NULL, OPT_OUT},
        {"control", required_argument, NULL, OPT_CONTROL},
        {"filter", required_argument, NULL, OPT_FILTER},
        {"rotate-size", required_argument, NULL, OPT_ROTATE},
        {"no-db", no_argument, NULL, OPT_NODB},
        {"discard", no_argument, NULL, OPT_DISCARD},
        {"interval", required_argument, NULL, OPT_INTERVAL},
        {"start", required_argument, NULL, OPT_START},
        {"stop", required_argument, NULL, OPT_STOP},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static struct logd d;
    const char *listen[2 * MAX_LISTEN];
    int nlisten = 0;
    const char *keyfile = NULL, *start = NULL, *stopt = NULL;
    memset(&d, 0, sizeof d);
    d.rotate_bytes = 64ull << 20;
    d.interval_s = 5;
    d.ctl_fd = -1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case OPT_LISTEN:
            if (nlisten == 2 * MAX_LISTEN) {
                cli_error("too many --listen");
                return VIGIL_EXIT_USAGE;
            }
            listen[nlisten++] = optarg;
            break;
        case OPT_KEY:
            keyfile = optarg;
            break;
        case OPT_OUT:
            d.outdir = optarg;
            break;
        case OPT_CONTROL: {
            bool tcp;
            struct ctl_target *t = &d.ctl[d.nctl];
            if (d.nctl == MAX_CONTROL ||
                vlog_parse_url(optarg, &tcp, &t->ss, &t->sslen) < 0 || tcp) {
                cli_error("--control: expected udp://HOST:PORT, got '%s'",
                          optarg);
                return VIGIL_EXIT_USAGE;
            }
            t->text = optarg;
            d.nctl++;
            break;
        }
        case OPT_FILTER:
            d.filter = optarg;
            break;
        case OPT_ROTATE:
            errno = 0;
            d.rotate_bytes = strtoull(optarg, &end, 10);
            if (errno || *end || d.rotate_bytes < 4096) {
                cli_error("--rotate-size: expected bytes >= 4096");
                return VIGIL_EXIT_USAGE;
            }
            break;
        case OPT_NODB:
            d.no_db = true;
            break;
        case OPT_DISCARD:
            d.discard = d.no_db = true;
            break;
        case OPT_INTERVAL:
            errno = 0;
            d.interval_s = (unsigned)strtoul(optarg, &end, 10);
            if (errno || *end || d.interval_s == 0 || d.interval_s > 3600) {
                cli_error("--interval: expected 1..3600 seconds");
                return VIGIL_EXIT_USAGE;
            }
            break;
        case OPT_START:
            start = optarg;
            break;
        case OPT_STOP:
            stopt = optarg;
            break;
        case 'h':
            logd_usage(stdout);
            return 0;
        default:
            logd_usage(stderr);
            return VIGIL_EXIT_USAGE;
        }
    }
    if (optind < argc || keyfile == NULL) {
        logd_usage(stderr);
        return VIGIL_EXIT_USAGE;
    }
    if (sodium_init() < 0) {
        cli_error("libsodium failed to initialize");
        return 1;
    }
    int err = vlog_key_load(keyfile, d.key);
    if (err < 0) {
        cli_error("--key %s: %s (expected 32 bytes or 64 hex digits)", keyfile,
                  strerror(-err));
        return VIGIL_EXIT_USAGE;
    }
    if (start != NULL || stopt != NULL) {
        if (d.filter && (strlen(d.filter) >= 512 || stopt)) {
            cli_error("--filter goes with --start, up to 511 characters");
            return VIGIL_EXIT_USAGE;
        }
        return start ? ctl_oneshot(start, VLOG_T_START, d.filter, d.key)
                     : ctl_oneshot(stopt, VLOG_T_STOP, NULL, d.key);
    }
    if (nlisten == 0 || d.outdir == NULL) {
        logd_usage(stderr);
        return VIGIL_EXIT_USAGE;
    }
    if (d.filter && strlen(d.filter) >= 512) {
        cli_error("--filter: up to 511 characters");
        return VIGIL_EXIT_USAGE;
    }
    if (mkdir(d.outdir, 0755) < 0 && errno != EEXIST) {
        cli_error("%s: %s", d.outdir, strerror(errno));
        return 1;
    }
    for (int i = 0; i < nlisten; i++)
        if (listen_url(&d, listen[i]) < 0)
            return 1;
    if (d.nctl > 0) {
        d.ctl_fd = socket(d.ctl[0].ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (d.ctl_fd < 0) {
            cli_error("socket: %s", strerror(errno));
            return 1;
        }
        randombytes_buf(&d.ctl_session, sizeof d.ctl_session);
    }
    if (!d.no_db && logd_db_open(&d.db, d.outdir) < 0)
        return 1;
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "vigil logd: listening\n");

    logd_loop(&d);

    logd_db_commit(d.db, true);
    report(&d, true);
    write_stats(&d);
    for (size_t i = 0; i < d.nsess; i++) {
        if (d.sess[i]->out)
            fclose(d.sess[i]->out);
        free(d.sess[i]);
    }
    free(d.sess);
    while (d.nconns > 0)
        close_conn(&d, d.nconns - 1);
    logd_db_close(d.db);
    for (int i = 0; i < d.nudp; i++)
        close(d.udp[i]);
    for (int i = 0; i < d.ntcp; i++)
        close(d.tcp[i]);
    if (d.ctl_fd >= 0)
        close(d.ctl_fd);
    sodium_memzero(d.key, sizeof d.key);
    return 0;
}
