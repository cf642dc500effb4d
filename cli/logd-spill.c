/* logd's spill directory (logd-spill.h). */
#include "logd-spill.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* A file is closed for replay at this size, so a replay holds at most
 * this much in memory. */
#define SPILL_FILE_MAX (8u << 20)
/* The longest line: a record (< 64 KiB) and its key. */
#define LINE_MAX_BYTES (70u << 10)

struct logd_spill {
    pthread_mutex_t lock;
    char *dir;
    uint64_t max, bytes;
    uint64_t next;   /* N of the next file */
    uint64_t oldest; /* no file below this N is left */
    int fd;          /* the file being appended to, or -1 */
    uint64_t cur;    /* its N */
    uint64_t cur_bytes;
    bool failing; /* a failure was printed; quiet until a success */
    char *line;
};

static bool spill_name(const char *name, uint64_t *n)
{
    char tail[8];
    unsigned long long v;
    if (sscanf(name, "spill-%llu.%7s", &v, tail) != 2 ||
        strcmp(tail, "jsonl") != 0)
        return false;
    *n = v;
    return true;
}

int logd_spill_open(struct logd_spill **out, const char *dir, uint64_t max,
                    char *err, size_t errlen)
{
    struct logd_spill *sp = calloc(1, sizeof *sp);
    if (sp == NULL || (sp->dir = strdup(dir)) == NULL ||
        (sp->line = malloc(LINE_MAX_BYTES)) == NULL) {
        snprintf(err, errlen, "out of memory");
        logd_spill_close(sp);
        return -1;
    }
    pthread_mutex_init(&sp->lock, NULL);
    sp->fd = -1;
    sp->max = max;
    sp->oldest = UINT64_MAX;
    DIR *d = NULL;
    if ((mkdir(dir, 0700) < 0 && errno != EEXIST) ||
        (d = opendir(dir)) == NULL) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        logd_spill_close(sp);
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        uint64_t n;
        struct stat st;
        if (!spill_name(e->d_name, &n) ||
            fstatat(dirfd(d), e->d_name, &st, 0) < 0)
            continue;
        sp->bytes += (uint64_t)st.st_size;
        if (n >= sp->next)
            sp->next = n + 1;
        if (n < sp->oldest)
            sp->oldest = n;
    }
    closedir(d);
    if (sp->oldest == UINT64_MAX)
        sp->oldest = sp->next;
    *out = sp;
    return 0;
}

static void close_cur(struct logd_spill *sp)
{
    if (sp->fd >= 0)
        close(sp->fd);
    sp->fd = -1;
}

void logd_spill_close(struct logd_spill *sp)
{
    if (sp == NULL)
        return;
    close_cur(sp);
    if (sp->dir != NULL)
        pthread_mutex_destroy(&sp->lock);
    free(sp->dir);
    free(sp->line);
    free(sp);
}

static void spill_failed(struct logd_spill *sp, const char *why)
{
    if (!sp->failing)
        cli_warn("spill %s: %s: records are being LOST", sp->dir, why);
    sp->failing = true;
}

static int open_cur(struct logd_spill *sp)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/spill-%" PRIu64 ".jsonl", sp->dir,
             sp->next);
    sp->fd =
        open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
    if (sp->fd < 0) {
        spill_failed(sp, strerror(errno));
        return -1;
    }
    sp->cur = sp->next++;
    sp->cur_bytes = 0;
    return 0;
}

static bool append_one(struct logd_spill *sp, const struct store_rec *r)
{
    if (r->len + 256 > LINE_MAX_BYTES)
        return false;
    int hl = snprintf(sp->line, LINE_MAX_BYTES,
                      "{\"host\":\"%s\",\"session\":\"%s\",\"rec\":%" PRIu64
                      ",\"received_ns\":%" PRIu64 ",\"event\":",
                      r->host, r->session, r->recno, r->received_ns);
    size_t len = (size_t)hl;
    /* A record's newline would end its line early and start a line of
     * the record's choosing: a record of any host and session, replayed
     * as such. Outside strings a newline is whitespace like a space; in
     * a string it is not JSON either way. */
    for (uint32_t i = 0; i < r->len; i++) {
        char c = r->json[i];
        sp->line[len++] = c == '\n' || c == '\r' ? ' ' : c;
    }
    sp->line[len++] = '}';
    sp->line[len++] = '\n';
    if (sp->bytes + len > sp->max) {
        spill_failed(sp, "full (--store-spill-max)");
        return false;
    }
    if (sp->fd >= 0 && sp->cur_bytes >= SPILL_FILE_MAX)
        close_cur(sp);
    if (sp->fd < 0 && open_cur(sp) < 0)
        return false;
    ssize_t w = write(sp->fd, sp->line, len);
    if (w != (ssize_t)len) {
        spill_failed(sp, w < 0 ? strerror(errno) : "short write");
        /* Whole lines only: a cut one is cut off again. */
        if (w > 0 && ftruncate(sp->fd, (off_t)sp->cur_bytes) < 0)
            close_cur(sp);
        return false;
    }
    sp->cur_bytes += len;
    sp->bytes += len;
    sp->failing = false;
    return true;
}

size_t logd_spill_append(struct logd_spill *sp, struct store_rec *const *recs,
                         size_t n)
{
    size_t done = 0;
    pthread_mutex_lock(&sp->lock);
    for (size_t i = 0; i < n; i++)
        done += append_one(sp, recs[i]);
    pthread_mutex_unlock(&sp->lock);
    return done;
}

int logd_spill_take(struct logd_spill *sp, char *path, size_t cap)
{
    int found = 0;
    pthread_mutex_lock(&sp->lock);
    while (sp->oldest < sp->next) {
        if (sp->fd >= 0 && sp->oldest == sp->cur) {
            if (sp->cur_bytes == 0)
                break; /* nothing in it yet */
            close_cur(sp);
        }
        snprintf(path, cap, "%s/spill-%" PRIu64 ".jsonl", sp->dir, sp->oldest);
        if (access(path, F_OK) == 0) {
            found = 1;
            break;
        }
        sp->oldest++; /* a gap: removed by hand, or never written */
    }
    pthread_mutex_unlock(&sp->lock);
    return found;
}

void logd_spill_done(struct logd_spill *sp, const char *path)
{
    struct stat st;
    pthread_mutex_lock(&sp->lock);
    if (stat(path, &st) == 0 && unlink(path) == 0)
        sp->bytes -=
            (uint64_t)st.st_size < sp->bytes ? (uint64_t)st.st_size : sp->bytes;
    sp->oldest++;
    pthread_mutex_unlock(&sp->lock);
}

uint64_t logd_spill_bytes(struct logd_spill *sp)
{
    pthread_mutex_lock(&sp->lock);
    uint64_t b = sp->bytes;
    pthread_mutex_unlock(&sp->lock);
    return b;
}

/* ---- reading ---- */

static const char *get_str(const char *p, const char *key, char *out,
                           size_t cap)
{
    size_t kl = strlen(key);
    if (strncmp(p, key, kl) != 0)
        return NULL;
    p += kl;
    const char *q = strchr(p, '"');
    if (q == NULL || (size_t)(q - p) >= cap)
        return NULL;
    memcpy(out, p, (size_t)(q - p));
    out[q - p] = 0;
    return q + 1;
}

static const char *get_u64(const char *p, const char *key, uint64_t *v)
{
    size_t kl = strlen(key);
    if (strncmp(p, key, kl) != 0 || p[kl] < '0' || p[kl] > '9')
        return NULL;
    char *end;
    errno = 0;
    *v = strtoull(p + kl, &end, 10);
    return errno ? NULL : end;
}

/* One line (without its newline) into a record, or NULL. */
static struct store_rec *parse_line(const char *p, size_t len)
{
    char host[64], session[17];
    uint64_t rec, rcv;
    const char *end = p + len;
    if (len < 2 || end[-1] != '}')
        return NULL;
    p = get_str(p, "{\"host\":\"", host, sizeof host);
    p = p ? get_str(p, ",\"session\":\"", session, sizeof session) : NULL;
    p = p ? get_u64(p, ",\"rec\":", &rec) : NULL;
    p = p ? get_u64(p, ",\"received_ns\":", &rcv) : NULL;
    if (p == NULL || strncmp(p, ",\"event\":", 9) != 0)
        return NULL;
    p += 9;
    if (p > end - 1) /* an empty record is one too */
        return NULL;
    return store_rec_new(host, session, rec, rcv, p, (size_t)(end - 1 - p));
}

int logd_spill_read(const char *path, struct store_rec ***out, size_t *n,
                    size_t *bad)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -errno;
    struct store_rec **v = NULL;
    size_t nv = 0, cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t l;
    int err = 0;
    *bad = 0;
    while ((l = getline(&line, &lcap, f)) > 0) {
        if (line[l - 1] != '\n') {
            ++*bad; /* cut off by a crash */
            continue;
        }
        struct store_rec *r = parse_line(line, (size_t)l - 1);
        if (r == NULL) {
            ++*bad;
            continue;
        }
        if (nv == cap) {
            cap = cap ? cap * 2 : 1024;
            struct store_rec **nvp = realloc(v, cap * sizeof *v);
            if (nvp == NULL) {
                free(r);
                err = -ENOMEM;
                break;
            }
            v = nvp;
        }
        v[nv++] = r;
    }
    free(line);
    fclose(f);
    if (err < 0) {
        for (size_t i = 0; i < nv; i++)
            free(v[i]);
        free(v);
        return err;
    }
    *out = v;
    *n = nv;
    return 0;
}
