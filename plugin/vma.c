/* A process's executable mappings, from the guest kernel's own memory map:
 * mm_struct.mm_mt, a maple tree (Linux 6.1 on) whose leaves hold the
 * vm_area_structs. The layouts come from the profile (ring.h, struct
 * vring_vma_config); the tree's encoding is the kernel's: a node pointer
 * carries its type in bits 3-6 and its 256-byte-aligned address above;
 * the root pointer is marked with bit 1. Leaf slot i covers the addresses
 * from the previous pivot + 1 up to pivot i (the node's maximum for the last
 * slot); a zero pivot past the first slot ends the node.
 *
 * The tree is read while other vCPUs may change it, and its memory is the
 * guest's: every read is bounded and may fail, every node and mapping is
 * checked against what its parent said (range, owner, order), and what
 * does not fit is left out with the record marked partial. Never a loop
 * without a bound, never a crash.
 */
#include <string.h>

#include "nrset.h"
#include "vigil/rawrec.h"
#include "vigil/syscalls.h"
#include "vma.h"

/* The kernel's trees stay under 31 levels, an mm's under 5 in practice. */
#define MAX_DEPTH    16
#define MAX_NODES    1024   /* nodes read per walk */
#define MAX_VMAS     8192   /* mappings looked at per walk */
#define MAX_ROOM     65528u /* a record's size is 16 bits */
#define PATH_MAX_LEN 1024u
#define PATH_DEPTH   32 /* directory levels followed up from a file */
#define SEEN_SLOTS   4096

/* The kernel's encoding (include/linux/maple_tree.h) and vm_flags. */
#define NODE_MASK  255ull
#define TYPE_SHIFT 3
#define TYPE_MASK  15
enum { MT_DENSE = 0, MT_LEAF64 = 1, MT_RANGE64 = 2, MT_ARANGE64 = 3 };
#define VM_READ   0x1ull
#define VM_WRITE  0x2ull
#define VM_EXEC   0x4ull
#define VM_SHARED 0x8ull

static struct {
    bool on;
    struct vring_vma_config c;
    uint32_t vma_lo, vma_len; /* one read covers the members used */
    nrset changes[2];
    int nr_execve[2], nr_execveat[2];
    /* Address spaces already sent, by thread group: a hint, so racy
     * updates only cost a second walk. */
    struct {
        int32_t tgid;
        uint64_t mm;
    } seen[SEEN_SLOTS];
} vmas;

struct walk {
    struct vcpu *v;
    uint64_t mm;
    uint8_t *at, *end; /* where the next entry goes */
    uint32_t n, flags;
    unsigned nodes, looked;
    uint64_t last_end;  /* mappings come in address order */
    uint64_t last_file; /* its path was just sent */
};

static bool rd(struct vcpu *v, uint64_t va, void *dst, size_t len)
{
    return va >= KERNEL_BOTTOM && va + len > va && mem(v, va, dst, len);
}

/* The file's path, built from its dentry up to the root of its mount
 * (mount points are not crossed: a file under a mount shows the path
 * inside that mount). A file whose dentry is its own parent belongs to no
 * directory (the kernel's pseudo files: SysV shared memory "SYSV<key>",
 * memfd "memfd:NAME"): its name alone, after a '/', as /proc/PID/maps
 * shows it. Returns the length written at @out (no NUL). */
static uint32_t file_path(struct vcpu *v, uint64_t file, char *out,
                          uint32_t room, bool *part)
{
    const struct vring_vma_config *c = &vmas.c;
    char tmp[PATH_MAX_LEN];
    uint32_t pos = sizeof tmp;
    uint64_t d = 0;
    *part = true;
    if (!rd(v, file + c->file_dentry, &d, 8))
        return 0;
    int depth = 0;
    for (; depth < PATH_DEPTH; depth++) {
        uint64_t parent = 0, name = 0;
        uint32_t len = 0;
        if (!rd(v, d + c->d_parent, &parent, 8))
            return 0;
        if (parent == d && depth > 0)
            break; /* the root of the mount */
        if (!rd(v, d + c->d_len, &len, 4) || !rd(v, d + c->d_name, &name, 8) ||
            len == 0 || len > 255 || len + 1 > pos)
            return 0;
        pos -= len;
        if (!rd(v, name, tmp + pos, len))
            return 0;
        tmp[--pos] = '/';
        if (parent == d) { /* a file of its own (SysV shm, memfd): "/NAME" */
            depth++;
            break;
        }
        d = parent;
    }
    uint32_t n = (uint32_t)sizeof tmp - pos;
    *part = depth == PATH_DEPTH || n > room;
    if (n > room)
        n = room;
    memcpy(out, tmp + pos, n);
    return n;
}

/* One mapping the tree says covers [lo, hi]. */
static void vma(struct walk *w, uint64_t p, uint64_t lo, uint64_t hi)
{
    const struct vring_vma_config *c = &vmas.c;
    uint8_t b[512];
    uint64_t start, end, flags, pgoff, file, mm, anon = 0;
    if (p < KERNEL_BOTTOM)
        return; /* the kernel's reserved entries, not mappings */
    if (++w->looked > MAX_VMAS) {
        w->flags |= VRAW_VMAS_PARTIAL;
        return;
    }
    if ((p & 7) != 0 || !rd(w->v, p + vmas.vma_lo, b, vmas.vma_len)) {
        w->flags |= VRAW_VMAS_PARTIAL;
        return;
    }
    memcpy(&start, b + c->vm_start - vmas.vma_lo, 8);
    memcpy(&end, b + c->vm_end - vmas.vma_lo, 8);
    memcpy(&flags, b + c->vm_flags - vmas.vma_lo, 8);
    memcpy(&pgoff, b + c->vm_pgoff - vmas.vma_lo, 8);
    memcpy(&file, b + c->vm_file - vmas.vma_lo, 8);
    memcpy(&mm, b + c->vm_mm - vmas.vma_lo, 8);
    if (c->vm_anon_vma != 0)
        memcpy(&anon, b + c->vm_anon_vma - vmas.vma_lo, 8);
    /* A mapping being changed, or not one of this process's. */
    if (mm != w->mm || start != lo || end - 1 != hi || end <= start ||
        start < w->last_end) {
        w->flags |= VRAW_VMAS_PARTIAL;
        return;
    }
    w->last_end = end;
    if (!(flags & VM_EXEC))
        return;
    struct vraw_vma *e = (struct vraw_vma *)w->at;
    if ((size_t)(w->end - w->at) < sizeof *e) {
        w->flags |= VRAW_VMAS_TRUNC;
        return;
    }
    e->start = start;
    e->end = end;
    e->pgoff = pgoff;
    e->file = file;
    e->flags = (uint32_t)(flags & (VM_READ | VM_WRITE | VM_EXEC | VM_SHARED));
    if (file != 0 && anon != 0)
        e->flags |= VRAW_VMA_ANON_PAGES;
    e->path_len = 0;
    e->reserved = 0;
    uint32_t room = (uint32_t)(w->end - w->at - sizeof *e);
    if (file != 0 && file != w->last_file) {
        bool part;
        uint32_t n =
            file_path(w->v, file, (char *)(e + 1),
                      room < PATH_MAX_LEN ? room : PATH_MAX_LEN, &part);
        if (part)
            e->flags |= VRAW_VMA_PATH_PART;
        e->path_len = (uint16_t)n;
        memset((char *)(e + 1) + n, 0, VRAW_ALIGN(n) - n);
        w->last_file = file;
    }
    w->at += sizeof *e + VRAW_ALIGN(e->path_len);
    w->n++;
}

/* The node @enode covering [min, max]. */
static void node(struct walk *w, uint64_t enode, uint64_t min, uint64_t max,
                 int depth)
{
    const struct vring_vma_config *c = &vmas.c;
    uint64_t b[1024 / 8];
    unsigned type = (unsigned)(enode >> TYPE_SHIFT) & TYPE_MASK;
    uint64_t addr = enode & ~NODE_MASK;
    if (depth > MAX_DEPTH || ++w->nodes > MAX_NODES ||
        (type != MT_LEAF64 && type != MT_RANGE64 && type != MT_ARANGE64) ||
        !rd(w->v, addr, b, c->node_size)) {
        w->flags |= VRAW_VMAS_PARTIAL;
        return;
    }
    bool a = type == MT_ARANGE64;
    unsigned nslots = a ? c->a64_slots : c->r64_slots;
    const uint64_t *pivot = b + (a ? c->a64_pivot : c->r64_pivot) / 8;
    const uint64_t *slot = b + (a ? c->a64_slot : c->r64_slot) / 8;
    uint64_t lo = min;
    for (unsigned i = 0; i < nslots; i++) {
        uint64_t hi = i + 1 < nslots ? pivot[i] : max;
        if (i > 0 && hi == 0)
            break; /* the node ends */
        if (hi < lo || hi > max) {
            w->flags |= VRAW_VMAS_PARTIAL;
            return;
        }
        if (slot[i] != 0) {
            if (type == MT_LEAF64)
                vma(w, slot[i], lo, hi);
            else
                node(w, slot[i], lo, hi, depth + 1);
        }
        if (hi >= max)
            break;
        lo = hi + 1;
    }
}

static void send(struct vring_map *ring, unsigned vcpu, struct vcpu *v,
                 const struct vraw_task *t, uint64_t mm)
{
    const struct vring_vma_config *c = &vmas.c;
    uint64_t root = 0;
    if (!rd(v, mm + c->mm_root, &root, 8))
        return;
    struct vraw_vmas *r = vring_reserve(ring, vcpu, MAX_ROOM);
    if (r == NULL)
        return; /* counted by the ring */
    memset(r, 0, sizeof *r);
    r->h.type = VRAW_VMAS;
    r->h.vcpu = (uint16_t)vcpu;
    r->tgid = t->tgid;
    r->tid = t->tid;
    r->mm = mm;
    rd(v, mm + c->mm_start_stack, &r->start_stack, 8);
    if (c->mm_vdso != 0)
        rd(v, mm + c->mm_vdso, &r->vdso, 8);
    struct walk w = {.v = v,
                     .mm = mm,
                     .at = (uint8_t *)(r + 1),
                     .end = (uint8_t *)r + MAX_ROOM,
                     .n = 0,
                     .flags = 0,
                     .nodes = 0,
                     .looked = 0,
                     .last_end = 0,
                     .last_file = 0};
    if ((root & 3) == 2 && root > 4096)
        node(&w, root & ~2ull, 0, ~0ull, 0);
    else if (root != 0)
        w.flags |= VRAW_VMAS_PARTIAL; /* a lone entry: never an mm's */
    r->nvmas = w.n;
    r->flags = w.flags;
    r->h.size = (uint16_t)(w.at - (uint8_t *)r);
    r->h.ts_ns = stamp_now(&v->clk);
    vring_commit(ring, vcpu, r->h.size);
}

/* The thread's address space; 0 for a kernel thread or on failure. */
static uint64_t task_mm(struct vcpu *v, const struct vraw_task *t)
{
    uint64_t mm = 0;
    if (t->task == 0 || !rd(v, t->task + vmas.c.task_mm, &mm, 8) ||
        mm < KERNEL_BOTTOM)
        return 0;
    return mm;
}

static unsigned seen_slot(int32_t tgid)
{
    return ((uint32_t)tgid * 2654435761u) % SEEN_SLOTS;
}

static void send_and_remember(struct vring_map *ring, unsigned vcpu,
                              struct vcpu *v, const struct vraw_task *t,
                              uint64_t mm)
{
    unsigned s = seen_slot(t->tgid);
    __atomic_store_n(&vmas.seen[s].tgid, t->tgid, __ATOMIC_RELAXED);
    __atomic_store_n(&vmas.seen[s].mm, mm, __ATOMIC_RELAXED);
    send(ring, vcpu, v, t, mm);
}

/* task->mm of the running thread, kept in its identity cache entry (a
 * user thread's mm changes only at execve, which renews the entry), so
 * that a call whose map was sent costs no guest memory read. */
static uint64_t task_mm_cached(struct vcpu *v, const struct vraw_task *t)
{
    struct ident *c = v->cur;
    if (c == NULL || c->t.task != t->task || c->t.tid != t->tid)
        return task_mm(v, t);
    if (c->mm == 0)
        c->mm = task_mm(v, t);
    return c->mm;
}

void vma_on_entry(struct vring_map *ring, unsigned vcpu, struct vcpu *v,
                  const struct vraw_task *t)
{
    if (!vmas.on)
        return;
    uint64_t mm = task_mm_cached(v, t);
    unsigned s = seen_slot(t->tgid);
    if (mm == 0 ||
        (__atomic_load_n(&vmas.seen[s].tgid, __ATOMIC_RELAXED) == t->tgid &&
         __atomic_load_n(&vmas.seen[s].mm, __ATOMIC_RELAXED) == mm))
        return;
    send_and_remember(ring, vcpu, v, t, mm);
}

void vma_on_return(struct vring_map *ring, unsigned vcpu, struct vcpu *v,
                   const struct vraw_task *t, uint64_t nr, bool compat,
                   int64_t ret)
{
    if (!vmas.on || !nrset_has(vmas.changes[compat], nr))
        return;
    bool exec = (int64_t)nr == vmas.nr_execve[compat] ||
                (int64_t)nr == vmas.nr_execveat[compat];
    /* Failed calls change nothing; mmap's addresses are not errors. */
    if (exec ? ret != 0 : (ret < 0 && ret >= -4095))
        return;
    uint64_t mm = task_mm(v, t);
    if (mm != 0)
        send_and_remember(ring, vcpu, v, t, mm);
}

void vma_setup(const struct vring_config *cfg, bool on)
{
    const struct vring_vma_config *c = &cfg->vma;
    memset(&vmas, 0, sizeof vmas);
    vmas.c = *c;
    uint16_t offs[] = {c->vm_start, c->vm_end, c->vm_flags,   c->vm_pgoff,
                       c->vm_file,  c->vm_mm,  c->vm_anon_vma};
    size_t noffs = sizeof offs / sizeof *offs - (c->vm_anon_vma == 0);
    uint32_t lo = offs[0], hi = offs[0] + 8u;
    for (size_t i = 1; i < noffs; i++) {
        if (offs[i] < lo)
            lo = offs[i];
        if (offs[i] + 8u > hi)
            hi = offs[i] + 8u;
    }
    vmas.vma_lo = lo;
    vmas.vma_len = hi - lo;
    /* ring.c's reader checked nothing of this: the header is vigil's, but
     * a bad one must not make the plugin read past its buffers. */
    if (!on || c->task_mm == 0 || c->node_size == 0 || c->node_size > 1024 ||
        (c->node_size & 7) || vmas.vma_len > 512 || c->r64_slots == 0 ||
        c->a64_slots == 0 ||
        c->r64_pivot + (c->r64_slots - 1u) * 8u > c->node_size ||
        c->r64_slot + c->r64_slots * 8u > c->node_size ||
        c->a64_pivot + (c->a64_slots - 1u) * 8u > c->node_size ||
        c->a64_slot + c->a64_slots * 8u > c->node_size ||
        ((c->r64_pivot | c->r64_slot | c->a64_pivot | c->a64_slot) & 7))
        return;
    static const char *const calls[] = {
        "execve",        "execveat", "mmap",   "mmap2",
        "munmap",        "mprotect", "mremap", "brk",
        "pkey_mprotect", "shmat",    "shmdt",  "remap_file_pages",
    };
    for (int compat = 0; compat < 2; compat++) {
        for (size_t i = 0; i < sizeof calls / sizeof *calls; i++)
            nrset_add(vmas.changes[compat], calls[i], compat);
        vmas.nr_execve[compat] =
            compat ? vsys_number_compat("execve") : vsys_number("execve");
        vmas.nr_execveat[compat] =
            compat ? vsys_number_compat("execveat") : vsys_number("execveat");
    }
    vmas.on = true;
}
