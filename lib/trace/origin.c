/* Caller attribution and the injected / self-generated verdict (see
 * origin.h; the rules are in docs/callers.md).
 *
 * What is learnt is kept in fixed tables that overwrite their oldest
 * entries: memory is bounded whatever the guest does, at the price of
 * forgetting evidence older than the last WRITES writes (documented). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/origin.h"

#define WRITES       1024 /* writes into other processes remembered */
#define SELFS        1024 /* own mappings made writable or executable */
#define FDS          256  /* open /proc/PID/mem files */
#define TRACERS      64   /* ptrace attachments */
#define WRAPPERS_MAX 3

#define PROT_WRITE       0x2
#define PROT_EXEC        0x4
#define PTRACE_POKETEXT  4
#define PTRACE_POKEDATA  5
#define PTRACE_SETREGS   13
#define PTRACE_ATTACH    16
#define PTRACE_DETACH    17
#define PTRACE_SETREGSET 0x4205
#define PTRACE_SEIZE     0x4206

struct who {
    int32_t pid;
    char comm[17];
};

struct wrec { /* another process wrote [start, end) of target */
    int32_t target;
    uint64_t start, end;
    struct who by;
    const char *kind, *call;
};

struct srec { /* the group itself made [start, end) writable or exec */
    int32_t tgid;
    uint64_t start, end;
    int prot; /* PROT_WRITE and/or PROT_EXEC */
    const char *call;
};

struct fdrec { /* fd of tgid is /proc/target/mem, at pos */
    int32_t tgid, fd, target;
    uint64_t pos;
};

struct trec { /* tracer attached to target */
    int32_t target;
    struct who by;
};

struct vorigin {
    struct wrec w[WRITES];
    size_t nw, wnext;
    struct srec s[SELFS];
    size_t ns, snext;
    struct fdrec f[FDS];
    struct trec t[TRACERS];
};

int vorigin_new(struct vorigin **out)
{
    *out = calloc(1, sizeof **out);
    return *out != NULL ? 0 : -ENOMEM;
}

void vorigin_free(struct vorigin *o)
{
    free(o);
}

static struct who who_of(const struct vigil_syscall *ev)
{
    struct who w = {.pid = ev->tgid, .comm = {0}};
    memcpy(w.comm, ev->comm, 16);
    return w;
}

static void add_write(struct vorigin *o, int32_t target, uint64_t start,
                      uint64_t len, const struct vigil_syscall *ev,
                      const char *kind, const char *call)
{
    if (len == 0 || start + len < start || target <= 0)
        return;
    struct wrec *r = &o->w[o->wnext];
    o->wnext = (o->wnext + 1) % WRITES;
    if (o->nw < WRITES)
        o->nw++;
    *r = (struct wrec){.target = target,
                       .start = start,
                       .end = start + len,
                       .by = who_of(ev),
                       .kind = kind,
                       .call = call};
}

static void add_self(struct vorigin *o, int32_t tgid, uint64_t start,
                     uint64_t len, int prot, const char *call)
{
    if (!(prot & (PROT_WRITE | PROT_EXEC)) || len == 0 || start + len < start)
        return;
    struct srec *r = &o->s[o->snext];
    o->snext = (o->snext + 1) % SELFS;
    if (o->ns < SELFS)
        o->ns++;
    *r = (struct srec){.tgid = tgid,
                       .start = start,
                       .end = start + len,
                       .prot = prot,
                       .call = call};
}

static int tracer_at(const struct vorigin *o, int32_t target)
{
    for (int i = 0; i < TRACERS; i++)
        if (o->t[i].target == target)
            return i;
    return -1;
}

/* Cut [start, end) out of a remembered range; *tail gets what is left
 * after it when it fell in the middle (tail->end == 0 otherwise). */
static bool cut(uint64_t *rs, uint64_t *re, uint64_t start, uint64_t end,
                uint64_t *tail_start, uint64_t *tail_end)
{
    *tail_end = 0;
    if (*re <= start || *rs >= end)
        return true; /* untouched */
    if (*rs >= start && *re <= end)
        return false; /* gone */
    if (*rs<start && * re> end) {
        *tail_start = end;
        *tail_end = *re;
    }
    if (*rs < start)
        *re = start;
    else
        *rs = end;
    return true;
}

/* [start, start + len) of @tgid was unmapped or mapped anew: what was
 * written there or granted there is history of memory that is gone. */
static void unmapped(struct vorigin *o, int32_t tgid, uint64_t start,
                     uint64_t len)
{
    uint64_t end = start + ((len + 4095) & ~(uint64_t)4095);
    uint64_t ts, te;
    if (end <= start)
        return;
    for (size_t i = 0; i < o->ns; i++) {
        struct srec r = o->s[i];
        if (r.tgid != tgid)
            continue;
        if (!cut(&o->s[i].start, &o->s[i].end, start, end, &ts, &te))
            o->s[i].tgid = 0;
        else if (te != 0)
            add_self(o, tgid, ts, te - ts, r.prot, r.call);
    }
    for (size_t i = 0; i < o->nw; i++) {
        struct wrec r = o->w[i];
        if (r.target != tgid)
            continue;
        if (!cut(&o->w[i].start, &o->w[i].end, start, end, &ts, &te)) {
            o->w[i].target = 0;
        } else if (te != 0) {
            struct wrec *n = &o->w[o->wnext];
            o->wnext = (o->wnext + 1) % WRITES;
            if (o->nw < WRITES)
                o->nw++;
            *n = r;
            n->start = ts;
            n->end = te;
        }
    }
}

static struct trec *tracer_of(struct vorigin *o, int32_t target)
{
    int i = tracer_at(o, target);
    return i >= 0 ? &o->t[i] : NULL;
}

static struct fdrec *fd_of(struct vorigin *o, int32_t tgid, int32_t fd)
{
    for (size_t i = 0; i < FDS; i++)
        if (o->f[i].target != 0 && o->f[i].tgid == tgid && o->f[i].fd == fd)
            return &o->f[i];
    return NULL;
}

static const struct vigil_capture *cap(const struct vigil_syscall *ev,
                                       unsigned argi)
{
    for (unsigned i = 0; i < ev->ncaps; i++)
        if (ev->caps[i].argi == argi && !ev->caps[i].fault)
            return &ev->caps[i];
    return NULL;
}

/* openat(..., "/proc/N/mem") = fd: remembered while open. */
static void learn_open(struct vorigin *o, const struct vigil_syscall *ev)
{
    const struct vigil_capture *p = cap(ev, 1);
    char path[64];
    int n = 0;
    if (p == NULL || p->len == 0 || p->len >= sizeof path)
        return;
    memcpy(path, p->data, p->len);
    path[p->len] = '\0';
    int32_t target = 0;
    if (sscanf(path, "/proc/%d/mem%n", &target, &n) != 1 || path[n] != '\0' ||
        target <= 0 || target == ev->tgid)
        return; /* /proc/self/mem is the process's own business */
    for (size_t i = 0; i < FDS; i++)
        if (o->f[i].target == 0) {
            o->f[i] = (struct fdrec){.tgid = ev->tgid,
                                     .fd = (int32_t)ev->ret,
                                     .target = target,
                                     .pos = 0};
            return;
        }
}

static void learn_ptrace(struct vorigin *o, const struct vigil_syscall *ev)
{
    int64_t req = (int64_t)ev->args[0];
    int32_t pid = (int32_t)ev->args[1];
    struct trec *t = tracer_of(o, pid);
    if (req == PTRACE_POKETEXT || req == PTRACE_POKEDATA) {
        add_write(o, pid, ev->args[2], 8, ev, "ptrace", "ptrace");
    } else if (req == PTRACE_ATTACH || req == PTRACE_SEIZE) {
        if (t == NULL)
            t = tracer_of(o, 0);
        if (t != NULL)
            *t = (struct trec){.target = pid, .by = who_of(ev)};
    } else if (req == PTRACE_DETACH && t != NULL) {
        t->target = 0;
    } else if ((req == PTRACE_SETREGS || req == PTRACE_SETREGSET) &&
               t != NULL) {
        t->by = who_of(ev); /* who last moved the thread */
    }
}

/* A write to a /proc/PID/mem file: the file offset is the address. */
static void learn_fd_write(struct vorigin *o, const struct vigil_syscall *ev,
                           const char *name)
{
    struct fdrec *f = fd_of(o, ev->tgid, (int32_t)ev->args[0]);
    if (f == NULL)
        return;
    if (!strcmp(name, "close")) {
        f->target = 0;
    } else if (!strcmp(name, "lseek")) {
        f->pos = (uint64_t)ev->ret;
    } else if (!strcmp(name, "pwrite64")) {
        add_write(o, f->target, ev->args[3], (uint64_t)ev->ret, ev, "proc-mem",
                  name);
    } else if (!strcmp(name, "write")) {
        add_write(o, f->target, f->pos, (uint64_t)ev->ret, ev, "proc-mem",
                  name);
        f->pos += (uint64_t)ev->ret;
    }
}

void vorigin_learn(struct vorigin *o, const struct vigil_syscall *ev)
{
    const struct vsys_ent *e = vsys_lookup(ev->nr, ev->compat);
    if (ev->compat || ev->state != VIGIL_SC_DONE || ev->ret < 0 || e == NULL ||
        e->name == NULL)
        return;
    const char *n = e->name;
    if (!strcmp(n, "process_vm_writev")) {
        /* The first remote iovec (docs/callers.md). */
        const struct vigil_capture *c = cap(ev, 3);
        uint64_t iov[2];
        if (c != NULL && c->len >= sizeof iov) {
            memcpy(iov, c->data, sizeof iov);
            uint64_t len =
                iov[1] < (uint64_t)ev->ret ? iov[1] : (uint64_t)ev->ret;
            add_write(o, (int32_t)ev->args[0], iov[0], len, ev,
                      "process_vm_writev", n);
        }
    } else if (!strcmp(n, "ptrace")) {
        learn_ptrace(o, ev);
    } else if (!strcmp(n, "openat") || !strcmp(n, "open")) {
        learn_open(o, ev);
    } else if (!strcmp(n, "pwrite64") || !strcmp(n, "write") ||
               !strcmp(n, "lseek") || !strcmp(n, "close")) {
        learn_fd_write(o, ev, n);
    } else if (!strcmp(n, "mmap")) {
        unmapped(o, ev->tgid, (uint64_t)ev->ret, ev->args[1]);
        if (tracer_of(o, ev->tgid) == NULL)
            add_self(o, ev->tgid, (uint64_t)ev->ret, ev->args[1],
                     (int)ev->args[2], n);
    } else if (!strcmp(n, "munmap")) {
        unmapped(o, ev->tgid, ev->args[0], ev->args[1]);
    } else if ((!strcmp(n, "mprotect") || !strcmp(n, "pkey_mprotect")) &&
               tracer_of(o, ev->tgid) == NULL) {
        add_self(o, ev->tgid, ev->args[0], ev->args[1], (int)ev->args[2], n);
    }
}

void vorigin_forget(struct vorigin *o, int32_t tgid)
{
    for (size_t i = 0; i < o->ns; i++)
        if (o->s[i].tgid == tgid)
            o->s[i].tgid = 0;
    for (size_t i = 0; i < o->nw; i++)
        if (o->w[i].target == tgid)
            o->w[i].target = 0;
    for (size_t i = 0; i < FDS; i++)
        if (o->f[i].tgid == tgid)
            o->f[i].target = 0;
    for (size_t i = 0; i < TRACERS; i++)
        if (o->t[i].target == tgid || o->t[i].by.pid == tgid)
            o->t[i].target = 0;
}

/* libc's and the dynamic loader's system call wrappers, and the vDSO:
 * the caller is the first frame outside them. */
static bool wrapper(const char *module)
{
    const char *base = strrchr(module, '/');
    base = base != NULL ? base + 1 : module;
    return !strcmp(module, "[vdso]") || !strncmp(base, "libc.so", 7) ||
           !strncmp(base, "libc-", 5) || !strncmp(base, "ld-linux", 8) ||
           !strncmp(base, "libpthread.so", 13);
}

/* The newest write of another process covering @addr of @tgid. */
static const struct wrec *written(const struct vorigin *o, int32_t tgid,
                                  uint64_t addr)
{
    for (size_t k = 0; k < o->nw; k++) {
        const struct wrec *r = &o->w[(o->wnext + WRITES - 1 - k) % WRITES];
        if (r->target == tgid && addr >= r->start && addr < r->end)
            return r;
    }
    return NULL;
}

/* The newest own call of @tgid granting @prot over @addr. */
static const struct srec *granted(const struct vorigin *o, int32_t tgid,
                                  uint64_t addr, int prot)
{
    for (size_t k = 0; k < o->ns; k++) {
        const struct srec *r = &o->s[(o->snext + SELFS - 1 - k) % SELFS];
        if (r->tgid == tgid && (r->prot & prot) && addr >= r->start &&
            addr < r->end)
            return r;
    }
    return NULL;
}

static void evidence(struct vigil_origin *out, enum vigil_origin_kind kind,
                     const char *ekind, uint64_t addr, const struct who *by,
                     const char *call)
{
    out->kind = kind;
    out->evidence.kind = ekind;
    out->evidence.addr = addr;
    out->evidence.pid = by != NULL ? by->pid : 0;
    memcpy(out->evidence.comm, by != NULL ? by->comm : "", by ? 17 : 1);
    out->evidence.call = call;
}

/* The verdict for one frame: 2 injected, 1 self-generated, 0 own code. */
static int judge(const struct vorigin *o, const struct vigil_syscall *ev,
                 const struct vmmap_region *g, uint64_t addr,
                 struct vigil_origin *out)
{
    const struct wrec *w = written(o, ev->tgid, addr);
    if (w != NULL) {
        evidence(out, VIGIL_ORIGIN_INJECTED, w->kind, addr, &w->by, w->call);
        return 2;
    }
    if (g == NULL || !g->anon || !strcmp(g->name, "[vdso]"))
        return 0;
    const struct srec *wr = granted(o, ev->tgid, addr, PROT_WRITE);
    const struct srec *ex = granted(o, ev->tgid, addr, PROT_EXEC);
    if (wr != NULL && ex != NULL) {
        struct who me = who_of(ev);
        evidence(out, VIGIL_ORIGIN_SELF_GENERATED, "self-generated", addr, &me,
                 ex->call);
        return 1;
    }
    /* Anonymous code the process never made writable and executable
     * itself: someone else mapped it (e.g. a ptrace-injected mmap). */
    int ti = tracer_at(o, ev->tgid);
    const struct trec *t = ti >= 0 ? &o->t[ti] : NULL;
    evidence(out, VIGIL_ORIGIN_INJECTED, "anon-exec", addr,
             t != NULL ? &t->by : NULL, t != NULL ? "ptrace" : NULL);
    return 2;
}

bool vorigin_resolve(const struct vorigin *o, const struct vmmap *maps,
                     const struct vigil_syscall *ev, struct vigil_origin *out)
{
    uint32_t flags = 0;
    memset(out, 0, sizeof *out);
    if (!vmmap_known(maps, ev->tgid, &flags))
        return false;
    out->map_partial = flags != 0;
    /* The frames: the call's own ip, then at most 256 return addresses. */
    const struct vigil_callers *c = ev->callers;
    unsigned nchain = c != NULL && c->chain != NULL ? c->nchain : 0;
    unsigned n = 1 + (nchain < 256 ? nchain : 256);
    int worst = 0;
    const struct vmmap_region *pick = NULL;
    uint64_t pick_addr = ev->ip;
    for (unsigned i = 0; i < n; i++) {
        uint64_t frame = i == 0 ? ev->ip : c->chain[i - 1];
        const struct vmmap_region *g = vmmap_find(maps, ev->tgid, frame);
        struct vigil_origin v;
        memset(&v, 0, sizeof v);
        int j = judge(o, ev, g, frame, &v);
        if (j > worst) {
            worst = j;
            out->kind = v.kind;
            out->evidence = v.evidence;
        }
        if (i == 0 || (g != NULL && pick != NULL && wrapper(pick->name))) {
            pick = g;
            pick_addr = frame;
        }
    }
    if (pick != NULL) {
        out->module = pick->name;
        out->addr = pick_addr;
        out->offset =
            pick_addr - pick->start + (pick->anon ? 0 : pick->pgoff * 4096);
    }
    return true;
}
