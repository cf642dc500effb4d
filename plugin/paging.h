/* x86-64 paging as the MMU does it, for the plugin's own page-table
 * walks: guestmem.c (writes into a process, through QEMU, with rights) and
 * xlate.c (the stack walk's reads, straight from RAM). 4- or 5-level
 * paging; 4 KiB, 2 MiB and 1 GiB pages. */
#ifndef VIGIL_PLUGIN_PAGING_H
#define VIGIL_PLUGIN_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu.h"

#define PTE_P    (1ull << 0)
#define PTE_W    (1ull << 1)
#define PTE_U    (1ull << 2)
#define PTE_A    (1ull << 5)
#define PTE_D    (1ull << 6)
#define PTE_PS   (1ull << 7)
#define PTE_NX   (1ull << 63)
#define PHYS     0x000ffffffffff000ull
#define CR4_LA57 (1ull << 12)

/* The levels of paging on @v: 5 with CR4.LA57, else (or without cr4) 4. */
static inline int paging_levels(struct vcpu *v)
{
    return v->reg[R_CR4] != NULL && (reg(v, R_CR4) & CR4_LA57) ? 5 : 4;
}

/* Whether @va is a user address under @levels of paging. */
static inline bool paging_user(uint64_t va, int levels)
{
    return va >> (levels == 5 ? 56 : 47) == 0;
}

static inline unsigned paging_shift(int level)
{
    return 12 + 9 * (unsigned)(level - 1);
}

/* Where the entry for @va lies in the @level table at @table. */
static inline uint64_t paging_entry(uint64_t table, uint64_t va, int level)
{
    return (table & PHYS) + ((va >> paging_shift(level)) & 511) * 8;
}

/* Whether entry @e of a @level table maps a page (else it names the next
 * table). */
static inline bool paging_leaf(uint64_t e, int level)
{
    return level == 1 || ((level == 2 || level == 3) && (e & PTE_PS));
}

/* @va's physical address through the leaf entry @e of a @level table. */
static inline uint64_t paging_phys(uint64_t e, uint64_t va, int level)
{
    uint64_t mask = (1ull << paging_shift(level)) - 1;
    return ((e & PHYS) & ~mask) | (va & mask);
}

#endif
