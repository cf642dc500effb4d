/* Unit test of lib/profile without a real kernel: profile JSON errors,
 * small synthetic kernel images (synkernel.h) for what the two real
 * kernels of test-profile.c do not cover (gzip and xz payloads, the other
 * kallsyms table orders and encodings, bitfields), and inputs that are not
 * ELF. With VIGIL_WRITE_SEEDS=DIR set, the images are also written to DIR
 * as seeds for fuzz/fuzz-profile.c (first byte: which parser the fuzzer
 * feeds). */
#undef NDEBUG
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "vigil/profile.h"

#include "check.h"
#include "synkernel.h"

static void write_seed(const char *name, uint8_t selector, const void *data,
                       size_t len)
{
    const char *dir = getenv("VIGIL_WRITE_SEEDS");
    if (dir == NULL || *dir == '\0')
        return;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(&selector, 1, 1, f) != 1 ||
        fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        printf("NOT OK: cannot write seed %s\n", path);
        failures++;
        return;
    }
    printf("info: wrote seed %s (%zu bytes)\n", path, len + 1);
}

static void test_json_errors(void)
{
    struct vprof_diag d;
    struct vprof *p = NULL;
    static const char other[] = "{\"format\":\"other\",\"version\":1}";
    static const char v2[] = "{\"format\":\"vigil-profile\",\"version\":2}";
    static const char bad_sym[] =
        "{\"format\":\"vigil-profile\",\"version\":1,\"kernel\":{\"release\":"
        "\"r\",\"banner\":\"b\",\"compression\":\"none\"},\"symbols\":{\"x\":"
        "\"12\"},\"percpu\":{},\"structs\":{}}";
    static const char good[] =
        "{\"format\":\"vigil-profile\",\"version\":1,\"kernel\":{\"release\":"
        "\"r\",\"banner\":\"b\",\"compression\":\"none\"},\"symbols\":{\"x\":"
        "\"0xffffffff81000000\",\"y\":null},\"percpu\":{\"current_task\":8},"
        "\"structs\":{\"s\":{\"size\":8,\"members\":{\"f\":{\"offset\":4,"
        "\"size\":4},\"g\":null}}}}";
    CHECK(vprof_load_json(&p, other, sizeof other - 1, &d) == -ENOTSUP,
          "json: other format -> -ENOTSUP (%s)", d.msg);
    CHECK(vprof_load_json(&p, v2, sizeof v2 - 1, &d) == -ENOTSUP,
          "json: version 2 -> -ENOTSUP (%s)", d.msg);
    CHECK(vprof_load_json(&p, "{", 1, &d) == -EINVAL,
          "json: truncated -> -EINVAL (%s)", d.msg);
    CHECK(vprof_load_json(&p, bad_sym, sizeof bad_sym - 1, &d) == -EINVAL,
          "json: symbol without 0x -> -EINVAL (%s)", d.msg);
    write_seed("profile-minimal.json", 3, good, sizeof good - 1);
    d.msg[0] = '\0';
    int rc = vprof_load_json(&p, good, sizeof good - 1, &d);
    CHECK(rc == 0, "json: minimal profile loads (%s)", d.msg);
    if (rc == 0) {
        uint64_t a = 0, o = 0;
        struct vprof_member m;
        CHECK(vprof_symbol(p, "x", &a) == 0 && a == 0xffffffff81000000ull &&
                  vprof_symbol(p, "y", &a) == -ENOENT &&
                  vprof_percpu(p, "current_task", &o) == 0 && o == 8 &&
                  vprof_member(p, "s", "f", &m) == 0 && m.offset == 4 &&
                  vprof_member(p, "s", "g", &m) == -ENOENT,
              "json: queries on a minimal profile");
        vprof_free(p);
    }
}

#include "synkernel.h"

static void test_syn_ksyms_layout(const struct syn_sym *all, size_t nall,
                                  unsigned flags)
{
    /* Without absolute per-CPU symbols every address is base + u32: keep
     * only kernel-half symbols, as such kernels have. */
    static struct syn_sym s[SYN_NSYMS];
    size_t n = 0;
    for (size_t i = 0; i < nall; i++)
        if (!(flags & SYN_RELATIVE) || all[i].type != 'A')
            s[n++] = all[i];
    struct buf r = {0};
    syn_rodata(&r, s, n, flags);
    struct vprof_diag d = {.msg = ""};
    struct vprof_ksyms *ks = NULL;
    int rc = vprof_ksyms_scan(&ks, r.p, r.len, SYN_RODATA, &d);
    CHECK(rc == 0, "synthetic kallsyms (layout %#x) found (%s)", flags, d.msg);
    if (rc == 0) {
        bool same = vprof_ksyms_count(ks) == n;
        for (size_t i = 0; same && i < n; i++) {
            struct vprof_ksym k;
            same = vprof_ksyms_get(ks, i, &k) == 0 && k.addr == s[i].addr &&
                   k.type == s[i].type && !strcmp(k.name, s[i].name);
        }
        CHECK(same, "synthetic kallsyms (layout %#x): all %zu symbols decode",
              flags, n);
        struct vprof_ksyms_layout l;
        vprof_ksyms_layout(ks, &l);
        const char *first =
            flags & SYN_ORDER_NEW ? "kallsyms_num_syms" : "kallsyms_offsets";
        size_t nt = 0;
        bool seqs = false;
        while (nt < 9 && l.order[nt] != NULL)
            seqs |= !strcmp(l.order[nt++], "kallsyms_seqs_of_names");
        CHECK(!strcmp(l.order[0], first) &&
                  nt == (flags & SYN_SEQS ? 8u : 7u) &&
                  seqs == !!(flags & SYN_SEQS) &&
                  l.absolute_percpu == !(flags & SYN_RELATIVE),
              "synthetic kallsyms (layout %#x): order starts with %s, %zu "
              "tables, absolute_percpu %d",
              flags, l.order[0], nt, l.absolute_percpu);
        struct vprof_ksym k;
        CHECK(vprof_ksyms_lookup(ks, "dup_name", &k) == 0 && k.type == 'T',
              "synthetic kallsyms: duplicate name resolves to the global "
              "symbol");
        vprof_ksyms_free(ks);
    }
    if (flags == (SYN_ORDER_NEW | SYN_SEQS))
        write_seed("kallsyms-new-order", 2, r.p + SYN_TABLES,
                   r.len - SYN_TABLES);
    if (flags == SYN_SEQS)
        write_seed("kallsyms-old-order", 2, r.p + SYN_TABLES,
                   r.len - SYN_TABLES);
    /* Broken copies: no crash, no false positive. */
    for (size_t cut = r.len - 700; cut < r.len; cut += 97) {
        rc = vprof_ksyms_scan(&ks, r.p, cut, SYN_RODATA, &d);
        if (rc == 0)
            vprof_ksyms_free(ks);
    }
    free(r.p);
}

static void test_syn_btf(const struct vprof_btf *btf)
{
    struct vprof_diag d;
    struct vprof_btf_member m;
    uint64_t sz = 0;
    struct {
        const char *type, *path;
        uint64_t bit_offset, size;
        uint32_t bit_size;
    } want[] = {
        {"task_struct", "pid", 0, 4, 0},
        {"task_struct", "tgid", 32, 4, 0},
        {"task_struct", "comm", 64, 16, 0},
        {"task_struct", "word", 192, 8, 0},
        {"task_struct", "lo", 192, 4, 0},
        {"task_struct", "hi", 224, 4, 0},
        {"task_struct", "mm", 320, 8, 0},
        {"flags", "a", 0, 4, 3},
        {"flags", "b", 3, 4, 5},
        {"oldbits", "c", 4, 4, 3},
        {"outer", "inner.hi", 288, 4, 0},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        memset(&m, 0xff, sizeof m);
        int rc = vprof_btf_member(btf, want[i].type, want[i].path, &m, &d);
        CHECK(rc == 0 && m.bit_offset == want[i].bit_offset &&
                  m.size == want[i].size && m.bit_size == want[i].bit_size,
              "synthetic BTF: %s.%s at bit %" PRIu64 ", %" PRIu64
              " bytes, %u-bit field",
              want[i].type, want[i].path, want[i].bit_offset, want[i].size,
              want[i].bit_size);
    }
    bool ok = vprof_btf_struct_size(btf, "task_struct", &sz, &d) == 0;
    CHECK(ok && sz == 64, "synthetic BTF: sizeof(task_struct) = 64");
    CHECK(vprof_btf_member(btf, "outer", "inner.nope", &m, &d) == -ENOENT,
          "synthetic BTF: missing nested member -> -ENOENT");
    CHECK(vprof_btf_member(btf, "task_struct", "pid.x", &m, &d) == -EINVAL,
          "synthetic BTF: path through a non-struct -> -EINVAL (%s)", d.msg);
}

static void test_synthetic(void)
{
    static struct syn_sym syms[SYN_NSYMS];
    size_t n = syn_symbols(syms);
    static const unsigned layouts[] = {
        0,
        SYN_SEQS,
        SYN_ORDER_NEW | SYN_SEQS,
        SYN_ORDER_NEW,
        SYN_RELATIVE | SYN_MARKERS64,
        SYN_ORDER_NEW | SYN_RELATIVE | SYN_SEQS,
    };
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
        test_syn_ksyms_layout(syms, n, layouts[i]);

    struct buf btf = {0}, rodata = {0}, elf = {0};
    build_btf(&btf);
    struct vprof_diag d = {.msg = ""};
    struct vprof_btf *b = NULL;
    int rc = vprof_btf_parse(&b, btf.p, btf.len, &d);
    CHECK(rc == 0, "synthetic BTF parses (%s)", d.msg);
    if (rc == 0) {
        test_syn_btf(b);
        vprof_btf_free(b);
    }
    write_seed("btf", 1, btf.p, btf.len);
    for (size_t cut = 0; cut < btf.len; cut++) { /* every truncation */
        if (vprof_btf_parse(&b, btf.p, cut, &d) == 0)
            vprof_btf_free(b);
    }

    syn_rodata(&rodata, syms, n, SYN_ORDER_NEW | SYN_SEQS);
    build_elf(&elf, &rodata, &btf);
    write_seed("vmlinux-elf", 0, elf.p, elf.len);
    static const char *const comps[] = {"gzip", "xz", "zstd", "lz4", "none"};
    for (size_t i = 0; i < sizeof comps / sizeof comps[0]; i++) {
        struct buf payload = {0}, bz = {0};
        if (!compress_as(comps[i], &elf, &payload)) {
            CHECK(false, "synthetic: %s compression", comps[i]);
            continue;
        }
        build_bzimage(&bz, &payload);
        struct vprof_kimage *img = NULL;
        d.msg[0] = '\0';
        rc = vprof_kimage_open(&img, bz.p, bz.len, 0, &d);
        CHECK(rc == 0, "synthetic %s bzImage opens (%s)", comps[i], d.msg);
        if (rc == 0) {
            size_t vlen;
            const void *v = vprof_kimage_vmlinux(img, &vlen);
            CHECK(!strcmp(vprof_kimage_compression(img), comps[i]) &&
                      vlen == elf.len && !memcmp(v, elf.p, vlen),
                  "synthetic %s bzImage: compression detected, vmlinux "
                  "restored byte for byte",
                  comps[i]);
            const struct vprof_ksyms *ks;
            struct vprof_ksym k;
            rc = vprof_kimage_ksyms(img, &ks, &d);
            CHECK(rc == 0 && vprof_ksyms_lookup(ks, "init_task", &k) == 0 &&
                      k.addr == SYN_DATA + 0x40,
                  "synthetic %s bzImage: kallsyms via the ELF", comps[i]);
            char banner[128] = "";
            CHECK(rc == 0 && vprof_ksyms_lookup(ks, "linux_banner", &k) == 0 &&
                      vprof_kimage_string(img, k.addr, banner, sizeof banner) ==
                          0 &&
                      !strcmp(banner, SYN_BANNER),
                  "synthetic %s bzImage: banner read through its symbol",
                  comps[i]);
            /* Only a few structs exist: the profile must refuse, politely. */
            struct vprof *p = NULL;
            rc = vprof_build(&p, img, &d);
            CHECK(rc == -ENOENT && d.msg[0] != '\0',
                  "synthetic %s bzImage: profile refused: %s", comps[i], d.msg);
            vprof_free(p);
            vprof_kimage_free(img);
        }
        char seed[32];
        snprintf(seed, sizeof seed, "bzimage-%s", comps[i]);
        if (strcmp(comps[i], "none") != 0) /* vmlinux-elf covers it */
            write_seed(seed, 0, bz.p, bz.len);
        if (i == 0) /* the setup header, no payload */
            write_seed("bzimage-header-only", 0, bz.p, 0x260);
        /* Truncated payloads: an error, never a crash. */
        for (size_t cut = 1024; cut < bz.len; cut += bz.len / 37 + 1) {
            memcpy(bz.p + 0x24c, &(uint32_t){(uint32_t)(cut - 1024 - 0x100)},
                   4);
            if (cut > 1024 + 0x100 &&
                vprof_kimage_open(&img, bz.p, cut, 0, &d) == 0)
                vprof_kimage_free(img);
        }
        free(payload.p);
        free(bz.p);
    }
    free(elf.p);
    free(rodata.p);
    free(btf.p);
}

/* Payloads that are not a vmlinux, in every supported compression (6 MiB:
 * one lz4 legacy block, which holds at most 8 MiB): the
 * decoder stops at the first bytes it produces (a bomb of zeros costs one
 * step of output, not what its trailer claims), and one whose output
 * overruns its trailer is refused at the trailer's size. */
static void test_not_elf(void)
{
    static const char *const comps[] = {"gzip", "xz", "zstd", "lz4"};
    struct buf zeros = {0}, elfish = {0};
    put(&zeros, NULL, (size_t)6 << 20);
    put(&elfish, NULL, (size_t)6 << 20);
    memcpy(elfish.p,
           "\x7f"
           "ELF\x02\x01\x01",
           7);
    for (size_t i = 0; i < sizeof comps / sizeof comps[0]; i++) {
        struct buf payload = {0}, bz = {0};
        struct vprof_diag d = {{0}};
        struct vprof_kimage *img = NULL;
        if (!compress_as(comps[i], &zeros, &payload)) {
            CHECK(false, "%s: compress zeros", comps[i]);
            continue;
        }
        build_bzimage(&bz, &payload);
        int rc = vprof_kimage_open(&img, bz.p, bz.len, 0, &d);
        CHECK(rc == -EINVAL && strstr(d.msg, "not an ELF64 vmlinux"),
              "%s: 6 MiB of zeros stop at the first bytes (%s)", comps[i],
              d.msg);
        vprof_kimage_free(img);
        free(payload.p);
        free(bz.p);
        payload = (struct buf){0};
        bz = (struct buf){0};
        if (!compress_as(comps[i], &elfish, &payload)) {
            CHECK(false, "%s: compress", comps[i]);
            continue;
        }
        /* The trailer (the last 4 bytes) says 1 MiB. */
        uint32_t small = 1u << 20;
        memcpy(payload.p + payload.len - 4, &small, 4);
        build_bzimage(&bz, &payload);
        img = NULL;
        rc = vprof_kimage_open(&img, bz.p, bz.len, 0, &d);
        CHECK(rc < 0 && (strstr(d.msg, "more than the 1048576 bytes") ||
                         strstr(d.msg, "longer than its size trailer") ||
                         strstr(d.msg, "corrupt")),
              "%s: output past a 1 MiB trailer is refused (%s)", comps[i],
              d.msg);
        vprof_kimage_free(img);
        free(payload.p);
        free(bz.p);
    }
    free(zeros.p);
    free(elfish.p);
}

int main(void)
{
    test_json_errors();
    test_synthetic();
    test_not_elf();
    if (failures > 0) {
        printf("%d check(s) failed\n", failures);
        return 1;
    }
    printf("all checks passed\n");
    return 0;
}
