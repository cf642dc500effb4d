/* vigil kernel profiles: everything vigil needs to know about a guest kernel,
 * derived from its Debian bzImage alone (no debug package, no System.map).
 *
 * Data flow:
 *   bzImage --(setup header, decompress)--> vmlinux ELF
 *           --(.BTF)--> struct layouts         (struct vprof_btf)
 *           --(kallsyms tables in .rodata)--> symbols  (struct vprof_ksyms)
 *           --> struct vprof --> JSON "vigil-profile" v1
 *
 * Conventions: functions return 0 or a negative errno; on failure they fill
 * the caller's struct vprof_diag (which may be NULL) with one line of
 * explanation. Nothing here prints, exits or keeps global state. Every input
 * buffer is treated as hostile. The JSON format is described in
 * docs/profile.md.
 */
#ifndef VIGIL_PROFILE_H
#define VIGIL_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#define VIGIL_PROFILE_FORMAT  "vigil-profile"
#define VIGIL_PROFILE_VERSION 1

/* Default bound on the size of a decompressed vmlinux (256 MiB): Debian's
 * bookworm and trixie x86-64 kernels decompress to 51 and 55 MiB, so this
 * leaves more than 4x for larger configurations while a hostile image's
 * size trailer cannot ask for more (docs/profile.md). */
#define VIGIL_KIMAGE_MAX_VMLINUX ((size_t)256 << 20)

/* Why the last call failed: always NUL-terminated, one line, no newline. */
struct vprof_diag {
    char msg[256];
};

/* ---- BTF: struct layouts ---------------------------------------------- */

struct vprof_btf;

/* Where a member lives inside its outermost struct. */
struct vprof_btf_member {
    uint64_t bit_offset; /* from the start of the outer struct */
    uint32_t bit_size;   /* bitfield width; 0 when not a bitfield */
    uint64_t size;       /* byte size of the member's type */
    uint32_t type_id;    /* BTF id of the member's type */
};

/**
 * vprof_btf_parse() - index raw BTF data (a .BTF section).
 * @out: receives the new object.
 * @data, @len: BTF bytes; borrowed, must outlive the object.
 * @d: error details.
 *
 * Return: 0, -EINVAL for malformed BTF, -ENOMEM.
 */
int vprof_btf_parse(struct vprof_btf **out, const void *data, size_t len,
                    struct vprof_diag *d) __attribute__((warn_unused_result));
void vprof_btf_free(struct vprof_btf *btf);

/* Number of types, not counting the implicit void (id 0). */
uint32_t vprof_btf_type_count(const struct vprof_btf *btf);

/**
 * vprof_btf_struct_size() - size in bytes of struct or union @name.
 * Return: 0, or -ENOENT when no complete struct/union has that name.
 */
int vprof_btf_struct_size(const struct vprof_btf *btf, const char *name,
                          uint64_t *size, struct vprof_diag *d);

/**
 * vprof_btf_member() - locate a member of struct or union @type.
 * @path: member names separated by dots ("__sk_common.skc_family").
 *        Anonymous structs and unions are transparent: "current_task" is
 *        found in struct pcpu_hot although it sits in an unnamed struct
 *        inside an unnamed union.
 *
 * Return: 0, -ENOENT (no such type or member), -EINVAL (malformed BTF or
 * path), -E2BIG (the type graph is too large to search).
 */
int vprof_btf_member(const struct vprof_btf *btf, const char *type,
                     const char *path, struct vprof_btf_member *out,
                     struct vprof_diag *d);

/* ---- kallsyms: the kernel's own symbol table -------------------------- */

struct vprof_ksyms;

struct vprof_ksym {
    uint64_t addr;    /* link-time address (KASLR slide not applied) */
    char type;        /* nm-style type letter from the table: T t D d B ... */
    const char *name; /* owned by the vprof_ksyms object */
};

/**
 * vprof_ksyms_scan() - find and decode the kallsyms tables in @data.
 * @data, @len: a section of the vmlinux (normally .rodata); borrowed only
 *              during the call.
 * @va: the virtual address of @data[0]: tables are aligned in VA space.
 *
 * The tables are located by their structure, not by their order, which
 * changed between kernel versions. Symbols come back sorted by address.
 *
 * Return: 0, -ENOENT when no consistent set of tables is found, -ENOMEM.
 */
int vprof_ksyms_scan(struct vprof_ksyms **out, const void *data, size_t len,
                     uint64_t va, struct vprof_diag *d)
    __attribute__((warn_unused_result));
void vprof_ksyms_free(struct vprof_ksyms *ks);

size_t vprof_ksyms_count(const struct vprof_ksyms *ks);
/* Symbol @i in address order; -ERANGE past the end. */
int vprof_ksyms_get(const struct vprof_ksyms *ks, size_t i,
                    struct vprof_ksym *out);
/* Symbol called @name: names are not unique (static symbols), so the
 * global one (upper-case type) wins, then the lowest address. -ENOENT if
 * none. */
int vprof_ksyms_lookup(const struct vprof_ksyms *ks, const char *name,
                       struct vprof_ksym *out);

/* How the tables were laid out, for reports. */
struct vprof_ksyms_layout {
    uint64_t relative_base;
    int absolute_percpu; /* negative offsets are relative, others absolute */
    /* Table names in increasing address order, NULL-terminated. */
    const char *order[9];
};
void vprof_ksyms_layout(const struct vprof_ksyms *ks,
                        struct vprof_ksyms_layout *out);

/* ---- kernel image: bzImage or vmlinux --------------------------------- */

struct vprof_kimage;

/**
 * vprof_kimage_open() - decode a kernel image.
 * @buf, @len: a bzImage, or an uncompressed vmlinux ELF; copied as needed,
 *             not referenced after the call.
 * @max_vmlinux: bound on the decompressed size (0: VIGIL_KIMAGE_MAX_VMLINUX).
 *
 * Reads the x86 boot header, decompresses the payload (gzip, xz, zstd,
 * lz4 legacy; bzip2, lzma and lzo are recognised and refused) and checks
 * the result is an x86-64 ELF. BTF and kallsyms are decoded on first use.
 *
 * Return: 0, -EINVAL (not a kernel, corrupt payload), -ENOTSUP (known but
 * unsupported compression), -EFBIG (over @max_vmlinux), -ENOMEM.
 */
int vprof_kimage_open(struct vprof_kimage **out, const void *buf, size_t len,
                      size_t max_vmlinux, struct vprof_diag *d)
    __attribute__((warn_unused_result));
void vprof_kimage_free(struct vprof_kimage *img);

/* "gzip", "xz", "zstd", "lz4", or "none" for a bare vmlinux. */
const char *vprof_kimage_compression(const struct vprof_kimage *img);
/* The decompressed vmlinux ELF. */
const void *vprof_kimage_vmlinux(const struct vprof_kimage *img, size_t *len);
/* Boot protocol version from the setup header (0 for a bare vmlinux). */
unsigned vprof_kimage_boot_protocol(const struct vprof_kimage *img);

/* Address range of ELF section @name; -ENOENT if absent. */
int vprof_kimage_section(const struct vprof_kimage *img, const char *name,
                         uint64_t *addr, uint64_t *size);
/* Name of the allocated section holding @va, or NULL. */
const char *vprof_kimage_section_at(const struct vprof_kimage *img,
                                    uint64_t va);

/* Copy @n bytes at @va from the file image (initial values of kernel
 * data); -ENOENT unless [va, va + n) lies in one section's bytes. */
int vprof_kimage_read(const struct vprof_kimage *img, uint64_t va, void *buf,
                      size_t n);

/* The parsed .BTF section (-ENOENT if the kernel has none). The object
 * belongs to @img. */
int vprof_kimage_btf(struct vprof_kimage *img, const struct vprof_btf **out,
                     struct vprof_diag *d);
/* The decoded kallsyms (-ENOENT if not found). Belongs to @img. */
int vprof_kimage_ksyms(struct vprof_kimage *img, const struct vprof_ksyms **out,
                       struct vprof_diag *d);
/**
 * vprof_kimage_string() - copy the NUL-terminated string at @va.
 * Return: 0, -ENOENT (not in the file image), -ERANGE (longer than
 * @size - 1 or unterminated).
 */
int vprof_kimage_string(const struct vprof_kimage *img, uint64_t va, char *buf,
                        size_t size);

/* ---- profiles ----------------------------------------------------------- */

struct vprof;

struct vprof_member {
    uint64_t offset;     /* bytes from the start of the struct */
    uint64_t size;       /* bytes */
    uint32_t bit_size;   /* 0 unless a bitfield */
    uint32_t bit_offset; /* bit within the byte at @offset, bitfields only */
};

/**
 * vprof_build() - derive a profile from a kernel image.
 *
 * Fails (-ENOENT, -EINVAL) when an essential symbol or member cannot be
 * found or fails validation; optional ones are recorded as absent with a
 * note (vprof_note()).
 */
int vprof_build(struct vprof **out, struct vprof_kimage *img,
                struct vprof_diag *d) __attribute__((warn_unused_result));
void vprof_free(struct vprof *p);

/* The profile as JSON text (malloc'd, caller frees); NULL on failure. */
char *vprof_to_json(const struct vprof *p, struct vprof_diag *d);
/**
 * vprof_load_json() - read a profile written by
 * vprof_to_json(), checking format name and version.
 * Return: 0, -EINVAL (malformed), -ENOTSUP (other format or version),
 * -ENOMEM.
 */
int vprof_load_json(struct vprof **out, const char *buf, size_t len,
                    struct vprof_diag *d) __attribute__((warn_unused_result));

const char *vprof_release(const struct vprof *p);
/* The string @obj.@key of the profile's JSON (members vprof_to_json did
 * not write, such as the profile cache's "cache"), or NULL. */
const char *vprof_string(const struct vprof *p, const char *obj,
                         const char *key);
const char *vprof_banner(const struct vprof *p);
const char *vprof_compression(const struct vprof *p);

/* Link-time address of symbol @name; -ENOENT if absent from the profile. */
int vprof_symbol(const struct vprof *p, const char *name, uint64_t *addr);
/* Offset of per-CPU variable @name (e.g. "current_task") in a CPU's
 * per-CPU area; -ENOENT if unknown. */
int vprof_percpu(const struct vprof *p, const char *name, uint64_t *offset);
int vprof_struct_size(const struct vprof *p, const char *name, uint64_t *size);
/* -ENOENT if the struct or member is unknown or absent in this kernel. */
int vprof_member(const struct vprof *p, const char *type, const char *path,
                 struct vprof_member *out);

/* Notes about absent optional items, in order; NULL past the end. */
const char *vprof_note(const struct vprof *p, size_t i);

#endif
