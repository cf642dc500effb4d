/* logd's storage: the sink of the session layer. Each session's records go
 * to DIR/<session>.jsonl (rotated, with a retention limit) and to the
 * database (SQLite here, or PostgreSQL through logd-store.h's queue). Nothing
 * that fails to reach the disk is reported as stored: failed writes count per
 * session as unstored records, a failed commit counts its whole transaction. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "logd.h"

/* Per session with an open file: bounded memory (--max-sessions x this),
 * few writes at full speed, and room for the largest record (32 KiB). */
#define OUT_BUF      (256u << 10)
#define ROTATE_TRIES 10000

struct out_file {
    int fd;    /* -1: closed (reopened on the next record) */
    char *buf; /* lines not yet written */
    size_t len;
    uint64_t nrec;      /* records in buf */
    uint64_t bytes;     /* of the current file */
    unsigned rotations; /* the last suffix used */
};

static void path_of(const struct logd *d, const struct logd_session *s,
                    char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s.jsonl", d->outdir, s->hex);
}

static void write_failed(struct logd *d, const char *what, int err)
{
    /* The first failure of a streak is worth a line; the counters carry
     * the rest. */
    if (d->write_errors++ == 0)
        cli_warn("%s: %s", what, strerror(err));
}

static int open_file(struct logd *d, struct logd_session *s, struct out_file *o)
{
    char path[4096];
    path_of(d, s, path, sizeof path);
    if (o->buf == NULL && (o->buf = malloc(OUT_BUF)) == NULL) {
        write_failed(d, path, ENOMEM);
        return -1;
    }
    /* Not through a link: logd may be root and the directory shared, and
     * the records are the guest's words. */
    o->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                 0644);
    if (o->fd < 0) {
        write_failed(d, path, errno);
        return -1;
    }
    struct stat st;
    o->bytes = fstat(o->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    return 0;
}

/* Write the buffer; records not wholly written are unstored, and a cut
 * line is cut off the file again so it holds whole lines only. */
static void flush_file(struct logd *d, struct logd_session *s,
                       struct out_file *o)
{
    size_t done = 0;
    off_t start = o->fd >= 0 ? lseek(o->fd, 0, SEEK_END) : -1;
    while (o->fd >= 0 && done < o->len) {
        ssize_t r = write(o->fd, o->buf + done, o->len - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            write_failed(d, s->hex, r < 0 ? errno : ENOSPC);
            break;
        }
        done += (size_t)r;
    }
    if (done < o->len) {
        size_t whole = done;
        while (whole > 0 && o->buf[whole - 1] != '\n')
            whole--;
        uint64_t kept = 0;
        for (size_t i = 0; i < whole; i++)
            kept += o->buf[i] == '\n';
        s->unstored_file += o->nrec - kept;
        if (whole < done && start >= 0 &&
            ftruncate(o->fd, start + (off_t)whole) < 0)
            write_failed(d, s->hex, errno);
    }
    o->len = 0;
    o->nrec = 0;
}

static void close_file(struct logd *d, struct logd_session *s,
                       struct out_file *o)
{
    flush_file(d, s, o);
    if (o->fd >= 0 && close(o->fd) < 0)
        write_failed(d, s->hex, errno);
    o->fd = -1;
    free(o->buf); /* a closed session holds no memory but its counters */
    o->buf = NULL;
}

/* DIR/S.jsonl becomes DIR/S.jsonl.N, never over an existing file; then
 * the oldest rotated files beyond --rotate-keep go. */
static void rotate(struct logd *d, struct logd_session *s, struct out_file *o)
{
    char from[4096], to[4200];
    close_file(d, s, o);
    path_of(d, s, from, sizeof from);
    int r = -1;
    for (int i = 0; i < ROTATE_TRIES && r < 0; i++) {
        snprintf(to, sizeof to, "%s.%u", from, ++o->rotations);
        r = renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
        if (r < 0 && errno != EEXIST)
            break;
    }
    if (r < 0) {
        write_failed(d, from, errno);
        return; /* the file grows on: nothing is overwritten */
    }
    if (d->rotate_keep > 0 && o->rotations > d->rotate_keep) {
        snprintf(to, sizeof to, "%s.%u", from, o->rotations - d->rotate_keep);
        if (unlink(to) == 0)
            d->files_removed++;
    }
}

static struct out_file *state(struct logd_session *s)
{
    return s->sink_state;
}

static void sink_open(void *ctx, struct logd_session *s)
{
    struct logd *d = ctx;
    struct out_file *o = calloc(1, sizeof *o);
    if (o != NULL)
        o->fd = -1;
    s->sink_state = o;
    if (d->db != NULL &&
        !logd_dbq_session(d->db, s->id, s->hex, s->src_text,
                          cli_now_ns(CLOCK_REALTIME) / 1000000000ull))
        write_failed(d, "events.db", ENOBUFS);
}

/* Into the database's queue; a full queue counts the record as not
 * stored there, like a failed insert. Said once: the report's database
 * line counts them every --interval from then on. */
static void db_record(struct logd *d, struct logd_session *s, uint64_t recno,
                      const char *rec, size_t len)
{
    if (logd_dbq_record(d->db, s->id, s->hex, recno, rec, len))
        return;
    s->unstored_db++;
    if (!d->db_full)
        cli_warn("events.db: the queue is full (--store-queue): records "
                 "are NOT STORED in the database");
    d->db_full = true;
}

static void sink_record(void *ctx, struct logd_session *s, uint64_t recno,
                        const char *rec, size_t len)
{
    struct logd *d = ctx;
    struct out_file *o = state(s);
    if (d->discard)
        return;
    if (o == NULL) {
        s->unstored_file++;
        s->unstored_db += d->db != NULL;
        return;
    }
    if (d->db != NULL)
        db_record(d, s, recno, rec, len);
    if (d->store != NULL)
        logd_store_record(d->store, s->src_text, s->hex, recno, rec, len);
    if (o->fd < 0 && open_file(d, s, o) < 0) {
        s->unstored_file++;
        return;
    }
    if (o->len + len + 1 > OUT_BUF)
        flush_file(d, s, o);
    if (len + 1 > OUT_BUF) { /* cannot happen: records are < 32 KiB */
        s->unstored_file++;
        return;
    }
    memcpy(o->buf + o->len, rec, len);
    o->buf[o->len + len] = '\n';
    o->len += len + 1;
    o->nrec++;
    o->bytes += len + 1;
    if (o->bytes >= d->rotate_bytes)
        rotate(d, s, o);
}

static void sink_close(void *ctx, struct logd_session *s)
{
    struct logd *d = ctx;
    if (state(s) != NULL)
        close_file(d, s, state(s));
}

static void sink_forget(void *ctx, struct logd_session *s)
{
    (void)ctx;
    free(s->sink_state);
    s->sink_state = NULL;
}

struct logd_sink logd_out_sink(struct logd *d)
{
    struct logd_sink k = {
        .open = sink_open,
        .record = sink_record,
        .close = sink_close,
        .forget = sink_forget,
        .ctx = d,
    };
    return k;
}

void logd_out_flush(struct logd *d)
{
    for (size_t i = 0; i < logd_sessions_count(d->sessions); i++) {
        struct logd_session *s = logd_sessions_at(d->sessions, i);
        if (state(s) != NULL && state(s)->fd >= 0)
            flush_file(d, s, state(s));
    }
}

/* A record the database's writer could not store: its session's count,
 * when the session is still known (a forgotten one's stays in the store's
 * totals only). Rare: only after a failure. */
static void db_lost(void *ctx, uint64_t id)
{
    struct logd *d = ctx;
    for (size_t i = logd_sessions_count(d->sessions); i-- > 0;) {
        struct logd_session *s = logd_sessions_at(d->sessions, i);
        if (s->id == id) {
            s->unstored_db++;
            return;
        }
    }
}

void logd_out_settle(struct logd *d, bool finish)
{
    if (d->db == NULL)
        return;
    logd_dbq_settle(d->db, finish, db_lost, d);
    struct logd_dbq_stats st;
    logd_dbq_stats(d->db, &st);
    if (st.errors > d->db_errors) {
        uint64_t n = st.errors - d->db_errors;
        d->db_errors = st.errors;
        write_failed(d, "events.db", EIO);
        d->write_errors += n - 1;
    }
}
