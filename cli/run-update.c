/* Signed updates for a running vigil (see run-update.h).
 *
 * The listener is one thread: it reads datagrams in batches, hands each to
 * the receiver (lib/update/net.c), sends back what it answers, and applies
 * an update once its last fragment arrived. Applying takes the update lock,
 * which the guest's hypercall path takes too.
 */
#include "run-update.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "vigil/log.h"

#define KEYS_MAX 16
#define BATCH    64

struct run_update {
    pthread_mutex_t lock;
    struct vupd_store *store;
    struct vupd_key keys[KEYS_MAX];
    size_t nkeys;
    size_t max_bundle;
    bool verbose;
    uint64_t accepted[RUN_UPDATE_SOURCES];
    uint64_t refused[RUN_UPDATE_SOURCES][VUPD_REASONS];

    int sock, stop_pipe[2];
    pthread_t thread;
    bool running;
    struct vupd_rx *rx;
    struct vupd_rx_stats rx_stats; /* the listener's, copied at its end */
    const char *filters[16];       /* their status files */
    size_t nfilters;
    char db[4096];
};

static const char *const source_names[RUN_UPDATE_SOURCES] = {"guest",
                                                             "network"};

void run_update_set_filters(struct run_update *u, const char *const *paths,
                            size_t n)
{
    pthread_mutex_lock(&u->lock);
    u->nfilters = n < 16 ? n : 16;
    for (size_t i = 0; i < u->nfilters; i++)
        u->filters[i] = paths[i];
    pthread_mutex_unlock(&u->lock);
}

/* Wait (up to FILTER_WAIT_S) until every filter scans with the database
 * the link now names; false on timeout. */
#define FILTER_WAIT_S 60
static bool filters_caught_up(struct run_update *u)
{
    char target[4096], want[4200];
    ssize_t n = readlink(u->db, target, sizeof target - 1);
    if (n <= 0)
        return true;
    target[n] = '\0';
    snprintf(want, sizeof want, "loaded %s\n", target);
    uint64_t end = cli_now_ns(CLOCK_MONOTONIC) + FILTER_WAIT_S * 1000000000ull;
    for (size_t i = 0; i < u->nfilters; i++) {
        for (;;) {
            uint8_t *text = NULL;
            size_t len;
            bool ok = vigil_read_file(u->filters[i], 8192, &text, &len) == 0 &&
                      strcmp((char *)text, want) == 0;
            free(text);
            if (ok)
                break;
            if (cli_now_ns(CLOCK_MONOTONIC) > end)
                return false;
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    return true;
}

enum vupd_reason run_update_offer(struct run_update *u,
                                  enum run_update_source from, const void *buf,
                                  size_t len, uint64_t *version, char *msg,
                                  size_t msglen)
{
    static struct vupd_bundle b; /* under the lock */
    char err[256];
    size_t k;
    pthread_mutex_lock(&u->lock);
    enum vupd_reason r =
        vupd_parse(buf, len, u->max_bundle, &b, err, sizeof err);
    if (r == VUPD_OK)
        r = vupd_verify(&b, u->keys, u->nkeys, &k, err, sizeof err);
    if (r == VUPD_OK)
        r = vupd_store_apply(u->store, &b, buf, len, err, sizeof err);
    struct vupd_state st;
    vupd_store_state(u->store, &st);
    *version = st.version;
    if (u->rx != NULL)
        vupd_rx_set_version(u->rx, st.db_id, st.version);
    if (r == VUPD_OK) {
        u->accepted[from]++;
        bool live = filters_caught_up(u);
        snprintf(msg, msglen, "accepted: %s version %llu%s", st.db_id,
                 (unsigned long long)st.version,
                 live ? "" : " (a disk filter has not loaded it yet)");
    } else {
        u->refused[from][r]++;
        snprintf(msg, msglen, "refused: %s: %s", vupd_reason_name(r), err);
    }
    pthread_mutex_unlock(&u->lock);
    if (u->verbose || r == VUPD_OK)
        fprintf(stderr, "vigil: update from the %s %s\n", source_names[from],
                msg);
    return r;
}

static uint64_t now_ns(void)
{
    return cli_now_ns(CLOCK_MONOTONIC);
}

/* The source address as the receiver keys it: family, port, address. */
static size_t src_key(const struct sockaddr_storage *ss, uint8_t out[32])
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const void *)ss;
        out[0] = 4;
        memcpy(out + 1, &a->sin_port, 2);
        memcpy(out + 3, &a->sin_addr, 4);
        return 7;
    }
    const struct sockaddr_in6 *a = (const void *)ss;
    out[0] = 6;
    memcpy(out + 1, &a->sin6_port, 2);
    memcpy(out + 3, &a->sin6_addr, 16);
    return 19;
}

static void *listener(void *arg)
{
    struct run_update *u = arg;
    static uint8_t bufs[BATCH][VUPD_DGRAM_MAX + 1];
    static uint8_t reply[VUPD_DGRAM_MAX];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_storage from[BATCH];
    uint64_t last_tick = now_ns();
    for (;;) {
        struct pollfd p[2] = {{.fd = u->sock, .events = POLLIN},
                              {.fd = u->stop_pipe[0], .events = POLLIN}};
        if (poll(p, 2, 500) < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            break;
        uint64_t now = now_ns();
        if (now - last_tick > 1000000000ull) {
            vupd_rx_tick(u->rx, now);
            last_tick = now;
        }
        if (!(p[0].revents & POLLIN))
            continue;
        for (int i = 0; i < BATCH; i++) {
            iov[i] = (struct iovec){bufs[i], sizeof bufs[i]};
            msgs[i].msg_hdr = (struct msghdr){.msg_name = &from[i],
                                              .msg_namelen = sizeof from[i],
                                              .msg_iov = &iov[i],
                                              .msg_iovlen = 1};
        }
        int n = recvmmsg(u->sock, msgs, BATCH, MSG_DONTWAIT, NULL);
        for (int i = 0; i < n; i++) {
            uint8_t key[32];
            size_t klen = src_key(&from[i], key), rlen;
            struct vupd_rx_done done;
            bool complete =
                vupd_rx_packet(u->rx, key, klen, now, bufs[i], msgs[i].msg_len,
                               reply, &rlen, &done);
            if (rlen > 0)
                sendto(u->sock, reply, rlen, MSG_DONTWAIT,
                       (struct sockaddr *)&from[i],
                       msgs[i].msg_hdr.msg_namelen);
            if (!complete)
                continue;
            uint64_t version;
            char msg[320];
            enum vupd_reason r =
                run_update_offer(u, RUN_UPDATE_NET, done.bundle, done.len,
                                 &version, msg, sizeof msg);
            rlen = vupd_rx_finished(u->rx, done.update_id, r, version, reply);
            if (rlen > 0)
                sendto(u->sock, reply, rlen, MSG_DONTWAIT,
                       (struct sockaddr *)&from[i],
                       msgs[i].msg_hdr.msg_namelen);
        }
    }
    pthread_mutex_lock(&u->lock);
    vupd_rx_stats(u->rx, &u->rx_stats);
    pthread_mutex_unlock(&u->lock);
    return NULL;
}

static int start_listener(struct run_update *u, const char *url)
{
    struct sockaddr_storage ss;
    unsigned sl;
    bool tcp;
    if (vlog_parse_url(url, &tcp, &ss, &sl) < 0 || tcp) {
        cli_error("--update-listen: expected udp://ADDR:PORT, got '%s'", url);
        return -1;
    }
    u->sock = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int big = 4 << 20;
    if (u->sock < 0 ||
        setsockopt(u->sock, SOL_SOCKET, SO_RCVBUF, &big, sizeof big) < 0 ||
        bind(u->sock, (struct sockaddr *)&ss, sl) < 0) {
        cli_error("--update-listen %s: %s", url, strerror(errno));
        return -1;
    }
    struct vupd_rx_limits lim = {.max_bundle = u->max_bundle};
    if (vupd_rx_new(&u->rx, u->keys, u->nkeys, &lim) < 0 ||
        pipe2(u->stop_pipe, O_CLOEXEC) < 0) {
        cli_error("--update-listen: out of memory");
        return -1;
    }
    struct vupd_state st;
    vupd_store_state(u->store, &st);
    vupd_rx_set_version(u->rx, st.db_id, st.version);
    if (pthread_create(&u->thread, NULL, listener, u) != 0) {
        cli_error("--update-listen: cannot start its thread");
        return -1;
    }
    u->running = true;
    return 0;
}

int run_update_start(struct run_update **out, const char *db, char *const *keys,
                     size_t nkeys, const char *listen, size_t max_bundle,
                     bool verbose)
{
    if (nkeys == 0 || nkeys > KEYS_MAX) {
        cli_error("--update-key: 1 to %d keys", KEYS_MAX);
        return -1;
    }
    struct run_update *u = calloc(1, sizeof *u);
    if (u == NULL)
        return -1;
    pthread_mutex_init(&u->lock, NULL);
    u->sock = u->stop_pipe[0] = u->stop_pipe[1] = -1;
    u->max_bundle = max_bundle ? max_bundle : VUPD_DEFAULT_MAX;
    u->verbose = verbose;
    u->nkeys = nkeys;
    snprintf(u->db, sizeof u->db, "%s", db);
    for (size_t i = 0; i < nkeys; i++) {
        uint8_t *text;
        size_t len;
        char err[160];
        int e = vigil_read_file(keys[i], 4096, &text, &len);
        if (e < 0) {
            cli_error("--update-key %s: %s", keys[i], strerror(-e));
            run_update_stop(u);
            return -1;
        }
        e = vupd_key_parse((char *)text, len, &u->keys[i], err, sizeof err);
        free(text);
        if (e < 0) {
            cli_error("--update-key %s: %s", keys[i], err);
            run_update_stop(u);
            return -1;
        }
    }
    char err[512];
    if (vupd_store_open(&u->store, db, err, sizeof err) < 0) {
        cli_error("--db for updates: %s", err);
        run_update_stop(u);
        return -1;
    }
    if (listen != NULL && start_listener(u, listen) < 0) {
        run_update_stop(u);
        return -1;
    }
    *out = u;
    return 0;
}

void run_update_stop(struct run_update *u)
{
    if (u == NULL)
        return;
    if (u->running) {
        if (write(u->stop_pipe[1], "x", 1) != 1)
            pthread_cancel(u->thread);
        pthread_join(u->thread, NULL);
    }
    uint64_t refused = 0;
    for (int s = 0; s < RUN_UPDATE_SOURCES; s++)
        for (int r = 0; r < VUPD_REASONS; r++)
            refused += u->refused[s][r];
    if (u->store != NULL) {
        fprintf(stderr,
                "vigil: updates: %llu accepted from the guest, %llu from "
                "the network, %llu refused",
                (unsigned long long)u->accepted[RUN_UPDATE_GUEST],
                (unsigned long long)u->accepted[RUN_UPDATE_NET],
                (unsigned long long)refused);
        for (int s = 0; s < RUN_UPDATE_SOURCES; s++)
            for (int r = 0; r < VUPD_REASONS; r++)
                if (u->refused[s][r])
                    fprintf(stderr, "; %s %s %llu", source_names[s],
                            vupd_reason_name((enum vupd_reason)r),
                            (unsigned long long)u->refused[s][r]);
        fprintf(stderr, "\n");
    }
    if (u->rx != NULL) {
        const struct vupd_rx_stats *st = &u->rx_stats;
        fprintf(stderr,
                "vigil: update listener: %llu datagrams, %llu manifests "
                "accepted, %llu updates completed, peak reassembly %zu bytes",
                (unsigned long long)st->packets,
                (unsigned long long)st->manifests_ok,
                (unsigned long long)st->completed, st->peak_bytes);
        for (int d = 0; d < VUPD_DROPS; d++)
            if (st->drops[d])
                fprintf(stderr, "; dropped %s %llu",
                        vupd_drop_name((enum vupd_drop)d),
                        (unsigned long long)st->drops[d]);
        for (int r = 0; r < VUPD_REASONS; r++)
            if (st->manifest_reasons[r])
                fprintf(stderr, "; manifest %s %llu",
                        vupd_reason_name((enum vupd_reason)r),
                        (unsigned long long)st->manifest_reasons[r]);
        fprintf(stderr, "\n");
        vupd_rx_free(u->rx);
    }
    if (u->sock >= 0)
        close(u->sock);
    for (int i = 0; i < 2; i++)
        if (u->stop_pipe[i] >= 0)
            close(u->stop_pipe[i]);
    vupd_store_close(u->store);
    pthread_mutex_destroy(&u->lock);
    free(u);
}
