/* Synthetic VRAW_VMAS records (what the plugin sends with --callers) for
 * the unit tests of the consumer's memory maps and origin verdict. */
#ifndef VIGIL_TESTS_VMREC_H
#define VIGIL_TESTS_VMREC_H

#include <stdint.h>
#include <string.h>

#include "vigil/rawrec.h"

struct rec {
    _Alignas(8) uint8_t b[4096];
    size_t len;
};

static inline struct vraw_vmas *rec_start(struct rec *r, int32_t tgid)
{
    memset(r, 0, sizeof *r);
    struct vraw_vmas *h = (struct vraw_vmas *)r->b;
    h->h.type = VRAW_VMAS;
    h->tgid = tgid;
    h->tid = tgid;
    h->vdso = 0x7ffff7fc0000;
    h->start_stack = 0x7ffffffde000;
    r->len = sizeof *h;
    h->h.size = (uint16_t)r->len;
    return h;
}

static inline void rec_add(struct rec *r, uint64_t start, uint64_t end,
                           uint64_t pgoff, uint64_t file, uint32_t flags,
                           const char *path)
{
    struct vraw_vmas *h = (struct vraw_vmas *)r->b;
    struct vraw_vma *e = (struct vraw_vma *)(r->b + r->len);
    size_t n = path != NULL ? strlen(path) : 0;
    *e = (struct vraw_vma){.start = start,
                           .end = end,
                           .pgoff = pgoff,
                           .file = file,
                           .flags = flags,
                           .path_len = (uint16_t)n,
                           .reserved = 0};
    memcpy(e + 1, path != NULL ? path : "", n);
    r->len += sizeof *e + VRAW_ALIGN(n);
    h->nvmas++;
    h->h.size = (uint16_t)r->len;
}

#define RX   (VRAW_VMA_READ | VRAW_VMA_EXEC)
#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"
#define LIBX "/usr/lib/libx.so"

/* A dynamically linked program's executable mappings. */
static inline void proc_map(struct rec *r, int32_t tgid)
{
    rec_start(r, tgid);
    rec_add(r, 0x401000, 0x402000, 1, 0xf1, RX, "/usr/bin/prog");
    rec_add(r, 0x7f0000001000, 0x7f0000100000, 0x28, 0xf2, RX, LIBC);
    rec_add(r, 0x7f0000200000, 0x7f0000201000, 0, 0, RX | VRAW_VMA_WRITE, NULL);
    rec_add(r, 0x7f0000301000, 0x7f0000302000, 1, 0xf3, RX, LIBX);
    /* Another mapping of libx: its path was sent with the first. */
    rec_add(r, 0x7f0000303000, 0x7f0000304000, 3, 0xf3, RX, NULL);
    rec_add(r, 0x7ffff7fc0000, 0x7ffff7fc2000, 0, 0, RX, NULL);
}

#endif
