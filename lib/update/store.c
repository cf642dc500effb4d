/* The database that updates replace (see vigil/update.h).
 *
 * Order of an update, so that a crash at any point neither rolls back nor
 * leaves a half database: the new generation is written and loaded in a
 * temporary directory; it is renamed into place; the state file (version,
 * bundle hash) is replaced; only then the link is swapped. A crash after
 * the state and before the link leaves the old database with the new
 * version recorded: safe (nothing older can come back), and the next
 * version repairs it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "vigil/sig.h"
#include "vigil/update.h"
#include "vigil/errf.h"
#include "vigil/file.h"
#include "vigil/replace.h"

#define FILE_MAX (256u << 20) /* a database file kept across a delta */

struct vupd_store {
    char db[PATH_MAX];
    char state_path[PATH_MAX];
    char gen_dir[PATH_MAX];  /* DB.d */
    char base[NAME_MAX + 1]; /* basename of DB */
    struct vupd_state st;
};

/* A database file of the next generation, held in memory. */
struct file {
    char name[VUPD_NAME_MAX + 1];
    const uint8_t *data;
    size_t len;
    uint8_t *owned; /* read from the current generation */
};

#define io_fail(...) ((enum vupd_reason)vigil_errf(VUPD_IO, __VA_ARGS__))

/* Write @len bytes to @path (created, 0644) and flush them to disk. */
static int write_all(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    const uint8_t *p = data;
    for (size_t done = 0; done < len;) {
        ssize_t r = write(fd, p + done, len - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? -errno : -EIO;
            close(fd);
            return e;
        }
        done += (size_t)r;
    }
    int e = fsync(fd) < 0 ? -errno : 0;
    if (close(fd) < 0 && e == 0)
        e = -errno;
    return e;
}

static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* ---- the state file: "key=value" lines ---- */

static int parse_state(const char *text, size_t len, struct vupd_state *st)
{
    memset(st, 0, sizeof *st);
    bool have_id = false, have_ver = false, have_hash = false;
    for (size_t off = 0; off < len;) {
        const char *s = text + off, *nl = memchr(s, '\n', len - off);
        if (nl == NULL)
            return -EINVAL;
        size_t n = (size_t)(nl - s);
        off += n + 1;
        char line[160];
        if (n >= sizeof line)
            return -EINVAL;
        memcpy(line, s, n);
        line[n] = '\0';
        char *eq = strchr(line, '=');
        if (eq == NULL)
            return -EINVAL;
        *eq = '\0';
        const char *v = eq + 1;
        char *end;
        if (!strcmp(line, "db")) {
            if (strlen(v) > VUPD_DBID_MAX)
                return -EINVAL;
            memcpy(st->db_id, v, strlen(v) + 1);
            have_id = true;
        } else if (!strcmp(line, "version")) {
            errno = 0;
            st->version = strtoull(v, &end, 10);
            if (errno || *end || end == v)
                return -EINVAL;
            have_ver = true;
        } else if (!strcmp(line, "sha256")) {
            size_t got;
            if (sodium_hex2bin(st->last_hash, 32, v, strlen(v), NULL, &got,
                               NULL) != 0 ||
                got != 32)
                return -EINVAL;
            have_hash = true;
        } else if (!strcmp(line, "applied")) {
            errno = 0;
            st->applied = strtoull(v, &end, 10);
            if (errno || *end || end == v)
                return -EINVAL;
        } else {
            return -EINVAL;
        }
    }
    return have_id && have_ver && have_hash ? 0 : -EINVAL;
}

static int write_state(const struct vupd_store *s, const struct vupd_state *st)
{
    char hex[65], text[256];
    sodium_bin2hex(hex, sizeof hex, st->last_hash, 32);
    int n = snprintf(text, sizeof text,
                     "db=%s\nversion=%llu\nsha256=%s\napplied=%llu\n",
                     st->db_id, (unsigned long long)st->version, hex,
                     (unsigned long long)st->applied);
    return vigil_replace_file(s->state_path, text, (size_t)n, 0644);
}

int vupd_store_open(struct vupd_store **out, const char *db_path, char *err,
                    size_t errlen)
{
    if (sodium_init() < 0) {
        io_fail(err, errlen, "libsodium cannot start");
        return -EIO;
    }
    struct vupd_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    const char *slash = strrchr(db_path, '/');
    const char *base = slash ? slash + 1 : db_path;
    if (*base == '\0' || strlen(base) > NAME_MAX - 16 ||
        snprintf(s->db, sizeof s->db, "%s", db_path) >= (int)sizeof s->db ||
        snprintf(s->state_path, sizeof s->state_path, "%s.vigil-update",
                 db_path) >= (int)sizeof s->state_path ||
        snprintf(s->gen_dir, sizeof s->gen_dir, "%s.d", db_path) >=
            (int)sizeof s->gen_dir) {
        io_fail(err, errlen, "%s: path too long or empty", db_path);
        free(s);
        return -ENAMETOOLONG;
    }
    snprintf(s->base, sizeof s->base, "%s", base);
    struct stat st;
    if (lstat(db_path, &st) == 0 && S_ISDIR(st.st_mode)) {
        io_fail(err, errlen,
                "%s is a directory: a database under update control is a "
                "file or a symbolic link (updates replace the link)",
                db_path);
        free(s);
        return -EISDIR;
    }
    uint8_t *text;
    size_t len;
    int e = vigil_read_file(s->state_path, 4096, &text, &len);
    if (e == 0) {
        e = parse_state((const char *)text, len, &s->st);
        free(text);
        if (e < 0) {
            io_fail(err, errlen, "%s: corrupt update state", s->state_path);
            free(s);
            return e;
        }
    } else if (e != -ENOENT) {
        io_fail(err, errlen, "%s: %s", s->state_path, strerror(-e));
        free(s);
        return e;
    }
    *out = s;
    return 0;
}

void vupd_store_close(struct vupd_store *s)
{
    free(s);
}

void vupd_store_state(const struct vupd_store *s, struct vupd_state *out)
{
    *out = s->st;
}

static bool db_file_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    return name[0] != '.' && dot != NULL &&
           (!strcmp(dot, ".ndb") || !strcmp(dot, ".hdb") ||
            !strcmp(dot, ".hsb") || !strcmp(dot, ".ldb") ||
            !strcmp(dot, ".cvd") || !strcmp(dot, ".cld") ||
            !strcmp(dot, ".db"));
}

static void free_files(struct file *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(f[i].owned);
}

/* The files of the current database: a generation directory (through the
 * link) or the single file --db started with. */
static int current_files(const struct vupd_store *s, struct file *f, size_t *n,
                         size_t cap, char *err, size_t errlen)
{
    struct stat st;
    *n = 0;
    if (stat(s->db, &st) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (S_ISREG(st.st_mode)) {
        if (strlen(s->base) > VUPD_NAME_MAX)
            return -ENAMETOOLONG;
        snprintf(f[0].name, sizeof f[0].name, "%s", s->base);
        int e = vigil_read_file(s->db, FILE_MAX, &f[0].owned, &f[0].len);
        if (e < 0)
            return e;
        f[0].data = f[0].owned;
        *n = 1;
        return 0;
    }
    DIR *d = opendir(s->db);
    if (d == NULL)
        return -errno;
    struct dirent *de;
    int e = 0;
    while (e == 0 && (de = readdir(d)) != NULL) {
        if (!db_file_name(de->d_name))
            continue;
        if (*n == cap || strlen(de->d_name) > VUPD_NAME_MAX) {
            io_fail(err, errlen, "the current database has too many files");
            e = -E2BIG;
            break;
        }
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", s->db, de->d_name) >=
            (int)sizeof path) {
            e = -ENAMETOOLONG;
            break;
        }
        struct file *x = &f[*n];
        snprintf(x->name, sizeof x->name, "%s", de->d_name);
        e = vigil_read_file(path, FILE_MAX, &x->owned, &x->len);
        if (e == 0) {
            x->data = x->owned;
            (*n)++;
        }
    }
    closedir(d);
    return e;
}

/* Every line must load, and the whole must compile, as the filters will
 * load it. */
static enum vupd_reason check_body(const struct file *f, size_t n, char *err,
                                   size_t errlen)
{
    struct vsig_load_opts o = {.sz = sizeof o, .flags = VSIG_LOAD_STRICT};
    struct vsig_loader *l;
    if (vsig_loader_new(&l, &o) < 0)
        return io_fail(err, errlen, "out of memory");
    enum vupd_reason r = VUPD_OK;
    for (size_t i = 0; i < n && r == VUPD_OK; i++)
        if (vsig_loader_add(l, f[i].name, f[i].data, f[i].len) < 0) {
            snprintf(err, errlen, "%s does not load", f[i].name);
            r = VUPD_BAD_BODY;
        }
    if (r == VUPD_OK && vsig_loader_count(l) == 0) {
        snprintf(err, errlen, "no signatures in the new database");
        r = VUPD_BAD_BODY;
    }
    struct vsig_db *db = NULL;
    if (r == VUPD_OK && vsig_loader_compile(l, &db) < 0) {
        snprintf(err, errlen, "the new database does not compile");
        r = VUPD_BAD_BODY;
    }
    vsig_db_unref(db);
    vsig_loader_free(l);
    return r;
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            char path[PATH_MAX];
            if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) <
                (int)sizeof path)
                unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* Generations older than @keep_from (and stray temporaries) go. */
static void prune(const struct vupd_store *s, uint64_t keep_from)
{
    DIR *d = opendir(s->gen_dir);
    if (d == NULL)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        unsigned long long v;
        char tail;
        if (sscanf(de->d_name, "v%llu%c", &v, &tail) != 1 || v >= keep_from)
            continue;
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", s->gen_dir, de->d_name) <
            (int)sizeof path)
            remove_tree(path);
    }
    closedir(d);
}

/* Whether @h may follow the database's state: the same database, a newer
 * version, and for a delta the version it was made on. */
static enum vupd_reason check_order(const struct vupd_store *s,
                                    const struct vupd_header *h,
                                    const uint8_t hash[32], char *err,
                                    size_t errlen)
{
    if (s->st.db_id[0] != '\0' && strcmp(s->st.db_id, h->db_id) != 0) {
        snprintf(err, errlen, "for database '%s'; this one is '%s'", h->db_id,
                 s->st.db_id);
        return VUPD_WRONG_DB;
    }
    if (h->version <= s->st.version) {
        bool same = h->version == s->st.version &&
                    sodium_memcmp(hash, s->st.last_hash, 32) == 0;
        snprintf(err, errlen, "version %llu, the database is at %llu",
                 (unsigned long long)h->version,
                 (unsigned long long)s->st.version);
        return same ? VUPD_REPLAY : VUPD_ROLLBACK;
    }
    if (h->kind == VUPD_DELTA && h->base != s->st.version) {
        snprintf(
            err, errlen, "a delta on version %llu; the database is at %llu",
            (unsigned long long)h->base, (unsigned long long)s->st.version);
        return VUPD_WRONG_BASE;
    }
    return VUPD_OK;
}

/* The next generation's files into @f (room for 2 * VUPD_ENTRIES_MAX): a
 * full bundle's entries, or a delta's over the current files. */
static enum vupd_reason next_files(struct vupd_store *s,
                                   const struct vupd_bundle *b, struct file *f,
                                   size_t *nout, char *err, size_t errlen)
{
    size_t n = 0;
    if (b->h.kind == VUPD_DELTA) {
        int e = current_files(s, f, &n, VUPD_ENTRIES_MAX, err, errlen);
        *nout = n;
        if (e < 0) {
            if (e != -E2BIG)
                io_fail(err, errlen, "reading the current database: %s",
                        strerror(-e));
            return VUPD_IO;
        }
    }
    for (uint32_t i = 0; i < b->h.nentries; i++) {
        const struct vupd_entry *e = &b->entries[i];
        size_t k = 0;
        while (k < n && strcmp(f[k].name, e->name) != 0)
            k++;
        if (k == n)
            n++;
        free(f[k].owned);
        f[k].owned = NULL;
        snprintf(f[k].name, sizeof f[k].name, "%s", e->name);
        f[k].data = e->data;
        f[k].len = e->len;
    }
    *nout = n;
    return check_body(f, n, err, errlen);
}

/* Where a version lives: its directory, the temporary one it is written
 * in, the link target relative to the database, and the link's temporary
 * name. */
struct gen_paths {
    char tmp[PATH_MAX], gen[PATH_MAX], rel[PATH_MAX], link_tmp[PATH_MAX];
};

static bool gen_paths(const struct vupd_store *s, uint64_t version,
                      struct gen_paths *g)
{
    unsigned long long v = version;
    return snprintf(g->tmp, sizeof g->tmp, "%s/.v%llu.tmp", s->gen_dir, v) <
               (int)sizeof g->tmp &&
           snprintf(g->gen, sizeof g->gen, "%s/v%llu", s->gen_dir, v) <
               (int)sizeof g->gen &&
           snprintf(g->rel, sizeof g->rel, "%s.d/v%llu", s->base, v) <
               (int)sizeof g->rel &&
           snprintf(g->link_tmp, sizeof g->link_tmp, "%s.link.tmp", s->db) <
               (int)sizeof g->link_tmp;
}

/* The files written into the temporary directory, which is then renamed
 * into place: a generation exists whole or not at all. */
static enum vupd_reason write_generation(const struct vupd_store *s,
                                         const struct gen_paths *g,
                                         const struct file *f, size_t n,
                                         char *err, size_t errlen)
{
    remove_tree(g->tmp);
    remove_tree(g->gen); /* a generation left by an update that crashed */
    if ((mkdir(s->gen_dir, 0755) < 0 && errno != EEXIST) ||
        mkdir(g->tmp, 0755) < 0)
        return io_fail(err, errlen, "%s: %s", g->tmp, strerror(errno));
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX];
        int e = snprintf(path, sizeof path, "%s/%s", g->tmp, f[i].name) <
                        (int)sizeof path
                    ? write_all(path, f[i].data, f[i].len)
                    : -ENAMETOOLONG;
        if (e < 0) {
            remove_tree(g->tmp);
            return io_fail(err, errlen, "%s: %s", path, strerror(-e));
        }
    }
    sync_dir(g->tmp);
    if (rename(g->tmp, g->gen) < 0) {
        enum vupd_reason r =
            io_fail(err, errlen, "%s: %s", g->gen, strerror(errno));
        remove_tree(g->tmp);
        return r;
    }
    sync_dir(s->gen_dir);
    return VUPD_OK;
}

/* The state first, then the link: see the top of this file. */
static enum vupd_reason commit(struct vupd_store *s,
                               const struct vupd_header *h,
                               const uint8_t hash[32],
                               const struct gen_paths *g, char *err,
                               size_t errlen)
{
    struct vupd_state next = s->st;
    snprintf(next.db_id, sizeof next.db_id, "%s", h->db_id);
    next.version = h->version;
    memcpy(next.last_hash, hash, 32);
    next.applied = (uint64_t)time(NULL);
    int e = write_state(s, &next);
    if (e < 0) {
        remove_tree(g->gen);
        return io_fail(err, errlen, "%s: %s", s->state_path, strerror(-e));
    }
    s->st = next;
    unlink(g->link_tmp);
    if (symlink(g->rel, g->link_tmp) < 0 || rename(g->link_tmp, s->db) < 0) {
        /* The state is ahead of the database: safe, see the top. */
        e = errno;
        unlink(g->link_tmp);
        return io_fail(err, errlen, "%s: %s (recorded as version %llu)", s->db,
                       strerror(e), (unsigned long long)h->version);
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", s->db);
    char *slash = strrchr(dir, '/');
    sync_dir(slash ? (*slash = '\0', dir[0] ? dir : "/") : ".");
    return VUPD_OK;
}

enum vupd_reason vupd_store_apply(struct vupd_store *s,
                                  const struct vupd_bundle *b,
                                  const void *whole, size_t whole_len,
                                  char *err, size_t errlen)
{
    const struct vupd_header *h = &b->h;
    uint8_t hash[32];
    crypto_hash_sha256(hash, whole, whole_len);
    enum vupd_reason r = check_order(s, h, hash, err, errlen);
    if (r != VUPD_OK)
        return r;
    struct file *f = calloc(2 * VUPD_ENTRIES_MAX, sizeof *f);
    if (f == NULL)
        return io_fail(err, errlen, "out of memory");
    size_t n = 0;
    struct gen_paths g;
    r = next_files(s, b, f, &n, err, errlen);
    if (r == VUPD_OK && !gen_paths(s, h->version, &g))
        r = io_fail(err, errlen, "path too long");
    if (r == VUPD_OK)
        r = write_generation(s, &g, f, n, err, errlen);
    free_files(f, n);
    free(f);
    if (r != VUPD_OK)
        return r;
    uint64_t old = s->st.version;
    r = commit(s, h, hash, &g, err, errlen);
    if (r != VUPD_OK)
        return r;
    /* The generation before stays a while for readers still loading it. */
    prune(s, old ? old : h->version);
    return VUPD_OK;
}
