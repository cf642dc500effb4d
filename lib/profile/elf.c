/* Minimal ELF64 reader for vmlinux: section table and virtual address to
 * file byte mapping. Every offset and size is checked against the buffer
 * when the image is parsed, so later lookups need no further checks. */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>

#include "profile/internal.h"

struct vprof_elf {
    const uint8_t *buf;
    size_t len;
    size_t nsec;
    struct vprof_elf_section *sec;
};

/* Load a section header from possibly unaligned bytes. */
static void load_shdr(const uint8_t *p, Elf64_Shdr *sh)
{
    memcpy(sh, p, sizeof *sh);
}

int vprof_elf_parse(struct vprof_elf **out, const uint8_t *buf, size_t len,
                    struct vprof_diag *d)
{
    Elf64_Ehdr eh;
    if (len < sizeof eh)
        return vprof_fail(d, EINVAL, "ELF image is truncated (%zu bytes)", len);
    memcpy(&eh, buf, sizeof eh);
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
        return vprof_fail(d, EINVAL, "not an ELF image");
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_ident[EI_DATA] != ELFDATA2LSB)
        return vprof_fail(d, EINVAL, "not a little-endian 64-bit ELF image");
    if (eh.e_machine != EM_X86_64)
        return vprof_fail(d, EINVAL, "ELF machine %u is not x86-64",
                          eh.e_machine);
    if (eh.e_shoff == 0)
        return vprof_fail(d, EINVAL, "ELF image has no section headers");
    if (eh.e_shentsize != sizeof(Elf64_Shdr))
        return vprof_fail(d, EINVAL, "ELF section header size %u is not %zu",
                          eh.e_shentsize, sizeof(Elf64_Shdr));
    if (!vprof_in_bounds(eh.e_shoff, sizeof(Elf64_Shdr), len))
        return vprof_fail(d, EINVAL,
                          "ELF section headers lie outside the "
                          "image (truncated?)");

    /* Extended numbering: counts too big for the header live in entry 0. */
    Elf64_Shdr sh0;
    load_shdr(buf + eh.e_shoff, &sh0);
    uint64_t nsec = eh.e_shnum != 0 ? eh.e_shnum : sh0.sh_size;
    uint64_t stridx = eh.e_shstrndx != SHN_XINDEX ? eh.e_shstrndx : sh0.sh_link;
    if (nsec == 0 || nsec > 65536 ||
        !vprof_in_bounds(eh.e_shoff, nsec * sizeof(Elf64_Shdr), len))
        return vprof_fail(d, EINVAL,
                          "ELF section headers lie outside the "
                          "image (truncated?)");
    if (stridx >= nsec)
        return vprof_fail(d, EINVAL,
                          "ELF section name table index %llu is "
                          "out of range",
                          (unsigned long long)stridx);

    Elf64_Shdr strsh;
    load_shdr(buf + eh.e_shoff + stridx * sizeof(Elf64_Shdr), &strsh);
    if (strsh.sh_type == SHT_NOBITS ||
        !vprof_in_bounds(strsh.sh_offset, strsh.sh_size, len) ||
        strsh.sh_size == 0 || buf[strsh.sh_offset + strsh.sh_size - 1] != 0)
        return vprof_fail(d, EINVAL, "ELF section name table is malformed");
    const char *strtab = (const char *)buf + strsh.sh_offset;

    struct vprof_elf *e = calloc(1, sizeof *e);
    if (e == NULL)
        return vprof_fail(d, ENOMEM, "out of memory");
    e->sec = calloc(nsec, sizeof *e->sec);
    if (e->sec == NULL) {
        free(e);
        return vprof_fail(d, ENOMEM, "out of memory");
    }
    e->buf = buf;
    e->len = len;
    e->nsec = nsec;
    for (size_t i = 0; i < nsec; i++) {
        Elf64_Shdr sh;
        load_shdr(buf + eh.e_shoff + i * sizeof(Elf64_Shdr), &sh);
        struct vprof_elf_section *s = &e->sec[i];
        s->name = sh.sh_name < strsh.sh_size ? strtab + sh.sh_name : "";
        s->type = sh.sh_type;
        s->flags = sh.sh_flags;
        s->addr = sh.sh_addr;
        s->offset = sh.sh_offset;
        s->size = sh.sh_size;
        uint64_t end;
        if ((s->flags & SHF_ALLOC) &&
            __builtin_add_overflow(s->addr, s->size, &end)) {
            int rc = vprof_fail(d, EINVAL,
                                "ELF section %s wraps around the "
                                "address space",
                                s->name);
            vprof_elf_free(e);
            return rc;
        }
        if (s->type != SHT_NOBITS && s->type != SHT_NULL &&
            !vprof_in_bounds(s->offset, s->size, len)) {
            int rc = vprof_fail(d, EINVAL,
                                "ELF section %s extends beyond the image "
                                "(truncated?)",
                                s->name);
            vprof_elf_free(e);
            return rc;
        }
    }
    *out = e;
    return 0;
}

void vprof_elf_free(struct vprof_elf *e)
{
    if (e == NULL)
        return;
    free(e->sec);
    free(e);
}

size_t vprof_elf_nsections(const struct vprof_elf *e)
{
    return e->nsec;
}

const struct vprof_elf_section *vprof_elf_section(const struct vprof_elf *e,
                                                  size_t i)
{
    return i < e->nsec ? &e->sec[i] : NULL;
}

const struct vprof_elf_section *vprof_elf_find(const struct vprof_elf *e,
                                               const char *name)
{
    for (size_t i = 0; i < e->nsec; i++)
        if (!strcmp(e->sec[i].name, name))
            return &e->sec[i];
    return NULL;
}

const struct vprof_elf_section *vprof_elf_section_at(const struct vprof_elf *e,
                                                     uint64_t va)
{
    for (size_t i = 0; i < e->nsec; i++) {
        const struct vprof_elf_section *s = &e->sec[i];
        if ((s->flags & SHF_ALLOC) && s->addr != 0 && va >= s->addr &&
            va - s->addr < s->size)
            return s;
    }
    return NULL;
}

const uint8_t *vprof_elf_data(const struct vprof_elf *e,
                              const struct vprof_elf_section *s)
{
    if (s->type == SHT_NOBITS || s->type == SHT_NULL)
        return NULL;
    return e->buf + s->offset;
}

const uint8_t *vprof_elf_va(const struct vprof_elf *e, uint64_t va, size_t n,
                            size_t *avail)
{
    const struct vprof_elf_section *s = vprof_elf_section_at(e, va);
    if (s == NULL || s->type == SHT_NOBITS)
        return NULL;
    uint64_t rel = va - s->addr;
    if (s->size - rel < n)
        return NULL;
    if (avail != NULL)
        *avail = (size_t)(s->size - rel);
    return e->buf + s->offset + rel;
}
