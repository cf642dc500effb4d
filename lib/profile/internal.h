/* Helpers shared by the lib/profile modules. Not part of the public API. */
#ifndef VIGIL_PROFILE_INTERNAL_H
#define VIGIL_PROFILE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vigil/le.h"
#include "vigil/profile.h"

#define VPROF_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Format the message into @d (if not NULL) and return -@err. */
int vprof_fail(struct vprof_diag *d, int err, const char *fmt, ...)
    VPROF_PRINTF(3, 4);

/* True when [off, off + n) lies inside a buffer of @len bytes. */
static inline bool vprof_in_bounds(uint64_t off, uint64_t n, uint64_t len)
{
    uint64_t end;
    return !__builtin_add_overflow(off, n, &end) && end <= len;
}

/* FNV-1a, for the string indexes. */
static inline uint32_t vprof_hash(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s != '\0')
        h = (h ^ (uint8_t)*s++) * 16777619u;
    return h;
}

/* ---- open-addressing string index --------------------------------------
 * Maps names to entry numbers of some table owned by the caller; the key
 * of an entry is obtained through a callback, so the index stores only
 * 32-bit slots. The first entry inserted under a name wins. */
struct vprof_index {
    uint32_t *slot; /* entry + 1; 0 = empty */
    uint32_t mask;
};

typedef const char *(*vprof_key_fn)(const void *ctx, uint32_t entry);

int vprof_index_init(struct vprof_index *ix, size_t entries);
void vprof_index_release(struct vprof_index *ix);
/* Insert unless a key with the same name is present. */
void vprof_index_add(struct vprof_index *ix, vprof_key_fn key, const void *ctx,
                     uint32_t entry, const char *name);
/* The slot holding @name (entry + 1), or the empty slot (0) where it
 * would go; the caller may store entry + 1 there. */
uint32_t *vprof_index_slot(struct vprof_index *ix, vprof_key_fn key,
                           const void *ctx, const char *name);
/* Entry for @name, or -1. */
int64_t vprof_index_find(const struct vprof_index *ix, vprof_key_fn key,
                         const void *ctx, const char *name);

/* ---- decompression (decompress.c) ---- */

enum vprof_comp {
    VPROF_COMP_NONE,
    VPROF_COMP_GZIP,
    VPROF_COMP_XZ,
    VPROF_COMP_LZ4,
    VPROF_COMP_ZSTD,
    VPROF_COMP_BZIP2,
    VPROF_COMP_LZMA,
    VPROF_COMP_LZO,
    VPROF_COMP_LZ4_FRAME,
    VPROF_COMP_UNKNOWN,
};

enum vprof_comp vprof_comp_detect(const uint8_t *p, size_t len);
const char *vprof_comp_name(enum vprof_comp c);

/**
 * vprof_decompress() - decompress a bzImage payload.
 * @in, @len: the payload, whose last 4 bytes hold the decompressed size
 *            (little-endian), as the kernel build appends them.
 * @max: refuse an output larger than this.
 * @out, @out_len: malloc'd result.
 */
int vprof_decompress(enum vprof_comp c, const uint8_t *in, size_t len,
                     size_t max, uint8_t **out, size_t *out_len,
                     struct vprof_diag *d);

/* ---- bzImage (bzimage.c) ---- */

struct vprof_bzimage {
    unsigned protocol;  /* boot protocol version, e.g. 0x20f */
    size_t payload_off; /* file offset of the compressed payload */
    size_t payload_len;
    enum vprof_comp comp;
};

/* Parse the setup header of @buf. -EINVAL if it is not a usable bzImage. */
int vprof_bzimage_parse(const uint8_t *buf, size_t len,
                        struct vprof_bzimage *bz, struct vprof_diag *d);

/* ---- ELF64 (elf.c) ---- */

struct vprof_elf_section {
    const char *name; /* points into the image */
    uint32_t type;
    uint64_t flags;
    uint64_t addr;
    uint64_t offset;
    uint64_t size;
};

struct vprof_elf;

/* Parse an x86-64 ELF image; @buf is borrowed and must outlive @out. */
int vprof_elf_parse(struct vprof_elf **out, const uint8_t *buf, size_t len,
                    struct vprof_diag *d);
void vprof_elf_free(struct vprof_elf *e);
size_t vprof_elf_nsections(const struct vprof_elf *e);
const struct vprof_elf_section *vprof_elf_section(const struct vprof_elf *e,
                                                  size_t i);
const struct vprof_elf_section *vprof_elf_find(const struct vprof_elf *e,
                                               const char *name);
/* The allocated section containing @va (sections at address 0, such as the
 * per-CPU template, are not mapped), or NULL. */
const struct vprof_elf_section *vprof_elf_section_at(const struct vprof_elf *e,
                                                     uint64_t va);
/* File bytes of a section; NULL for NOBITS. */
const uint8_t *vprof_elf_data(const struct vprof_elf *e,
                              const struct vprof_elf_section *s);
/* Pointer to [va, va + n) if it lies in one section's file bytes. */
const uint8_t *vprof_elf_va(const struct vprof_elf *e, uint64_t va, size_t n,
                            size_t *avail);

/* ---- kernel image (kimage.c) ---- */

/* Is @va inside an executable section / a section with file bytes? */
bool vprof_kimage_va_exec(const struct vprof_kimage *img, uint64_t va);
bool vprof_kimage_va_data(const struct vprof_kimage *img, uint64_t va);

#endif
