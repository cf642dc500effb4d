/* Guest page tables, walked as the MMU walks them for a user-mode access
 * (see guestmem.h). x86-64, 4- or 5-level paging, 4 KiB, 2 MiB and 1 GiB
 * pages.
 *
 * Why writing the physical pages found here is safe while other vCPUs run:
 * the walk and the writes happen inside one callback of the vCPU that runs
 * the calling thread, so that vCPU is in the address space's CPU mask and
 * has not acknowledged any TLB shootdown since the walk; the guest kernel
 * frees neither a page nor a page table until every such CPU has. That is
 * the guarantee a real store through the TLB has.
 */
#include "guestmem.h"

#include <string.h>

#include "paging.h"

enum walk { WALK_OK, WALK_FAULT_IN, WALK_EFAULT };
enum need { NEED_READ, NEED_WRITE, NEED_WRITE_FAULTED, NEED_EXEC };

static bool phys_read8(struct vcpu *v, uint64_t pa, uint64_t *out)
{
    if (qemu_plugin_read_memory_hwaddr(pa, v->buf, 8) !=
            QEMU_PLUGIN_HWADDR_OPERATION_OK ||
        v->buf->len < 8)
        return false;
    memcpy(out, v->buf->data, 8);
    return true;
}

/* The physical address of @va for a user-mode access of kind @need. */
static enum walk walk(struct vcpu *v, uint64_t va, enum need need, uint64_t *pa)
{
    int levels = paging_levels(v);
    if (!paging_user(va, levels))
        return WALK_EFAULT; /* the kernel half, or not canonical */
    uint64_t table = reg(v, R_CR3);
    for (int level = levels; level >= 1; level--) {
        uint64_t e;
        if (!phys_read8(v, paging_entry(table, va, level), &e))
            return WALK_EFAULT;
        if (!(e & PTE_P) || !(e & PTE_U))
            return WALK_FAULT_IN;
        if (need == NEED_EXEC   ? (e & PTE_NX) != 0
            : need == NEED_READ ? false
                                : !(e & PTE_W))
            return WALK_FAULT_IN;
        if (!paging_leaf(e, level)) {
            table = e;
            continue;
        }
        /* A clean page: the kernel would not know it was written (a
         * MADV_FREE page is dropped when clean). */
        if (need == NEED_WRITE && (e & (PTE_A | PTE_D)) != (PTE_A | PTE_D))
            return WALK_FAULT_IN;
        *pa = paging_phys(e, va, level);
        return WALK_OK;
    }
    return WALK_EFAULT;
}

enum gm_result gm_write(struct vcpu *v, uint64_t va, const void *data,
                        uint32_t len, bool faulted_in)
{
    if (len == 0)
        return GM_OK;
    if (len > GM_WRITE_MAX || va + len < va)
        return GM_EFAULT;
    enum need need = faulted_in ? NEED_WRITE_FAULTED : NEED_WRITE;
    /* Every page first, so that nothing is written unless all can be. */
    bool fault_in = false;
    uint64_t pa;
    for (uint64_t p = va & ~(PAGE - 1); p < va + len; p += PAGE) {
        enum walk w = walk(v, p < va ? va : p, need, &pa);
        if (w == WALK_EFAULT)
            return GM_EFAULT;
        fault_in |= w == WALK_FAULT_IN;
    }
    if (fault_in)
        return GM_FAULT_IN;
    const uint8_t *src = data;
    for (uint32_t done = 0; done < len;) {
        uint64_t a = va + done;
        uint32_t chunk = (uint32_t)(PAGE - (a & (PAGE - 1)));
        if (chunk > len - done)
            chunk = len - done;
        if (walk(v, a, need, &pa) != WALK_OK)
            return GM_EFAULT; /* cannot happen within one callback */
        g_byte_array_set_size(v->buf, 0);
        g_byte_array_append(v->buf, src + done, chunk);
        if (qemu_plugin_write_memory_hwaddr(pa, v->buf) !=
            QEMU_PLUGIN_HWADDR_OPERATION_OK)
            return GM_EFAULT;
        done += chunk;
    }
    return GM_OK;
}

enum gm_result gm_check(struct vcpu *v, uint64_t va, uint32_t len, bool write)
{
    if (len == 0)
        return GM_OK;
    if (len > GM_WRITE_MAX || va + len < va)
        return GM_EFAULT;
    bool fault_in = false;
    uint64_t pa;
    for (uint64_t p = va & ~(PAGE - 1); p < va + len; p += PAGE) {
        enum walk w =
            walk(v, p < va ? va : p, write ? NEED_WRITE : NEED_READ, &pa);
        if (w == WALK_EFAULT)
            return GM_EFAULT;
        fault_in |= w == WALK_FAULT_IN;
    }
    return fault_in ? GM_FAULT_IN : GM_OK;
}

enum gm_result gm_read(struct vcpu *v, uint64_t va, void *dst, uint32_t len)
{
    if (len > GM_WRITE_MAX || va + len < va)
        return GM_EFAULT;
    uint8_t *out = dst;
    for (uint32_t done = 0; done < len;) {
        uint64_t a = va + done, pa;
        uint32_t chunk = (uint32_t)(PAGE - (a & (PAGE - 1)));
        if (chunk > len - done)
            chunk = len - done;
        enum walk w = walk(v, a, NEED_READ, &pa);
        if (w != WALK_OK)
            return w == WALK_FAULT_IN ? GM_FAULT_IN : GM_EFAULT;
        if (qemu_plugin_read_memory_hwaddr(pa, v->buf, chunk) !=
                QEMU_PLUGIN_HWADDR_OPERATION_OK ||
            v->buf->len < chunk)
            return GM_EFAULT;
        memcpy(out + done, v->buf->data, chunk);
        done += chunk;
    }
    return GM_OK;
}

bool gm_read_exec(struct vcpu *v, uint64_t va, uint8_t out[2])
{
    uint64_t pa;
    for (int i = 0; i < 2; i++) {
        if (walk(v, va + (uint64_t)i, NEED_EXEC, &pa) != WALK_OK ||
            qemu_plugin_read_memory_hwaddr(pa, v->buf, 1) !=
                QEMU_PLUGIN_HWADDR_OPERATION_OK ||
            v->buf->len < 1)
            return false;
        out[i] = v->buf->data[0];
    }
    return true;
}
