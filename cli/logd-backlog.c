/* The SQLite store's backlog file (logd-backlog.h). */
#include "logd-backlog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC 0x6b6c4256u /* "VBlk" */

struct frame_hdr {
    uint32_t magic, len, nrec, check;
};

static uint32_t check_of(const struct frame_hdr *h)
{
    return ~(h->magic ^ h->len ^ (h->nrec * 0x9e3779b1u));
}

/* Where each waiting frame is and what it holds, kept in memory: a
 * damaged header in the file then costs that frame alone. */
struct frame {
    uint64_t off;
    uint32_t len, nrec;
};

struct logd_backlog {
    int fd;
    char *path;
    uint64_t max;
    pthread_mutex_t mu;
    /* Guarded by mu. The frames waiting lie in [start, end), listed in
     * frames[head, head + n) (a ring of cap); the file's blocks before
     * punched are freed. writing: an append is under way at end (outside
     * the lock), so the file is not started over. */
    struct frame *frames;
    size_t head, n, cap;
    uint64_t start, end, punched, records;
    uint64_t records_in;
    bool writing;
};

/* Room for one more frame in the ring; false when out of memory. Caller
 * holds mu. */
static bool frames_room(struct logd_backlog *b)
{
    if (b->n < b->cap)
        return true;
    size_t cap = b->cap ? 2 * b->cap : 64;
    struct frame *f = malloc(cap * sizeof *f);
    if (f == NULL)
        return false;
    for (size_t i = 0; i < b->n; i++)
        f[i] = b->frames[(b->head + i) % b->cap];
    free(b->frames);
    b->frames = f;
    b->head = 0;
    b->cap = cap;
    return true;
}

int logd_backlog_open(struct logd_backlog **out, const char *path, uint64_t max,
                      uint64_t *stale, char *err, size_t errlen)
{
    struct stat st;
    *stale =
        lstat(path, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
    struct logd_backlog *b = calloc(1, sizeof *b);
    if (b == NULL || (b->path = strdup(path)) == NULL) {
        free(b);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* Not through a link: the file is truncated, and logd may run as
     * root. */
    b->fd =
        open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (b->fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(b->path);
        free(b);
        return -1;
    }
    b->max = max;
    pthread_mutex_init(&b->mu, NULL);
    *out = b;
    return 0;
}

void logd_backlog_close(struct logd_backlog *b)
{
    if (b == NULL)
        return;
    close(b->fd);
    unlink(b->path);
    pthread_mutex_destroy(&b->mu);
    free(b->frames);
    free(b->path);
    free(b);
}

/* All @len bytes at @off, written (@out) or read: 0, or -errno; one that
 * stopped short is -ENOSPC written (a full disk), -EIO read (the file
 * shorter than the frames listed). */
static int io_at(int fd, bool out, void *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        char *p = (char *)buf + done;
        off_t at = (off_t)(off + done);
        ssize_t r =
            out ? pwrite(fd, p, len - done, at) : pread(fd, p, len - done, at);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? -errno : out ? -ENOSPC : -EIO;
        done += (size_t)r;
    }
    return 0;
}

int logd_backlog_push(struct logd_backlog *b, const void *data, uint32_t len,
                      uint32_t nrec)
{
    struct frame_hdr h = {MAGIC, len, nrec, 0};
    h.check = check_of(&h);
    size_t total = sizeof h + len;
    pthread_mutex_lock(&b->mu);
    uint64_t off = b->end;
    bool fits = b->end - b->start + total <= b->max;
    bool room = fits && frames_room(b);
    b->writing = room;
    pthread_mutex_unlock(&b->mu);
    if (!fits)
        return -ENOSPC;
    if (!room)
        return -ENOMEM;
    int rc = io_at(b->fd, true, &h, sizeof h, off);
    if (rc == 0)
        rc = io_at(b->fd, true, (void *)(uintptr_t)data, len, off + sizeof h);
    pthread_mutex_lock(&b->mu);
    b->writing = false;
    if (rc == 0) {
        b->frames[(b->head + b->n++) % b->cap] = (struct frame){off, len, nrec};
        b->end = off + total;
        b->records += nrec;
        b->records_in += nrec;
    }
    pthread_mutex_unlock(&b->mu);
    return rc;
}

/* After a take: free the blocks wholly behind start, or start over when
 * nothing waits. Caller holds mu. */
static void reclaim_locked(struct logd_backlog *b)
{
    if (b->n == 0 && !b->writing) {
        if (b->end > 0 && ftruncate(b->fd, 0) == 0)
            b->start = b->end = b->punched = 0;
        return;
    }
    uint64_t upto = b->start & ~(uint64_t)0xfffff; /* 1 MiB steps */
    if (upto > b->punched &&
        fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  (off_t)b->punched, (off_t)(upto - b->punched)) == 0)
        b->punched = upto;
}

long logd_backlog_pop(struct logd_backlog *b, void *buf, uint32_t cap,
                      uint32_t *nrec)
{
    pthread_mutex_lock(&b->mu);
    struct frame f = b->n > 0 ? b->frames[b->head] : (struct frame){0};
    bool any = b->n > 0;
    pthread_mutex_unlock(&b->mu);
    *nrec = f.nrec;
    if (!any)
        return 0;
    struct frame_hdr h;
    int rc = io_at(b->fd, false, &h, sizeof h, f.off);
    if (rc == 0 && (h.magic != MAGIC || h.check != check_of(&h) ||
                    h.len != f.len || h.nrec != f.nrec))
        rc = -EBADMSG;
    if (rc == 0 && f.len > cap)
        rc = -EMSGSIZE;
    if (rc == 0)
        rc = io_at(b->fd, false, buf, f.len, f.off + sizeof h);
    pthread_mutex_lock(&b->mu);
    b->head = (b->head + 1) % b->cap;
    b->n--;
    b->start = f.off + sizeof h + f.len;
    b->records -= f.nrec;
    reclaim_locked(b);
    pthread_mutex_unlock(&b->mu);
    return rc < 0 ? rc : (long)f.len;
}

bool logd_backlog_waiting(struct logd_backlog *b)
{
    pthread_mutex_lock(&b->mu);
    bool waiting = b->n > 0;
    pthread_mutex_unlock(&b->mu);
    return waiting;
}

void logd_backlog_stats(struct logd_backlog *b, struct logd_backlog_stats *o)
{
    pthread_mutex_lock(&b->mu);
    o->bytes = b->end - b->start;
    o->records = b->records;
    o->records_in = b->records_in;
    pthread_mutex_unlock(&b->mu);
}

const char *logd_backlog_path(const struct logd_backlog *b)
{
    return b->path;
}
