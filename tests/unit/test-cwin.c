/* --callers records made whole (lib/trace/cwin.c): records that carry only
 * what changed since their history's previous one in the same ring come
 * back as the whole records they stand for, whatever order the rings are
 * read in, with their JSON as printf writes it; a record whose
 * predecessor the consumer does not hold comes back partial, never with
 * another thread's branches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/cwin.h"
#include "vigil/event.h"
#include "vigil/ring.h"

#include "check.h"
#include "xorshift.h"

#define N        8 /* branches per window: small, so that windows wrap */
#define THREADS  6
#define SLOTS    4 /* fewer than threads: slots are taken over */
#define VCPUS    3
#define STEPS    20000
#define MAXCHAIN 16

struct rec {
    _Alignas(8) uint8_t b[sizeof(struct vraw_callers) + 8 * MAXCHAIN +
                          sizeof(struct vigil_branch) * N];
    /* What the whole record must say. */
    unsigned nchain, nbranch;
    uint64_t chain[MAXCHAIN];
    struct vigil_branch br[N];
    bool trunc;
};

/* A thread as the plugin sees it: its history since it began. */
struct thread {
    uint64_t task;
    int32_t tid;
    unsigned slot;
    uint32_t gen, total;
    struct vigil_branch last[N]; /* the last N, oldest first */
    unsigned count;
};

/* What the last record of a slot said, as plugin/callers.c keeps it. */
struct sent {
    uint32_t gen, total;
    int vcpu;
    unsigned nchain;
    bool trunc;
    uint64_t chain[MAXCHAIN];
    uint64_t task;
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static void take_branches(struct thread *t, unsigned k)
{
    for (unsigned i = 0; i < k; i++) {
        struct vigil_branch b = {.from = xorshift64(&rng) & 0xffffff,
                                 .to = t->task << 24 | t->total};
        if (t->count == N) {
            memmove(t->last, t->last + 1, sizeof t->last[0] * (N - 1));
            t->count--;
        }
        t->last[t->count++] = b;
        t->total++;
    }
}

/* The plugin's record for thread @t's call on @vcpu with chain @chain. */
static void encode(struct rec *r, struct thread *t, struct sent *s,
                   unsigned vcpu, const uint64_t *chain, unsigned nchain,
                   bool trunc)
{
    struct vraw_callers *c = (struct vraw_callers *)r->b;
    memset(r->b, 0, sizeof r->b);
    uint64_t *oc = (uint64_t *)(c + 1);
    bool cont = s->vcpu == (int)vcpu && s->gen == t->gen && s->task == t->task;
    unsigned nc = nchain;
    uint16_t flags = trunc ? VRAW_CALLERS_TRUNC : 0;
    if (cont && nchain == s->nchain && trunc == s->trunc &&
        !memcmp(chain, s->chain, 8 * nchain)) {
        flags |= VRAW_CALLERS_SAME_CHAIN;
        nc = 0;
    } else {
        memcpy(oc, chain, 8 * nchain);
    }
    uint32_t fresh = t->total - s->total;
    unsigned nb = t->count;
    if (cont && fresh <= N) {
        flags |= VRAW_CALLERS_DELTA;
        nb = fresh < t->count ? fresh : t->count;
    }
    memcpy(oc + nc, t->last + (t->count - nb), sizeof t->last[0] * nb);
    c->h.type = VRAW_CALLERS;
    c->h.vcpu = (uint16_t)vcpu;
    c->h.size = (uint16_t)(sizeof *c + 8 * nc + 16 * nb);
    c->task = t->task;
    c->tid = t->tid;
    c->nchain = (uint16_t)nc;
    c->nbranch = (uint16_t)nb;
    c->flags = flags;
    c->slot = (uint16_t)t->slot;
    c->total = t->total;
    *s = (struct sent){.gen = t->gen,
                       .total = t->total,
                       .vcpu = (int)vcpu,
                       .nchain = nchain,
                       .trunc = trunc,
                       .task = t->task};
    memcpy(s->chain, chain, 8 * nchain);
    r->nchain = nchain;
    memcpy(r->chain, chain, 8 * nchain);
    r->trunc = trunc;
    r->nbranch = t->count;
    memcpy(r->br, t->last, sizeof t->last[0] * t->count);
}

/* The JSON arrays of @r's chain and branches, by printf. */
static void json_of(const struct rec *r, char *chain, char *br)
{
    int k = sprintf(chain, "[");
    for (unsigned i = 0; i < r->nchain; i++)
        k += sprintf(chain + k, "%s\"0x%llx\"", i ? "," : "",
                     (unsigned long long)r->chain[i]);
    sprintf(chain + k, "]");
    k = sprintf(br, "[");
    for (unsigned i = 0; i < r->nbranch; i++)
        k += sprintf(br + k, "%s[\"0x%llx\",\"0x%llx\"]", i ? "," : "",
                     (unsigned long long)r->br[i].from,
                     (unsigned long long)r->br[i].to);
    sprintf(br + k, "]");
}

static bool whole_as_expected(struct cwins *w, const struct rec *r)
{
    size_t size;
    uint8_t *got = cwins_apply(w, (const struct vraw_callers *)r->b, &size);
    if (got == NULL)
        return false;
    const struct vraw_callers *g = (const void *)got;
    const uint64_t *gc = (const uint64_t *)(g + 1);
    size_t bin = sizeof *g + 8u * r->nchain + 16u * r->nbranch;
    bool ok = g->nchain == r->nchain && g->nbranch == r->nbranch &&
              !(g->flags & (VRAW_CALLERS_DELTA | VRAW_CALLERS_SAME_CHAIN |
                            CWIN_PARTIAL)) &&
              !!(g->flags & VRAW_CALLERS_TRUNC) == r->trunc && size >= bin &&
              !memcmp(gc, r->chain, 8 * r->nchain) &&
              !memcmp(gc + r->nchain, r->br, 16 * r->nbranch);
    /* The JSON that goes along, as printf writes it. */
    struct cwin_json j;
    char chain[MAXCHAIN * 24 + 8], br[N * 48 + 8];
    json_of(r, chain, br);
    ok = ok && cwin_text(got, &j) && j.chain_len == strlen(chain) &&
         !memcmp(j.chain, chain, j.chain_len) && j.branches_len == strlen(br) &&
         !memcmp(j.branches, br, j.branches_len) &&
         (const uint8_t *)j.branches + j.branches_len <= got + size;
    free(got);
    return ok;
}

/* Threads on vCPUs, their records queued per ring and the rings read in
 * random portions, as the consumer reads them. */
static void random_order(void)
{
    struct cwins *w = cwins_new(N);
    struct thread th[THREADS];
    struct sent sent[SLOTS];
    memset(sent, 0, sizeof sent);
    for (unsigned i = 0; i < SLOTS; i++)
        sent[i].vcpu = -1;
    for (unsigned i = 0; i < THREADS; i++)
        th[i] = (struct thread){.task = 0x1000 + i,
                                .tid = 100 + (int)i,
                                .slot = i % SLOTS,
                                .gen = 1};
    static struct rec queue[VCPUS][256];
    unsigned qlen[VCPUS] = {0}, qpos[VCPUS] = {0};
    unsigned bad = 0, records = 0, deltas = 0, same = 0;
    uint64_t chains[3][MAXCHAIN];
    for (unsigned i = 0; i < 3; i++)
        for (unsigned j = 0; j < MAXCHAIN; j++)
            chains[i][j] = xorshift64(&rng);
    unsigned where[THREADS] = {0};
    for (unsigned step = 0; step < STEPS; step++) {
        struct thread *t = &th[xorshift64(&rng) % THREADS];
        unsigned ti = (unsigned)(t - th);
        if (xorshift64(&rng) % 8 == 0) /* moves to another vCPU */
            where[ti] = xorshift64(&rng) % VCPUS;
        if (xorshift64(&rng) % 50 == 0) { /* execve: a new history */
            t->gen++;
            t->total = t->count = 0;
        }
        take_branches(t, (unsigned)(xorshift64(&rng) % 12));
        unsigned v = where[ti];
        if (qlen[v] == 256) { /* the consumer reads this ring first */
            for (; qpos[v] < qlen[v]; qpos[v]++, records++)
                bad += !whole_as_expected(w, &queue[v][qpos[v]]);
            qlen[v] = qpos[v] = 0;
        }
        unsigned ci = (unsigned)(xorshift64(&rng) % 3);
        unsigned nchain = 1 + ci * 5;
        encode(&queue[v][qlen[v]++], t, &sent[t->slot], v, chains[ci], nchain,
               ci == 2);
        const struct vraw_callers *c = (const void *)queue[v][qlen[v] - 1].b;
        deltas += !!(c->flags & VRAW_CALLERS_DELTA);
        same += !!(c->flags & VRAW_CALLERS_SAME_CHAIN);
        /* Now and then the consumer reads part of one ring. */
        unsigned r = (unsigned)(xorshift64(&rng) % VCPUS);
        unsigned upto =
            qpos[r] + (unsigned)(xorshift64(&rng) % (qlen[r] - qpos[r] + 1));
        for (; qpos[r] < upto; qpos[r]++, records++)
            bad += !whole_as_expected(w, &queue[r][qpos[r]]);
    }
    for (unsigned v = 0; v < VCPUS; v++)
        for (; qpos[v] < qlen[v]; qpos[v]++, records++)
            bad += !whole_as_expected(w, &queue[v][qpos[v]]);
    CHECK(bad == 0 && records == STEPS,
          "%u records read ring by ring in random portions, %u of them "
          "deltas and %u with the previous chain: %u not as the whole record",
          records, deltas, same, bad);
    CHECK(deltas > STEPS / 4 && same > STEPS / 10,
          "the random walk made deltas (%u) and same chains (%u)", deltas,
          same);
    cwins_free(w);
}

/* One record of @nbranch branches numbered from @first. */
static struct vraw_callers *mk(uint16_t slot, uint16_t vcpu, uint64_t task,
                               uint16_t flags, uint32_t total, unsigned nchain,
                               unsigned nbranch, unsigned first)
{
    size_t size = sizeof(struct vraw_callers) + 8 * nchain + 16 * nbranch;
    struct vraw_callers *c = calloc(1, size);
    c->h.type = VRAW_CALLERS;
    c->h.vcpu = vcpu;
    c->h.size = (uint16_t)size;
    c->task = task;
    c->tid = (int32_t)task;
    c->nchain = (uint16_t)nchain;
    c->nbranch = (uint16_t)nbranch;
    c->flags = flags;
    c->slot = slot;
    c->total = total;
    uint64_t *ch = (uint64_t *)(c + 1);
    for (unsigned i = 0; i < nchain; i++)
        ch[i] = 0x400000 + i;
    struct vigil_branch *b = (struct vigil_branch *)(ch + nchain);
    for (unsigned i = 0; i < nbranch; i++)
        b[i] = (struct vigil_branch){.from = first + i, .to = first + i};
    return c;
}

/* Apply @c (freed) and return the whole record (caller frees). */
static struct vraw_callers *apply(struct cwins *w, struct vraw_callers *c)
{
    size_t size;
    struct vraw_callers *g = (void *)cwins_apply(w, c, &size);
    free(c);
    return g;
}

static uint64_t branch_from(const struct vraw_callers *g, unsigned i)
{
    const uint64_t *ch = (const uint64_t *)(g + 1);
    return ((const struct vigil_branch *)(ch + g->nchain))[i].from;
}

static void lost_track(void)
{
    struct cwins *w = cwins_new(N);
    const uint16_t D = VRAW_CALLERS_DELTA, S = VRAW_CALLERS_SAME_CHAIN;

    struct vraw_callers *g = apply(w, mk(0, 0, 7, D | S, 10, 0, 2, 8));
    struct cwin_json j;
    CHECK(g->flags & CWIN_PARTIAL && g->nbranch == 2 && g->nchain == 0 &&
              g->flags & VRAW_CALLERS_TRUNC && branch_from(g, 0) == 8 &&
              !cwin_text((const uint8_t *)g, &j),
          "a delta with no window: partial, its own 2 branches, the chain it "
          "did not carry empty and truncated (no JSON made for it)");
    free(g);

    free(apply(w, mk(1, 0, 7, 0, 5, 3, 5, 0)));
    g = apply(w, mk(1, 0, 7, D | S, 8, 0, 3, 5));
    CHECK(!(g->flags & CWIN_PARTIAL) && g->nbranch == 8 && g->nchain == 3 &&
              branch_from(g, 0) == 0 && branch_from(g, 7) == 7,
          "a full record then a delta of 3: the 8 branches, the chain");
    free(g);
    g = apply(w, mk(1, 0, 7, D | S, 10, 0, 1, 9));
    CHECK(g->flags & CWIN_PARTIAL && g->nbranch == 1 && g->nchain == 3,
          "a delta whose base (9) is not the window's count (8): partial "
          "branches, the chain still held");
    free(g);
    g = apply(w, mk(1, 0, 8, D | S, 11, 0, 1, 10));
    CHECK(g->flags & CWIN_PARTIAL && g->nbranch == 1 && g->nchain == 0,
          "another thread's delta on that slot: nothing of the first's");
    free(g);
    g = apply(w, mk(1, 0, 8, D, 16, 1, 5, 11));
    CHECK(g->flags & CWIN_PARTIAL && g->nbranch == 6 && branch_from(g, 0) == 10,
          "its next delta continues, but what came before the lost part is "
          "missing: still partial (6 of 8 branches)");
    free(g);
    g = apply(w, mk(1, 0, 8, D | S, 18, 0, 2, 16));
    CHECK(!(g->flags & CWIN_PARTIAL) && g->nbranch == 8 &&
              branch_from(g, 0) == 10 && branch_from(g, 7) == 17,
          "once N branches came after the loss, whole again");
    free(g);
    g = apply(w, mk(1, 1, 8, D, 12, 2, 1, 11));
    CHECK(g->flags & CWIN_PARTIAL && g->nbranch == 1 && g->nchain == 2,
          "a delta in another ring, which held nothing of the slot: partial");
    free(g);

    free(apply(w, mk(2, 0, 9, 0, 1, VACT_CALLERS_CHAIN_MAX + 1, 1, 0)));
    g = apply(w, mk(2, 0, 9, D | S, 2, 0, 1, 1));
    CHECK(g->nchain == 0 && g->flags & CWIN_PARTIAL &&
              !(g->flags & VRAW_CALLERS_DELTA) && g->nbranch == 2,
          "a chain longer than any plugin sends is not kept: the next "
          "record's same chain is partial (its branches still whole)");
    free(g);

    g = apply(w, mk(VRAW_CALLERS_SLOTS, 0, 9, D, 3, 0, 1, 1));
    CHECK(g != NULL && g->flags & CWIN_PARTIAL && g->nbranch == 1,
          "a slot out of range: the record as it came, partial");
    free(g);
    cwins_free(w);
}

int main(void)
{
    random_order();
    lost_track();
    return failures != 0;
}
