/* Unit test of lib/profile against the real Debian kernels that `make check`
 * downloads (build/guest/vmlinuz and build/guest/trixie/vmlinuz). Checks
 * facts that hold for any x86-64 kernel, and cross-checks the recovered
 * kallsyms against the kernel's independent export table (__ksymtab).
 * Exit: 0 pass, 1 fail, 77 skip (a kernel is missing). Run from the repo
 * root. */
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

static void *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (cap - n < 65536) {
            char *nb = realloc(buf, cap + (cap > 0 ? cap : 1 << 20));
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
            cap += cap > 0 ? cap : 1 << 20;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t sym(const struct vprof_ksyms *ks, const char *name)
{
    struct vprof_ksym s;
    return vprof_ksyms_lookup(ks, name, &s) == 0 ? s.addr : 0;
}

/* Is @va within ELF section @name? */
static bool in_section(const struct vprof_kimage *img, const char *name,
                       uint64_t va)
{
    uint64_t a, sz;
    return vprof_kimage_section(img, name, &a, &sz) == 0 && va >= a &&
           va - a < sz;
}

static void test_btf(const struct vprof_btf *btf, const char *tag)
{
    struct vprof_diag d;
    uint64_t ts = 0;
    bool ok = vprof_btf_struct_size(btf, "task_struct", &ts, &d) == 0;
    CHECK(ok && ts > 0, "%s: sizeof(task_struct) = %" PRIu64, tag, ts);
    static const char *const members[] = {
        "pid",    "tgid",  "comm",  "mm",           "real_parent",
        "parent", "files", "tasks", "group_leader", "signal"};
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
        struct vprof_btf_member m = {0};
        int rc = vprof_btf_member(btf, "task_struct", members[i], &m, &d);
        CHECK(rc == 0 && m.bit_offset % 8 == 0 &&
                  m.bit_offset / 8 + m.size <= ts,
              "%s: task_struct.%s at %" PRIu64 " (size %" PRIu64
              ") lies inside task_struct",
              tag, members[i], m.bit_offset / 8, m.size);
    }
    struct vprof_btf_member comm = {0}, pid = {0};
    ok = vprof_btf_member(btf, "task_struct", "comm", &comm, &d) == 0;
    CHECK(
        ok && comm.size == 16,
        "%s: task_struct.comm is TASK_COMM_LEN (16) bytes, at offset %" PRIu64,
        tag, comm.bit_offset / 8);
    CHECK(vprof_btf_member(btf, "task_struct", "pid", &pid, &d) == 0 &&
              pid.size == 4,
          "%s: task_struct.pid is a 4-byte pid_t", tag);

    /* x86-64 pt_regs is fixed by the entry code: r15 first, ss last. */
    struct vprof_btf_member r15, ss;
    uint64_t prs;
    CHECK(vprof_btf_struct_size(btf, "pt_regs", &prs, &d) == 0 && prs == 21 * 8,
          "%s: pt_regs holds 21 8-byte slots", tag);
    CHECK(vprof_btf_member(btf, "pt_regs", "r15", &r15, &d) == 0 &&
              r15.bit_offset == 0 &&
              vprof_btf_member(btf, "pt_regs", "ss", &ss, &d) == 0 &&
              ss.bit_offset / 8 == 20 * 8,
          "%s: pt_regs.r15 at 0 and pt_regs.ss at 160", tag);

    /* Members inside anonymous structs/unions: qstr's hash and len share
     * a u64 (hash_len) with hash in the low half on little-endian. */
    struct vprof_btf_member len, hash_len;
    CHECK(vprof_btf_member(btf, "qstr", "len", &len, &d) == 0 &&
              len.bit_offset == 32 && len.size == 4 &&
              vprof_btf_member(btf, "qstr", "hash_len", &hash_len, &d) == 0 &&
              hash_len.bit_offset == 0 && hash_len.size == 8,
          "%s: qstr.len found through anonymous union+struct at byte 4", tag);
    /* A dotted path through a named member. */
    struct vprof_btf_member fam, fam2, common;
    CHECK(vprof_btf_member(btf, "sock", "__sk_common.skc_family", &fam, &d) ==
                  0 &&
              vprof_btf_member(btf, "sock", "__sk_common", &common, &d) == 0 &&
              vprof_btf_member(btf, "sock_common", "skc_family", &fam2, &d) ==
                  0 &&
              fam.bit_offset == common.bit_offset + fam2.bit_offset,
          "%s: sock.__sk_common.skc_family = __sk_common + skc_family", tag);
    /* Negative lookups. */
    struct vprof_btf_member m;
    CHECK(vprof_btf_member(btf, "task_struct", "no_such_member", &m, &d) ==
                  -ENOENT &&
              strstr(d.msg, "no_such_member") != NULL,
          "%s: unknown member -> -ENOENT with message", tag);
    CHECK(vprof_btf_member(btf, "no_such_struct_xyz", "x", &m, &d) == -ENOENT,
          "%s: unknown struct -> -ENOENT", tag);
    CHECK(vprof_btf_member(btf, "task_struct", "comm..x", &m, &d) == -EINVAL,
          "%s: malformed path -> -EINVAL", tag);
}

/* Every symbol exported through __ksymtab*: struct kernel_symbol holds
 * 32-bit offsets relative to its own fields (PREL32 relocations, used by
 * x86-64): value_offset, name_offset, namespace_offset. */
static void test_ksymtab(struct vprof_kimage *img, const struct vprof_ksyms *ks,
                         const char *tag)
{
    static const char *const secs[] = {"__ksymtab", "__ksymtab_gpl"};
    size_t total = 0, agree = 0, absent = 0;
    char first_bad[400] = "";
    for (size_t s = 0; s < 2; s++) {
        uint64_t a, sz;
        if (vprof_kimage_section(img, secs[s], &a, &sz) < 0)
            continue;
        for (uint64_t e = a; e + 12 <= a + sz; e += 12) {
            int32_t f[2];
            char name[256];
            if (vprof_kimage_read(img, e, f, sizeof f) < 0 ||
                vprof_kimage_string(img, e + 4 + (int64_t)f[1], name,
                                    sizeof name) < 0)
                continue;
            uint64_t value = e + (uint64_t)(int64_t)f[0];
            total++;
            struct vprof_ksym k;
            if (vprof_ksyms_lookup(ks, name, &k) < 0) {
                absent++;
                if (first_bad[0] == '\0')
                    snprintf(first_bad, sizeof first_bad, "%s absent", name);
            } else if (k.addr == value) {
                agree++;
            } else if (first_bad[0] == '\0') {
                snprintf(first_bad, sizeof first_bad,
                         "%s: kallsyms %" PRIx64 " ksymtab %" PRIx64, name,
                         k.addr, value);
            }
        }
    }
    CHECK(total > 1000 && agree == total,
          "%s: %zu/%zu exported symbols (__ksymtab) agree with kallsyms "
          "(%zu absent)%s%s",
          tag, agree, total, absent, first_bad[0] ? "; first mismatch: " : "",
          first_bad);
}

static void test_ksyms(struct vprof_kimage *img, const struct vprof_ksyms *ks,
                       const char *tag)
{
    size_t n = vprof_ksyms_count(ks);
    CHECK(n > 10000, "%s: %zu kallsyms symbols", tag, n);
    bool sorted = true, printable = true, typed = true;
    uint64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        struct vprof_ksym s;
        if (vprof_ksyms_get(ks, i, &s) < 0) {
            sorted = false;
            break;
        }
        sorted = sorted && s.addr >= prev;
        prev = s.addr;
        typed = typed && strchr("AaBbDdRrTtVvWw?", s.type) != NULL &&
                s.type != '\0';
        printable = printable && s.name[0] != '\0';
        for (const char *c = s.name; *c; c++)
            printable = printable && *c > 0x20 && *c < 0x7f;
    }
    CHECK(sorted, "%s: symbols sorted by address", tag);
    CHECK(printable, "%s: symbol names printable and non-empty", tag);
    CHECK(typed, "%s: symbol types are nm letters", tag);

    uint64_t text = sym(ks, "_text"), etext = sym(ks, "_etext");
    uint64_t end = sym(ks, "_end"), tsec, tsz;
    CHECK(vprof_kimage_section(img, ".text", &tsec, &tsz) == 0 && text == tsec,
          "%s: _text (%" PRIx64 ") is the start of .text", tag, text);
    uint64_t e64 = sym(ks, "entry_SYSCALL_64");
    CHECK(e64 >= text && e64 < etext && in_section(img, ".text", e64),
          "%s: entry_SYSCALL_64 (%" PRIx64 ") in [_text, _etext) and .text",
          tag, e64);
    uint64_t it = sym(ks, "init_task");
    CHECK(it > etext && it < end && in_section(img, ".data", it),
          "%s: init_task (%" PRIx64 ") in .data, within [_etext, _end)", tag,
          it);
    uint64_t sct = sym(ks, "sys_call_table"), x64 = sym(ks, "x64_sys_call");
    CHECK(sct != 0 || x64 != 0,
          "%s: sys_call_table (%" PRIx64 ") or x64_sys_call (%" PRIx64
          ") present",
          tag, sct, x64);
    CHECK(x64 == 0 || in_section(img, ".text", x64), "%s: x64_sys_call is code",
          tag);
    uint64_t pco = sym(ks, "__per_cpu_offset");
    CHECK(pco > etext && pco < end, "%s: __per_cpu_offset is data", tag);
    uint64_t pa, psz = 0, ct = sym(ks, "current_task");
    uint64_t hot = sym(ks, "pcpu_hot");
    bool have = vprof_kimage_section(img, ".data..percpu", &pa, &psz) == 0;
    CHECK(have && (ct != 0 || hot != 0) && ct < psz && hot < psz,
          "%s: current_task (%" PRIx64 ") or pcpu_hot (%" PRIx64
          ") inside the per-CPU area (%" PRIx64 " bytes)",
          tag, ct, hot, psz);
    struct vprof_ksym none;
    CHECK(vprof_ksyms_lookup(ks, "no_such_symbol_xyz", &none) == -ENOENT,
          "%s: unknown symbol -> -ENOENT", tag);
    test_ksymtab(img, ks, tag);
}

static void test_profile(struct vprof_kimage *img, const char *release,
                         const char *tag)
{
    struct vprof_diag d = {.msg = ""};
    struct vprof *p = NULL;
    int rc = vprof_build(&p, img, &d);
    CHECK(rc == 0, "%s: profile builds (%s)", tag, d.msg);
    if (rc < 0)
        return;
    const char *banner = vprof_banner(p);
    char want[300];
    snprintf(want, sizeof want, "Linux version %s ", release);
    CHECK(banner != NULL && !strncmp(banner, want, strlen(want)),
          "%s: banner starts with \"%s\"", tag, want);
    CHECK(!strcmp(vprof_release(p), release),
          "%s: release \"%s\" from linux_banner", tag, vprof_release(p));

    uint64_t off, hot, ct, tsz = 0;
    struct vprof_member m = {0};
    off = 0;
    bool ok = vprof_percpu(p, "current_task", &off) == 0;
    CHECK(ok && ((vprof_symbol(p, "current_task", &ct) == 0 && off == ct) ||
                 (vprof_symbol(p, "pcpu_hot", &hot) == 0 &&
                  vprof_member(p, "pcpu_hot", "current_task", &m) == 0 &&
                  off == hot + m.offset)),
          "%s: per-CPU current_task = 0x%" PRIx64
          " (current_task or pcpu_hot + offsetof)",
          tag, off);
    ok = vprof_struct_size(p, "task_struct", &tsz) == 0 &&
         vprof_member(p, "task_struct", "comm", &m) == 0;
    CHECK(ok && m.offset + m.size <= tsz,
          "%s: profile task_struct.comm at %" PRIu64 " < sizeof %" PRIu64, tag,
          m.offset, tsz);
    bool tg = vprof_member(p, "task_struct", "thread_group", &m) == 0;
    bool tn = vprof_member(p, "task_struct", "thread_node", &m) == 0;
    CHECK(tg || tn, "%s: thread links: thread_group %s, thread_node %s", tag,
          tg ? "yes" : "no", tn ? "yes" : "no");

    /* --callers walks the maple tree (plugin/vma.c): 16 slots and 15
     * pivots per range node, 10 and 9 per allocation-range node, in a
     * 256-byte node; the VMA's members inside the struct. */
    struct vprof_member rp = {0}, rs = {0}, ap = {0}, as = {0}, vs = {0};
    uint64_t nsz = 0, vsz = 0;
    ok = vprof_member(p, "maple_range_64", "pivot", &rp) == 0 &&
         vprof_member(p, "maple_range_64", "slot", &rs) == 0 &&
         vprof_member(p, "maple_arange_64", "pivot", &ap) == 0 &&
         vprof_member(p, "maple_arange_64", "slot", &as) == 0 &&
         vprof_struct_size(p, "maple_node", &nsz) == 0;
    CHECK(ok && rs.size == 16 * 8 && rp.size == 15 * 8 && as.size == 10 * 8 &&
              ap.size == 9 * 8 && nsz == 256 && rs.offset + rs.size <= nsz &&
              as.offset + as.size <= nsz,
          "%s: maple nodes: range64 %" PRIu64 " slots at %" PRIu64
          ", arange64 %" PRIu64 " slots at %" PRIu64 ", node %" PRIu64,
          tag, rs.size / 8, rs.offset, as.size / 8, as.offset, nsz);
    ok = vprof_member(p, "vm_area_struct", "vm_start", &vs) == 0 &&
         vprof_struct_size(p, "vm_area_struct", &vsz) == 0 &&
         vprof_member(p, "mm_struct", "mm_mt", &m) == 0 &&
         vprof_member(p, "mm_struct", "context.vdso", &m) == 0 && m.size == 8;
    CHECK(ok && vs.offset < vsz,
          "%s: mm_struct.mm_mt, context.vdso, "
          "vm_area_struct.vm_start",
          tag);

    /* Round trip. */
    char *j1 = vprof_to_json(p, &d);
    struct vprof *q = NULL;
    rc = j1 != NULL ? vprof_load_json(&q, j1, strlen(j1), &d) : -1;
    char *j2 = rc == 0 ? vprof_to_json(q, &d) : NULL;
    CHECK(j2 != NULL && !strcmp(j1, j2), "%s: JSON round trip is exact", tag);
    uint64_t a1 = 0, a2 = 1;
    struct vprof_member m1, m2;
    CHECK(q != NULL && vprof_symbol(p, "init_task", &a1) == 0 &&
              vprof_symbol(q, "init_task", &a2) == 0 && a1 == a2 &&
              vprof_member(q, "sock", "__sk_common.skc_dport", &m2) == 0 &&
              vprof_member(p, "sock", "__sk_common.skc_dport", &m1) == 0 &&
              m1.offset == m2.offset && m1.size == m2.size,
          "%s: reloaded profile answers the same queries", tag);
    vprof_free(q);
    free(j2);
    free(j1);
    vprof_free(p);
}

/* Corrupt copies of a real image must fail cleanly. */
static void test_bad_images(const uint8_t *img, size_t len, const char *tag)
{
    struct vprof_diag d = {.msg = ""};
    struct vprof_kimage *k = NULL;
    int rc = vprof_kimage_open(&k, img, 600, 0, &d);
    CHECK(rc == -EINVAL && strstr(d.msg, "truncated") != NULL,
          "%s: 600-byte prefix -> -EINVAL \"%s\"", tag, d.msg);
    rc = vprof_kimage_open(&k, img, len / 2, 0, &d);
    CHECK(rc == -EINVAL, "%s: half image -> -EINVAL \"%s\"", tag, d.msg);

    uint8_t *copy = malloc(len);
    memcpy(copy, img, len);
    for (size_t i = len / 3; i < len / 3 + 4096; i++)
        copy[i] ^= 0x5a;
    rc = vprof_kimage_open(&k, copy, len, 0, &d);
    CHECK(rc < 0, "%s: corrupt payload -> error \"%s\"", tag, d.msg);
    if (rc == 0)
        vprof_kimage_free(k);
    free(copy);

    rc = vprof_kimage_open(&k, img, len, 1 << 20, &d);
    CHECK(rc == -EFBIG, "%s: 1 MiB output bound -> -EFBIG \"%s\"", tag, d.msg);
}

/* Returns 0 tested, 1 missing. */
static int test_kernel(const char *dir)
{
    char path[512], relpath[512];
    snprintf(path, sizeof path, "%s/vmlinuz", dir);
    snprintf(relpath, sizeof relpath, "%s/release", dir);
    size_t len, rlen;
    uint8_t *buf = slurp(path, &len);
    char *release = slurp(relpath, &rlen);
    if (buf == NULL || release == NULL) {
        printf("skip: %s or %s is missing (run make check)\n", path, relpath);
        free(buf);
        free(release);
        return 1;
    }
    release[strcspn(release, "\n")] = '\0';
    const char *tag = release;

    struct vprof_diag d = {.msg = ""};
    struct vprof_kimage *img = NULL;
    double t0 = now();
    int rc = vprof_kimage_open(&img, buf, len, 0, &d);
    CHECK(rc == 0, "%s: %s opens (%s)", tag, path, d.msg);
    if (rc == 0) {
        const char *c = vprof_kimage_compression(img);
        CHECK(!strcmp(c, "gzip") || !strcmp(c, "xz") || !strcmp(c, "zstd") ||
                  !strcmp(c, "lz4"),
              "%s: compression %s, boot protocol %#x", tag, c,
              vprof_kimage_boot_protocol(img));
        const struct vprof_btf *btf;
        const struct vprof_ksyms *ks;
        rc = vprof_kimage_btf(img, &btf, &d);
        CHECK(rc == 0, "%s: .BTF parses (%s)", tag, d.msg);
        if (rc == 0)
            test_btf(btf, tag);
        rc = vprof_kimage_ksyms(img, &ks, &d);
        CHECK(rc == 0, "%s: kallsyms found (%s)", tag, d.msg);
        if (rc == 0) {
            struct vprof_ksyms_layout l;
            vprof_ksyms_layout(ks, &l);
            printf("info: %s: kallsyms order:", tag);
            for (size_t i = 0; i < 9 && l.order[i] != NULL; i++)
                printf(" %s", l.order[i]);
            printf("\n");
            test_ksyms(img, ks, tag);
        }
        test_profile(img, release, tag);
        printf("info: %s: decode + checks took %.2f s\n", tag, now() - t0);
        vprof_kimage_free(img);
    }
    test_bad_images(buf, len, tag);
    free(buf);
    free(release);
    return 0;
}

int main(void)
{
    int missing = 0;
    missing += test_kernel("build/guest");
    missing += test_kernel("build/guest/trixie");
    if (failures > 0) {
        printf("%d check(s) failed\n", failures);
        return 1;
    }
    if (missing > 0) {
        printf("skip: %d kernel(s) missing\n", missing);
        return 77;
    }
    printf("all checks passed\n");
    return 0;
}
