/* Remembered guest translations (see xlate.h).
 *
 * Why a remembered translation is safe to read through until the next
 * flush: the read happens in a callback of the vCPU running the thread, in
 * its address space. For the guest kernel to give a page of that address
 * space another use (unmap, migrate, copy on write, swap out), it must
 * first remove the mapping and then invalidate every TLB that may hold it,
 * with one of the instructions xlate_is_flush() recognises, on this vCPU or
 * (a shootdown) on the vCPU that runs the address space; a vCPU that ran
 * another address space meanwhile wrote cr3 to come back. Any of those
 * executed anywhere forgets every translation. In between, the guest's own
 * loads may still use the old translation, and so does this read. */
#include "xlate.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paging.h"
#include "vigil/ring.h"

#define SLOTS 16 /* per vCPU, direct-mapped by page */

/* Keyed by cr3 too, though every write to it starts a new epoch: a load
 * of cr3 that is no instruction seen at translation (a task switch, RSM)
 * still cannot mix two address spaces. */
struct slot {
    uint64_t cr3, page, phys, epoch; /* epoch 0: empty */
};
/* Per vCPU, on cache lines of its own: the counts are written at every
 * walk. */
struct vx {
    _Alignas(64) struct slot slots[SLOTS];
    uint64_t direct, copied;  /* pages read straight from RAM, via QEMU */
    uint64_t walked, missing; /* translations from RAM: found, not mapped */
    int levels;               /* of paging: 4 or 5; 0 not known yet */
};
static struct vx vx[VRING_MAX_VCPUS];
static uint64_t epoch = 1;

/* The guest's RAM as QEMU's pc machine lays it out: guest physical
 * address x is offset x of the RAM below 4 GiB, which is all of it up to
 * 3 GiB. Below 1 MiB, ROM and device windows overlay it: read through
 * QEMU there. */
#define RAM_DIRECT_MAX (3ull << 30)
#define RAM_DIRECT_MIN (1ull << 20)
static struct {
    const uint8_t *base;
    uint64_t size;
} ram;

bool xlate_map_ram(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return false;
    void *p = MAP_FAILED;
    if (fstat(fd, &st) == 0 && st.st_size > 0 &&
        (uint64_t)st.st_size <= RAM_DIRECT_MAX)
        p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return false;
    ram.base = p;
    ram.size = (uint64_t)st.st_size;
    return true;
}

/* The page table entry at guest physical @pa, when it lies in the RAM
 * mapped. */
static bool ram_entry(uint64_t pa, uint64_t *e)
{
    if (pa < RAM_DIRECT_MIN || pa + 8 > ram.size)
        return false;
    *e = __atomic_load_n((const uint64_t *)(ram.base + pa), __ATOMIC_RELAXED);
    return true;
}

/* @va's guest physical address, read from the guest's page tables where
 * they lie in RAM, as the MMU reads them (present bits only: what QEMU's
 * own translation for a debugger checks). 1: mapped, at *@pa; 0: not
 * mapped; -1: a table outside the RAM mapped (ask QEMU). Why not QEMU's
 * translation: a page that is not mapped cannot be remembered (the guest
 * maps a page without flushing any TLB), and a stack walk runs past the
 * top of the stack at most calls: QEMU took about 800 cycles to say so,
 * call after call. */
static int walk_ram(struct vcpu *v, unsigned vcpu, uint64_t va, uint64_t *pa)
{
    struct vx *x = &vx[vcpu];
    if (x->levels == 0) /* CR4.LA57 cannot change while paging is on */
        x->levels = paging_levels(v);
    if (!paging_user(va, x->levels))
        return 0;
    uint64_t table = v->cr3;
    for (int level = x->levels; level >= 1; level--) {
        uint64_t e;
        if (!ram_entry(paging_entry(table, va, level), &e))
            return -1;
        if (!(e & PTE_P)) {
            x->missing++;
            return 0;
        }
        if (paging_leaf(e, level)) {
            *pa = paging_phys(e, va, level);
            x->walked++;
            return 1;
        }
        table = e;
    }
    return -1;
}

void xlate_flush(void)
{
    __atomic_fetch_add(&epoch, 1, __ATOMIC_RELEASE);
}

bool xlate_is_flush(const uint8_t *b, size_t n)
{
    size_t i = 0;
    bool opsize = i < n && b[i] == 0x66;
    if (opsize)
        i++;
    uint8_t rex = i < n && (b[i] & 0xf0) == 0x40 ? b[i++] : 0;
    if (n - i < 3 || b[i] != 0x0f)
        return false;
    uint8_t op = b[i + 1], m = b[i + 2], r = (m >> 3) & 7;
    if (op == 0x01) /* invlpg m; invlpga; invlpgb; tlbsync */
        return ((m & 0xc0) != 0xc0 && r == 7) || m == 0xdf || m == 0xfe ||
               m == 0xff;
    if (op == 0x22) /* mov to cr0, cr3, cr4 (rex.r: cr8 and up) */
        return !(rex & 4) && (r == 0 || r == 3 || r == 4);
    if (op == 0x38) /* invpcid: 66 0f 38 82 /r */
        return opsize && n - i >= 4 && b[i + 2] == 0x82;
    return false;
}

const void *xlate_peek(struct vcpu *v, unsigned vcpu, uint64_t va, size_t len)
{
    uint64_t page = va & ~(PAGE - 1), now;
    if (len == 0 || len > PAGE - (va - page))
        return NULL;
    struct slot *s = &vx[vcpu].slots[(page >> 12) & (SLOTS - 1)];
    now = __atomic_load_n(&epoch, __ATOMIC_ACQUIRE);
    if (s->epoch != now || s->page != page || s->cr3 != v->cr3) {
        uint64_t phys;
        int found = ram.base != NULL ? walk_ram(v, vcpu, page, &phys) : -1;
        if (found == 0 ||
            (found < 0 && !qemu_plugin_translate_vaddr(page, &phys)))
            return NULL;
        *s = (struct slot){
            .cr3 = v->cr3, .page = page, .phys = phys, .epoch = now};
    }
    uint64_t pa = s->phys + (va - page);
    if (ram.base != NULL && pa >= RAM_DIRECT_MIN && pa + len <= ram.size) {
        vx[vcpu].direct++;
        return ram.base + pa;
    }
    vx[vcpu].copied++;
    if (qemu_plugin_read_memory_hwaddr(pa, v->buf, len) !=
            QEMU_PLUGIN_HWADDR_OPERATION_OK ||
        v->buf->len < len) {
        s->epoch = 0;
        return NULL;
    }
    return v->buf->data;
}

void xlate_counts(struct xlate_counts *c)
{
    *c = (struct xlate_counts){0};
    for (unsigned i = 0; i < VRING_MAX_VCPUS; i++) {
        c->from_ram += __atomic_load_n(&vx[i].direct, __ATOMIC_RELAXED);
        c->through_qemu += __atomic_load_n(&vx[i].copied, __ATOMIC_RELAXED);
        c->walked += __atomic_load_n(&vx[i].walked, __ATOMIC_RELAXED);
        c->missing += __atomic_load_n(&vx[i].missing, __ATOMIC_RELAXED);
    }
}
