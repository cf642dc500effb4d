/* The injected / self-generated verdict and the caller frame (see
 * origin.h; the rules are in docs/callers.md), from what origin-learn.c
 * learnt. */
#include <string.h>

#include "origin-int.h"

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

/* A frame in file memory: a System V segment's code is another
 * process's when another process attached it writable, the process's own
 * (self-generated, as its own RWX memory) when only it did, and of
 * unknown making when no one was seen to. Other file mappings are not
 * judged here (docs/callers.md). A read-only attachment is not VM_SHARED
 * in the kernel's flags: the attachment records decide, not the flags. */
static int judge_shm(const struct vorigin *o, const struct vigil_syscall *ev,
                     const struct vmmap_region *g, uint64_t addr,
                     struct vigil_origin *out)
{
    struct vshm_writer w;
    bool other;
    if (!vshm_find(o->shm, ev->tgid, addr, g->start, g->end, &w, &other))
        return 0;
    struct who by = {.pid = w.pid, .comm = {0}};
    memcpy(by.comm, w.comm, sizeof by.comm);
    if (w.pid != 0 && !other) {
        evidence(out, VIGIL_ORIGIN_SELF_GENERATED, "self-generated", addr, &by,
                 "shmat");
        return 1;
    }
    evidence(out, VIGIL_ORIGIN_INJECTED, "shm", addr, w.pid != 0 ? &by : NULL,
             w.pid != 0 ? "shmat" : NULL);
    return 2;
}

/* Whether what the trace saw explains copied pages in [start, end) of
 * @tgid: another process's write there, or the group's own grant of
 * PROT_WRITE over part of it. */
static bool explained(const struct vorigin *o, int32_t tgid, uint64_t start,
                      uint64_t end)
{
    for (size_t i = 0; i < o->nw; i++)
        if (o->w[i].target == tgid && o->w[i].start < end &&
            o->w[i].end > start)
            return true;
    for (size_t i = 0; i < o->ns; i++)
        if (o->s[i].tgid == tgid && (o->s[i].prot & PROT_WRITE) &&
            o->s[i].start < end && o->s[i].end > start)
            return true;
    return false;
}

/* A frame in a file mapping whose pages were written after it was mapped
 * (the kernel gave it copies: anon_vma). Code written over a file's code
 * is what hollowing and hooking do, and no JIT needs to: injected, even
 * when the process did it itself (kind "modified-file"). The kernel's flag
 * is per mapping, so the trace narrows it down: the process's own
 * PROT_WRITE grant over the frame names the process and its call; seen
 * writes elsewhere in the mapping explain the copies (other processes'
 * writes were judged byte by byte already); copies nothing explains were
 * written where the trace did not look (before it began, or a way not
 * followed): the frame counts, naming the attached tracer or no one. */
static int judge_modified(const struct vorigin *o,
                          const struct vigil_syscall *ev,
                          const struct vmmap_region *g, uint64_t addr,
                          struct vigil_origin *out)
{
    const struct srec *wr = granted(o, ev->tgid, addr, PROT_WRITE);
    if (wr != NULL) {
        struct who me = who_of(ev);
        evidence(out, VIGIL_ORIGIN_INJECTED, "modified-file", addr, &me,
                 wr->call);
        return 2;
    }
    if (explained(o, ev->tgid, g->start, g->end))
        return 0;
    int ti = tracer_at(o, ev->tgid);
    const struct trec *t = ti >= 0 ? &o->t[ti] : NULL;
    evidence(out, VIGIL_ORIGIN_INJECTED, "modified-file", addr,
             t != NULL ? &t->by : NULL, t != NULL ? "ptrace" : NULL);
    return 2;
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
    if (g != NULL && !g->anon) {
        int j = judge_shm(o, ev, g, addr, out);
        if (j == 0 && (g->flags & VRAW_VMA_ANON_PAGES))
            j = judge_modified(o, ev, g, addr, out);
        return j;
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

/* Judge the code at @addr and keep the verdict in @out when it is worse
 * than *@worst. Returns @addr's region. */
static const struct vmmap_region *weigh(const struct vorigin *o,
                                        const struct vmmap *maps,
                                        const struct vigil_syscall *ev,
                                        uint64_t addr, bool via_branch,
                                        int *worst, struct vigil_origin *out)
{
    const struct vmmap_region *g = vmmap_find(maps, ev->tgid, addr);
    struct vigil_origin v;
    memset(&v, 0, sizeof v);
    int j = judge(o, ev, g, addr, &v);
    if (j > *worst) {
        *worst = j;
        out->kind = v.kind;
        out->evidence = v.evidence;
        out->evidence.via_branch = via_branch;
    }
    return g;
}

/* How many return addresses and branches @ev carries. */
static void carried(const struct vigil_syscall *ev, unsigned *nchain,
                    unsigned *nbranch)
{
    const struct vigil_callers *c = ev->callers;
    *nchain = c != NULL && c->chain != NULL ? c->nchain : 0;
    *nbranch = c != NULL && c->branches != NULL ? c->nbranch : 0;
}

/* vorigin_resolve() without the memo; *@nbr: how many of the newest
 * branches were judged (all of them: the walk found no end). */
static bool resolve(const struct vorigin *o, const struct vmmap *maps,
                    const struct vigil_syscall *ev, struct vigil_origin *out,
                    unsigned *nbr)
{
    uint32_t flags = 0;
    memset(out, 0, sizeof *out);
    if (!vmmap_known(maps, ev->tgid, &flags))
        return false;
    out->map_partial = flags != 0;
    /* The frames: the call's own ip, then at most 256 return addresses. */
    const struct vigil_callers *c = ev->callers;
    unsigned nchain, nbranch;
    carried(ev, &nchain, &nbranch);
    unsigned n = 1 + (nchain < 256 ? nchain : 256);
    int worst = 0;
    /* The caller is the first frame outside the system call wrappers
     * (vmmap_region.wrapper). */
    const struct vmmap_region *pick = NULL;
    uint64_t pick_addr = ev->ip;
    for (unsigned i = 0; i < n; i++) {
        uint64_t frame = i == 0 ? ev->ip : c->chain[i - 1];
        const struct vmmap_region *g =
            weigh(o, maps, ev, frame, false, &worst, out);
        if (i == 0 || (g != NULL && pick != NULL && pick->wrapper)) {
            pick = g;
            pick_addr = frame;
        }
    }
    /* The branch that entered the call's code: walking back from the
     * newest, each branch up to the first one whose source lies outside
     * libc, ld.so and the vDSO. A made-up stack cannot hide it: code that
     * jumps to a `syscall` instruction (in libc, or any `syscall; ret` in
     * the program) with forged return addresses shows here. Older branches
     * are not judged: a thread that ran other code and came back is not
     * the call's maker. */
    *nbr = 0;
    for (unsigned i = nbranch; i-- > 0;) {
        const struct vmmap_region *g =
            weigh(o, maps, ev, c->branches[i].from, true, &worst, out);
        ++*nbr;
        if (g == NULL || !g->wrapper)
            break;
    }
    if (pick != NULL) {
        out->module = pick->name;
        out->addr = pick_addr;
        out->offset =
            pick_addr - pick->start + (pick->anon ? 0 : pick->pgoff * 4096);
    }
    return true;
}

/* The memo: a verdict is a function of the event's group, name, frames and
 * the branches judged, of what the tracker learnt (o->gen) and of the maps
 * (vmmap_gen()). A thread calling in a loop asks the same question call
 * after call; looking every frame up again was a sixth of the consumer's
 * time under --callers. */
static bool memo_key(const struct vigil_syscall *ev, unsigned nbr,
                     uint64_t *key, unsigned *nkey)
{
    const struct vigil_callers *c = ev->callers;
    unsigned nchain, nbranch;
    carried(ev, &nchain, &nbranch);
    if (nchain + nbr > ORIGIN_MEMO_KEYS || nbr > nbranch)
        return false;
    unsigned k = 0;
    for (unsigned i = 0; i < nchain; i++)
        key[k++] = c->chain[i];
    for (unsigned i = 0; i < nbr; i++)
        key[k++] = c->branches[nbranch - 1 - i].from;
    *nkey = k;
    return true;
}

static bool memo_hit(const struct origin_memo *m, const struct vorigin *o,
                     const struct vmmap *maps, const struct vigil_syscall *ev)
{
    unsigned nchain, nbranch;
    carried(ev, &nchain, &nbranch);
    uint64_t key[ORIGIN_MEMO_KEYS];
    unsigned nkey;
    /* The branch walk ended at the same branch, or ran out of the same
     * number of them. */
    return m->gen == o->gen && m->mgen == vmmap_gen(maps) &&
           m->tgid == ev->tgid && m->ip == ev->ip && m->nchain == nchain &&
           (m->exhausted ? nbranch == m->nbr : nbranch >= m->nbr) &&
           !memcmp(m->comm, ev->comm, sizeof m->comm) &&
           memo_key(ev, m->nbr, key, &nkey) && !memcmp(key, m->key, 8u * nkey);
}

bool vorigin_resolve(struct vorigin *o, const struct vmmap *maps,
                     const struct vigil_syscall *ev, struct vigil_origin *out)
{
    struct origin_memo *m = &o->memo[(uint32_t)ev->tgid % ORIGIN_MEMO_SLOTS];
    if (o->memo_off)
        m->gen = 0;
    if (m->gen != 0 && memo_hit(m, o, maps, ev)) {
        *out = m->out;
        return true;
    }
    unsigned nbr;
    if (!resolve(o, maps, ev, out, &nbr))
        return false;
    unsigned nchain, nbranch;
    carried(ev, &nchain, &nbranch);
    unsigned nkey;
    m->gen = 0;
    if (o->memo_off || !memo_key(ev, nbr, m->key, &nkey))
        return true;
    m->gen = o->gen;
    m->mgen = vmmap_gen(maps);
    m->tgid = ev->tgid;
    m->ip = ev->ip;
    m->nchain = nchain;
    m->nbr = nbr;
    m->exhausted = nbr == nbranch;
    memcpy(m->comm, ev->comm, sizeof m->comm);
    m->out = *out;
    return true;
}

void vorigin_memo_off(struct vorigin *o)
{
    o->memo_off = true;
}
