/* libFuzzer target for lib/profile: the bzImage/ELF/BTF/kallsyms parsers
 * and the profile JSON reader, all of which read hostile input.
 *
 * The first input byte selects the parser, the rest is its input:
 *   0  kernel image (bzImage or vmlinux ELF) -> BTF, kallsyms, profile, JSON
 *   1  raw BTF -> struct and member lookups
 *   2  a data section -> kallsyms scan
 *   3  profile JSON -> load, queries, save
 * Seeds in fuzz/corpus/profile/ are small synthetic images written by a
 * unit test,
 *   VIGIL_WRITE_SEEDS=fuzz/corpus/profile build/tests/test-profile-synthetic
 * and one real profile: (printf '\003'; build/vigil profile
 * build/guest/trixie/vmlinuz) > fuzz/corpus/profile/profile-debian13.json
 *
 * Run: make fuzz && build/fuzz/fuzz-profile -max_total_time=60 \
 *          -max_len=65536 fuzz/corpus/profile
 * (the corpus directory gains new inputs; commit only the seeds). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Keeps decompression bombs cheap under the fuzzer. */
#define FUZZ_MAX_VMLINUX ((size_t)16 << 20)

static const char *const types[] = {"task_struct", "flags", "outer",
                                    "oldbits",     "sock",  "pcpu_hot"};
static const char *const paths[] = {"pid",
                                    "comm",
                                    "lo",
                                    "hi",
                                    "a",
                                    "b",
                                    "c",
                                    "inner.hi",
                                    "inner.lo.x",
                                    "__sk_common.skc_family",
                                    "current_task",
                                    "",
                                    ".",
                                    "a..b"};

static void poke_btf(const struct vprof_btf *btf)
{
    struct vprof_diag d;
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        uint64_t size;
        (void)vprof_btf_struct_size(btf, types[t], &size, &d);
        for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++) {
            struct vprof_btf_member m;
            (void)vprof_btf_member(btf, types[t], paths[p], &m, &d);
        }
    }
}

static void poke_ksyms(const struct vprof_ksyms *ks)
{
    size_t n = vprof_ksyms_count(ks);
    size_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        struct vprof_ksym s;
        if (vprof_ksyms_get(ks, i, &s) == 0) {
            sum += strlen(s.name);
            struct vprof_ksym again;
            if (i % 64 == 0 && vprof_ksyms_lookup(ks, s.name, &again) != 0)
                abort(); /* every listed name must be found */
        }
    }
    struct vprof_ksyms_layout l;
    vprof_ksyms_layout(ks, &l);
    (void)sum;
}

static void poke_profile(const struct vprof *p)
{
    uint64_t v;
    struct vprof_member m;
    (void)vprof_symbol(p, "init_task", &v);
    (void)vprof_percpu(p, "current_task", &v);
    (void)vprof_struct_size(p, "task_struct", &v);
    (void)vprof_member(p, "task_struct", "comm", &m);
    (void)vprof_release(p);
    for (size_t i = 0; vprof_note(p, i) != NULL; i++)
        ;
    struct vprof_diag d;
    char *json = vprof_to_json(p, &d);
    if (json == NULL)
        return;
    /* A profile we wrote must load again. */
    struct vprof *q = NULL;
    if (vprof_load_json(&q, json, strlen(json), &d) != 0)
        abort();
    vprof_free(q);
    free(json);
}

static void fuzz_image(const uint8_t *data, size_t size)
{
    struct vprof_diag d;
    struct vprof_kimage *img = NULL;
    if (vprof_kimage_open(&img, data, size, FUZZ_MAX_VMLINUX, &d) != 0)
        return;
    const struct vprof_btf *btf;
    const struct vprof_ksyms *ks;
    if (vprof_kimage_btf(img, &btf, &d) == 0)
        poke_btf(btf);
    if (vprof_kimage_ksyms(img, &ks, &d) == 0) {
        poke_ksyms(ks);
        struct vprof_ksym s;
        char buf[64];
        if (vprof_ksyms_lookup(ks, "linux_banner", &s) == 0)
            (void)vprof_kimage_string(img, s.addr, buf, sizeof buf);
    }
    struct vprof *p = NULL;
    if (vprof_build(&p, img, &d) == 0) {
        poke_profile(p);
        vprof_free(p);
    }
    vprof_kimage_free(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    data++;
    size--;
    /* Copy so that reads past the end are caught by ASan exactly. */
    uint8_t *copy = malloc(size > 0 ? size : 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    struct vprof_diag d;
    switch (sel % 4) {
    case 0:
        fuzz_image(copy, size);
        break;
    case 1: {
        struct vprof_btf *btf = NULL;
        if (vprof_btf_parse(&btf, copy, size, &d) == 0) {
            poke_btf(btf);
            vprof_btf_free(btf);
        }
        break;
    }
    case 2: {
        struct vprof_ksyms *ks = NULL;
        /* The VA only matters modulo 8 (table alignment). */
        uint64_t va = 0xffffffff82000000ull + (sel >> 2) % 8;
        if (vprof_ksyms_scan(&ks, copy, size, va, &d) == 0) {
            poke_ksyms(ks);
            vprof_ksyms_free(ks);
        }
        break;
    }
    default: {
        struct vprof *p = NULL;
        if (vprof_load_json(&p, (const char *)copy, size, &d) == 0) {
            poke_profile(p);
            vprof_free(p);
        }
        break;
    }
    }
    free(copy);
    return 0;
}
