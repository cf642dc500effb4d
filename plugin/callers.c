/* --callers on the plugin's side (see callers.h). */
#include "callers.h"

#include "branches.h"
#include "nrset.h"
#include "stackwalk.h"
#include "vigil/ring.h"
#include "vigil/syscalls.h"

static struct {
    unsigned chain; /* K */
    /* 64-bit calls after which remembered stack verdicts go stale. */
    nrset stale;
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
    struct vigil_branch *b = (struct vigil_branch *)(chain + nc);
    unsigned n = branches_copy(vcpu, b);
    c->h.type = VRAW_CALLERS;
    c->h.vcpu = (uint16_t)vcpu;
    c->h.flags = 0;
    c->h.ts_ns = stamp_now(&v->clk);
    c->task = t->task;
    c->tid = t->tid;
    c->nchain = (uint16_t)nc;
    c->nbranch = (uint16_t)n;
    c->flags = trunc ? VRAW_CALLERS_TRUNC : 0;
    c->reserved = 0;
    uint32_t size = sizeof *c + 8u * nc + (uint32_t)sizeof *b * n;
    c->h.size = (uint16_t)size;
    return size; /* a multiple of 8 */
}
