/* Sets of system call numbers of one ABI, tested on vCPU threads with one
 * bit read: which calls start a new identity epoch (ident.c), change an
 * address space (vma.c) or make remembered stack verdicts stale
 * (callers.c). Filled at setup, read-only afterwards. */
#ifndef VIGIL_PLUGIN_NRSET_H
#define VIGIL_PLUGIN_NRSET_H

#include <stdbool.h>
#include <stdint.h>

#include "vigil/syscalls.h"

typedef uint8_t nrset[(VSYS_NR_MAX + 8) / 8];

static inline bool nrset_has(const nrset set, uint64_t nr)
{
    return nr <= VSYS_NR_MAX && (set[nr / 8] >> (nr % 8)) & 1;
}

/* Adds the call @name of the 64-bit or i386 (@compat) ABI; a name the ABI
 * does not have adds nothing. */
static inline void nrset_add(nrset set, const char *name, bool compat)
{
    int nr = compat ? vsys_number_compat(name) : vsys_number(name);
    if (nr >= 0 && nr <= VSYS_NR_MAX)
        set[nr / 8] |= (uint8_t)(1u << (nr % 8));
}

#endif
