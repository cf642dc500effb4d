/* The consumer's memory maps (lib/trace/vmmap.c), from synthetic
 * VRAW_VMAS records: what the plugin would send, including malformed
 * records. */
#undef NDEBUG
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace/vmmap.h"

#include "check.h"
#include "vmrec.h"

static void test_maps(void)
{
    struct vmmap *m;
    struct rec r;
    CHECK(vmmap_new(&m) == 0, "vmmap_new");
    proc_map(&r, 100);
    CHECK(vmmap_apply(m, (struct vraw_vmas *)r.b) == 0, "a map is applied");
    const struct vmmap_region *g = vmmap_find(m, 100, 0x7f0000001234);
    CHECK(g != NULL && !strcmp(g->name, LIBC) && g->pgoff == 0x28,
          "an address in libc's text is libc's");
    g = vmmap_find(m, 100, 0x7f0000303010);
    CHECK(g != NULL && !strcmp(g->name, LIBX),
          "a second mapping of a file takes the path sent with the first");
    g = vmmap_find(m, 100, 0x7f0000200010);
    CHECK(g != NULL && g->anon && !strcmp(g->name, "[anon]"),
          "anonymous code is [anon]");
    g = vmmap_find(m, 100, 0x7ffff7fc0100);
    CHECK(g != NULL && !strcmp(g->name, "[vdso]"), "the vDSO is [vdso]");
    CHECK(vmmap_find(m, 100, 0x402000) == NULL &&
              vmmap_find(m, 100, 0x400fff) == NULL,
          "ends are exclusive, starts inclusive");
    CHECK(vmmap_find(m, 101, 0x401000) == NULL, "another group has no map");

    /* A new record replaces the map. */
    rec_start(&r, 100);
    rec_add(&r, 0x500000, 0x501000, 0, 0xf9, RX, "/bin/new");
    CHECK(vmmap_apply(m, (struct vraw_vmas *)r.b) == 0 &&
              vmmap_find(m, 100, 0x401000) == NULL &&
              vmmap_find(m, 100, 0x500000) != NULL,
          "a new map replaces the old (execve, munmap)");

    /* Malformed records change nothing. */
    struct rec bad;
    proc_map(&bad, 100);
    ((struct vraw_vmas *)bad.b)->nvmas += 1; /* one more than there is */
    CHECK(vmmap_apply(m, (struct vraw_vmas *)bad.b) == -EINVAL &&
              vmmap_find(m, 100, 0x500000) != NULL,
          "a count past the record's end is refused, the old map stays");
    proc_map(&bad, 100);
    struct vraw_vma *e = (struct vraw_vma *)(bad.b + sizeof(struct vraw_vmas));
    e->path_len = 60000;
    CHECK(vmmap_apply(m, (struct vraw_vmas *)bad.b) == -EINVAL,
          "a path longer than the record is refused");
    proc_map(&bad, 100);
    e->start = 0x7fffffff0000; /* out of order */
    CHECK(vmmap_apply(m, (struct vraw_vmas *)bad.b) == -EINVAL,
          "regions out of order are refused");
    proc_map(&bad, 100);
    ((struct vraw_vmas *)bad.b)->flags = VRAW_VMAS_PARTIAL;
    uint32_t flags = 0;
    CHECK(vmmap_apply(m, (struct vraw_vmas *)bad.b) == 0 &&
              vmmap_known(m, 100, &flags) && flags == VRAW_VMAS_PARTIAL,
          "a partial map is kept and said to be partial");
    vmmap_drop(m, 100);
    CHECK(!vmmap_known(m, 100, NULL), "exit_group drops the map");
    vmmap_free(m);
}

int main(void)
{
    test_maps();
    return failures != 0;
}
