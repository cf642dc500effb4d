/* vigil update send, listen and flood: signed updates over UDP
 * (docs/updates.md, "Over the network"). */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "run-update.h"
#include "update-cli.h"
#include "vigil/log.h"
#include "vigil/update.h"

#define KEYS_MAX 16

static int udp_to(const char *url, struct sockaddr_storage *ss, unsigned *sl)
{
    bool tcp;
    if (vlog_parse_url(url, &tcp, ss, sl) < 0 || tcp) {
        cli_error("expected udp://HOST:PORT, got '%s'", url);
        return -1;
    }
    int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)ss, *sl) < 0) {
        cli_error("%s: %s", url, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Wait up to @ms for one datagram that decodes; 1, 0 on timeout, -1. */
static int recv_pkt(int fd, int ms, uint8_t *buf, struct vupd_pkt *p)
{
    uint64_t end = cli_now_ns(CLOCK_MONOTONIC) + (uint64_t)ms * 1000000;
    for (;;) {
        uint64_t now = cli_now_ns(CLOCK_MONOTONIC);
        if (now >= end)
            return 0;
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int r = poll(&pf, 1, (int)((end - now) / 1000000) + 1);
        if (r < 0 && errno != EINTR)
            return -1;
        if (r <= 0)
            continue;
        ssize_t n = recv(fd, buf, VUPD_DGRAM_MAX, 0);
        if (n > 0 && vupd_pkt_decode(buf, (size_t)n, p) == 0)
            return 1;
    }
}

/* A bundle on its way to a listener. */
struct sender {
    const char *name; /* the bundle's file, for messages */
    uint8_t *bundle;
    size_t len;
    struct vupd_bundle b;
    size_t frag;
    uint32_t nfrags;
    uint8_t (*hashes)[32];
    uint64_t id;
    int fd;
    unsigned sent_frags;
};

static void sender_free(struct sender *s)
{
    if (s->fd >= 0)
        close(s->fd);
    free(s->hashes);
    free(s->bundle);
}

/* Read and check the bundle, hash its fragments, and open the socket. */
static int sender_open(struct sender *s, const char *path, const char *url)
{
    *s = (struct sender){.name = path, .fd = -1};
    if (update_read_named("bundle", path, VUPD_DEFAULT_MAX, &s->bundle,
                          &s->len) < 0)
        return -1;
    struct vupd_sig sig;
    struct vupd_claim claim;
    char err[256];
    enum vupd_reason r =
        vupd_parse(s->bundle, s->len, 0, &s->b, err, sizeof err);
    if (r == VUPD_OK && (vupd_sig_parse(s->b.sig_text, s->b.sig_len, &sig, err,
                                        sizeof err) < 0 ||
                         vupd_claim_parse(sig.comment, &claim) < 0)) {
        snprintf(err, sizeof err, "no vigil trusted comment");
        r = VUPD_SIG_MALFORMED;
    }
    if (r != VUPD_OK) {
        cli_error("%s: %s (%s)", path, err, vupd_reason_name(r));
        return -1;
    }
    size_t plen = (size_t)s->b.h.payload_len;
    s->frag = (size_t)claim.frag;
    s->nfrags = (uint32_t)((plen + s->frag - 1) / s->frag);
    s->hashes = malloc((size_t)s->nfrags * 32);
    if (s->hashes == NULL) {
        cli_error("out of memory");
        return -1;
    }
    struct sockaddr_storage ss;
    unsigned sl;
    s->fd = udp_to(url, &ss, &sl);
    if (s->fd < 0)
        return -1;
    uint8_t fh[32], digest[32];
    vupd_fraghash(s->b.payload, plen, s->frag, fh, s->hashes);
    crypto_hash_sha256(digest, s->bundle, s->len);
    memcpy(&s->id, digest, 8);
    return 0;
}

/* The fragments the listener lacks, paced so that a socket buffer keeps
 * up. */
static void send_missing(struct sender *s, const struct vupd_pkt *ack)
{
    static uint8_t pkt[VUPD_DGRAM_MAX];
    size_t plen = (size_t)s->b.h.payload_len;
    for (uint32_t i = 0; i < ack->nlisted; i++) {
        uint32_t k = ack->missing[i];
        if (k >= s->nfrags)
            continue;
        size_t off = (size_t)k * s->frag;
        struct vupd_pkt f = {.type = VUPD_PKT_FRAG,
                             .update_id = s->id,
                             .index = k,
                             .data = s->b.payload + off,
                             .len =
                                 plen - off < s->frag ? plen - off : s->frag};
        size_t n = vupd_pkt_encode(&f, pkt, sizeof pkt);
        if (send(s->fd, pkt, n, 0) > 0)
            s->sent_frags++;
        if (i % 32 == 31) {
            struct timespec ts = {0, 200000};
            nanosleep(&ts, NULL);
        }
    }
}

/* Announce the update (the manifest, then polls once it is open there)
 * and answer each acknowledgement until it is applied or refused.
 * Returns 0 when applied, 1 when refused, -1 on a socket error, and 2
 * at @deadline. */
static int send_until(struct sender *s, uint64_t deadline)
{
    static uint8_t pkt[VUPD_DGRAM_MAX], in[VUPD_DGRAM_MAX];
    static struct vupd_pkt got;
    struct vupd_pkt m = {.type = VUPD_PKT_MANIFEST,
                         .update_id = s->id,
                         .sig_text = s->b.sig_text,
                         .sig_len = s->b.sig_len,
                         .nfrags = s->nfrags,
                         .hashes = &s->hashes[0][0]};
    bool open = false;
    while (cli_now_ns(CLOCK_MONOTONIC) < deadline) {
        struct vupd_pkt q = {.type = VUPD_PKT_POLL, .update_id = s->id};
        memcpy(q.cookie, m.cookie, 16);
        size_t n = vupd_pkt_encode(open ? &q : &m, pkt, sizeof pkt);
        if (send(s->fd, pkt, n, 0) < 0 && errno != ECONNREFUSED) {
            cli_error("send: %s", strerror(errno));
            return -1;
        }
        int w = recv_pkt(s->fd, 300, in, &got);
        if (w < 0)
            return -1;
        if (w == 0)
            continue;
        if (got.type == VUPD_PKT_COOKIE) {
            memcpy(m.cookie, got.cookie, 16);
            continue;
        }
        if (got.type != VUPD_PKT_ACK || got.update_id != s->id)
            continue;
        switch (got.state) {
        case VUPD_ACK_APPLIED:
            printf("%s: applied: version %llu (%u fragments sent)\n", s->name,
                   (unsigned long long)got.version, s->sent_frags);
            return 0;
        case VUPD_ACK_REFUSED:
            cli_error("%s refused: %s", s->name,
                      vupd_reason_name((enum vupd_reason)got.reason));
            return 1;
        case VUPD_ACK_BUSY: {
            struct timespec ts = {1, 0};
            nanosleep(&ts, NULL);
            continue;
        }
        case VUPD_ACK_UNKNOWN:
            open = false; /* expired there: announce it again */
            continue;
        }
        open = true;
        send_missing(s, &got);
    }
    return 2;
}

int cmd_update_send(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"timeout", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    uint64_t timeout_s = 30;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c != 't' || !update_parse_u64(optarg, &timeout_s) ||
            timeout_s == 0) {
            update_usage(stderr);
            return VIGIL_EXIT_USAGE;
        }
    }
    if (optind + 2 != argc) {
        cli_error("send needs BUNDLE and udp://HOST:PORT");
        return VIGIL_EXIT_USAGE;
    }
    static struct sender s;
    int rc = 1;
    if (sender_open(&s, argv[optind], argv[optind + 1]) == 0) {
        uint64_t deadline =
            cli_now_ns(CLOCK_MONOTONIC) + timeout_s * 1000000000ull;
        int r = send_until(&s, deadline);
        if (r == 2)
            cli_error("%s: no answer from %s in %llu s", argv[optind],
                      argv[optind + 1], (unsigned long long)timeout_s);
        rc = r == 0 ? 0 : 1;
    }
    sender_free(&s);
    return rc;
}

static volatile sig_atomic_t stop_listen;
static void on_stop(int sig)
{
    (void)sig;
    stop_listen = 1;
}

int cmd_update_listen(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"key", required_argument, NULL, 'k'},
        {"db", required_argument, NULL, 'd'},
        {"for", required_argument, NULL, 'f'},
        {"max", required_argument, NULL, 'm'},
        {"verbose", no_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    char *keys[KEYS_MAX];
    size_t nkeys = 0;
    const char *db = NULL;
    uint64_t for_s = 0, max = 0;
    bool verbose = false;
    int c;
    while ((c = getopt_long(argc, argv, "k:v", longopts, NULL)) != -1) {
        switch (c) {
        case 'k':
            if (nkeys == KEYS_MAX)
                return cli_error("at most %d keys", KEYS_MAX), 2;
            keys[nkeys++] = optarg;
            break;
        case 'd':
            db = optarg;
            break;
        case 'f':
        case 'm':
            if (!update_parse_u64(optarg, c == 'f' ? &for_s : &max))
                return cli_error("expected a number, got '%s'", optarg), 2;
            break;
        case 'v':
            verbose = true;
            break;
        default:
            update_usage(stderr);
            return VIGIL_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc || db == NULL || nkeys == 0) {
        cli_error("listen needs -k KEY, --db PATH and udp://ADDR:PORT");
        return VIGIL_EXIT_USAGE;
    }
    struct sigaction sa = {.sa_handler = on_stop};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct run_update *u;
    if (run_update_start(&u, db, keys, nkeys, argv[optind], (size_t)max,
                         verbose) < 0)
        return 1;
    fprintf(stderr, "vigil: listening for updates on %s\n", argv[optind]);
    uint64_t end =
        for_s ? cli_now_ns(CLOCK_MONOTONIC) + for_s * 1000000000ull : 0;
    while (!stop_listen && (!end || cli_now_ns(CLOCK_MONOTONIC) < end)) {
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    run_update_stop(u);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        fprintf(stderr, "vigil: update listener: peak RSS %ld KiB\n",
                ru.ru_maxrss);
    return 0;
}

/* Forged traffic for tests and benchmarks: fragments of made-up updates,
 * and manifests without a cookie. */
int cmd_update_flood(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"rate", required_argument, NULL, 'r'},
        {"seconds", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    uint64_t rate = 50000, secs = 5;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if ((c != 'r' && c != 's') ||
            !update_parse_u64(optarg, c == 'r' ? &rate : &secs) || rate == 0) {
            update_usage(stderr);
            return VIGIL_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        cli_error("flood needs udp://HOST:PORT");
        return VIGIL_EXIT_USAGE;
    }
    struct sockaddr_storage ss;
    unsigned sl;
    int fd = udp_to(argv[optind], &ss, &sl);
    if (fd < 0)
        return 1;
    static uint8_t pkt[2048], data[1024];
    static uint8_t hashes[4][32];
    randombytes_buf(data, sizeof data);
    uint64_t start = cli_now_ns(CLOCK_MONOTONIC), sent = 0;
    bool announced = false;
    const char sig[] = "untrusted comment: forged\nRUQAAAAA\n";
    while (cli_now_ns(CLOCK_MONOTONIC) - start < secs * 1000000000ull) {
        uint64_t due =
            (cli_now_ns(CLOCK_MONOTONIC) - start) * rate / 1000000000ull;
        while (sent < due) {
            struct vupd_pkt p;
            if (sent % 16 == 0) {
                p = (struct vupd_pkt){.type = VUPD_PKT_MANIFEST,
                                      .update_id = randombytes_random(),
                                      .sig_text = sig,
                                      .sig_len = sizeof sig - 1,
                                      .nfrags = 4,
                                      .hashes = &hashes[0][0]};
            } else {
                p = (struct vupd_pkt){.type = VUPD_PKT_FRAG,
                                      .update_id = randombytes_random(),
                                      .index = (uint32_t)(sent % 8),
                                      .data = data,
                                      .len = sizeof data};
            }
            size_t n = vupd_pkt_encode(&p, pkt, sizeof pkt);
            send(fd, pkt, n, MSG_DONTWAIT);
            sent++;
        }
        if (sent > 0 && !announced) {
            /* A progress line to wait for: the flood is under way. */
            fprintf(stderr, "vigil: flooding %s: under way\n", argv[optind]);
            announced = true;
        }
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
    printf("sent %llu forged datagrams in %llu s\n", (unsigned long long)sent,
           (unsigned long long)secs);
    close(fd);
    return 0;
}
