/* What the origin tracker learns (origin-learn.c) and judges by
 * (origin.c): the tables behind struct vorigin. Internal to lib/trace. */
#ifndef VIGIL_TRACE_ORIGIN_INT_H
#define VIGIL_TRACE_ORIGIN_INT_H

#include <string.h>

#include "trace/origin.h"
#include "trace/procmem.h"
#include "trace/shmseg.h"

#define WRITES  1024 /* writes into other processes remembered */
#define SELFS   1024 /* own mappings made writable or executable */
#define TRACERS 64   /* ptrace attachments */
#define THREADS 4096 /* thread id -> thread group, direct-mapped */

#define PROT_WRITE 0x2
#define PROT_EXEC  0x4

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

struct thread { /* a thread id seen and its group */
    int32_t tid, tgid;
};

struct trec { /* tracer attached to target */
    int32_t target;
    struct who by;
};

/* A group's last verdict (origin.c): frames of a chain (at most
 * VACT_CALLERS_CHAIN_MAX) and the branches judged, as compared. */
#define ORIGIN_MEMO_SLOTS 64
#define ORIGIN_MEMO_KEYS  96
struct origin_memo {
    uint64_t gen, mgen; /* gen 0: empty */
    int32_t tgid;
    char comm[16];
    uint64_t ip;
    unsigned nchain, nbr;
    bool exhausted; /* every branch was judged */
    uint64_t key[ORIGIN_MEMO_KEYS];
    struct vigil_origin out;
};

struct vorigin {
    struct wrec w[WRITES];
    size_t nw, wnext;
    struct srec s[SELFS];
    size_t ns, snext;
    struct trec t[TRACERS];
    struct thread th[THREADS];
    struct vshm *shm;
    struct vpmem *mem;
    const struct vmmap *maps;         /* borrowed: mm_struct -> process */
    uint8_t kind[2][VSYS_NR_MAX + 1]; /* per (compat, nr): enum learn_kind */
    /* Counts changes to what judging reads (w, s, t, shm): from 1. */
    uint64_t gen;
    bool memo_off;
    struct origin_memo memo[ORIGIN_MEMO_SLOTS];
};

static inline struct who who_of(const struct vigil_syscall *ev)
{
    struct who w = {.pid = ev->tgid, .comm = {0}};
    memcpy(w.comm, ev->comm, 16);
    return w;
}

static inline int tracer_at(const struct vorigin *o, int32_t target)
{
    for (int i = 0; i < TRACERS; i++)
        if (o->t[i].target == target)
            return i;
    return -1;
}

#endif
