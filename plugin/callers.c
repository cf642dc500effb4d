/* --callers on the plugin's side (see callers.h). */
#include "callers.h"

#include <stdlib.h>
#include <string.h>

#include "branches.h"
#include "nrset.h"
#include "stackwalk.h"
#include "vigil/ring.h"
#include "vigil/syscalls.h"

/* A record says only what changed since the one before it of the same
 * history in the same ring (vigil/rawrec.h); at least every FULL_EVERY
 * records of a history one says everything, so that a consumer that lost
 * track (it could not keep a window) has it again. */
#define FULL_EVERY 64

/* What the last record of each history (branches.h's slot) said. */
struct sent {
    uint32_t gen;   /* the history's, when it was written */
    uint32_t total; /* its branches then */
    int32_t vcpu;   /* the ring it went to; -1: none */
    uint16_t since_full;
    uint16_t nchain;
    bool trunc;
};

static struct {
    unsigned chain; /* K */
    /* 64-bit calls after which remembered stack verdicts go stale. */
    nrset stale;
    struct sent *sent;    /* VRAW_CALLERS_SLOTS */
    uint64_t *last_chain; /* VRAW_CALLERS_SLOTS * K */
} cl;

bool callers_setup(const struct vact_config *act)
{
    if (!branches_setup(act))
        return false;
    /* fork and clone too: a new address space may get the page tables of
     * one that is gone, and with them its cr3 (the verdicts' key). */
    static const char *const stale[] = {"mmap",
                                        "munmap",
                                        "mprotect",
                                        "mremap",
                                        "execve",
                                        "execveat",
                                        "process_vm_writev",
                                        "ptrace",
                                        "shmat",
                                        "remap_file_pages",
                                        "fork",
                                        "vfork",
                                        "clone",
                                        "clone3"};
    for (unsigned i = 0; i < sizeof stale / sizeof stale[0]; i++)
        nrset_add(cl.stale, stale[i], false);
    cl.chain = act->callers_chain <= VACT_CALLERS_CHAIN_MAX
                   ? act->callers_chain
                   : VACT_CALLERS_CHAIN_MAX;
    cl.sent = calloc(VRAW_CALLERS_SLOTS, sizeof *cl.sent);
    cl.last_chain = calloc((size_t)VRAW_CALLERS_SLOTS * (cl.chain + 1), 8);
    if (cl.sent == NULL || cl.last_chain == NULL)
        return false;
    for (unsigned i = 0; i < VRAW_CALLERS_SLOTS; i++)
        cl.sent[i].vcpu = -1;
    return true;
}

void callers_before_call(uint64_t nr, bool compat)
{
    if (compat || nrset_has(cl.stale, nr))
        stackwalk_invalidate();
}

uint32_t callers_room(unsigned vcpu, const struct vraw_task *t)
{
    if (!branches_current(vcpu) || t->task == 0)
        return 0;
    return VRAW_ALIGN(sizeof(struct vraw_callers) + 8u * cl.chain +
                      (uint32_t)sizeof(struct vigil_branch) * branches_max());
}

uint32_t callers_fill(unsigned vcpu, struct vcpu *v, const struct vraw_task *t,
                      void *dst)
{
    struct vraw_callers *c = dst;
    uint64_t *chain = (uint64_t *)(c + 1);
    bool trunc = false;
    unsigned nc =
        cl.chain ? stackwalk(v, vcpu, reg(v, R_RSP), cl.chain, chain, &trunc)
                 : 0;
    /* callers_room() found a history; were it gone, slot 0's next record
     * could only be partial (the consumer checks every delta's base). */
    struct branches_pos pos;
    if (!branches_where(vcpu, &pos))
        pos = (struct branches_pos){0};
    struct sent *s = &cl.sent[pos.slot % VRAW_CALLERS_SLOTS];
    uint64_t *last = cl.last_chain +
                     (size_t)(pos.slot % VRAW_CALLERS_SLOTS) * (cl.chain + 1);
    /* Whether the consumer holds this history as the last record left it:
     * that record went to this ring, in this history's life. */
    bool cont = s->vcpu == (int32_t)vcpu && s->gen == pos.gen &&
                s->since_full < FULL_EVERY;
    uint32_t fresh = pos.total - s->total;
    uint16_t flags = trunc ? VRAW_CALLERS_TRUNC : 0;
    if (cont && nc == s->nchain && trunc == s->trunc &&
        !memcmp(chain, last, 8u * nc)) {
        flags |= VRAW_CALLERS_SAME_CHAIN;
        nc = 0;
    } else {
        memcpy(last, chain, 8u * nc);
        s->nchain = (uint16_t)nc;
        s->trunc = trunc;
    }
    struct vigil_branch *b = (struct vigil_branch *)(chain + nc);
    unsigned n;
    if (cont && fresh <= branches_max()) {
        flags |= VRAW_CALLERS_DELTA;
        n = branches_copy(vcpu, b, fresh);
        s->since_full++;
    } else {
        n = branches_copy(vcpu, b, branches_max());
        s->since_full = 0;
    }
    s->vcpu = (int32_t)vcpu;
    s->gen = pos.gen;
    s->total = pos.total;
    c->h.type = VRAW_CALLERS;
    c->h.vcpu = (uint16_t)vcpu;
    c->h.flags = 0;
    c->h.ts_ns = stamp_now(&v->clk);
    c->task = t->task;
    c->tid = t->tid;
    c->nchain = (uint16_t)nc;
    c->nbranch = (uint16_t)n;
    c->flags = flags;
    c->slot = (uint16_t)pos.slot;
    c->total = pos.total;
    uint32_t size = sizeof *c + 8u * nc + (uint32_t)sizeof *b * n;
    c->h.size = (uint16_t)size;
    return size; /* a multiple of 8 */
}
