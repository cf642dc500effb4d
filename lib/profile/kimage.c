/* A kernel image: bzImage (or bare vmlinux) -> vmlinux ELF, with BTF and
 * kallsyms decoded on first use. */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "profile/internal.h"

struct vprof_kimage {
    uint8_t *vmlinux;
    size_t len;
    enum vprof_comp comp;
    unsigned protocol;
    struct vprof_elf *elf;
    struct vprof_btf *btf;
    struct vprof_ksyms *ksyms;
};

int vprof_kimage_open(struct vprof_kimage **out, const void *buf, size_t len,
                      size_t max_vmlinux, struct vprof_diag *d)
{
    const uint8_t *p = buf;
    if (max_vmlinux == 0)
        max_vmlinux = VIGIL_KIMAGE_MAX_VMLINUX;
    struct vprof_kimage *img = calloc(1, sizeof *img);
    if (img == NULL)
        return vprof_fail(d, ENOMEM, "out of memory");
    int rc = 0;
    if (len >= SELFMAG && !memcmp(p, ELFMAG, SELFMAG)) {
        /* A bare vmlinux, e.g. one written by --extract-vmlinux. */
        img->comp = VPROF_COMP_NONE;
        img->vmlinux = len <= max_vmlinux ? malloc(len) : NULL;
        img->len = len;
        if (img->vmlinux != NULL)
            memcpy(img->vmlinux, p, len);
        else if (len > max_vmlinux)
            rc = vprof_fail(d, EFBIG, "vmlinux larger than %zu bytes",
                            max_vmlinux);
        else
            rc = vprof_fail(d, ENOMEM, "out of memory (%zu bytes)", len);
    } else {
        struct vprof_bzimage bz;
        rc = vprof_bzimage_parse(p, len, &bz, d);
        if (rc == 0) {
            img->comp = bz.comp;
            img->protocol = bz.protocol;
            rc = vprof_decompress(bz.comp, p + bz.payload_off, bz.payload_len,
                                  max_vmlinux, &img->vmlinux, &img->len, d);
        }
    }
    if (rc == 0) {
        rc = vprof_elf_parse(&img->elf, img->vmlinux, img->len, d);
        if (rc < 0 && img->comp != VPROF_COMP_NONE) {
            char why[sizeof d->msg];
            snprintf(why, sizeof why, "%s", d != NULL ? d->msg : "");
            vprof_fail(d, -rc,
                       "decompressed payload is not a usable vmlinux: %s", why);
        }
    }
    if (rc < 0) {
        vprof_kimage_free(img);
        return rc;
    }
    *out = img;
    return 0;
}

void vprof_kimage_free(struct vprof_kimage *img)
{
    if (img == NULL)
        return;
    vprof_ksyms_free(img->ksyms);
    vprof_btf_free(img->btf);
    vprof_elf_free(img->elf);
    free(img->vmlinux);
    free(img);
}

const char *vprof_kimage_compression(const struct vprof_kimage *img)
{
    return vprof_comp_name(img->comp);
}

const void *vprof_kimage_vmlinux(const struct vprof_kimage *img, size_t *len)
{
    *len = img->len;
    return img->vmlinux;
}

unsigned vprof_kimage_boot_protocol(const struct vprof_kimage *img)
{
    return img->protocol;
}

int vprof_kimage_section(const struct vprof_kimage *img, const char *name,
                         uint64_t *addr, uint64_t *size)
{
    const struct vprof_elf_section *s = vprof_elf_find(img->elf, name);
    if (s == NULL)
        return -ENOENT;
    *addr = s->addr;
    *size = s->size;
    return 0;
}

const char *vprof_kimage_section_at(const struct vprof_kimage *img, uint64_t va)
{
    const struct vprof_elf_section *s = vprof_elf_section_at(img->elf, va);
    return s != NULL ? s->name : NULL;
}

int vprof_kimage_btf(struct vprof_kimage *img, const struct vprof_btf **out,
                     struct vprof_diag *d)
{
    if (img->btf == NULL) {
        const struct vprof_elf_section *s = vprof_elf_find(img->elf, ".BTF");
        const uint8_t *data = s != NULL ? vprof_elf_data(img->elf, s) : NULL;
        if (data == NULL)
            return vprof_fail(d, ENOENT,
                              "kernel has no .BTF section (built without "
                              "CONFIG_DEBUG_INFO_BTF?)");
        int rc = vprof_btf_parse(&img->btf, data, s->size, d);
        if (rc < 0)
            return rc;
    }
    *out = img->btf;
    return 0;
}

/* Sections worth scanning for kallsyms: allocated, non-executable data. */
static bool kallsyms_candidate(const struct vprof_elf_section *s)
{
    return s->type == SHT_PROGBITS && (s->flags & SHF_ALLOC) &&
           !(s->flags & SHF_EXECINSTR) && s->addr != 0 && s->size >= 1024 &&
           strcmp(s->name, ".BTF") != 0;
}

int vprof_kimage_ksyms(struct vprof_kimage *img, const struct vprof_ksyms **out,
                       struct vprof_diag *d)
{
    if (img->ksyms != NULL) {
        *out = img->ksyms;
        return 0;
    }
    /* .rodata first: that is where the kernel puts the tables. */
    struct vprof_diag first = {.msg = ""};
    const struct vprof_elf_section *ro = vprof_elf_find(img->elf, ".rodata");
    if (ro != NULL && kallsyms_candidate(ro)) {
        int rc = vprof_ksyms_scan(&img->ksyms, vprof_elf_data(img->elf, ro),
                                  ro->size, ro->addr, &first);
        if (rc == 0) {
            *out = img->ksyms;
            return 0;
        }
        if (rc != -ENOENT)
            return vprof_fail(d, -rc, "%s", first.msg);
    }
    for (size_t i = 0; i < vprof_elf_nsections(img->elf); i++) {
        const struct vprof_elf_section *s = vprof_elf_section(img->elf, i);
        if (s == ro || !kallsyms_candidate(s))
            continue;
        struct vprof_diag why = {.msg = ""};
        int rc = vprof_ksyms_scan(&img->ksyms, vprof_elf_data(img->elf, s),
                                  s->size, s->addr, &why);
        if (rc == 0) {
            *out = img->ksyms;
            return 0;
        }
        if (rc != -ENOENT)
            return vprof_fail(d, -rc, "%s", why.msg);
    }
    if (first.msg[0] != '\0' && strcmp(first.msg, "no kallsyms token table "
                                                  "found") != 0)
        return vprof_fail(d, ENOENT, "%s", first.msg);
    return vprof_fail(d, ENOENT,
                      "no kallsyms tables found in the kernel's data "
                      "(built without CONFIG_KALLSYMS?)");
}

int vprof_kimage_read(const struct vprof_kimage *img, uint64_t va, void *buf,
                      size_t n)
{
    const uint8_t *p = vprof_elf_va(img->elf, va, n, NULL);
    if (p == NULL)
        return -ENOENT;
    memcpy(buf, p, n);
    return 0;
}

int vprof_kimage_string(const struct vprof_kimage *img, uint64_t va, char *buf,
                        size_t size)
{
    size_t avail;
    const uint8_t *p = vprof_elf_va(img->elf, va, 1, &avail);
    if (p == NULL)
        return -ENOENT;
    if (size == 0)
        return -ERANGE;
    size_t lim = avail < size ? avail : size;
    const uint8_t *nul = memchr(p, 0, lim);
    if (nul == NULL)
        return -ERANGE;
    memcpy(buf, p, (size_t)(nul - p) + 1);
    return 0;
}

bool vprof_kimage_va_exec(const struct vprof_kimage *img, uint64_t va)
{
    const struct vprof_elf_section *s = vprof_elf_section_at(img->elf, va);
    return s != NULL && (s->flags & SHF_EXECINSTR);
}

bool vprof_kimage_va_data(const struct vprof_kimage *img, uint64_t va)
{
    const struct vprof_elf_section *s = vprof_elf_section_at(img->elf, va);
    return s != NULL && s->type != SHT_NOBITS;
}
