/* /proc/PID/mem descriptors (procmem.h). Descriptors point at open files
 * as the kernel's do: dup and fork share one file, and so its position. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/procmem.h"

#define FILES                1024 /* open /proc/PID/mem files and /proc/PID dirs */
#define FDS                  2048 /* descriptors on them, of every process */
#define COMPS                32   /* path components looked at */
#define LINKS                8    /* descriptor links followed per path */
#define CWDS                 64   /* working directories inside /proc/N */
#define CHILDREN             256  /* processes whose inheritance was settled */
#define AT_FDCWD_            (-100)
#define O_CLOEXEC_           02000000
#define FD_CLOEXEC_          1
#define F_DUPFD_             0
#define F_SETFD_             2
#define F_DUPFD_CLOEXEC_     1030
#define CLOSE_RANGE_CLOEXEC_ 4

enum kind { K_FREE, K_MEM, K_DIR };

struct ofile {
    enum kind kind;
    int32_t target; /* the N of /proc/N */
    int32_t task;   /* a K_DIR on /proc/N/task/T: T, else 0 */
    unsigned refs;
    uint64_t pos;
};

struct fdrec {
    int32_t tgid, fd;
    int file; /* index into files, -1 when free */
    bool cloexec;
};

struct cwd {      /* a process whose working directory is /proc/N[/task/T] */
    int32_t tgid; /* 0: free */
    struct ofile dir;
};

struct vpmem {
    struct ofile files[FILES];
    struct fdrec fds[FDS];
    size_t live;   /* fds in use: 0 lets the common call return at once */
    uint64_t full; /* descriptors not followed: the tables were full */
    /* A child's calls can come before its parent's fork returns (the
     * parent is preempted in the kernel): such a child takes its copies
     * at its first call, and the late fork must not copy them again. */
    int32_t settled[CHILDREN];
    size_t snext;
    struct cwd cwds[CWDS];
    size_t cnext, ncwd;
};

int vpmem_new(struct vpmem **out)
{
    struct vpmem *m = calloc(1, sizeof *m);
    if (m == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < FDS; i++)
        m->fds[i].file = -1;
    *out = m;
    return 0;
}

void vpmem_free(struct vpmem *m)
{
    free(m);
}

static struct fdrec *fd_of(struct vpmem *m, int32_t tgid, int64_t fd)
{
    if (m->live == 0 || fd < 0 || fd > INT32_MAX)
        return NULL;
    for (size_t i = 0; i < FDS; i++)
        if (m->fds[i].file >= 0 && m->fds[i].tgid == tgid &&
            m->fds[i].fd == (int32_t)fd)
            return &m->fds[i];
    return NULL;
}

static void drop(struct vpmem *m, struct fdrec *d)
{
    if (d == NULL)
        return;
    struct ofile *f = &m->files[d->file];
    if (--f->refs == 0)
        f->kind = K_FREE;
    d->file = -1;
    m->live--;
}

/* Descriptor @fd of @tgid now refers to file @file (whatever it referred
 * to before is closed, as dup2 does). */
static void bind_fd(struct vpmem *m, int32_t tgid, int64_t fd, int file,
                    bool cloexec)
{
    drop(m, fd_of(m, tgid, fd));
    for (size_t i = 0; i < FDS; i++)
        if (m->fds[i].file < 0) {
            m->fds[i] = (struct fdrec){.tgid = tgid,
                                       .fd = (int32_t)fd,
                                       .file = file,
                                       .cloexec = cloexec};
            m->files[file].refs++;
            m->live++;
            return;
        }
    m->full++;
}

struct comp {
    const char *s;
    size_t n;
};

static bool is(const struct comp *c, const char *w)
{
    return c->n == strlen(w) && !memcmp(c->s, w, c->n);
}

/* A component of at most 9 decimal digits, or -1. */
static int64_t digits(const struct comp *c)
{
    int64_t v = 0;
    if (c->n == 0 || c->n > 9)
        return -1;
    for (size_t i = 0; i < c->n; i++) {
        if (c->s[i] < '0' || c->s[i] > '9')
            return -1;
        v = v * 10 + (c->s[i] - '0');
    }
    return v;
}

/* A pid as /proc names it (no leading zero), or 0. */
static int32_t number(const struct comp *c)
{
    int64_t v = digits(c);
    return v > 0 && c->s[0] != '0' ? (int32_t)v : 0;
}

/* A path being walked: the links it went through are rewritten into
 * @text, which the components then point into. */
struct walker {
    struct vpmem *m;
    const struct vigil_syscall *ev;
    char text[LINKS][40];
    unsigned links;
};

/* The text of a followed file's path, without the leading '/'. */
static size_t path_text(const struct ofile *f, char *buf, size_t cap)
{
    const char *mem = f->kind == K_MEM ? "/mem" : "";
    int n = f->task > 0 ? snprintf(buf, cap, "proc/%d/task/%d%s", f->target,
                                   f->task, mem)
                        : snprintf(buf, cap, "proc/%d%s", f->target, mem);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static size_t walk(struct walker *w, struct comp *c, size_t n, const char *path,
                   size_t len);

/* When @c[0..n) just became a descriptor's link (/proc/X/fd/K, with X a
 * pid, self or thread-self, also under task/T; /dev/fd/K) and that
 * descriptor is one we follow, it stands for its file's path, as the
 * kernel follows the link before the next component. */
static size_t follow(struct walker *w, struct comp *c, size_t n)
{
    int32_t owner = 0;
    if (n == 3 && is(&c[0], "dev") && is(&c[1], "fd"))
        owner = w->ev->tgid;
    else if ((n == 4 || (n == 6 && is(&c[2], "task"))) && is(&c[0], "proc") &&
             is(&c[n - 2], "fd"))
        owner = is(&c[1], "self") || is(&c[1], "thread-self") ? w->ev->tgid
                                                              : number(&c[1]);
    if (owner <= 0)
        return n;
    struct fdrec *d = fd_of(w->m, owner, digits(&c[n - 1]));
    if (d == NULL || w->links == LINKS)
        return n;
    char *t = w->text[w->links++];
    size_t len = path_text(&w->m->files[d->file], t, sizeof w->text[0]);
    return walk(w, c, 0, t, len);
}

/* Append @path's components to @c (after its @n), resolving "." and "..",
 * and links to descriptors we follow. */
static size_t walk(struct walker *w, struct comp *c, size_t n, const char *path,
                   size_t len)
{
    size_t i = 0;
    while (i < len && n <= COMPS) {
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        struct comp x = {path + i, j - i};
        if (x.n == 0 || is(&x, ".")) {
            /* nothing */
        } else if (is(&x, "..")) {
            n -= n > 0;
        } else if (n < COMPS) {
            c[n++] = x;
            n = follow(w, c, n);
        } else {
            return COMPS + 1; /* deeper than anything this looks for */
        }
        i = j + 1;
    }
    return n;
}

/* What @c[0..n) names: /proc/N or /proc/N/task/T (K_DIR), their mem file
 * (K_MEM), or nothing this tracks. /proc/N/root/... starts over at the
 * root (the process's root is assumed to be the guest's). */
static enum kind classify(const struct comp *c, size_t n, int32_t *target,
                          int32_t *task)
{
    while (n >= 3 && is(&c[0], "proc") && number(&c[1]) > 0 &&
           is(&c[2], "root")) {
        c += 3;
        n -= 3;
    }
    if (n < 2 || n > 5 || !is(&c[0], "proc") || (*target = number(&c[1])) <= 0)
        return K_FREE; /* "self" and "thread-self" are the process's own */
    *task = 0;
    if (n == 4 || n == 5) {
        if (!is(&c[2], "task") || (*task = number(&c[3])) <= 0)
            return K_FREE;
    }
    if (n == 2 || n == 4)
        return K_DIR;
    return is(&c[n - 1], "mem") ? K_MEM : K_FREE;
}

static const struct vigil_capture *path_of(const struct vigil_syscall *ev,
                                           unsigned argi)
{
    for (unsigned i = 0; i < ev->ncaps; i++)
        if (ev->caps[i].argi == argi && !ev->caps[i].at_exit &&
            !ev->caps[i].fault && ev->caps[i].kind != VSYS_CAP_FILEMEM)
            return &ev->caps[i];
    return NULL;
}

/* The working directory of @tgid when it is a /proc/N directory. */
static struct cwd *cwd_of(struct vpmem *m, int32_t tgid)
{
    for (size_t i = 0; i < CWDS && m->ncwd > 0; i++)
        if (m->cwds[i].tgid == tgid)
            return &m->cwds[i];
    return NULL;
}

static void set_cwd(struct vpmem *m, int32_t tgid, const struct ofile *dir)
{
    struct cwd *c = cwd_of(m, tgid);
    if (dir == NULL) {
        if (c != NULL) {
            c->tgid = 0;
            m->ncwd--;
        }
        return;
    }
    if (c == NULL) {
        c = &m->cwds[m->cnext];
        m->cnext = (m->cnext + 1) % CWDS;
        if (c->tgid == 0)
            m->ncwd++;
    }
    *c = (struct cwd){.tgid = tgid, .dir = *dir};
}

/* What the path at argument @argi of the call names (K_FREE: nothing we
 * follow), relative to dirfd args[0] when @at, else to the working
 * directory. */
static enum kind resolve(struct vpmem *m, const struct vigil_syscall *ev,
                         bool at, unsigned argi, struct ofile *out)
{
    const struct vigil_capture *p = path_of(ev, argi);
    if (p == NULL || p->len == 0)
        return K_FREE;
    struct comp c[COMPS + 1];
    struct walker w = {.m = m, .ev = ev, .text = {{0}}, .links = 0};
    size_t n = 0;
    const char *s = (const char *)p->data;
    size_t len = strnlen(s, p->len);
    if (s[0] != '/') { /* relative: to a /proc/N directory we know */
        int32_t dirfd = (int32_t)ev->args[0];
        const struct ofile *base = NULL;
        if (at && dirfd != AT_FDCWD_) {
            struct fdrec *d = fd_of(m, ev->tgid, dirfd);
            base = d != NULL ? &m->files[d->file] : NULL;
        } else {
            struct cwd *cw = cwd_of(m, ev->tgid);
            base = cw != NULL ? &cw->dir : NULL;
        }
        if (base == NULL || base->kind != K_DIR)
            return K_FREE;
        char *t = w.text[w.links++];
        n = walk(&w, c, 0, t, path_text(base, t, sizeof w.text[0]));
    }
    n = walk(&w, c, n, s, len);
    int32_t target = 0, task = 0;
    enum kind k = n <= COMPS ? classify(c, n, &target, &task) : K_FREE;
    *out = (struct ofile){
        .kind = k, .target = target, .task = task, .refs = 0, .pos = 0};
    return k;
}

/* open(path) / openat(dirfd, path) / openat2 = fd. */
static void learn_open(struct vpmem *m, const struct vigil_syscall *ev, bool at,
                       bool cloexec)
{
    struct ofile f;
    if (resolve(m, ev, at, at ? 1 : 0, &f) == K_FREE)
        return;
    for (int i = 0; i < FILES; i++)
        if (m->files[i].kind == K_FREE) {
            m->files[i] = f;
            bind_fd(m, ev->tgid, ev->ret, i, cloexec);
            return;
        }
    m->full++;
}

static bool settled(const struct vpmem *m, int32_t child)
{
    for (size_t i = 0; i < CHILDREN; i++)
        if (m->settled[i] == child)
            return true;
    return false;
}

static void settle(struct vpmem *m, int32_t child)
{
    m->settled[m->snext] = child;
    m->snext = (m->snext + 1) % CHILDREN;
}

/* The child's descriptors are copies of the parent's, on the same files. */
static void copy_fds(struct vpmem *m, int32_t parent, int32_t child)
{
    settle(m, child);
    struct cwd *cw = cwd_of(m, parent);
    if (cw != NULL)
        set_cwd(m, child, &cw->dir);
    for (size_t i = 0; i < FDS; i++) {
        struct fdrec d = m->fds[i];
        if (d.file >= 0 && d.tgid == parent)
            bind_fd(m, child, d.fd, d.file, d.cloexec);
    }
}

void vpmem_fork(struct vpmem *m, int32_t parent, int32_t child)
{
    if (child <= 0 || settled(m, child))
        return;
    if (m->live > 0 || m->ncwd > 0)
        copy_fds(m, parent, child);
    else /* nothing to copy; a later lookup must not copy either */
        settle(m, child);
}

/* @fd of the call's process; a child whose fork was not seen yet takes
 * its parent's descriptors first. */
static struct fdrec *lookup(struct vpmem *m, const struct vigil_syscall *ev,
                            int64_t fd)
{
    struct fdrec *d = fd_of(m, ev->tgid, fd);
    if (d == NULL && ev->ppid > 0 && fd_of(m, ev->ppid, fd) != NULL &&
        !settled(m, ev->tgid)) {
        copy_fds(m, ev->ppid, ev->tgid);
        d = fd_of(m, ev->tgid, fd);
    }
    return d;
}

/* A call on a descriptor we know; true when it wrote into the target. */
static bool learn_io(struct vpmem *m, struct fdrec *d,
                     const struct vigil_syscall *ev, const char *name,
                     struct vpmem_write *w)
{
    struct ofile *f = &m->files[d->file];
    uint64_t ret = (uint64_t)ev->ret;
    bool at_pos = !strcmp(name, "write") || !strcmp(name, "writev") ||
                  (!strcmp(name, "pwritev2") && ev->args[3] == ~0ull);
    bool at_off = !strcmp(name, "pwrite64") || !strcmp(name, "pwritev") ||
                  !strcmp(name, "pwritev2");
    if (!strcmp(name, "close")) {
        drop(m, d);
    } else if (!strcmp(name, "lseek")) {
        f->pos = ret;
    } else if (!strcmp(name, "read") || !strcmp(name, "readv") ||
               (!strcmp(name, "preadv2") && ev->args[3] == ~0ull)) {
        f->pos += ret; /* reads move the position writes start at */
    } else if (!strcmp(name, "fcntl") && ev->args[1] == F_SETFD_) {
        d->cloexec = ev->args[2] & FD_CLOEXEC_;
    } else if (f->kind == K_MEM && (at_pos || at_off)) {
        /* pwritev's offset is its low word, all of it on x86-64. */
        *w = (struct vpmem_write){.target = f->target,
                                  .start = at_pos ? f->pos : ev->args[3],
                                  .len = ret};
        if (at_pos)
            f->pos += ret;
        return ret > 0;
    }
    return false;
}

/* The calls whose first argument is a descriptor this follows the uses of:
 * others are not looked up (a scan of the table each, while any is open). */
static bool on_fd(const char *name)
{
    static const char *const names[] = {
        "close", "lseek", "read", "readv", "preadv2",  "write",   "writev",
        "dup",   "dup2",  "dup3", "fcntl", "pwrite64", "pwritev", "pwritev2"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!strcmp(name, names[i]))
            return true;
    return false;
}

bool vpmem_follows(const char *name)
{
    return !strcmp(name, "open") || !strcmp(name, "openat") ||
           !strcmp(name, "openat2") || !strcmp(name, "chdir") ||
           !strcmp(name, "fchdir") || !strcmp(name, "close_range") ||
           on_fd(name);
}

bool vpmem_learn(struct vpmem *m, const struct vigil_syscall *ev,
                 const char *name, struct vpmem_write *w)
{
    int64_t ret = ev->ret;
    if (!strcmp(name, "open") || !strcmp(name, "openat") ||
        !strcmp(name, "openat2")) {
        bool at = name[4] == 'a';
        /* openat2's flags are in its struct open_how: assume not CLOEXEC
         * (kept longer: a stale entry only names a write that the
         * descriptor number's next file would not have made). */
        uint64_t flags = !strcmp(name, "openat2") ? 0
                         : at                     ? ev->args[2]
                                                  : ev->args[1];
        learn_open(m, ev, at, flags & O_CLOEXEC_);
        return false;
    }
    if (!strcmp(name, "chdir")) {
        struct ofile f;
        set_cwd(m, ev->tgid, resolve(m, ev, false, 0, &f) == K_DIR ? &f : NULL);
        return false;
    }
    if (!strcmp(name, "fchdir")) {
        struct fdrec *d = lookup(m, ev, (int64_t)ev->args[0]);
        const struct ofile *f = d != NULL ? &m->files[d->file] : NULL;
        set_cwd(m, ev->tgid, f != NULL && f->kind == K_DIR ? f : NULL);
        return false;
    }
    if (!strcmp(name, "close_range")) {
        for (size_t i = 0; i < FDS && m->live > 0; i++) {
            struct fdrec *r = &m->fds[i];
            if (r->file < 0 || r->tgid != ev->tgid ||
                (uint64_t)r->fd < ev->args[0] || (uint64_t)r->fd > ev->args[1])
                continue;
            if (ev->args[2] & CLOSE_RANGE_CLOEXEC_)
                r->cloexec = true;
            else
                drop(m, r);
        }
        return false;
    }
    if (m->live == 0 || !on_fd(name))
        return false;
    struct fdrec *d = lookup(m, ev, (int64_t)ev->args[0]);
    if (d == NULL) { /* dup2 onto a descriptor we know closes it */
        if (!strcmp(name, "dup2") || !strcmp(name, "dup3"))
            drop(m, fd_of(m, ev->tgid, ret));
        return false;
    }
    if (!strcmp(name, "dup") || !strcmp(name, "dup2") ||
        !strcmp(name, "dup3") ||
        (!strcmp(name, "fcntl") &&
         (ev->args[1] == F_DUPFD_ || ev->args[1] == F_DUPFD_CLOEXEC_))) {
        bool cloexec =
            (!strcmp(name, "dup3") && (ev->args[2] & O_CLOEXEC_)) ||
            (!strcmp(name, "fcntl") && ev->args[1] == F_DUPFD_CLOEXEC_);
        if (ret != (int64_t)ev->args[0]) /* dup2(fd, fd) changes nothing */
            bind_fd(m, ev->tgid, ret, d->file, cloexec);
        return false;
    }
    return learn_io(m, d, ev, name, w);
}

static void drop_group(struct vpmem *m, int32_t tgid, bool cloexec_only)
{
    for (size_t i = 0; i < FDS && m->live > 0; i++)
        if (m->fds[i].file >= 0 && m->fds[i].tgid == tgid &&
            (m->fds[i].cloexec || !cloexec_only))
            drop(m, &m->fds[i]);
}

uint64_t vpmem_unfollowed(const struct vpmem *m)
{
    return m->full;
}

void vpmem_exec(struct vpmem *m, int32_t tgid)
{
    drop_group(m, tgid, true);
}

void vpmem_exit(struct vpmem *m, int32_t tgid)
{
    set_cwd(m, tgid, NULL);
    drop_group(m, tgid, false);
}
