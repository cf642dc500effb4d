/* The executable mappings of every traced thread group, as the plugin last
 * read them from the guest kernel (VRAW_VMAS records, plugin/vma.c): what
 * a code address is attributed to (docs/callers.md). Opaque; one owner
 * (the consumer), not thread-safe. */
#ifndef VIGIL_TRACE_VMMAP_H
#define VIGIL_TRACE_VMMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "vigil/rawrec.h"

struct vmmap;

struct vmmap_region {
    uint64_t start, end; /* [start, end) */
    uint64_t pgoff;      /* file offset of start, in 4 KiB pages */
    uint32_t flags;      /* VRAW_VMA_* */
    /* The file's path, or "[anon]", "[vdso]", "[stack]"; owned by the map,
     * valid until the group's map is replaced or dropped. */
    const char *name;
    bool anon;
    bool wrapper; /* libc, ld.so or the vDSO: a system call wrapper's code */
};

int vmmap_new(struct vmmap **out);
void vmmap_free(struct vmmap *m);

/* Replace the map of the record's thread group. The record is checked
 * against its own size. Return: 0, -EINVAL (malformed: nothing changed),
 * -ENOMEM (the group's map is dropped). */
int vmmap_apply(struct vmmap *m, const struct vraw_vmas *r);

/* The group ended (exit_group): its map goes. */
void vmmap_drop(struct vmmap *m, int32_t tgid);

/* The region of @tgid's map holding @addr; NULL if none or no map. */
const struct vmmap_region *vmmap_find(const struct vmmap *m, int32_t tgid,
                                      uint64_t addr);

/* Whether @tgid has a map, and whether it is partial (VRAW_VMAS_*). */
bool vmmap_known(const struct vmmap *m, int32_t tgid, uint32_t *flags);

/* The group whose map was read from mm_struct @mm (the plugin's
 * vraw_vmas.mm); 0 if none. Looks at every map: for rare calls only. */
int32_t vmmap_owner(const struct vmmap *m, uint64_t mm);

/* Counts the changes to @m (any group's map): what was found in it stays
 * true while this stays the same. */
uint64_t vmmap_gen(const struct vmmap *m);

#endif
