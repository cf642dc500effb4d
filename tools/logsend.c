/* vigil-logsend: the log transport's test and benchmark tool (built as
 * build/tools/vigil-logsend, not part of the product's command line).
 *
 *   logsend --log URL --key FILE [--control-port N] --count N ...
 *       [--rate PER_SECOND | --gap-ms MS] [--control-bind ADDR]
 *       [--events FILE]
 *       send N synthetic syscall events through the real sender (the
 *       transport without a guest) and print the sender's counters as JSON;
 *       with --events, the records are FILE's lines (up to 64, cycled)
 *   logsend --attack URL --key FILE
 *       send one valid data packet, then a replay of it, a forged one (wrong
 *       key), a truncated one and a stale one, to test logd's rejections
 *   logsend --attack-control HOST:PORT --key FILE
 *       send malformed, forged, replayed and stale control packets
 *   logsend --raw URL --count N [--mtu M] [--gso]  plain datagram blaster
 *       (sendmmsg; --gso: 64 KiB sends cut by the kernel, UDP_SEGMENT)
 *   logsend --raw-sink URL --seconds S         count what arrives
 *   logsend --capture DIR --key FILE --count N [--size S]
 *       write N authentic DATA packets of one fresh session, one record
 *       each, as DIR/pkt.0 ... (a stand-in for packets captured on the
 *       wire, for replay tests); prints the session id
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vigil/clock.h"
#include "vigil/log.h"

#include "logsend/logsend.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("vigil-logsend: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static bool parse_u64(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return false;
    *v = x;
    return true;
}

/* The socket, or -errno after saying why. */
static int udp_connect(const char *url, struct sockaddr_storage *ss,
                       unsigned *sl)
{
    bool tcp;
    if (vlog_parse_url(url, &tcp, ss, sl) < 0 || tcp)
        return -EINVAL;
    int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)ss, *sl) < 0) {
        close(fd);
        return -errno;
    }
    return fd;
}

int udp_to(const char *url, struct sockaddr_storage *ss, unsigned *sl)
{
    int fd = udp_connect(url, ss, sl);
    if (fd < 0)
        cli_error("%s: %s", url, strerror(-fd));
    return fd;
}

static const char *const names[] = {"read", "write", "openat", "close"};

/* --events FILE: records taken from FILE's lines instead. */
static const char *events_file;

#define POOL_REC 80000 /* room for records past VLOG_REC_MAX */

/* Up to max lines of events_file into pool; how many, or -1. */
static int load_events(char (*pool)[POOL_REC], int *plen, int max)
{
    FILE *f = fopen(events_file, "re");
    if (f == NULL) {
        cli_error("--events %s: %s", events_file, strerror(errno));
        return -1;
    }
    int n = 0;
    while (n < max && fgets(pool[n], POOL_REC, f) != NULL) {
        size_t l = strcspn(pool[n], "\n");
        if (l > 0)
            plen[n++] = (int)l;
    }
    fclose(f);
    if (n == 0)
        cli_error("--events %s: no records", events_file);
    return n > 0 ? n : -1;
}

static int make_event(char *buf, size_t cap, uint64_t i, size_t size)
{
    int n = snprintf(buf, cap,
                     "{\"type\":\"syscall\",\"ts\":%llu,\"ts_exit\":%llu,"
                     "\"vcpu\":0,\"pid\":%u,\"tid\":%u,\"ppid\":1,"
                     "\"comm\":\"synth\",\"abi\":\"x86_64\",\"nr\":%u,"
                     "\"name\":\"%s\",\"args\":[%llu,0,0],\"decoded\":[\"",
                     (unsigned long long)(1000000 + i * 1000),
                     (unsigned long long)(1000000 + i * 1000 + 500),
                     100 + (unsigned)(i % 7), 100 + (unsigned)(i % 7),
                     (unsigned)(i % 4), names[i % 4], (unsigned long long)i);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    size_t len = (size_t)n;
    static const char tail[] = "\"],\"ret\":0,\"state\":\"done\","
                               "\"ip\":\"0x401000\"}";
    while (len + sizeof tail < cap && len + sizeof tail - 1 < size)
        buf[len++] = 'x';
    memcpy(buf + len, tail, sizeof tail);
    return (int)(len + sizeof tail - 1);
}

/* @v in decimal at @p; returns the end. */
static char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

/* Synthetic record @i into @out: the pool's record @pooled (made by
 * make_event for i % POOL) with record @i's own times. A tracer's ts only
 * grows; the pool's 64 values, cycled, would put every key of logd's ts
 * index in the middle of its b-tree and make the SQLite store look dearer
 * than it is. @rest: where the pooled record goes on after ts_exit. */
static int with_times(char *out, const char *pooled, int len, int rest,
                      uint64_t i)
{
    static const char head[] = "{\"type\":\"syscall\",\"ts\":";
    char *p = out;
    memcpy(p, head, sizeof head - 1);
    p = put_u64(p + sizeof head - 1, 1000000 + i * 1000);
    memcpy(p, ",\"ts_exit\":", 11);
    p = put_u64(p + 11, 1000000 + i * 1000 + 500);
    memcpy(p, pooled + rest, (size_t)(len - rest));
    return (int)(p - out) + len - rest;
}

static int do_send(const char *url, const uint8_t *key, const char *ctl_bind,
                   uint64_t ctl_port, uint64_t count, uint64_t size,
                   uint64_t period_ns, uint64_t wait_ms, uint64_t hb_missed,
                   uint64_t mtu, uint64_t queue, bool block, uint64_t linger_ms)
{
    struct vlog_sender_opts o = {
        .url = url,
        .key = key,
        .ctl_bind = ctl_bind,
        .ctl_port = (uint16_t)ctl_port,
        .mtu = (unsigned)mtu,
        .hb_missed = (unsigned)hb_missed,
        .queue_bytes = queue,
    };
    struct vlog_sender *s;
    int err = vlog_sender_new(&s, &o);
    if (err < 0) {
        cli_error("sender: %s", strerror(-err));
        return 1;
    }
    fprintf(stderr, "vigil-logsend: control port %u\n",
            vlog_sender_ctl_port(s));
    if (wait_ms > 0 && !vlog_sender_wait_started(s, (unsigned)wait_ms)) {
        cli_error("no START within %llu ms", (unsigned long long)wait_ms);
        vlog_sender_free(s);
        return 1;
    }
    /* Events are made ahead into a pool so that producing them costs the
     * sender's consumer (like the tracer's) next to nothing. */
    enum { POOL = 64 };
    static char pool[POOL][POOL_REC];
    int plen[POOL];
    int npool = POOL;
    if (events_file != NULL && (npool = load_events(pool, plen, POOL)) < 0) {
        vlog_sender_free(s);
        return 1;
    }
    int rest[POOL];
    for (int i = 0; i < POOL && events_file == NULL; i++) {
        plen[i] =
            make_event(pool[i], sizeof pool[i], (uint64_t)i, (size_t)size);
        const char *r = plen[i] < 0 ? NULL : strstr(pool[i], ",\"vcpu\":");
        if (r == NULL) {
            vlog_sender_free(s);
            return 1;
        }
        rest[i] = (int)(r - pool[i]);
    }
    static char timed[POOL_REC + 64];
    uint64_t t0 = vigil_now_ns(CLOCK_MONOTONIC);
    for (uint64_t i = 0; i < count; i++) {
        const char *buf = pool[i % (uint64_t)npool];
        int n = plen[i % (uint64_t)npool];
        if (events_file == NULL) {
            n = with_times(timed, buf, n, rest[i % POOL], i);
            buf = timed;
        }
        if (period_ns > 0) {
            uint64_t due = t0 + i * period_ns;
            uint64_t now = vigil_now_ns(CLOCK_MONOTONIC);
            if (due > now) {
                struct timespec ts = {(time_t)((due - now) / 1000000000ull),
                                      (long)((due - now) % 1000000000ull)};
                nanosleep(&ts, NULL);
            }
        }
        while (block && !vlog_sender_room(s, (size_t)n)) {
            /* Test mode: wait for room instead of dropping. */
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
        vlog_sender_push(s, buf, (size_t)n);
    }
    vlog_sender_flush(s, 30000);
    uint64_t t1 = vigil_now_ns(CLOCK_MONOTONIC);
    if (linger_ms > 0) {
        struct timespec ts = {(time_t)(linger_ms / 1000),
                              (long)(linger_ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
    struct vlog_sender_stats st;
    vlog_sender_stats(s, &st);
    vlog_sender_free(s);
    double secs = (double)(t1 - t0) / 1e9;
    printf("{\"session\":\"%016llx\",\"sessions\":%llu,\"queued\":%llu,"
           "\"dropped\":%llu,\"unsent\":%llu,\"filtered\":%llu,"
           "\"sent_records\":%llu,\"session_records\":%llu,"
           "\"datagrams\":%llu,\"bytes\":%llu,\"send_errors\":%llu,"
           "\"truncated\":%llu,\"split\":%llu,\"ctl_ok\":%llu,\"ctl_rejected\":"
           "%llu,"
           "\"ctl_limited\":%llu,\"reconnects\":%llu,\"gso_sends\":%llu,"
           "\"seconds\":%.3f}\n",
           (unsigned long long)st.session, (unsigned long long)st.sessions,
           (unsigned long long)st.queued, (unsigned long long)st.dropped,
           (unsigned long long)st.unsent, (unsigned long long)st.filtered,
           (unsigned long long)st.sent_records,
           (unsigned long long)st.session_records,
           (unsigned long long)st.datagrams, (unsigned long long)st.bytes,
           (unsigned long long)st.send_errors, (unsigned long long)st.truncated,
           (unsigned long long)st.split, (unsigned long long)st.ctl_ok,
           (unsigned long long)st.ctl_rejected,
           (unsigned long long)st.ctl_limited,
           (unsigned long long)st.reconnects, (unsigned long long)st.gso_sends,
           secs);
    return 0;
}

/* Authentic packets of one session, one record each, as files. */
static int do_capture(const char *dir, const uint8_t *key, uint64_t count,
                      uint64_t size)
{
    struct vlog_hdr h = {.type = VLOG_T_DATA, .count = 1};
    randombytes_buf(&h.session, sizeof h.session);
    h.time_ns = vigil_now_ns(CLOCK_REALTIME);
    static char rec[65536];
    static uint8_t pl[65536 + 2], pkt[65536 + 2 + VLOG_OVERHEAD];
    for (uint64_t i = 0; i < count; i++) {
        int n = make_event(rec, sizeof rec, i, (size_t)size);
        if (n < 0 || (size_t)n > VLOG_FRAG_MAX)
            return EXIT_USAGE;
        vlog_record_put(pl, (size_t)n, false);
        memcpy(pl + 2, rec, (size_t)n);
        h.seq = h.first = i;
        int m = vlog_encode(pkt, sizeof pkt, &h, pl, 2 + (size_t)n, key);
        char path[4096];
        snprintf(path, sizeof path, "%s/pkt.%llu", dir, (unsigned long long)i);
        FILE *f = fopen(path, "wb");
        if (m < 0 || f == NULL || fwrite(pkt, 1, (size_t)m, f) != (size_t)m ||
            fclose(f) != 0) {
            cli_error("%s: %s", path, strerror(errno));
            return 1;
        }
    }
    printf("%016llx\n", (unsigned long long)h.session);
    return 0;
}

/* What the command line asked for. */
struct opts {
    const char *log, *keyfile, *attack, *attack_ctl, *raw, *sink, *capture,
        *ctl_bind;
    uint64_t ctl_port, count, size, rate, wait, hb, mtu, queue, linger, idle,
        gap;
    bool block, gso;
};

/* 0, or the exit status of a bad command line. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
    enum {
        OPT_LOG = 256,
        OPT_KEY,
        OPT_CTL,
        OPT_CTL_BIND,
        OPT_COUNT,
        OPT_SIZE,
        OPT_RATE,
        OPT_GAP,
        OPT_WAIT,
        OPT_HB,
        OPT_MTU,
        OPT_QUEUE,
        OPT_BLOCK,
        OPT_LINGER,
        OPT_ATTACK,
        OPT_ATTACK_CTL,
        OPT_RAW,
        OPT_GSO,
        OPT_RAW_SINK,
        OPT_IDLE,
        OPT_CAPTURE,
        OPT_EVENTS,
    };
    static const struct option longopts[] = {
        {"log", required_argument, NULL, OPT_LOG},
        {"key", required_argument, NULL, OPT_KEY},
        {"control-port", required_argument, NULL, OPT_CTL},
        {"control-bind", required_argument, NULL, OPT_CTL_BIND},
        {"count", required_argument, NULL, OPT_COUNT},
        {"size", required_argument, NULL, OPT_SIZE},
        {"rate", required_argument, NULL, OPT_RATE},
        {"gap-ms", required_argument, NULL, OPT_GAP},
        {"wait-start", required_argument, NULL, OPT_WAIT},
        {"hb-missed", required_argument, NULL, OPT_HB},
        {"mtu", required_argument, NULL, OPT_MTU},
        {"queue", required_argument, NULL, OPT_QUEUE},
        {"block", no_argument, NULL, OPT_BLOCK},
        {"linger", required_argument, NULL, OPT_LINGER},
        {"attack", required_argument, NULL, OPT_ATTACK},
        {"attack-control", required_argument, NULL, OPT_ATTACK_CTL},
        {"raw", required_argument, NULL, OPT_RAW},
        {"gso", no_argument, NULL, OPT_GSO},
        {"raw-sink", required_argument, NULL, OPT_RAW_SINK},
        {"idle-ms", required_argument, NULL, OPT_IDLE},
        {"capture", required_argument, NULL, OPT_CAPTURE},
        {"events", required_argument, NULL, OPT_EVENTS},
        {NULL, 0, NULL, 0},
    };
    *o = (struct opts){.count = 1000,
                       .size = 200,
                       .wait = 10000,
                       .hb = 3,
                       .idle = 1000,
                       .log = NULL,
                       .keyfile = NULL,
                       .attack = NULL,
                       .attack_ctl = NULL,
                       .raw = NULL,
                       .sink = NULL,
                       .capture = NULL,
                       .ctl_bind = NULL,
                       .ctl_port = 0,
                       .rate = 0,
                       .mtu = 0,
                       .queue = 0,
                       .linger = 0,
                       .gap = 0,
                       .block = false,
                       .gso = false};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        uint64_t *v = NULL;
        switch (c) {
        case OPT_LOG:
            o->log = optarg;
            break;
        case OPT_KEY:
            o->keyfile = optarg;
            break;
        case OPT_ATTACK:
            o->attack = optarg;
            break;
        case OPT_ATTACK_CTL:
            o->attack_ctl = optarg;
            break;
        case OPT_RAW:
            o->raw = optarg;
            break;
        case OPT_GSO:
            o->gso = true;
            break;
        case OPT_RAW_SINK:
            o->sink = optarg;
            break;
        case OPT_CAPTURE:
            o->capture = optarg;
            break;
        case OPT_EVENTS:
            events_file = optarg;
            break;
        case OPT_BLOCK:
            o->block = true;
            break;
        case OPT_CTL_BIND:
            o->ctl_bind = optarg;
            break;
        case OPT_CTL:
            v = &o->ctl_port;
            break;
        case OPT_COUNT:
            v = &o->count;
            break;
        case OPT_SIZE:
            v = &o->size;
            break;
        case OPT_RATE:
            v = &o->rate;
            break;
        case OPT_GAP:
            v = &o->gap;
            break;
        case OPT_WAIT:
            v = &o->wait;
            break;
        case OPT_HB:
            v = &o->hb;
            break;
        case OPT_MTU:
            v = &o->mtu;
            break;
        case OPT_QUEUE:
            v = &o->queue;
            break;
        case OPT_LINGER:
            v = &o->linger;
            break;
        case OPT_IDLE:
            v = &o->idle;
            break;
        default:
            return EXIT_USAGE;
        }
        if (v != NULL && !parse_u64(optarg, v)) {
            cli_error("expected a number, got '%s'", optarg);
            return EXIT_USAGE;
        }
    }
    if (o->ctl_port > 65535 || o->size > 79000 || o->mtu > VLOG_MTU_MAX) {
        cli_error("a number is out of range");
        return EXIT_USAGE;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc != 0)
        return rc;
    if (o.sink != NULL)
        return do_raw_sink(o.sink, o.idle, 600);
    if (o.raw != NULL)
        return do_raw(o.raw, o.count, o.mtu ? o.mtu : VLOG_MTU_DEFAULT, o.gso);
    if (sodium_init() < 0)
        return 1;
    uint8_t key[VLOG_KEY_LEN];
    if (o.keyfile == NULL || vlog_key_load(o.keyfile, key) < 0) {
        cli_error("--key FILE: 32 bytes or 64 hex digits");
        return EXIT_USAGE;
    }
    if (o.capture != NULL)
        return do_capture(o.capture, key, o.count, o.size);
    if (o.attack != NULL)
        return do_attack(o.attack, key);
    if (o.attack_ctl != NULL)
        return do_attack_control(o.attack_ctl, key);
    if (o.log == NULL) {
        cli_error("--log URL is needed");
        return EXIT_USAGE;
    }
    uint64_t period = o.rate ? 1000000000ull / o.rate : o.gap * 1000000ull;
    return do_send(o.log, key, o.ctl_bind, o.ctl_port, o.count, o.size, period,
                   o.wait, o.hb, o.mtu, o.queue, o.block, o.linger);
}
