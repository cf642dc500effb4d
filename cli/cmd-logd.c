/* `vigil logd`: the logging host. Receives authenticated record datagrams
 * (UDP) and frames (TCP) from many vigil instances, one session each,
 * writes JSON Lines per session and an SQLite database, counts losses from
 * the record numbers, and sends START/HEARTBEAT/STOP control packets.
 * This file: options, control packets and the main loop; the rest is in
 * logd.h's parts.
 *
 * `vigil logd --start HOST:PORT` / `--stop HOST:PORT` only send one control
 * packet and exit.
 */
#include <errno.h>
#include <getopt.h>
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
#include "logd.h"
#include "vigil/log.h"

#define MAX_LISTEN  8
#define MAX_CONTROL 16

struct ctl_target {
    struct sockaddr_storage ss;
    unsigned sslen;
};

struct control {
    struct ctl_target t[MAX_CONTROL];
    int n, fd;
    uint64_t session, seq;
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
        "                  [--filter NAMES] [--rotate-size BYTES]\n"
        "                  [--rotate-keep N] [--no-db] [--interval SECONDS]\n"
        "                  [--max-sessions N] [--max-conns N]\n"
        "                  [--max-conns-per-addr N] [--auth-timeout S]\n"
        "                  [--idle-timeout S] [--discard]\n"
        "                  [--store postgresql://...] [--store-password-file "
        "FILE]\n"
        "                  [--store-spill DIR] [--store-spill-max BYTES]\n"
        "                  [--store-queue BYTES] [--store-name NAME]\n"
        "                  [--store-conns N] [--store-sync-commit on|off]\n"
        "       vigil logd --start HOST:PORT --key FILE [--filter NAMES]\n"
        "       vigil logd --stop HOST:PORT --key FILE\n"
        "\n"
        "Receive vigil event streams (docs/protocol.md). Writes\n"
        "DIR/<session>.jsonl per session (rotated at --rotate-size, default\n"
        "64 MiB, keeping --rotate-keep rotated files, default 100),\n"
        "DIR/events.db (SQLite, written by a thread of its own from a queue\n"
        "of --store-queue bytes, default 64 MiB, and past that a backlog file\n"
        "of --store-spill-max bytes, default 1 GiB, in --store-spill DIR or\n"
        "DIR; with --store, a PostgreSQL database instead, docs/store.md)\n"
        "and DIR/stats.json. --control sends START\n"
        "(with --filter, comma-separated syscall names) to a `vigil run\n"
        "--log` control port every second, and STOP at exit. --discard\n"
        "(benchmarks) checks and counts records but stores none. Limits\n"
        "(docs/protocol.md): sessions 1024, TCP connections 64 in all and 8\n"
        "per address, 5 s to authenticate, 600 s idle.\n");
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

static void send_ctl_all(struct control *c, const struct logd *d, uint8_t type)
{
    for (int i = 0; i < c->n; i++) {
        int err =
            send_ctl(c->fd, &c->t[i].ss, c->t[i].sslen, type, c->session,
                     c->seq++, type == VLOG_T_START ? d->filter : NULL, d->key);
        (void)err; /* the peer may not be up yet: START repeats */
    }
}

/* ---- main loop ---- */

static void logd_loop(struct logd *d, struct control *c)
{
    uint64_t last_ctl = 0, last_report = cli_now_ns(CLOCK_MONOTONIC);
    while (!stop_flag) {
        uint64_t now = cli_now_ns(CLOCK_MONOTONIC);
        if (c->n > 0 && now - last_ctl >= 1000000000ull) {
            /* START doubles as the heartbeat; a vigil that came up late
             * starts on the next one. */
            send_ctl_all(c, d, VLOG_T_START);
            last_ctl = now;
        }
        if (now - last_report >= (uint64_t)d->interval_s * 1000000000ull) {
            logd_out_flush(d);
            logd_sessions_tick(d->sessions, now);
            logd_report(d, false);
            logd_write_stats(d);
            last_report = now;
        }
        logd_out_settle(d, false);
        logd_net_poll(d->net, d, 100);
    }
    logd_net_drain(d->net, d);
    send_ctl_all(c, d, VLOG_T_STOP);
}

/* ---- options ---- */

static bool parse_num(const char *what, const char *arg, uint64_t min,
                      uint64_t max, uint64_t *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(arg, &end, 10);
    if (errno || end == arg || *end || arg[0] == '-' || x < min || x > max) {
        cli_error("--%s: expected %llu..%llu", what, (unsigned long long)min,
                  (unsigned long long)max);
        return false;
    }
    *v = x;
    return true;
}

struct logd_args {
    const char *listen[2 * MAX_LISTEN];
    int nlisten;
    const char *keyfile, *start, *stop;
    struct logd_net_opts net;
    uint64_t max_sessions;
    const char *store, *store_pwfile, *store_spill, *store_name;
    uint64_t store_spill_max, store_queue, store_conns;
    bool store_async_commit;
};

static int add_control(struct control *c, const char *url)
{
    bool tcp;
    struct ctl_target *t = &c->t[c->n];
    if (c->n == MAX_CONTROL ||
        vlog_parse_url(url, &tcp, &t->ss, &t->sslen) < 0 || tcp) {
        cli_error("--control: expected udp://HOST:PORT, got '%s'", url);
        return -1;
    }
    c->n++;
    return 0;
}

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct logd *d, struct control *c,
                      struct logd_args *a)
{
    enum {
        OPT_LISTEN = 256,
        OPT_KEY,
        OPT_OUT,
        OPT_CONTROL,
        OPT_FILTER,
        OPT_ROTATE,
        OPT_KEEP,
        OPT_NODB,
        OPT_DISCARD,
        OPT_INTERVAL,
        OPT_START,
        OPT_STOP,
        OPT_MAX_SESS,
        OPT_MAX_CONNS,
        OPT_PER_ADDR,
        OPT_AUTH,
        OPT_IDLE,
        OPT_STORE,
        OPT_STORE_PW,
        OPT_STORE_SPILL,
        OPT_STORE_SPILL_MAX,
        OPT_STORE_QUEUE,
        OPT_STORE_NAME,
        OPT_STORE_CONNS,
        OPT_STORE_SYNC,
    };
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"key", required_argument, NULL, OPT_KEY},
        {"out", required_argument, NULL, OPT_OUT},
        {"control", required_argument, NULL, OPT_CONTROL},
        {"filter", required_argument, NULL, OPT_FILTER},
        {"rotate-size", required_argument, NULL, OPT_ROTATE},
        {"rotate-keep", required_argument, NULL, OPT_KEEP},
        {"no-db", no_argument, NULL, OPT_NODB},
        {"discard", no_argument, NULL, OPT_DISCARD},
        {"interval", required_argument, NULL, OPT_INTERVAL},
        {"start", required_argument, NULL, OPT_START},
        {"stop", required_argument, NULL, OPT_STOP},
        {"max-sessions", required_argument, NULL, OPT_MAX_SESS},
        {"max-conns", required_argument, NULL, OPT_MAX_CONNS},
        {"max-conns-per-addr", required_argument, NULL, OPT_PER_ADDR},
        {"auth-timeout", required_argument, NULL, OPT_AUTH},
        {"idle-timeout", required_argument, NULL, OPT_IDLE},
        {"store", required_argument, NULL, OPT_STORE},
        {"store-password-file", required_argument, NULL, OPT_STORE_PW},
        {"store-spill", required_argument, NULL, OPT_STORE_SPILL},
        {"store-spill-max", required_argument, NULL, OPT_STORE_SPILL_MAX},
        {"store-queue", required_argument, NULL, OPT_STORE_QUEUE},
        {"store-name", required_argument, NULL, OPT_STORE_NAME},
        {"store-conns", required_argument, NULL, OPT_STORE_CONNS},
        {"store-sync-commit", required_argument, NULL, OPT_STORE_SYNC},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    uint64_t v;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_LISTEN:
            if (a->nlisten == 2 * MAX_LISTEN) {
                cli_error("too many --listen");
                return VIGIL_EXIT_USAGE;
            }
            a->listen[a->nlisten++] = optarg;
            break;
        case OPT_KEY:
            a->keyfile = optarg;
            break;
        case OPT_OUT:
            d->outdir = optarg;
            break;
        case OPT_CONTROL:
            if (add_control(c, optarg) < 0)
                return VIGIL_EXIT_USAGE;
            break;
        case OPT_FILTER:
            d->filter = optarg;
            break;
        case OPT_ROTATE:
            if (!parse_num("rotate-size", optarg, 4096, UINT64_MAX,
                           &d->rotate_bytes))
                return VIGIL_EXIT_USAGE;
            break;
        case OPT_KEEP:
            if (!parse_num("rotate-keep", optarg, 0, 1000000, &v))
                return VIGIL_EXIT_USAGE;
            d->rotate_keep = (unsigned)v;
            break;
        case OPT_NODB:
            d->no_db = true;
            break;
        case OPT_DISCARD:
            d->discard = d->no_db = true;
            break;
        case OPT_INTERVAL:
            if (!parse_num("interval", optarg, 1, 3600, &v))
                return VIGIL_EXIT_USAGE;
            d->interval_s = (unsigned)v;
            break;
        case OPT_START:
            a->start = optarg;
            break;
        case OPT_STOP:
            a->stop = optarg;
            break;
        case OPT_MAX_SESS:
            if (!parse_num("max-sessions", optarg, 1, 1000000,
                           &a->max_sessions))
                return VIGIL_EXIT_USAGE;
            break;
        case OPT_MAX_CONNS:
            if (!parse_num("max-conns", optarg, 1, 4096, &v))
                return VIGIL_EXIT_USAGE;
            a->net.max_conns = (unsigned)v;
            break;
        case OPT_PER_ADDR:
            if (!parse_num("max-conns-per-addr", optarg, 1, 4096, &v))
                return VIGIL_EXIT_USAGE;
            a->net.max_per_addr = (unsigned)v;
            break;
        case OPT_AUTH:
            if (!parse_num("auth-timeout", optarg, 1, 3600, &v))
                return VIGIL_EXIT_USAGE;
            a->net.auth_s = (unsigned)v;
            break;
        case OPT_IDLE:
            if (!parse_num("idle-timeout", optarg, 1, 86400, &v))
                return VIGIL_EXIT_USAGE;
            a->net.idle_s = (unsigned)v;
            break;
        case OPT_STORE:
            /* "sqlite", the default, or a libpq connection string. */
            a->store = strcmp(optarg, "sqlite") == 0 ? NULL : optarg;
            break;
        case OPT_STORE_PW:
            a->store_pwfile = optarg;
            break;
        case OPT_STORE_SPILL:
            a->store_spill = optarg;
            break;
        case OPT_STORE_SPILL_MAX:
            if (!parse_num("store-spill-max", optarg, 1, UINT64_MAX,
                           &a->store_spill_max))
                return VIGIL_EXIT_USAGE;
            break;
        case OPT_STORE_QUEUE:
            if (!parse_num("store-queue", optarg, 65536, 1ull << 40,
                           &a->store_queue))
                return VIGIL_EXIT_USAGE;
            break;
        case OPT_STORE_NAME:
            a->store_name = optarg;
            break;
        case OPT_STORE_CONNS:
            if (!parse_num("store-conns", optarg, 1, 16, &a->store_conns))
                return VIGIL_EXIT_USAGE;
            break;
        case OPT_STORE_SYNC:
            /* Only ever asked for: off trades durability (docs/store.md). */
            if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0) {
                cli_error("--store-sync-commit: expected on or off, got '%s'",
                          optarg);
                return VIGIL_EXIT_USAGE;
            }
            a->store_async_commit = strcmp(optarg, "off") == 0;
            break;
        case 'h':
            logd_usage(stdout);
            return 0;
        default:
            logd_usage(stderr);
            return VIGIL_EXIT_USAGE;
        }
    }
    if (optind < argc || a->keyfile == NULL) {
        logd_usage(stderr);
        return VIGIL_EXIT_USAGE;
    }
    return -1;
}

/* The first line of FILE, without its newline, into buf. */
static int read_password(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        cli_error("--store-password-file %s: %s", path, strerror(errno));
        return -1;
    }
    if (fgets(buf, (int)cap, f) == NULL)
        buf[0] = 0;
    fclose(f);
    buf[strcspn(buf, "\r\n")] = 0;
    return 0;
}

static int open_store(struct logd *d, const struct logd_args *a)
{
    char pw[1024], spill[4200], host[256];
    if (a->store_pwfile != NULL &&
        read_password(a->store_pwfile, pw, sizeof pw) < 0)
        return -1;
    snprintf(spill, sizeof spill, "%s/spill", d->outdir);
    if (gethostname(host, sizeof host) < 0)
        snprintf(host, sizeof host, "logd");
    host[sizeof host - 1] = 0;
    struct logd_store_opts so = {
        .conninfo = a->store,
        .password = a->store_pwfile ? pw : NULL,
        .name = a->store_name ? a->store_name : host,
        .spill_dir = a->store_spill ? a->store_spill : spill,
        .spill_max = a->store_spill_max ? a->store_spill_max : 1ull << 30,
        .queue_max = a->store_queue ? a->store_queue : 64ull << 20,
        /* Two server backends per logd: one backend is what bounds one
         * logd (docs/store.md, "Throughput"). */
        .conns = a->store_conns ? (int)a->store_conns : 2,
        .async_commit = a->store_async_commit,
    };
    int rc = logd_store_open(&d->store, &so);
    sodium_memzero(pw, sizeof pw);
    return rc;
}

/* SQLite, its queue and its backlog: DIR/events.db-backlog, or in
 * --store-spill's directory (made when missing). */
static int open_db(struct logd *d, const struct logd_args *a)
{
    char backlog[4200];
    const char *dir = a->store_spill ? a->store_spill : d->outdir;
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        cli_error("--store-spill %s: %s", dir, strerror(errno));
        return -1;
    }
    snprintf(backlog, sizeof backlog, "%s/events.db-backlog", dir);
    return logd_dbq_open(&d->db, d->outdir,
                         a->store_queue ? a->store_queue : 64ull << 20, backlog,
                         a->store_spill_max ? a->store_spill_max : 1ull << 30);
}

/* Everything the loop needs; prints why on failure. */
static int logd_open(struct logd *d, struct control *c,
                     const struct logd_args *a)
{
    if (mkdir(d->outdir, 0755) < 0 && errno != EEXIST) {
        cli_error("%s: %s", d->outdir, strerror(errno));
        return -1;
    }
    if (logd_net_new(&d->net, &a->net) < 0) {
        cli_error("out of memory");
        return -1;
    }
    for (int i = 0; i < a->nlisten; i++)
        if (logd_net_listen(d->net, a->listen[i]) < 0)
            return -1;
    if (c->n > 0) {
        c->fd = socket(c->t[0].ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (c->fd < 0) {
            cli_error("socket: %s", strerror(errno));
            return -1;
        }
        randombytes_buf(&c->session, sizeof c->session);
    }
    if (a->store != NULL && !d->discard) {
        if (open_store(d, a) < 0)
            return -1;
    } else if (!d->no_db && open_db(d, a) < 0) {
        return -1;
    }
    struct logd_sessions_opts so = {
        .key = d->key,
        .max_sessions = a->max_sessions,
        .idle_ns =
            (uint64_t)(a->net.idle_s ? a->net.idle_s : 600) * 1000000000ull,
        .sink = logd_out_sink(d),
    };
    if (logd_sessions_new(&d->sessions, &so) < 0) {
        cli_error("out of memory");
        return -1;
    }
    return 0;
}

static void logd_close(struct logd *d, struct control *c)
{
    logd_sessions_free(d->sessions); /* flushes and closes the files */
    logd_net_free(d->net);
    logd_dbq_free(d->db);
    logd_store_free(d->store);
    if (c->fd >= 0)
        close(c->fd);
    sodium_memzero(d->key, sizeof d->key);
}

int cmd_logd(int argc, char **argv)
{
    static struct logd d;
    static struct control c;
    static struct logd_args a;
    memset(&d, 0, sizeof d);
    memset(&c, 0, sizeof c);
    memset(&a, 0, sizeof a);
    d.rotate_bytes = 64ull << 20;
    d.rotate_keep = 100;
    d.interval_s = 5;
    c.fd = -1;
    int rc = parse_args(argc, argv, &d, &c, &a);
    if (rc >= 0)
        return rc;
    if (sodium_init() < 0) {
        cli_error("libsodium failed to initialize");
        return 1;
    }
    int err = vlog_key_load(a.keyfile, d.key);
    if (err < 0) {
        cli_error("--key %s: %s (expected 32 bytes or 64 hex digits)",
                  a.keyfile, strerror(-err));
        return VIGIL_EXIT_USAGE;
    }
    if (a.start != NULL || a.stop != NULL) {
        if (d.filter && (strlen(d.filter) >= 512 || a.stop)) {
            cli_error("--filter goes with --start, up to 511 characters");
            return VIGIL_EXIT_USAGE;
        }
        return a.start ? ctl_oneshot(a.start, VLOG_T_START, d.filter, d.key)
                       : ctl_oneshot(a.stop, VLOG_T_STOP, NULL, d.key);
    }
    if (a.nlisten == 0 || d.outdir == NULL) {
        logd_usage(stderr);
        return VIGIL_EXIT_USAGE;
    }
    if (d.filter && strlen(d.filter) >= 512) {
        cli_error("--filter: up to 511 characters");
        return VIGIL_EXIT_USAGE;
    }
    if (logd_open(&d, &c, &a) < 0) {
        logd_close(&d, &c);
        return 1;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "vigil logd: listening\n");

    logd_loop(&d, &c);

    /* Files and the database first, so the final report counts what did
     * not reach them. */
    logd_out_flush(&d);
    logd_out_settle(&d, true);
    logd_store_finish(d.store);
    logd_report(&d, true);
    logd_write_stats(&d);
    logd_close(&d, &c);
    return 0;
}
