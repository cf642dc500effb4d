/* The origin tracker's learning (origin-int.h): writes into other
 * processes, a process's own grants, tracers, thread ids and what the
 * process's memory became (mremap, munmap), from every finished call.
 *
 * What is learnt is kept in fixed tables that overwrite their oldest
 * entries: memory is bounded whatever the guest does, at the price of
 * forgetting evidence older than the last WRITES writes (documented). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "origin-int.h"

#define RIOV_MAX         64 /* process_vm_writev remote iovecs read (P_RIOV3) */
#define PTRACE_POKETEXT  4
#define PTRACE_POKEDATA  5
#define PTRACE_SETREGS   13
#define PTRACE_ATTACH    16
#define PTRACE_DETACH    17
#define PTRACE_SETREGSET 0x4205
#define PTRACE_SEIZE     0x4206
#define CLONE_THREAD     0x00010000

int vorigin_new(struct vorigin **out)
{
    *out = calloc(1, sizeof **out);
    if (*out == NULL)
        return -ENOMEM;
    (*out)->gen = 1;
    if (vshm_new(&(*out)->shm) < 0 || vpmem_new(&(*out)->mem) < 0) {
        vshm_free((*out)->shm);
        free(*out);
        *out = NULL;
        return -ENOMEM;
    }
    return 0;
}

void vorigin_free(struct vorigin *o)
{
    if (o == NULL)
        return;
    vshm_free(o->shm);
    vpmem_free(o->mem);
    free(o);
}

static void push_write(struct vorigin *o, const struct wrec *w)
{
    o->w[o->wnext] = *w;
    o->wnext = (o->wnext + 1) % WRITES;
    if (o->nw < WRITES)
        o->nw++;
}

/* The group of thread @tid: ptrace, process_vm_writev and /proc/TID/mem
 * take any thread's id, and they all write the group's one memory. */
static int32_t group_of(const struct vorigin *o, int32_t tid)
{
    const struct thread *t = &o->th[(uint32_t)tid % THREADS];
    return t->tid == tid ? t->tgid : tid;
}

static void add_write(struct vorigin *o, int32_t target, uint64_t start,
                      uint64_t len, const struct vigil_syscall *ev,
                      const char *kind, const char *call)
{
    target = group_of(o, target);
    if (len == 0 || start + len < start || target <= 0 || target == ev->tgid)
        return; /* its own memory is the process's own business */
    push_write(o, &(struct wrec){.target = target,
                                 .start = start,
                                 .end = start + len,
                                 .by = who_of(ev),
                                 .kind = kind,
                                 .call = call});
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
            r.start = ts;
            r.end = te;
            push_write(o, &r);
        }
    }
}

/* The part of [*s, *e) inside [from, from + len), moved by @delta: false
 * when there is none. */
static bool shifted(uint64_t *s, uint64_t *e, uint64_t from, uint64_t len,
                    uint64_t delta)
{
    uint64_t lo = *s > from ? *s : from, hi = *e < from + len ? *e : from + len;
    if (lo >= hi)
        return false;
    *s = lo + delta;
    *e = hi + delta;
    return true;
}

/* mremap(old, oldlen, newlen, ...) = new by @tgid: the history of what
 * stays mapped moves with it; the destination's own history is gone. */
static void moved(struct vorigin *o, int32_t tgid, uint64_t old,
                  uint64_t oldlen, uint64_t newlen, uint64_t new)
{
    oldlen = (oldlen + 4095) & ~(uint64_t)4095;
    newlen = (newlen + 4095) & ~(uint64_t)4095;
    uint64_t keep = oldlen < newlen ? oldlen : newlen;
    if (old + oldlen < old || new + newlen < new)
        return;
    if (new == old) { /* grown or shrunk in place */
        if (newlen < oldlen)
            unmapped(o, tgid, old + newlen, oldlen - newlen);
        return;
    }
    unmapped(o, tgid, new, newlen);
    /* Copies first, oldest first (so the newest stays newest), then the
     * old range goes; the copies lie outside it (mremap's ranges never
     * overlap). Where and how many are fixed before: a copy is never
     * moved again, and one that overwrites the oldest entry of a full
     * table overwrites one already copied. */
    size_t ns = o->ns, nw = o->nw;
    size_t sbase = (o->snext + SELFS - ns) % SELFS;
    size_t wbase = (o->wnext + WRITES - nw) % WRITES;
    for (size_t i = 0; i < ns; i++) {
        struct srec r = o->s[(sbase + i) % SELFS];
        if (r.tgid == tgid && shifted(&r.start, &r.end, old, keep, new - old))
            add_self(o, tgid, r.start, r.end - r.start, r.prot, r.call);
    }
    for (size_t i = 0; i < nw; i++) {
        struct wrec r = o->w[(wbase + i) % WRITES];
        if (r.target == tgid && shifted(&r.start, &r.end, old, keep, new - old))
            push_write(o, &r);
    }
    unmapped(o, tgid, old, oldlen);
}

static struct trec *tracer_of(struct vorigin *o, int32_t target)
{
    int i = tracer_at(o, target);
    return i >= 0 ? &o->t[i] : NULL;
}

static void learn_ptrace(struct vorigin *o, const struct vigil_syscall *ev)
{
    int64_t req = (int64_t)ev->args[0];
    int32_t pid = (int32_t)ev->args[1];
    struct trec *t = tracer_of(o, group_of(o, pid));
    if (req == PTRACE_POKETEXT || req == PTRACE_POKEDATA) {
        add_write(o, pid, ev->args[2], 8, ev, "ptrace", "ptrace");
    } else if (req == PTRACE_ATTACH || req == PTRACE_SEIZE) {
        if (t == NULL)
            t = tracer_of(o, 0);
        if (t != NULL)
            *t = (struct trec){.target = group_of(o, pid), .by = who_of(ev)};
    } else if (req == PTRACE_DETACH && t != NULL) {
        t->target = 0;
    } else if ((req == PTRACE_SETREGS || req == PTRACE_SETREGSET) &&
               t != NULL) {
        t->by = who_of(ev); /* who last moved the thread */
    }
}

/* process_vm_writev(pid, local, n, remote, riovcnt, 0) = bytes: the
 * kernel fills the remote iovecs in order, so the bytes written cover
 * them from the first on. The capture holds the first RIOV_MAX iovecs, or
 * fewer when the array's page ended (P_RIOV3 reads a fixed length). */
static void learn_pvw(struct vorigin *o, const struct vigil_syscall *ev)
{
    const struct vigil_capture *c = NULL;
    for (unsigned i = 0; i < ev->ncaps && c == NULL; i++)
        if (ev->caps[i].argi == 3 && !ev->caps[i].at_exit)
            c = &ev->caps[i];
    if (c == NULL)
        return;
    uint64_t left = (uint64_t)ev->ret;
    uint64_t n = ev->args[4] < c->len / 16 ? ev->args[4] : c->len / 16;
    for (uint64_t i = 0; i < n && left > 0; i++) {
        uint64_t iov[2];
        memcpy(iov, c->data + 16 * i, sizeof iov);
        uint64_t len = iov[1] < left ? iov[1] : left;
        add_write(o, (int32_t)ev->args[0], iov[0], len, ev, "process_vm_writev",
                  "process_vm_writev");
        left -= len;
    }
}

static void forget_thread(struct vorigin *o, int32_t tid)
{
    struct thread *t = &o->th[(uint32_t)tid % THREADS];
    if (t->tid == tid)
        *t = (struct thread){0, 0};
}

/* Thread ids seen, so that a write naming one lands on its group. */
static void learn_thread(struct vorigin *o, int32_t tid, int32_t tgid)
{
    struct thread *t = &o->th[(uint32_t)tid % THREADS];
    if (tid <= 0 || tgid <= 0 || (t->tid == tid && t->tgid == tgid))
        return;
    /* A clone3 was taken for a new process (its flags are not captured):
     * what was copied for it goes, now that it shows it is a thread. */
    if (tid != tgid) {
        vpmem_exit(o->mem, tid);
        vshm_forget(o->shm, tid);
        o->gen++;
    }
    *t = (struct thread){tid, tgid};
}

void vorigin_use_maps(struct vorigin *o, const struct vmmap *maps)
{
    o->maps = maps;
}

/* What the plugin read of the kernel's struct file (VSYS_CAP_FILEMEM):
 * a write on another process's memory file however the descriptor was
 * got. The position is the call's offset for the p- calls (pwritev2's
 * -1: the file's), else the file's at entry. */
static bool kernel_mem_write(const struct vorigin *o,
                             const struct vigil_syscall *ev, const char *n,
                             struct vpmem_write *w)
{
    const struct vigil_capture *c = NULL;
    struct vsys_filemem fm;
    for (unsigned i = 0;
         i < ev->ncaps && i < sizeof ev->caps / sizeof ev->caps[0]; i++)
        if (ev->caps[i].kind == VSYS_CAP_FILEMEM && !ev->caps[i].at_exit)
            c = &ev->caps[i];
    if (c == NULL || c->argi != 0 || c->fault || c->len != sizeof fm ||
        c->data == NULL)
        return false;
    memcpy(&fm, c->data, sizeof fm);
    bool at_off = !strcmp(n, "pwrite64") || !strcmp(n, "pwritev") ||
                  (!strcmp(n, "pwritev2") && (int64_t)ev->args[3] != -1);
    if (!at_off && strcmp(n, "write") && strcmp(n, "writev") &&
        strcmp(n, "pwritev2"))
        return false;
    int32_t target = fm.owner > 0      ? fm.owner
                     : o->maps != NULL ? vmmap_owner(o->maps, fm.mm)
                                       : 0;
    if (target <= 0)
        return false;
    *w = (struct vpmem_write){.target = target,
                              .start = at_off ? ev->args[3] : fm.pos,
                              .len = (uint64_t)ev->ret};
    return true;
}

/* A write into another process's memory through a /proc/PID/mem file:
 * the kernel's word (kernel_mem_write) over the path's; the path tracker
 * learns from every call all the same (positions, descriptors). */
static bool mem_write(struct vorigin *o, const struct vigil_syscall *ev,
                      const char *n, struct vpmem_write *w)
{
    bool by_path = vpmem_learn(o->mem, ev, n, w);
    struct vpmem_write k;
    if (!kernel_mem_write(o, ev, n, &k))
        return by_path;
    *w = k;
    return true;
}

/* What vorigin_learn() does with a call, by its name. */
enum learn_kind {
    LK_UNSEEN, /* not classified yet (0: the table starts zeroed) */
    LK_NONE,   /* nothing beyond the thread that made it */
    LK_EXIT,
    LK_CLONE,
    LK_FORK, /* fork, vfork, clone3 */
    LK_PVW,
    LK_MREMAP,
    LK_SHMGET,
    LK_SHMAT,
    LK_SHMDT,
    LK_PTRACE,
    LK_MMAP,
    LK_MUNMAP,
    LK_MPROTECT, /* mprotect, pkey_mprotect */
    LK_FD,       /* descriptors: vpmem_learn() and kernel_mem_write() */
};

static const struct {
    const char *name;
    uint8_t kind;
} learn_kinds[] = {
    {"exit", LK_EXIT},
    {"clone", LK_CLONE},
    {"fork", LK_FORK},
    {"vfork", LK_FORK},
    {"clone3", LK_FORK},
    {"process_vm_writev", LK_PVW},
    {"mremap", LK_MREMAP},
    {"shmget", LK_SHMGET},
    {"shmat", LK_SHMAT},
    {"shmdt", LK_SHMDT},
    {"ptrace", LK_PTRACE},
    {"mmap", LK_MMAP},
    {"munmap", LK_MUNMAP},
    {"mprotect", LK_MPROTECT},
    {"pkey_mprotect", LK_MPROTECT},
    /* kernel_mem_write()'s calls */
    {"write", LK_FD},
    {"writev", LK_FD},
    {"pwrite64", LK_FD},
    {"pwritev", LK_FD},
    {"pwritev2", LK_FD},
};

/* The call's kind, found by name once per call number: comparing names at
 * every call was a tenth of the consumer's time under --callers. */
static enum learn_kind kind_of(struct vorigin *o,
                               const struct vigil_syscall *ev,
                               const struct vsys_ent *e)
{
    if (e == NULL || e->name == NULL || ev->nr > VSYS_NR_MAX)
        return LK_NONE;
    uint8_t *k = &o->kind[ev->compat][ev->nr];
    if (*k != LK_UNSEEN)
        return *k;
    *k = vpmem_follows(e->name) ? LK_FD : LK_NONE;
    for (size_t i = 0; i < sizeof learn_kinds / sizeof learn_kinds[0]; i++)
        if (!strcmp(e->name, learn_kinds[i].name))
            *k = learn_kinds[i].kind;
    return *k;
}

void vorigin_learn(struct vorigin *o, const struct vigil_syscall *ev)
{
    const struct vsys_ent *e = vsys_lookup(ev->nr, ev->compat);
    enum learn_kind k = kind_of(o, ev, e);
    struct vpmem_write w;
    learn_thread(o, ev->tid, ev->tgid);
    if (k == LK_EXIT) {
        forget_thread(o, ev->tid); /* its id may name a new process next */
        return;
    }
    if (k == LK_NONE || ev->compat || ev->state != VIGIL_SC_DONE || ev->ret < 0)
        return;
    /* Whatever else is learnt may change a verdict (vorigin_resolve's
     * memo); a descriptor call only when it wrote another's memory. */
    if (k != LK_FD)
        o->gen++;
    const char *n = e->name;
    bool thread = k == LK_CLONE && (ev->args[0] & CLONE_THREAD);
    if (thread)
        learn_thread(o, (int32_t)ev->ret, ev->tgid);
    /* A new process (clone3's flags are not captured: taken as one until
     * the child's first call shows its group, see learn_thread). */
    if (!thread && ev->ret > 0 && group_of(o, (int32_t)ev->ret) == ev->ret &&
        (k == LK_CLONE || k == LK_FORK)) {
        vpmem_fork(o->mem, ev->tgid, (int32_t)ev->ret);
        vshm_fork(o->shm, ev->tgid, (int32_t)ev->ret);
    }
    switch (k) {
    case LK_PVW:
        learn_pvw(o, ev);
        break;
    case LK_MREMAP:
        moved(o, ev->tgid, ev->args[0], ev->args[1], ev->args[2],
              (uint64_t)ev->ret);
        break;
    case LK_SHMGET:
        vshm_got(o->shm, (int32_t)ev->ret, ev->args[1]);
        break;
    case LK_SHMAT:
        vshm_attached(o->shm, ev->tgid, ev->comm, (int32_t)ev->args[0],
                      (uint64_t)ev->ret, ev->args[2]);
        break;
    case LK_SHMDT: {
        uint64_t len;
        vshm_detached(o->shm, ev->tgid, ev->args[0], &len);
        if (len != 0)
            unmapped(o, ev->tgid, ev->args[0], len);
        break;
    }
    case LK_PTRACE:
        learn_ptrace(o, ev);
        break;
    case LK_MMAP:
        unmapped(o, ev->tgid, (uint64_t)ev->ret, ev->args[1]);
        if (tracer_of(o, ev->tgid) == NULL)
            add_self(o, ev->tgid, (uint64_t)ev->ret, ev->args[1],
                     (int)ev->args[2], n);
        break;
    case LK_MUNMAP:
        unmapped(o, ev->tgid, ev->args[0], ev->args[1]);
        break;
    case LK_MPROTECT:
        if (tracer_of(o, ev->tgid) == NULL)
            add_self(o, ev->tgid, ev->args[0], ev->args[1], (int)ev->args[2],
                     n);
        break;
    default: /* LK_FD, and clone's own: descriptors (clone: none) */
        if (mem_write(o, ev, n, &w)) {
            add_write(o, w.target, w.start, w.len, ev, "proc-mem", n);
            o->gen++;
        }
        break;
    }
}

void vorigin_forget(struct vorigin *o, int32_t tgid, bool exited)
{
    o->gen++;
    for (size_t i = 0; i < o->ns; i++)
        if (o->s[i].tgid == tgid)
            o->s[i].tgid = 0;
    for (size_t i = 0; i < o->nw; i++)
        if (o->w[i].target == tgid)
            o->w[i].target = 0;
    vshm_forget(o->shm, tgid);
    if (!exited) { /* descriptors and tracers outlive execve */
        vpmem_exec(o->mem, tgid);
        return;
    }
    vpmem_exit(o->mem, tgid);
    for (size_t i = 0; i < THREADS; i++)
        if (o->th[i].tgid == tgid)
            o->th[i] = (struct thread){0, 0};
    for (size_t i = 0; i < TRACERS; i++)
        if (o->t[i].target == tgid || o->t[i].by.pid == tgid)
            o->t[i].target = 0;
}

uint64_t vorigin_unfollowed(const struct vorigin *o)
{
    return vpmem_unfollowed(o->mem);
}
