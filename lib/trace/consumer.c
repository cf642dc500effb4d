/* Ring consumer: raw records -> paired system call events.
 * See include/vigil/consumer.h for the contract. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "trace/cwin.h"
#include "trace/origin.h"
#include "trace/vmmap.h"
#include "vigil/consumer.h"
#include "vigil/rawrec.h"
#include "vigil/ring.h"

/* How many polls a return may wait for its entry to show up. Entries are
 * committed before the call runs, so this only bridges the moment between
 * reading one vCPU's ring and another's. */
#define ORPHAN_POLLS 64
/* Bound on records handled by one poll, so the caller keeps control. */
#define POLL_BATCH 65536

struct open_call {
    struct open_call *next;
    uint8_t *callers; /* its VRAW_CALLERS record (owned), or NULL */
    uint64_t task;
    uint32_t len;
    _Alignas(8) uint8_t rec[]; /* copy of the vraw_enter record */
};

struct orphan {
    uint64_t poll; /* when it arrived */
    uint8_t *rec;  /* copy of the vraw_exit record */
};

struct vcons {
    struct vring_map *ring;
    struct vigil_select sel;
    vigil_syscall_fn fn;
    void *ctx;

    struct open_call **open; /* hash buckets by task */
    size_t nbuckets, nopen;

    struct orphan *orphans;
    size_t norphans, orphans_cap;
    uint64_t polls;

    int32_t *chosen; /* selected thread groups, open addressing, 0 = free */
    size_t chosen_cap, nchosen;

    /* Each vCPU's last VRAW_CALLERS record (owned), waiting for the entry
     * that follows it in the same ring. */
    uint8_t *callers[VRING_MAX_VCPUS];
    struct cwins *cwins; /* made at the first of them */
    /* --callers: made at the first memory map the plugin sends. */
    struct vmmap *maps;
    struct vorigin *org;

    struct vcons_stats st;
};

/* ---- selection ---------------------------------------------------------- */

static bool chosen_has(const struct vcons *c, int32_t tgid)
{
    if (tgid <= 0 || c->chosen_cap == 0)
        return false;
    size_t m = c->chosen_cap - 1;
    for (size_t i = (size_t)tgid * 2654435761u & m;; i = (i + 1) & m) {
        if (c->chosen[i] == tgid)
            return true;
        if (c->chosen[i] == 0)
            return false;
    }
}

static void chosen_add(struct vcons *c, int32_t tgid)
{
    if (tgid <= 0 || chosen_has(c, tgid))
        return;
    if ((c->nchosen + 1) * 2 > c->chosen_cap) {
        size_t cap = c->chosen_cap ? c->chosen_cap * 2 : 64;
        int32_t *n = calloc(cap, sizeof *n);
        if (n == NULL)
            return; /* selection degrades, nothing is corrupted */
        int32_t *old = c->chosen;
        size_t oldcap = c->chosen_cap;
        c->chosen = n;
        c->chosen_cap = cap;
        c->nchosen = 0;
        for (size_t i = 0; i < oldcap; i++)
            if (old[i] != 0)
                chosen_add(c, old[i]);
        free(old);
    }
    size_t m = c->chosen_cap - 1;
    size_t i = (size_t)tgid * 2654435761u & m;
    while (c->chosen[i] != 0)
        i = (i + 1) & m;
    c->chosen[i] = tgid;
    c->nchosen++;
}

/* 0 for other calls, 1 for execve, 2 for execveat. */
static int exec_kind(uint64_t nr, bool compat)
{
    const struct vsys_ent *e = vsys_lookup(nr, compat);
    if (e == NULL || e->name == NULL)
        return 0;
    return !strcmp(e->name, "execve")     ? 1
           : !strcmp(e->name, "execveat") ? 2
                                          : 0;
}

static bool is_execve(const struct vigil_syscall *ev)
{
    return exec_kind(ev->nr, ev->compat) != 0;
}

static const struct vigil_capture *path_capture(const struct vigil_syscall *ev)
{
    /* execve's path is argument 0, execveat's argument 1. */
    unsigned argi = exec_kind(ev->nr, ev->compat) == 2 ? 1 : 0;
    for (unsigned i = 0; i < ev->ncaps; i++)
        if (ev->caps[i].argi == argi && ev->caps[i].kind == VSYS_CAP_STR)
            return &ev->caps[i];
    return NULL;
}

static bool exec_matches(const struct vigil_select *s,
                         const struct vigil_syscall *ev)
{
    if (s->kind != VIGIL_SEL_EXE || ev->state != VIGIL_SC_DONE ||
        ev->ret != 0 || !is_execve(ev))
        return false;
    const struct vigil_capture *p = path_capture(ev);
    return p != NULL && !p->fault && p->len > 0 &&
           strlen(s->name) + 1 == p->len && !memcmp(p->data, s->name, p->len);
}

static bool selected(struct vcons *c, const struct vigil_syscall *ev)
{
    bool add;
    bool yes = vigil_select_event(
        &c->sel, ev->tgid, ev->comm, exec_matches(&c->sel, ev),
        chosen_has(c, ev->tgid), chosen_has(c, ev->ppid), &add);
    if (add)
        chosen_add(c, ev->tgid);
    return yes;
}

/* ---- building events ---------------------------------------------------- */

/* Add the blobs that follow a record's fixed part; bounds-checked against
 * the record's size. */
static void add_caps(struct vigil_syscall *ev, const uint8_t *rec, size_t fixed,
                     uint32_t nblobs, bool at_exit)
{
    const struct vraw_hdr *h = (const struct vraw_hdr *)rec;
    size_t off = fixed;
    for (uint32_t i = 0; i < nblobs; i++) {
        const struct vraw_blob *b = (const void *)(rec + off);
        if (off + sizeof *b > h->size || off + sizeof *b + b->len > h->size ||
            ev->ncaps >= sizeof ev->caps / sizeof ev->caps[0])
            return;
        struct vigil_capture *cap = NULL;
        bool late = b->flags & VRAW_BLOB_LATE;
        if (late) {
            /* A second try at an input that faulted at entry. */
            for (unsigned k = 0; k < ev->ncaps; k++)
                if (!ev->caps[k].at_exit && ev->caps[k].argi == b->argi &&
                    ev->caps[k].fault)
                    cap = &ev->caps[k];
            if (cap == NULL || (b->flags & VRAW_BLOB_FAULT)) {
                off += VRAW_ALIGN(sizeof *b + b->len);
                continue;
            }
        } else {
            cap = &ev->caps[ev->ncaps++];
        }
        cap->argi = b->argi;
        cap->kind = b->kind;
        cap->at_exit = at_exit && !late;
        cap->fault = b->flags & VRAW_BLOB_FAULT;
        cap->trunc = b->flags & VRAW_BLOB_TRUNC;
        cap->len = b->len;
        cap->data = (const uint8_t *)(b + 1);
        off += VRAW_ALIGN(sizeof *b + b->len);
    }
}

/* A VRAW_CALLERS record (checked at arrival) as the event shows it. */
static void callers_view(const uint8_t *rec, struct vigil_callers *out)
{
    const struct vraw_callers *r = (const void *)rec;
    const uint64_t *chain = (const uint64_t *)(r + 1);
    *out = (struct vigil_callers){0}; /* no JSON unless the record has it */
    out->nchain = r->nchain;
    out->chain = chain;
    out->chain_trunc = r->flags & VRAW_CALLERS_TRUNC;
    out->partial = r->flags & CWIN_PARTIAL;
    out->nbranch = r->nbranch;
    out->branches = (const struct vigil_branch *)(chain + r->nchain);
    struct cwin_json j;
    if (cwin_text(rec, &j)) {
        out->chain_json = j.chain;
        out->chain_json_len = j.chain_len;
        out->branches_json = j.branches;
        out->branches_json_len = j.branches_len;
    }
}

static void emit(struct vcons *c, const uint8_t *enter, const uint8_t *exit,
                 const uint8_t *callers, enum vigil_sc_state state)
{
    const struct vraw_enter *e = (const void *)enter;
    struct vigil_syscall ev;
    struct vigil_callers cv;
    memset(&ev, 0, sizeof ev);
    if (callers != NULL) {
        callers_view(callers, &cv);
        ev.callers = &cv;
    }
    ev.ts_enter_ns = e->h.ts_ns;
    ev.vcpu = e->h.vcpu;
    ev.tid = e->t.tid;
    ev.tgid = e->t.tgid;
    ev.ppid = e->t.ppid;
    memcpy(ev.comm, e->t.comm, sizeof e->t.comm);
    ev.compat = e->h.flags & VRAW_F_COMPAT;
    ev.nr = e->nr;
    memcpy(ev.args, e->args, sizeof ev.args);
    ev.ip = e->ip;
    ev.state = state;
    add_caps(&ev, enter, sizeof *e, e->nblobs, false);
    if (exit != NULL) {
        const struct vraw_exit *x = (const void *)exit;
        ev.ts_exit_ns = x->h.ts_ns;
        ev.ret = x->ret;
        ev.injected = x->h.flags & VRAW_F_INJECTED;
        ev.hidden = x->h.flags & VRAW_F_HIDDEN;
        add_caps(&ev, exit, sizeof *x, x->nblobs, true);
    }
    /* Every call teaches the origin tracker; only a shown one is judged. */
    if (c->org != NULL)
        vorigin_learn(c->org, &ev);
    if (selected(c, &ev)) {
        struct vigil_origin org;
        if (c->org != NULL && vorigin_resolve(c->org, c->maps, &ev, &org))
            ev.origin = &org;
        c->st.events++;
        c->fn(&ev, c->ctx);
    }
}

/* A process's memory map (--callers). */
static void on_vmas(struct vcons *c, const struct vraw_vmas *r)
{
    if (c->maps == NULL &&
        (vmmap_new(&c->maps) < 0 || vorigin_new(&c->org) < 0)) {
        vmmap_free(c->maps);
        c->maps = NULL;
        return;
    }
    vorigin_use_maps(c->org, c->maps);
    if (vmmap_apply(c->maps, r) < 0)
        c->st.bad_maps++;
}

/* The group's memory is gone (exit_group) or replaced (execve). */
static void forget_group(struct vcons *c, int32_t tgid, bool exited)
{
    if (c->maps == NULL)
        return;
    vmmap_drop(c->maps, tgid);
    vorigin_forget(c->org, tgid, exited);
}

/* ---- calls in flight ---------------------------------------------------- */

static size_t bucket(const struct vcons *c, uint64_t task)
{
    return (size_t)((task * 0x9e3779b97f4a7c15ull) >> 32) & (c->nbuckets - 1);
}

/* The open call of task_struct @task; of thread @tid only, unless @tid is
 * 0 (a new thread's first call also ends a dead thread's open call on a
 * task_struct it reuses). */
static struct open_call *open_take(struct vcons *c, uint64_t task, int32_t tid)
{
    for (struct open_call **pp = &c->open[bucket(c, task)]; *pp != NULL;
         pp = &(*pp)->next) {
        struct open_call *o = *pp;
        const struct vraw_enter *e = (const void *)o->rec;
        if (o->task == task && (tid == 0 || e->t.tid == tid)) {
            *pp = o->next;
            c->nopen--;
            return o;
        }
    }
    return NULL;
}

static void open_free(struct open_call *o)
{
    free(o->callers);
    free(o);
}

/* Takes @callers (owned, may be NULL). */
static void open_put(struct vcons *c, const struct vraw_enter *e,
                     uint8_t *callers)
{
    struct open_call *o = malloc(sizeof *o + e->h.size);
    if (o == NULL) {
        /* Cannot wait for the return: report the entry alone. */
        emit(c, (const uint8_t *)e, NULL, callers, VIGIL_SC_UNFINISHED);
        free(callers);
        return;
    }
    o->callers = callers;
    o->task = e->t.task;
    o->len = e->h.size;
    memcpy(o->rec, e, e->h.size);
    size_t b = bucket(c, o->task);
    o->next = c->open[b];
    c->open[b] = o;
    c->nopen++;
}

/* Every other open call of thread group `tgid` ends unreturned: the group
 * exited, or an execve replaced it. */
static void close_group(struct vcons *c, int32_t tgid, uint64_t keep)
{
    for (size_t b = 0; b < c->nbuckets; b++) {
        struct open_call **pp = &c->open[b];
        while (*pp != NULL) {
            struct open_call *o = *pp;
            const struct vraw_enter *e = (const void *)o->rec;
            if (e->t.tgid == tgid && o->task != keep) {
                *pp = o->next;
                c->nopen--;
                emit(c, o->rec, NULL, o->callers, VIGIL_SC_UNFINISHED);
                open_free(o);
            } else {
                pp = &o->next;
            }
        }
    }
}

static void pair(struct vcons *c, struct open_call *o, const uint8_t *exit)
{
    const struct vraw_enter *e = (const void *)o->rec;
    const struct vraw_exit *x = (const void *)exit;
    emit(c, o->rec, exit, o->callers, VIGIL_SC_DONE);
    if (x->ret == 0 && exec_kind(e->nr, e->h.flags & VRAW_F_COMPAT)) {
        close_group(c, e->t.tgid, e->t.task);
        forget_group(c, e->t.tgid, false);
    }
    open_free(o);
}

/* The VRAW_CALLERS record that came just before entry @e in its ring, if
 * it is this thread's (else it is dropped: its entry was lost). */
static uint8_t *take_callers(struct vcons *c, const struct vraw_enter *e)
{
    if (e->h.vcpu >= VRING_MAX_VCPUS)
        return NULL;
    uint8_t *rec = c->callers[e->h.vcpu];
    c->callers[e->h.vcpu] = NULL;
    const struct vraw_callers *r = (const void *)rec;
    if (rec != NULL && (r->task != e->t.task || r->tid != e->t.tid)) {
        free(rec);
        rec = NULL;
    }
    return rec;
}

static void on_callers(struct vcons *c, const struct vraw_callers *r)
{
    size_t need = sizeof *r + 8u * r->nchain +
                  sizeof(struct vigil_branch) * (size_t)r->nbranch;
    if (r->h.vcpu >= VRING_MAX_VCPUS || need > r->h.size)
        return; /* malformed: the call goes without */
    if (c->cwins == NULL)
        c->cwins = cwins_new(vring_shm(c->ring)->act.callers_branches);
    free(c->callers[r->h.vcpu]);
    c->callers[r->h.vcpu] =
        c->cwins != NULL ? cwins_apply(c->cwins, r, &need) : NULL;
}

static void on_enter(struct vcons *c, const struct vraw_enter *e)
{
    if (e->h.flags & VRAW_F_NO_TASK)
        c->st.bad_task++;
    uint8_t *callers = take_callers(c, e);
    struct open_call *old = open_take(c, e->t.task, 0);
    if (old != NULL) {
        emit(c, old->rec, NULL, old->callers, VIGIL_SC_UNFINISHED);
        open_free(old);
    }
    /* A return that overtook this entry across rings. */
    for (size_t i = 0; i < c->norphans; i++) {
        const struct vraw_exit *x = (const void *)c->orphans[i].rec;
        if (x->task == e->t.task && x->tid == e->t.tid &&
            x->h.ts_ns >= e->h.ts_ns) {
            emit(c, (const uint8_t *)e, c->orphans[i].rec, callers,
                 VIGIL_SC_DONE);
            free(callers);
            free(c->orphans[i].rec);
            c->orphans[i] = c->orphans[--c->norphans];
            return;
        }
    }
    const struct vsys_ent *ent = vsys_lookup(e->nr, e->h.flags & VRAW_F_COMPAT);
    if (ent != NULL && (ent->flags & VSYS_NORETURN)) {
        bool group = ent->name != NULL && !strcmp(ent->name, "exit_group");
        if (group)
            close_group(c, e->t.tgid, e->t.task);
        emit(c, (const uint8_t *)e, NULL, callers, VIGIL_SC_NORETURN);
        free(callers);
        if (group)
            forget_group(c, e->t.tgid, true);
        return;
    }
    open_put(c, e, callers);
}

static void on_exit_rec(struct vcons *c, const struct vraw_exit *x)
{
    struct open_call *o = open_take(c, x->task, x->tid);
    if (o != NULL) {
        pair(c, o, (const uint8_t *)x);
        return;
    }
    if (c->norphans == c->orphans_cap) {
        size_t cap = c->orphans_cap ? c->orphans_cap * 2 : 16;
        struct orphan *n = realloc(c->orphans, cap * sizeof *n);
        if (n == NULL) {
            c->st.unpaired_exits++;
            return;
        }
        c->orphans = n;
        c->orphans_cap = cap;
    }
    uint8_t *copy = malloc(x->h.size);
    if (copy == NULL) {
        c->st.unpaired_exits++;
        return;
    }
    memcpy(copy, x, x->h.size);
    c->orphans[c->norphans].poll = c->polls;
    c->orphans[c->norphans].rec = copy;
    c->norphans++;
}

static void age_orphans(struct vcons *c, bool all)
{
    for (size_t i = 0; i < c->norphans;) {
        if (all || c->polls - c->orphans[i].poll > ORPHAN_POLLS) {
            c->st.unpaired_exits++;
            free(c->orphans[i].rec);
            c->orphans[i] = c->orphans[--c->norphans];
        } else {
            i++;
        }
    }
}

static void dispatch(struct vcons *c, const struct vraw_hdr *h)
{
    c->st.records++;
    switch (h->type) {
    case VRAW_SYS_ENTER:
        if (h->size >= sizeof(struct vraw_enter))
            on_enter(c, (const struct vraw_enter *)h);
        break;
    case VRAW_SYS_EXIT:
        if (h->size >= sizeof(struct vraw_exit))
            on_exit_rec(c, (const struct vraw_exit *)h);
        break;
    case VRAW_CALLERS:
        if (h->size >= sizeof(struct vraw_callers))
            on_callers(c, (const struct vraw_callers *)h);
        break;
    case VRAW_VMAS:
        if (h->size >= sizeof(struct vraw_vmas))
            on_vmas(c, (const struct vraw_vmas *)h);
        break;
    case VRAW_NOTE:
        if (h->size >= sizeof(struct vraw_note) &&
            ((const struct vraw_note *)h)->code == VRAW_NOTE_PENDING_FULL)
            c->st.pending_full++;
        break;
    default:
        break; /* a newer plugin's record: skip by size */
    }
}

uint64_t vcons_poll(struct vcons *c)
{
    unsigned n = vring_count(c->ring);
    uint64_t done = 0;
    c->polls++;
    while (done < POLL_BATCH) {
        /* Merge the rings by time: the oldest visible record first. */
        const struct vraw_hdr *best = NULL;
        unsigned besti = 0;
        for (unsigned i = 0; i < n; i++) {
            const struct vraw_hdr *h = vring_peek(c->ring, i);
            if (h != NULL && (best == NULL || h->ts_ns < best->ts_ns)) {
                best = h;
                besti = i;
            }
        }
        if (best == NULL)
            break;
        dispatch(c, best);
        vring_consume(c->ring, besti);
        done++;
    }
    age_orphans(c, false);
    return done;
}

void vcons_finish(struct vcons *c)
{
    while (vcons_poll(c) > 0)
        ;
    age_orphans(c, true);
    for (size_t b = 0; b < c->nbuckets; b++) {
        while (c->open[b] != NULL) {
            struct open_call *o = c->open[b];
            c->open[b] = o->next;
            c->nopen--;
            emit(c, o->rec, NULL, o->callers, VIGIL_SC_UNFINISHED);
            open_free(o);
        }
    }
}

void vcons_stats(const struct vcons *c, struct vcons_stats *out)
{
    *out = c->st;
    struct vring_shm *shm = vring_shm(c->ring);
    out->dropped_records = out->dropped_bytes = out->ring_waits = 0;
    for (unsigned i = 0; i < vring_count(c->ring); i++) {
        out->dropped_records +=
            __atomic_load_n(&shm->ctl[i].dropped_records, __ATOMIC_RELAXED);
        out->dropped_bytes +=
            __atomic_load_n(&shm->ctl[i].dropped_bytes, __ATOMIC_RELAXED);
        out->ring_waits +=
            __atomic_load_n(&shm->ctl[i].full_waits, __ATOMIC_RELAXED);
    }
    out->unfollowed_fds = c->org != NULL ? vorigin_unfollowed(c->org) : 0;
}

int vcons_new(struct vcons **out, struct vring_map *ring,
              const struct vigil_select *sel, vigil_syscall_fn fn, void *ctx)
{
    struct vcons *c = calloc(1, sizeof *c);
    if (c == NULL)
        return -ENOMEM;
    c->nbuckets = 4096;
    c->open = calloc(c->nbuckets, sizeof *c->open);
    if (c->open == NULL) {
        free(c);
        return -ENOMEM;
    }
    c->ring = ring;
    if (sel != NULL)
        c->sel = *sel;
    c->fn = fn;
    c->ctx = ctx;
    *out = c;
    return 0;
}

void vcons_free(struct vcons *c)
{
    if (c == NULL)
        return;
    for (size_t b = 0; b < c->nbuckets; b++)
        while (c->open[b] != NULL) {
            struct open_call *o = c->open[b];
            c->open[b] = o->next;
            open_free(o);
        }
    free(c->open);
    for (size_t i = 0; i < VRING_MAX_VCPUS; i++)
        free(c->callers[i]);
    cwins_free(c->cwins);
    for (size_t i = 0; i < c->norphans; i++)
        free(c->orphans[i].rec);
    free(c->orphans);
    free(c->chosen);
    vmmap_free(c->maps);
    vorigin_free(c->org);
    free(c);
}
