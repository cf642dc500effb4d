/* Branch history of the traced threads (see branches.h). */
#include "branches.h"

#include <stdlib.h>
#include <string.h>

#include "psel.h"
#include "vigil/ring.h"

/* How many threads have a history at once. A thread beyond them takes over
 * the least recently run one in its probe window (its history restarts). */
#define HSLOTS VRAW_CALLERS_SLOTS
#define PROBE  16

struct hist {
    uint64_t task; /* task_struct address; 0: free */
    int32_t tid;
    uint32_t head;      /* next slot to write, mod N */
    uint32_t count;     /* valid entries, <= N */
    uint32_t total;     /* branches since the history began (wrapping) */
    uint32_t gen;       /* counts its beginnings */
    uint64_t prev_last; /* last instruction of the block run before */
    uint64_t prev_end;  /* its fall-through address; 0: none (no branch) */
    uint64_t stamp;     /* when it last ran, to choose one to take over */
};

static struct {
    bool on;
    unsigned n; /* N: entries per thread */
    struct psel sel;
    qemu_plugin_u64 traced; /* per vCPU: 1 while cur[vcpu] is set */
    struct hist *hist;
    struct vigil_branch *ring; /* HSLOTS * n */
    struct hist *cur[VRING_MAX_VCPUS];
    /* The last thread each vCPU found not selected, and psel_gen() then: a
     * thread not traced comes back to user mode at every call and
     * interrupt, and the rule need not be asked again for it until a
     * process is chosen or its identity changes. */
    struct unchosen {
        struct vraw_task t;
        uint32_t gen;
        bool valid;
    } no[VRING_MAX_VCPUS];
    uint64_t clock;
} br;

bool branches_setup(const struct vact_config *act)
{
    if (!(act->flags & VACT_CALLERS) || !(act->flags & VACT_TRACE))
        return false;
    unsigned n = act->callers_branches;
    if (n == 0 || n > VACT_CALLERS_BRANCHES_MAX)
        n = 32;
    br.hist = calloc(HSLOTS, sizeof *br.hist);
    br.ring = calloc((size_t)HSLOTS * n, sizeof *br.ring);
    if (br.hist == NULL || br.ring == NULL) {
        free(br.hist);
        free(br.ring);
        return false;
    }
    br.n = n;
    psel_init(&br.sel, &act->sel);
    br.traced.score = qemu_plugin_scoreboard_new(sizeof(uint64_t));
    br.traced.offset = 0;
    br.on = br.traced.score != NULL;
    return br.on;
}

bool branches_enabled(void)
{
    return br.on;
}

unsigned branches_max(void)
{
    return br.n;
}

/* The block's start, its length and its last instruction's length, in one
 * word: user addresses take 47 bits, a block spans at most two pages (13
 * bits) and an instruction at most 15 bytes (4 bits). */
#define UD_LEN_SHIFT  47
#define UD_LAST_SHIFT 60

static void on_block(unsigned int vcpu, void *udata)
{
    if (vcpu >= VRING_MAX_VCPUS)
        return;
    struct hist *h = br.cur[vcpu];
    if (h == NULL)
        return;
    uint64_t u = (uint64_t)(uintptr_t)udata;
    uint64_t start = u & ((1ull << UD_LEN_SHIFT) - 1);
    uint64_t len = (u >> UD_LEN_SHIFT) & 0x1fff;
    uint64_t last = u >> UD_LAST_SHIFT;
    if (h->prev_end != 0 && start != h->prev_end) {
        struct vigil_branch *r = br.ring + (size_t)(h - br.hist) * br.n;
        r[h->head] = (struct vigil_branch){.from = h->prev_last, .to = start};
        h->head = h->head + 1 == br.n ? 0 : h->head + 1;
        if (h->count < br.n)
            h->count++;
        h->total++;
    }
    /* len 0: a block too long to describe; what follows it is no branch. */
    h->prev_end = len != 0 ? start + len : 0;
    h->prev_last = start + len - last;
}

void branches_tb_trans(struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    if (!br.on || n == 0)
        return;
    struct qemu_plugin_insn *first = qemu_plugin_tb_get_insn(tb, 0);
    struct qemu_plugin_insn *lasti = qemu_plugin_tb_get_insn(tb, n - 1);
    uint64_t start = qemu_plugin_insn_vaddr(first);
    uint64_t lastva = qemu_plugin_insn_vaddr(lasti);
    uint64_t last = qemu_plugin_insn_size(lasti);
    uint64_t len = lastva + last - start;
    if (start >= USER_TOP || lastva >= USER_TOP)
        return;
    if (len >= 0x2000 || last > 15 || last == 0)
        len = last = 0;
    uint64_t u = start | len << UD_LEN_SHIFT | last << UD_LAST_SHIFT;
    qemu_plugin_register_vcpu_tb_exec_cond_cb(
        tb, on_block, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_COND_NE, br.traced, 0,
        (void *)(uintptr_t)u);
}

static void hist_reset(struct hist *h)
{
    h->head = h->count = h->total = 0;
    h->gen++;
    h->prev_end = h->prev_last = 0;
}

static unsigned mix(uint64_t task)
{
    return (unsigned)((task * 0x9e3779b97f4a7c15ull) >> 40);
}

/* The history of @t, claimed or taken over when it has none. Races between
 * vCPUs can at worst mix two threads' entries, never index out of bounds:
 * every index is taken modulo N. */
static struct hist *hist_of(const struct vraw_task *t)
{
    struct hist *victim = NULL;
    for (unsigned i = 0, s = mix(t->task); i < PROBE; i++, s++) {
        struct hist *h = &br.hist[s & (HSLOTS - 1)];
        uint64_t task = __atomic_load_n(&h->task, __ATOMIC_ACQUIRE);
        if (task == t->task) {
            if (h->tid != t->tid) { /* a new thread on a reused task_struct */
                hist_reset(h);
                h->tid = t->tid;
            }
            return h;
        }
        if (task == 0) {
            uint64_t zero = 0;
            if (__atomic_compare_exchange_n(&h->task, &zero, t->task, false,
                                            __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE)) {
                hist_reset(h);
                h->tid = t->tid;
                return h;
            }
            if (zero == t->task)
                return h;
        }
        if (victim == NULL || h->stamp < victim->stamp)
            victim = h;
    }
    __atomic_store_n(&victim->task, t->task, __ATOMIC_RELEASE);
    hist_reset(victim);
    victim->tid = t->tid;
    return victim;
}

bool branches_enter_user(unsigned vcpu, const struct vraw_task *t)
{
    if (!br.on || vcpu >= VRING_MAX_VCPUS)
        return false;
    struct hist *h = br.cur[vcpu];
    if (t == NULL) { /* a thread vigil could not name: none of ours */
        br.cur[vcpu] = NULL;
        qemu_plugin_u64_set(br.traced, vcpu, 0);
        return false;
    }
    if (h == NULL || h->task != t->task || h->tid != t->tid) {
        struct unchosen *no = &br.no[vcpu];
        uint32_t gen = psel_gen(&br.sel);
        if (h == NULL && no->valid && no->gen == gen &&
            !memcmp(&no->t, t, sizeof *t))
            return false; /* still not chosen; the flag is still 0 */
        /* psel_thread() is the --trace rule; a thread not chosen runs
         * without the callback. */
        h = t->task != 0 && psel_thread(&br.sel, t) ? hist_of(t) : NULL;
        br.cur[vcpu] = h;
        qemu_plugin_u64_set(br.traced, vcpu, h != NULL);
        *no = (struct unchosen){.t = *t, .gen = gen, .valid = h == NULL};
    }
    if (h == NULL)
        return false;
    h->stamp = __atomic_add_fetch(&br.clock, 1, __ATOMIC_RELAXED);
    return true;
}

void branches_resume_at(unsigned vcpu, uint64_t ip)
{
    if (branches_current(vcpu) && ip != 0 && ip < USER_TOP)
        br.cur[vcpu]->prev_end = ip;
}

bool branches_exec_wanted(struct vcpu *v, uint64_t nr, const uint64_t args[6])
{
    return br.on && psel_exec_wanted(&br.sel, v, nr, args);
}

static void reset_of(const struct vraw_task *t)
{
    for (unsigned i = 0, s = mix(t->task); i < PROBE; i++, s++) {
        struct hist *h = &br.hist[s & (HSLOTS - 1)];
        if (__atomic_load_n(&h->task, __ATOMIC_ACQUIRE) == t->task) {
            hist_reset(h);
            return;
        }
    }
}

void branches_exec_done(unsigned vcpu, const struct vraw_task *t, bool chosen)
{
    if (!br.on)
        return;
    reset_of(t);
    if (chosen) {
        psel_exec_done(&br.sel, t->tgid);
        branches_enter_user(vcpu, t); /* traced from here on */
    }
}

bool branches_current(unsigned vcpu)
{
    return br.on && vcpu < VRING_MAX_VCPUS && br.cur[vcpu] != NULL;
}

bool branches_where(unsigned vcpu, struct branches_pos *out)
{
    if (!branches_current(vcpu))
        return false;
    const struct hist *h = br.cur[vcpu];
    out->slot = (unsigned)(h - br.hist);
    out->gen = __atomic_load_n(&h->gen, __ATOMIC_RELAXED);
    out->total = __atomic_load_n(&h->total, __ATOMIC_RELAXED);
    return true;
}

unsigned branches_copy(unsigned vcpu, struct vigil_branch *out, unsigned want)
{
    if (!branches_current(vcpu))
        return 0;
    const struct hist *h = br.cur[vcpu];
    const struct vigil_branch *r = br.ring + (size_t)(h - br.hist) * br.n;
    /* Read once: a takeover by another vCPU may change them (hist_of()). */
    unsigned count = __atomic_load_n(&h->count, __ATOMIC_RELAXED);
    unsigned head = __atomic_load_n(&h->head, __ATOMIC_RELAXED);
    if (count > br.n)
        count = br.n;
    if (count > want)
        count = want;
    if (head >= br.n)
        head = 0;
    /* Oldest first: the entries from head to the end of the slots (written
     * before those from the start), then those before head. Two copies, no
     * division per entry (N is not a constant): this runs at every call. */
    unsigned older = count > head ? count - head : 0;
    memcpy(out, r + br.n - older, older * sizeof *out);
    memcpy(out + older, r + head - (count - older),
           (count - older) * sizeof *out);
    return count;
}
