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
    uint64_t direct, copied; /* pages read straight from RAM, via QEMU */
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
        if (!qemu_plugin_translate_vaddr(page, &phys))
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

void xlate_counts(uint64_t *from_ram, uint64_t *through_qemu)
{
    *from_ram = *through_qemu = 0;
    for (unsigned i = 0; i < VRING_MAX_VCPUS; i++) {
        *from_ram += __atomic_load_n(&vx[i].direct, __ATOMIC_RELAXED);
        *through_qemu += __atomic_load_n(&vx[i].copied, __ATOMIC_RELAXED);
    }
}
