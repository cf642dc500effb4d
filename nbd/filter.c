/* nbdkit-vigil-filter: scan every byte a guest writes to its disk.
 *
 * Each pwrite (and write-zeroes/trim, as the zeros they leave) is fed to a
 * signature stream (include/vigil/sig.h) before next->pwrite is called, and
 * the request is passed, denied (EIO), passed with the matched bytes zeroed,
 * or passed while the guest's network is cut over QMP.  See docs/disk.md.
 *
 * Thread model: PARALLEL.  All scanning state (the streams, the database
 * generation, the events file) is guarded by one mutex held while a request
 * is scanned and its policy applied; the backing plugin is called outside
 * the lock, so I/O of parallel requests still overlaps.
 *
 * Stream state: NSTREAMS streams, each remembering where its last write
 * ended.  A write that starts exactly there continues that stream (the
 * matcher carries its state, so a signature split over sequential writes is
 * found); any other write takes the least recently used stream and starts
 * afresh.  Each stream also keeps the last TAIL_MAX bytes that reached the
 * disk, so its state can be rebuilt after a denied write (the denied bytes
 * are forgotten; a retry is detected again), a database reload or a long
 * zeroed range.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nbdkit-filter.h>
#include <vigil/sig.h>

#include "behind.h"
#include "dbload.h"
#include "policy.h"
#include "qmp.h"

#define NSTREAMS      64 /* interleaved writers each keep one */
#define TAIL_MAX      4096
#define ZERO_SCAN_MAX 65536 /* zeros fed for one write-zeroes/trim */
#define MAX_HITS      64    /* detections recorded per request */
#define NAME_MAX_LEN  128
/* Console warnings per second: a guest writing a signature in a loop must
 * not drown the console (every detection is still an event). */
#define WARN_PER_SEC 10
#define BEHIND_MAX   (32u << 20) /* bytes queued for scanning behind */

struct stream_slot {
    bool valid;    /* next is meaningful */
    uint64_t next; /* disk offset where the last write ended */
    uint64_t used; /* LRU tick */
    size_t tail_len;
    unsigned char tail[TAIL_MAX]; /* bytes before next, as on disk */
};

struct hit {
    uint64_t off, end; /* disk offsets of the match */
    char name[NAME_MAX_LEN];
    enum nbd_policy policy;
};

struct scan_ctx {
    uint64_t base;  /* disk offset of stream offset 0 */
    uint64_t start; /* disk offset where the request begins */
    int64_t req_ts; /* when the request reached the filter */
    size_t nhits, dropped;
    struct hit hits[MAX_HITS];
};

static struct {
    char **db_paths;
    size_t n_db;
    enum nbd_policy policy;
    char *policy_file;
    struct nbd_policy_table *table;
    char *events_path;
    int events_fd;
    int events_pipe; /* vigil-events-fd: inherited from vigil run, or -1 */
    char *qmp_path;
    char *netdev;
    int qmp_timeout_ms;
    char *reload_path;
    bool reload_exists;
    struct timespec reload_mtime;
    dev_t reload_dev;   /* an update swaps in another directory: */
    ino_t reload_ino;   /* its mtime alone may be the same */
    pthread_t reloader; /* builds a new database while writes go on */
    bool reloading, reloader_joinable;
    char *status_path; /* vigil-db-status: which database is in force */
    pthread_t watcher; /* notices a new database without a write */
    bool watching;
    int watch_stop;
    char *disk;
    bool behind_off; /* vigil-scan-behind=no */

    struct behind *behind; /* non-NULL: alert-only, scanned behind the I/O */
    pthread_mutex_t lock;
    struct vsig_slot *dbslot;
    unsigned db_gen;
    uint64_t tick;
    struct stream_slot *slots;
    struct vsig_stream *stream;
    unsigned stream_gen;
    struct scan_ctx ctx;
    int64_t warn_sec; /* the second warnings are being counted in */
    unsigned warned;  /* warnings printed in it */
    uint64_t unshown; /* detections not warned about since */
} g = {
    .events_fd = -1,
    .events_pipe = -1,
    .qmp_timeout_ms = 2000,
    .lock = PTHREAD_MUTEX_INITIALIZER,
};

static const unsigned char zero_page[4096];
_Static_assert(sizeof(zero_page) >= TAIL_MAX, "backfill writes from zero_page");

static void warnmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warnmsg(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "vigil-filter: warning: %s\n", line);
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- configuration ---- */

static int set_str(char **dst, const char *v, bool path)
{
    char *s = path ? nbdkit_absolute_path(v) : strdup(v);
    if (!s) {
        if (!path)
            nbdkit_error("strdup: %m");
        return -1;
    }
    free(*dst);
    *dst = s;
    return 0;
}

static int vigil_config(nbdkit_next_config *next, nbdkit_backend *nxdata,
                        const char *key, const char *value)
{
    if (strcmp(key, "vigil-db") == 0) {
        char **p = realloc(g.db_paths, (g.n_db + 1) * sizeof(*p));
        if (!p) {
            nbdkit_error("realloc: %m");
            return -1;
        }
        g.db_paths = p;
        g.db_paths[g.n_db] = nbdkit_absolute_path(value);
        if (!g.db_paths[g.n_db])
            return -1;
        g.n_db++;
        return 0;
    }
    if (strcmp(key, "vigil-policy") == 0) {
        if (nbd_policy_parse(value, &g.policy) < 0) {
            nbdkit_error("vigil-policy: unknown policy '%s' "
                         "(alert, deny, zero, cut-net)",
                         value);
            return -1;
        }
        return 0;
    }
    if (strcmp(key, "vigil-policy-file") == 0)
        return set_str(&g.policy_file, value, true);
    if (strcmp(key, "vigil-events") == 0)
        return set_str(&g.events_path, value, true);
    if (strcmp(key, "vigil-qmp") == 0)
        return set_str(&g.qmp_path, value, true);
    if (strcmp(key, "vigil-netdev") == 0)
        return set_str(&g.netdev, value, false);
    if (strcmp(key, "vigil-db-reload") == 0)
        return set_str(&g.reload_path, value, true);
    if (strcmp(key, "vigil-db-status") == 0)
        return set_str(&g.status_path, value, true);
    if (strcmp(key, "vigil-disk") == 0)
        return set_str(&g.disk, value, false);
    if (strcmp(key, "vigil-scan-behind") == 0) {
        int v = nbdkit_parse_bool(value);
        if (v < 0)
            return -1;
        g.behind_off = !v;
        return 0;
    }
    if (strcmp(key, "vigil-events-fd") == 0) {
        int fd;
        if (nbdkit_parse_int(key, value, &fd) < 0)
            return -1;
        if (fd < 3 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
            nbdkit_error("vigil-events-fd: %d is not an open descriptor", fd);
            return -1;
        }
        g.events_pipe = fd;
        return 0;
    }
    if (strcmp(key, "vigil-qmp-timeout") == 0) {
        char *end;
        errno = 0;
        long ms = strtol(value, &end, 10);
        if (errno || end == value || *end || ms <= 0 || ms > 600000) {
            nbdkit_error("vigil-qmp-timeout: bad milliseconds '%s'", value);
            return -1;
        }
        g.qmp_timeout_ms = (int)ms;
        return 0;
    }
    return next(nxdata, key, value);
}

static void diag_cb(void *opaque, const struct vsig_diag *d)
{
    (void)opaque;
    if (d->severity == VSIG_DIAG_NOTE)
        nbdkit_debug("%s:%lu: %s", d->file, d->line, d->msg);
    else
        warnmsg("%s:%lu: %s", d->file, d->line, d->msg);
}

static void write_status(void);
static int load_db(struct vsig_db **out)
{
    char err[512];
    int r =
        nbd_db_load(out, g.db_paths, g.n_db, diag_cb, NULL, err, sizeof(err));
    if (r < 0)
        nbdkit_error("vigil-db: %s", err);
    return r;
}

static void note_reload_mtime(void)
{
    struct stat st;
    g.reload_exists = stat(g.reload_path, &st) == 0;
    if (g.reload_exists) {
        g.reload_mtime = st.st_mtim;
        g.reload_dev = st.st_dev;
        g.reload_ino = st.st_ino;
    }
}

static int vigil_config_complete(nbdkit_next_config_complete *next,
                                 nbdkit_backend *nxdata)
{
    struct vsig_db *db;

    if (g.n_db == 0) {
        nbdkit_error("vigil-db=PATH is required");
        return -1;
    }
    if (load_db(&db) < 0)
        return -1;
    int r = vsig_slot_new(&g.dbslot, db);
    vsig_db_unref(db);
    if (r < 0) {
        nbdkit_error("vsig_slot_new: %s", strerror(-r));
        return -1;
    }
    if (g.policy_file) {
        unsigned long line;
        r = nbd_policy_table_load(&g.table, g.policy_file, &line);
        if (r == -EINVAL) {
            nbdkit_error("%s:%lu: expected 'SIGNATURE POLICY'", g.policy_file,
                         line);
            return -1;
        }
        if (r < 0) {
            nbdkit_error("%s: %s", g.policy_file, strerror(-r));
            return -1;
        }
    }
    if (g.policy == NBD_POLICY_CUT_NET && !g.qmp_path) {
        nbdkit_error("vigil-policy=cut-net needs vigil-qmp=SOCKET");
        return -1;
    }
    if (!g.netdev && set_str(&g.netdev, "net0", false) < 0)
        return -1;
    if (!g.disk && set_str(&g.disk, "disk", false) < 0)
        return -1;
    if (g.events_path) {
        g.events_fd = open(g.events_path,
                           O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (g.events_fd < 0) {
            nbdkit_error("vigil-events: %s: %m", g.events_path);
            return -1;
        }
    }
    if (g.reload_path) {
        note_reload_mtime();
        write_status();
    }
    g.slots = calloc(NSTREAMS, sizeof(*g.slots));
    if (!g.slots) {
        nbdkit_error("calloc: %m");
        return -1;
    }
    return next(nxdata);
}

static void scan_behind_job(void *opaque, const struct behind_job *job);
static void warn_unshown(void);
static void check_reload_locked(void);

/* A new database is noticed within WATCH_MS even when the guest writes
 * nothing, so that it is in force by the time the next write comes. */
#define WATCH_MS 100
static void *watch_main(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&g.watch_stop, __ATOMIC_ACQUIRE)) {
        struct timespec ts = {0, WATCH_MS * 1000000L};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&g.lock);
        check_reload_locked();
        pthread_mutex_unlock(&g.lock);
    }
    return NULL;
}

/* Threads start after nbdkit has forked into the background. */
static int vigil_after_fork(nbdkit_backend *nxdata)
{
    (void)nxdata;
    if (g.reload_path &&
        pthread_create(&g.watcher, NULL, watch_main, NULL) == 0)
        g.watching = true;
    if (g.behind_off || g.policy != NBD_POLICY_ALERT ||
        !nbd_policy_table_only(g.table, NBD_POLICY_ALERT))
        return 0;
    int r = behind_new(&g.behind, BEHIND_MAX, scan_behind_job, NULL);
    if (r < 0)
        warnmsg("cannot start the scanning thread (%s); scanning inline",
                strerror(-r));
    return 0;
}

static void vigil_cleanup(nbdkit_backend *nxdata)
{
    (void)nxdata;
    if (g.watching) {
        __atomic_store_n(&g.watch_stop, 1, __ATOMIC_RELEASE);
        pthread_join(g.watcher, NULL);
        g.watching = false;
    }
    behind_free(g.behind); /* scans what is still queued */
    g.behind = NULL;
    warn_unshown();
}

static void vigil_unload(void)
{
    if (g.reloader_joinable)
        pthread_join(g.reloader, NULL);
    behind_free(g.behind);
    vsig_stream_free(g.stream);
    free(g.slots);
    vsig_slot_free(g.dbslot);
    nbd_policy_table_free(g.table);
    for (size_t i = 0; i < g.n_db; i++)
        free(g.db_paths[i]);
    free(g.db_paths);
    if (g.events_fd >= 0)
        close(g.events_fd);
    if (g.events_pipe >= 0)
        close(g.events_pipe);
    free(g.policy_file);
    free(g.status_path);
    free(g.events_path);
    free(g.qmp_path);
    free(g.netdev);
    free(g.reload_path);
    free(g.disk);
}

static int vigil_thread_model(void)
{
    return NBDKIT_THREAD_MODEL_PARALLEL;
}

/* ---- scanning (all under g.lock) ---- */

/* Reload the databases when the trigger file's mtime changed. */
/* Say which database is in force: "loaded TARGET" (where the reload path
 * points, "-" when it is no link), so that vigil can tell an update's
 * sender once every filter scans with it. */
static void write_status(void)
{
    if (!g.status_path || !g.reload_path)
        return;
    char target[4096] = "-", tmp[4200], line[4200];
    ssize_t n = readlink(g.reload_path, target, sizeof(target) - 1);
    if (n > 0)
        target[n] = '\0';
    else
        snprintf(target, sizeof(target), "-");
    int len = snprintf(line, sizeof(line), "loaded %s\n", target);
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", g.status_path) >= (int)sizeof(tmp))
        return;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    bool ok = write(fd, line, (size_t)len) == len;
    close(fd);
    if (!ok || rename(tmp, g.status_path) < 0)
        unlink(tmp);
}

/* Build the new database off the write path: the old one scans every
 * write meanwhile, and the swap is one pointer store under the lock. */
static void *reload_main(void *arg)
{
    (void)arg;
    struct vsig_db *db = NULL;
    int r = load_db(&db);
    pthread_mutex_lock(&g.lock);
    if (r < 0) {
        warnmsg("database reload failed; keeping the current database");
    } else {
        struct vsig_db_stats stats = {.sz = sizeof(stats)};
        vsig_db_stats(db, &stats);
        vsig_slot_set(g.dbslot, db);
        vsig_db_unref(db);
        g.db_gen++;
        fprintf(stderr, "vigil-filter: database reloaded: %zu signatures\n",
                stats.signatures);
        write_status();
    }
    g.reloading = false;
    pthread_mutex_unlock(&g.lock);
    return NULL;
}

static void check_reload_locked(void)
{
    struct stat st;
    if (!g.reload_path || g.reloading)
        return;
    bool exists = stat(g.reload_path, &st) == 0;
    if (!exists ||
        (g.reload_exists && st.st_mtim.tv_sec == g.reload_mtime.tv_sec &&
         st.st_mtim.tv_nsec == g.reload_mtime.tv_nsec &&
         st.st_dev == g.reload_dev && st.st_ino == g.reload_ino)) {
        g.reload_exists = exists;
        return;
    }
    g.reload_exists = true;
    g.reload_mtime = st.st_mtim;
    g.reload_dev = st.st_dev;
    g.reload_ino = st.st_ino;
    if (g.reloader_joinable)
        pthread_join(g.reloader, NULL); /* finished: reloading was false */
    g.reloader_joinable = false;
    g.reloading = true;
    if (pthread_create(&g.reloader, NULL, reload_main, NULL) != 0) {
        g.reloading = false;
        warnmsg("cannot start a database reload; keeping the current "
                "database");
        return;
    }
    g.reloader_joinable = true;
}

static int on_match(void *opaque, const struct vsig_match *m)
{
    struct scan_ctx *c = opaque;
    uint64_t off, end;
    if (__builtin_add_overflow(c->base, m->offset, &off) ||
        __builtin_add_overflow(c->base, m->end, &end))
        return VSIG_CONTINUE;
    /* Wholly inside the retained tail: found (and handled) before. */
    if (end <= c->start)
        return VSIG_CONTINUE;
    if (c->nhits == MAX_HITS) {
        c->dropped++;
        return VSIG_CONTINUE;
    }
    struct hit *h = &c->hits[c->nhits++];
    h->off = off;
    h->end = end;
    snprintf(h->name, sizeof(h->name), "%s", m->name ? m->name : "?");
    h->policy = nbd_policy_table_lookup(g.table, h->name, g.policy);
    return VSIG_CONTINUE;
}

/* The stream a write at @offset continues, or a fresh (empty) one. */
static struct stream_slot *slot_for(uint64_t offset)
{
    struct stream_slot *lru = &g.slots[0];
    for (size_t i = 0; i < NSTREAMS; i++) {
        struct stream_slot *c = &g.slots[i];
        if (c->valid && c->next == offset) {
            c->used = ++g.tick;
            return c;
        }
        if (!c->valid || (lru->valid && c->used < lru->used))
            lru = c;
    }
    lru->valid = true;
    lru->tail_len = 0;
    lru->next = offset;
    lru->used = ++g.tick;
    return lru;
}

/*
 * Scan @sl's tail followed by the request (@buf, or @len zeros) in one
 * stream and end it, so every match that ends inside the request is
 * reported now (the matcher otherwise reports a match only once some bytes
 * past it have arrived).
 */
static int scan_locked(struct stream_slot *sl, const void *buf, size_t len)
{
    struct vsig_db *db = NULL;
    struct vsig_stream_opts o = {.sz = sizeof(o),
                                 .size = sl->tail_len + len,
                                 .target = VSIG_TARGET_ANY,
                                 .flags = VSIG_STREAM_NO_HASH |
                                          VSIG_STREAM_ALL_TARGETS};
    int r;

    if (!g.stream || g.stream_gen != g.db_gen)
        db = vsig_slot_get(g.dbslot);
    if (!g.stream)
        r = vsig_stream_new(&g.stream, db, &o, on_match, &g.ctx);
    else
        r = vsig_stream_reset(g.stream, db, &o);
    vsig_db_unref(db);
    if (r < 0)
        return r;
    g.stream_gen = g.db_gen;
    g.ctx.base = sl->next - sl->tail_len;
    g.ctx.start = sl->next;
    r = vsig_stream_feed(g.stream, sl->tail, sl->tail_len);
    if (r < 0)
        return r;
    if (buf) {
        r = vsig_stream_feed(g.stream, buf, len);
    } else {
        while (len > 0 && r >= 0) {
            size_t n = len < sizeof(zero_page) ? len : sizeof(zero_page);
            r = vsig_stream_feed(g.stream, zero_page, n);
            len -= n;
        }
    }
    if (r < 0)
        return r;
    r = vsig_stream_end(g.stream);
    return r < 0 ? r : 0;
}

/* Remember the last bytes of what reached the disk, ending at @end. */
static void tail_append(struct stream_slot *sl, const unsigned char *buf,
                        size_t len, uint64_t end)
{
    if (len >= TAIL_MAX) {
        memcpy(sl->tail, buf ? buf + len - TAIL_MAX : zero_page, TAIL_MAX);
        sl->tail_len = TAIL_MAX;
    } else {
        size_t keep =
            sl->tail_len + len > TAIL_MAX ? TAIL_MAX - len : sl->tail_len;
        memmove(sl->tail, sl->tail + sl->tail_len - keep, keep);
        if (buf)
            memcpy(sl->tail + keep, buf, len);
        else
            memset(sl->tail + keep, 0, len);
        sl->tail_len = keep + len;
    }
    sl->next = end;
}

/* ---- policies ---- */

static const char *op_names[] = {"write", "zero", "trim"};
enum op { OP_WRITE, OP_ZERO, OP_TRIM };

static void warn_unshown(void)
{
    if (g.unshown)
        warnmsg("%" PRIu64 " more detections on disk %s not shown here "
                "(every one is an event)",
                g.unshown, g.disk);
    g.unshown = 0;
}

/* The console warning for one detection, at most WARN_PER_SEC a second;
 * the next one printed says how many were not. */
static void warn_detection(const struct hit *h, const char *action)
{
    int64_t sec = mono_ns() / 1000000000;
    if (sec != g.warn_sec) {
        g.warn_sec = sec;
        g.warned = 0;
    }
    if (g.warned == WARN_PER_SEC) {
        g.unshown++;
        return;
    }
    g.warned++;
    warn_unshown();
    warnmsg("detection on disk %s: signature %s at offset %" PRIu64 ", %" PRIu64
            " bytes; policy %s: %s",
            g.disk, h->name, h->off, h->end - h->off,
            nbd_policy_name(h->policy), action);
}

static void emit_event(const struct hit *h, enum op op, uint64_t offset,
                       uint32_t count, const char *action, const char *fate,
                       uint64_t zoff, uint64_t zlen, const char *error)
{
    warn_detection(h, action);
    if (g.events_fd < 0 && g.events_pipe < 0)
        return;
    json_t *j = json_pack(
        "{s:s, s:I, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "type",
        "detection", "ts", (json_int_t)mono_ns(), "disk", g.disk, "offset",
        (json_int_t)h->off, "length", (json_int_t)(h->end - h->off),
        "signature", h->name, "policy", nbd_policy_name(h->policy), "action",
        action, "write", fate, "request", op_names[op], "request_offset",
        (json_int_t)offset, "request_length", (json_int_t)count);
    if (!j)
        return;
    json_object_set_new(j, "request_ts", json_integer(g.ctx.req_ts));
    if (zlen) {
        json_object_set_new(j, "zeroed_offset", json_integer((json_int_t)zoff));
        json_object_set_new(j, "zeroed_length", json_integer((json_int_t)zlen));
    }
    if (error)
        json_object_set_new(j, "error", json_string(error));
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (!s)
        return;
    size_t len = strlen(s);
    s[len] = '\n'; /* overwrite the NUL: one write() per line */
    /* Lines stay whole in a pipe: each is one write() (PIPE_BUF covers
     * every event, names being bounded). */
    int fds[] = {g.events_fd, g.events_pipe};
    for (size_t i = 0; i < 2; i++) {
        if (fds[i] < 0)
            continue;
        ssize_t n = write(fds[i], s, len + 1);
        if (n != (ssize_t)(len + 1))
            warnmsg("%s: short write: %m",
                    i ? "vigil-events-fd" : "vigil-events");
    }
    free(s);
}

/* Bytes of earlier requests to overwrite with zeros (policy zero on a
 * match that began before the current request); len 0: none. */
struct backfill {
    uint64_t off, len;
};

/*
 * Scan one request and apply the policies.  @buf is NULL for zeroes/trim.
 * On success *out is the buffer to write (@buf, or a copy with matches
 * zeroed that the caller frees when it differs from @buf).
 * Return 0 to pass the request on, -1 with *err set to refuse it.
 */
static int scan_request(enum op op, const void *buf, uint32_t count,
                        uint64_t offset, int64_t req_ts, const void **out,
                        struct backfill *back, int *err)
{
    int r;
    *out = buf;
    back->off = back->len = 0;
    pthread_mutex_lock(&g.lock);
    check_reload_locked();
    struct stream_slot *sl = slot_for(offset);
    g.ctx.nhits = g.ctx.dropped = 0;
    g.ctx.req_ts = req_ts;
    r = scan_locked(sl, buf,
                    buf || count < ZERO_SCAN_MAX ? count : ZERO_SCAN_MAX);
    if (r < 0) {
        /* Fail closed: what was not scanned is not written. */
        sl->valid = false;
        pthread_mutex_unlock(&g.lock);
        nbdkit_error("vigil: scan failed: %s", strerror(-r));
        *err = EIO;
        return -1;
    }

    bool deny = false, cut = false, zero = false;
    for (size_t i = 0; i < g.ctx.nhits; i++) {
        enum nbd_policy p = g.ctx.hits[i].policy;
        deny |= p == NBD_POLICY_DENY;
        cut |= p == NBD_POLICY_CUT_NET;
        zero |= p == NBD_POLICY_ZERO;
    }

    char qerr[256] = "";
    int qrc = 0;
    if (cut) {
        if (!g.qmp_path) {
            qrc = -ENOTCONN;
            snprintf(qerr, sizeof(qerr), "no vigil-qmp socket configured");
        } else {
            qrc = nbd_qmp_set_link(g.qmp_path, g.netdev, false,
                                   g.qmp_timeout_ms, qerr, sizeof(qerr));
        }
        if (qrc < 0)
            warnmsg("cutting the network failed: %s", qerr);
    }

    unsigned char *copy = NULL;
    if (!deny && zero && buf) {
        copy = malloc(count);
        if (!copy) {
            deny = true; /* cannot zero: refuse rather than write it */
            nbdkit_error("vigil: malloc: %m");
        } else {
            memcpy(copy, buf, count);
        }
    }

    const char *write_fate = deny ? "denied" : copy ? "modified" : "passed";
    for (size_t i = 0; i < g.ctx.nhits; i++) {
        const struct hit *h = &g.ctx.hits[i];
        const char *action = "alerted";
        uint64_t zoff = 0, zlen = 0;
        switch (h->policy) {
        case NBD_POLICY_DENY:
            action = "denied";
            break;
        case NBD_POLICY_CUT_NET:
            action = qrc == 0 ? "network-cut" : "network-cut-failed";
            break;
        case NBD_POLICY_ZERO:
            if (deny) {
                action = "denied";
                break;
            }
            action = "zeroed";
            zoff = h->off > offset ? h->off : offset;
            uint64_t zend = h->end < offset + count ? h->end : offset + count;
            if (zend > zoff) {
                zlen = zend - zoff;
                if (copy)
                    memset(copy + (zoff - offset), 0, zlen);
            }
            if (h->off < offset) {
                /* The match began in an earlier request, already on disk
                 * and still in the tail: zero that part too, after this
                 * request is written (vigil_pwrite). */
                uint64_t from = h->off;
                if (back->len == 0 || from < back->off) {
                    back->off = from;
                    back->len = offset - from;
                }
                zlen += zoff - from;
                zoff = from;
            }
            break;
        case NBD_POLICY_ALERT:
            break;
        }
        emit_event(h, op, offset, count, action, write_fate, zoff, zlen,
                   h->policy == NBD_POLICY_CUT_NET && qrc < 0 ? qerr : NULL);
    }
    if (g.ctx.dropped)
        warnmsg("%zu more detections in one request not recorded",
                g.ctx.dropped);

    /* A refused request leaves the stream as it was (what is on disk), so
     * a retry of the same write is caught again. */
    if (!deny) {
        if (back->len)
            memset(sl->tail + sl->tail_len - back->len, 0, back->len);
        tail_append(sl, copy ? copy : buf, count, offset + count);
    }
    pthread_mutex_unlock(&g.lock);

    if (deny) {
        free(copy);
        *err = EIO;
        return -1;
    }
    if (copy)
        *out = copy;
    return 0;
}

/* ---- scanning behind the I/O (alert only) ---- */

static void scan_behind_job(void *opaque, const struct behind_job *job)
{
    const void *out;
    struct backfill back;
    int err;
    (void)opaque;
    /* Alert only: nothing is refused or rewritten, so out is job->buf. */
    if (scan_request(job->op, job->buf, job->count, job->offset, job->ts, &out,
                     &back, &err) < 0)
        warnmsg("%" PRIu32 " bytes written at offset %" PRIu64
                " could not be scanned",
                job->count, job->offset);
}

/* Queue a request for the worker; false when it must be scanned inline
 * (no queue, or no memory for the copy). */
static bool queue_behind(enum op op, const void *buf, uint32_t count,
                         uint64_t offset)
{
    if (!g.behind)
        return false;
    struct behind_job job = {
        .op = op, .offset = offset, .count = count, .ts = mono_ns()};
    if (buf) {
        job.buf = malloc(count ? count : 1);
        if (!job.buf)
            return false;
        memcpy(job.buf, buf, count);
    }
    if (behind_push(g.behind, &job) < 0) {
        free(job.buf);
        return false;
    }
    return true;
}

/* ---- nbdkit callbacks ---- */

/* Write zeros over @b (at most TAIL_MAX bytes: it came from the tail). */
static int zero_earlier(nbdkit_next *next, const struct backfill *b,
                        uint32_t flags, int *err)
{
    return next->pwrite(next, zero_page, (uint32_t)b->len, b->off,
                        flags & NBDKIT_FLAG_FUA, err);
}

static int vigil_pwrite(nbdkit_next *next, void *handle, const void *buf,
                        uint32_t count, uint64_t offset, uint32_t flags,
                        int *err)
{
    const void *wbuf;
    struct backfill back = {0};
    (void)handle;
    if (queue_behind(OP_WRITE, buf, count, offset))
        return next->pwrite(next, buf, count, offset, flags, err);
    if (scan_request(OP_WRITE, buf, count, offset, mono_ns(), &wbuf, &back,
                     err) < 0)
        return -1;
    int r = next->pwrite(next, wbuf, count, offset, flags, err);
    if (wbuf != buf)
        free((void *)(uintptr_t)wbuf);
    if (r == 0 && back.len)
        r = zero_earlier(next, &back, flags, err);
    return r;
}

/* Write-zeroes and trim, scanned as the zeros they leave: 0 to pass the
 * request on, -1 with *err set to refuse it. */
static int scan_zeros(nbdkit_next *next, enum op op, uint32_t count,
                      uint64_t offset, uint32_t flags, int *err)
{
    const void *wbuf;
    struct backfill back;
    if (queue_behind(op, NULL, count, offset))
        return 0;
    if (scan_request(op, NULL, count, offset, mono_ns(), &wbuf, &back, err) < 0)
        return -1;
    return back.len ? zero_earlier(next, &back, flags, err) : 0;
}

static int vigil_zero(nbdkit_next *next, void *handle, uint32_t count,
                      uint64_t offset, uint32_t flags, int *err)
{
    (void)handle;
    if (scan_zeros(next, OP_ZERO, count, offset, flags, err) < 0)
        return -1;
    return next->zero(next, count, offset, flags, err);
}

static int vigil_trim(nbdkit_next *next, void *handle, uint32_t count,
                      uint64_t offset, uint32_t flags, int *err)
{
    (void)handle;
    if (scan_zeros(next, OP_TRIM, count, offset, flags, err) < 0)
        return -1;
    return next->trim(next, count, offset, flags, err);
}

/* With writes scanned behind: a flush returns once everything written
 * before it is scanned, so a guest's fsync also waits for its detections. */
static int vigil_flush(nbdkit_next *next, void *handle, uint32_t flags,
                       int *err)
{
    (void)handle;
    if (g.behind)
        behind_drain(g.behind);
    return next->flush(next, flags, err);
}

static struct nbdkit_filter filter = {
    .name = "vigil",
    .longname = "vigil signature-scanning filter",
    .config = vigil_config,
    .config_complete = vigil_config_complete,
    .config_help = "vigil-db=PATH            signature database or directory "
                   "(repeatable)\n"
                   "vigil-policy=POLICY      alert|deny|zero|cut-net\n"
                   "vigil-policy-file=PATH   'SIGNATURE-GLOB POLICY' lines\n"
                   "vigil-events=PATH        append JSON Lines detections\n"
                   "vigil-events-fd=N        also write them to descriptor N\n"
                   "vigil-qmp=SOCKET         QMP socket for cut-net\n"
                   "vigil-netdev=ID          netdev to take down (net0)\n"
                   "vigil-qmp-timeout=MS     QMP timeout (2000)\n"
                   "vigil-db-status=PATH     write which database is in force\n"
                   "vigil-db-reload=PATH     reload databases when its mtime "
                   "changes\n"
                   "vigil-disk=NAME          disk name in events (disk)\n"
                   "vigil-scan-behind=BOOL   alert-only: scan behind the "
                   "I/O (true)",
    .thread_model = vigil_thread_model,
    .unload = vigil_unload,
    .after_fork = vigil_after_fork,
    .cleanup = vigil_cleanup,
    .flush = vigil_flush,
    .pwrite = vigil_pwrite,
    .zero = vigil_zero,
    .trim = vigil_trim,
};

NBDKIT_REGISTER_FILTER(filter)
