/* Unit test of lib/profile against the real Debian kernels that `make check`
 * downloads (build/guest/vmlinuz and build/guest/trixie/vmlinuz). Checks
 * facts that hold for any x86-64 kernel, and cross-checks the recovered
 * kallsyms against the kernel's independent export table (__ksymtab).
 * Exit: 0 pass, 1 fail, 77 skip (a kernel is missing). Run from the repo
 * root. */
#undef NDEBUG
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil/profile.h"

static int failures;

static void check(bool ok, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s: ", ok ? "ok" : "NOT OK");
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
    if (!ok)
        failures++;
}

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
    check(ok && ts > 0, "%s: sizeof(task_struct) = %" PRIu64, tag, ts);
    static const char *const members[] = {
        "pid",    "tgid",  "comm",  "mm",           "real_parent",
        "parent", "files", "tasks", "group_leader", "signal"};
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
        struct vprof_btf_member m = {0};
        int rc = vprof_btf_member(btf, "task_struct", members[i], &m, &d);
        check(rc == 0 && m.bit_offset % 8 == 0 &&
                  m.bit_offset / 8 + m.size <= ts,
              "%s: task_struct.%s at %" PRIu64 " (size %" PRIu64
              ") lies inside task_struct",
              tag, members[i], m.bit_offset / 8, m.size);
    }
    struct vprof_btf_member comm = {0}, pid = {0};
    ok = vprof_btf_member(btf, "task_struct", "comm", &comm, &d) == 0;
    check(
        ok && comm.size == 16,
        "%s: task_struct.comm is TASK_COMM_LEN (16) bytes, at offset %" PRIu64,
        tag, comm.bit_offset / 8);
    check(vprof_btf_member(btf, "task_struct", "pid", &pid, &d) == 0 &&
              pid.size == 4,
          "%s: task_struct.pid is a 4-byte pid_t", tag);

    /* x86-64 pt_regs is fixed by the entry code: r15 first, ss last. */
    struct vprof_btf_member r15, ss;
    uint64_t prs;
    check(vprof_btf_struct_size(btf, "pt_regs", &prs, &d) == 0 && prs == 21 * 8,
          "%s: pt_regs holds 21 8-byte slots", tag);
    check(vprof_btf_member(btf, "pt_regs", "r15", &r15, &d) == 0 &&
              r15.bit_offset == 0 &&
              vprof_btf_member(btf, "pt_regs", "ss", &ss, &d) == 0 &&
              ss.bit_offset / 8 == 20 * 8,
          "%s: pt_regs.r15 at 0 and pt_regs.ss at 160", tag);

    /* Members inside anonymous structs/unions: qstr's hash and len share
     * a u64 (hash_len) with hash in the low half on little-endian. */
    struct vprof_btf_member len, hash_len;
    check(vprof_btf_member(btf, "qstr", "len", &len, &d) == 0 &&
              len.bit_offset == 32 && len.size == 4 &&
              vprof_btf_member(btf, "qstr", "hash_len", &hash_len, &d) == 0 &&
              hash_len.bit_offset == 0 && hash_len.size == 8,
          "%s: qstr.len found through anonymous union+struct at byte 4", tag);
    /* A dotted path through a named member. */
    struct vprof_btf_member fam, fam2, common;
    check(vprof_btf_member(btf, "sock", "__sk_common.skc_family", &fam, &d) ==
                  0 &&
              vprof_btf_member(btf, "sock", "__sk_common", &common, &d) == 0 &&
              vprof_btf_member(btf, "sock_common", "skc_family", &fam2, &d) ==
                  0 &&
              fam.bit_offset == common.bit_offset + fam2.bit_offset,
          "%s: sock.__sk_common.skc_family = __sk_common + skc_family", tag);
    /* Negative lookups. */
    struct vprof_btf_member m;
    check(vprof_btf_member(btf, "task_struct", "no_such_member", &m, &d) ==
                  -ENOENT &&
              strstr(d.msg, "no_such_member") != NULL,
          "%s: unknown member -> -ENOENT with message", tag);
    check(vprof_btf_member(btf, "no_such_struct_xyz", "x", &m, &d) == -ENOENT,
          "%s: unknown struct -> -ENOENT", tag);
    check(vprof_btf_member(btf, "task_struct", "comm..x", &m, &d) == -EINVAL,
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
    check(total > 1000 && agree == total,
          "%s: %zu/%zu exported symbols (__ksymtab) agree with kallsyms "
          "(%zu absent)%s%s",
          tag, agree, total, absent, first_bad[0] ? "; first mismatch: " : "",
          first_bad);
}

static void test_ksyms(struct vprof_kimage *img, const struct vprof_ksyms *ks,
                       const char *tag)
{
    size_t n = vprof_ksyms_count(ks);
    check(n > 10000, "%s: %zu kallsyms symbols", tag, n);
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
    check(sorted, "%s: symbols sorted by address", tag);
    check(printable, "%s: symbol names printable and non-empty", tag);
    check(typed, "%s: symbol types are nm letters", tag);

    uint64_t text = sym(ks, "_text"), etext = sym(ks, "_etext");
    uint64_t end = sym(ks, "_end"), tsec, tsz;
    check(vprof_kimage_section(img, ".text", &tsec, &tsz) == 0 && text == tsec,
          "%s: _text (%" PRIx64 ") is the start of .text", tag, text);
    uint64_t e64 = sym(ks, "entry_SYSCALL_64");
    check(e64 >= text && e64 < etext && in_section(img, ".text", e64),
          "%s: entry_SYSCALL_64 (%" PRIx64 ") in [_text, _etext) and .text",
          tag, e64);
    uint64_t it = sym(ks, "init_task");
    check(it > etext && it < end && in_section(img, ".data", it),
          "%s: init_task (%" PRIx64 ") in .data, within [_etext, _end)", tag,
          it);
    uint64_t sct = sym(ks, "sys_call_table"), x64 = sym(ks, "x64_sys_call");
    check(sct != 0 || x64 != 0,
          "%s: sys_call_table (%" PRIx64 ") or x64_sys_call (%" PRIx64
          ") present",
          tag, sct, x64);
    check(x64 == 0 || in_section(img, ".text", x64), "%s: x64_sys_call is code",
          tag);
    uint64_t pco = sym(ks, "__per_cpu_offset");
    check(pco > etext && pco < end, "%s: __per_cpu_offset is data", tag);
    uint64_t pa, psz = 0, ct = sym(ks, "current_task");
    uint64_t hot = sym(ks, "pcpu_hot");
    bool have = vprof_kimage_section(img, ".data..percpu", &pa, &psz) == 0;
    check(have && (ct != 0 || hot != 0) && ct < psz && hot < psz,
          "%s: current_task (%" PRIx64 ") or pcpu_hot (%" PRIx64
          ") inside the per-CPU area (%" PRIx64 " bytes)",
          tag, ct, hot, psz);
    struct vprof_ksym none;
    check(vprof_ksyms_lookup(ks, "no_such_symbol_xyz", &none) == -ENOENT,
          "%s: unknown symbol -> -ENOENT", tag);
    test_ksymtab(img, ks, tag);
}

static void test_profile(struct vprof_kimage *img, const char *release,
                         const char *tag)
{
    struct vprof_diag d = {.msg = ""};
    struct vprof *p = NULL;
    int rc = vprof_build(&p, img, &d);
    check(rc == 0, "%s: profile builds (%s)", tag, d.msg);
    if (rc < 0)
        return;
    const char *banner = vprof_banner(p);
    char want[300];
    snprintf(want, sizeof want, "Linux version %s ", release);
    check(banner != NULL && !strncmp(banner, want, strlen(want)),
          "%s: banner starts with \"%s\"", tag, want);
    check(!strcmp(vprof_release(p), release),
          "%s: release \"%s\" from linux_banner", tag, vprof_release(p));

    uint64_t off, hot, ct, tsz = 0;
    struct vprof_member m = {0};
    off = 0;
    bool ok = vprof_percpu(p, "current_task", &off) == 0;
    check(ok && ((vprof_symbol(p, "current_task", &ct) == 0 && off == ct) ||
                 (vprof_symbol(p, "pcpu_hot", &hot) == 0 &&
                  vprof_member(p, "pcpu_hot", "current_task", &m) == 0 &&
                  off == hot + m.offset)),
          "%s: per-CPU current_task = 0x%" PRIx64
          " (current_task or pcpu_hot + offsetof)",
          tag, off);
    ok = vprof_struct_size(p, "task_struct", &tsz) == 0 &&
         vprof_member(p, "task_struct", "comm", &m) == 0;
    check(ok && m.offset + m.size <= tsz,
          "%s: profile task_struct.comm at %" PRIu64 " < sizeof %" PRIu64, tag,
          m.offset, tsz);
    bool tg = vprof_member(p, "task_struct", "thread_group", &m) == 0;
    bool tn = vprof_member(p, "task_struct", "thread_node", &m) == 0;
    check(tg || tn, "%s: thread links: thread_group %s, thread_node %s", tag,
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
    check(ok && rs.size == 16 * 8 && rp.size == 15 * 8 && as.size == 10 * 8 &&
              ap.size == 9 * 8 && nsz == 256 && rs.offset + rs.size <= nsz &&
              as.offset + as.size <= nsz,
          "%s: maple nodes: range64 %" PRIu64 " slots at %" PRIu64
          ", arange64 %" PRIu64 " slots at %" PRIu64 ", node %" PRIu64,
          tag, rs.size / 8, rs.offset, as.size / 8, as.offset, nsz);
    ok = vprof_member(p, "vm_area_struct", "vm_start", &vs) == 0 &&
         vprof_struct_size(p, "vm_area_struct", &vsz) == 0 &&
         vprof_member(p, "mm_struct", "mm_mt", &m) == 0 &&
         vprof_member(p, "mm_struct", "context.vdso", &m) == 0 && m.size == 8;
    check(ok && vs.offset < vsz,
          "%s: mm_struct.mm_mt, context.vdso, "
          "vm_area_struct.vm_start",
          tag);

    /* Round trip. */
    char *j1 = vprof_to_json(p, &d);
    struct vprof *q = NULL;
    rc = j1 != NULL ? vprof_load_json(&q, j1, strlen(j1), &d) : -1;
    char *j2 = rc == 0 ? vprof_to_json(q, &d) : NULL;
    check(j2 != NULL && !strcmp(j1, j2), "%s: JSON round trip is exact", tag);
    uint64_t a1 = 0, a2 = 1;
    struct vprof_member m1, m2;
    check(q != NULL && vprof_symbol(p, "init_task", &a1) == 0 &&
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
    check(rc == -EINVAL && strstr(d.msg, "truncated") != NULL,
          "%s: 600-byte prefix -> -EINVAL \"%s\"", tag, d.msg);
    rc = vprof_kimage_open(&k, img, len / 2, 0, &d);
    check(rc == -EINVAL, "%s: half image -> -EINVAL \"%s\"", tag, d.msg);

    uint8_t *copy = malloc(len);
    memcpy(copy, img, len);
    for (size_t i = len / 3; i < len / 3 + 4096; i++)
        copy[i] ^= 0x5a;
    rc = vprof_kimage_open(&k, copy, len, 0, &d);
    check(rc < 0, "%s: corrupt payload -> error \"%s\"", tag, d.msg);
    if (rc == 0)
        vprof_kimage_free(k);
    free(copy);

    rc = vprof_kimage_open(&k, img, len, 1 << 20, &d);
    check(rc == -EFBIG, "%s: 1 MiB output bound -> -EFBIG \"%s\"", tag, d.msg);
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
    check(rc == 0, "%s: %s opens (%s)", tag, path, d.msg);
    if (rc == 0) {
        const char *c = vprof_kimage_compression(img);
        check(!strcmp(c, "gzip") || !strcmp(c, "xz") || !strcmp(c, "zstd") ||
                  !strcmp(c, "lz4"),
              "%s: compression %s, boot protocol %#x", tag, c,
              vprof_kimage_boot_protocol(img));
        const struct vprof_btf *btf;
        const struct vprof_ksyms *ks;
        rc = vprof_kimage_btf(img, &btf, &d);
        check(rc == 0, "%s: .BTF parses (%s)", tag, d.msg);
        if (rc == 0)
            test_btf(btf, tag);
        rc = vprof_kimage_ksyms(img, &ks, &d);
        check(rc == 0, "%s: kallsyms found (%s)", tag, d.msg);
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

static void write_seed(const char *name, uint8_t selector, const void *data,
                       size_t len);

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
    check(vprof_load_json(&p, other, sizeof other - 1, &d) == -ENOTSUP,
          "json: other format -> -ENOTSUP (%s)", d.msg);
    check(vprof_load_json(&p, v2, sizeof v2 - 1, &d) == -ENOTSUP,
          "json: version 2 -> -ENOTSUP (%s)", d.msg);
    check(vprof_load_json(&p, "{", 1, &d) == -EINVAL,
          "json: truncated -> -EINVAL (%s)", d.msg);
    check(vprof_load_json(&p, bad_sym, sizeof bad_sym - 1, &d) == -EINVAL,
          "json: symbol without 0x -> -EINVAL (%s)", d.msg);
    write_seed("profile-minimal.json", 3, good, sizeof good - 1);
    d.msg[0] = '\0';
    int rc = vprof_load_json(&p, good, sizeof good - 1, &d);
    check(rc == 0, "json: minimal profile loads (%s)", d.msg);
    if (rc == 0) {
        uint64_t a = 0, o = 0;
        struct vprof_member m;
        check(vprof_symbol(p, "x", &a) == 0 && a == 0xffffffff81000000ull &&
                  vprof_symbol(p, "y", &a) == -ENOENT &&
                  vprof_percpu(p, "current_task", &o) == 0 && o == 8 &&
                  vprof_member(p, "s", "f", &m) == 0 && m.offset == 4 &&
                  vprof_member(p, "s", "g", &m) == -ENOENT,
              "json: queries on a minimal profile");
        vprof_free(p);
    }
}

/* ---- synthetic kernels ---------------------------------------------------
 * Small images built here from the format descriptions, to cover what the
 * two real kernels do not: gzip and xz payloads, the other kallsyms table
 * orders and encodings, bitfields. With VIGIL_WRITE_SEEDS=DIR set, they are
 * also written to DIR as seeds for fuzz/fuzz-profile.c (first byte: which
 * parser the fuzzer feeds). */

struct buf {
    uint8_t *p;
    size_t len, cap;
};

static void put(struct buf *b, const void *data, size_t n)
{
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->len < n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (b->p == NULL)
            abort();
        b->cap = cap;
    }
    if (data != NULL)
        memcpy(b->p + b->len, data, n);
    else
        memset(b->p + b->len, 0, n);
    b->len += n;
}

static void put8(struct buf *b, uint8_t v)
{
    put(b, &v, 1);
}

static void put16(struct buf *b, uint16_t v)
{
    put(b, &v, 2); /* x86-64 only: host order is little-endian */
}

static void put32(struct buf *b, uint32_t v)
{
    put(b, &v, 4);
}

static void put64(struct buf *b, uint64_t v)
{
    put(b, &v, 8);
}

static void pad_to(struct buf *b, size_t align)
{
    while (b->len % align != 0)
        put8(b, 0);
}

/* -- BTF -- */
enum {
    K_INT = 1,
    K_PTR,
    K_ARRAY,
    K_STRUCT,
    K_UNION,
    K_TYPEDEF = 8,
    K_CONST = 10
};

struct btf_gen {
    struct buf types, strs;
};

static uint32_t btf_str(struct btf_gen *g, const char *s)
{
    if (s == NULL || *s == '\0')
        return 0;
    uint32_t off = (uint32_t)g->strs.len;
    put(&g->strs, s, strlen(s) + 1);
    return off;
}

static void btf_type(struct btf_gen *g, const char *name, unsigned kind,
                     unsigned vlen, bool kflag, uint32_t size_or_type)
{
    put32(&g->types, btf_str(g, name));
    put32(&g->types, (uint32_t)kind << 24 | vlen | (kflag ? 1u << 31 : 0));
    put32(&g->types, size_or_type);
}

static void btf_member(struct btf_gen *g, const char *name, uint32_t type,
                       uint32_t off)
{
    put32(&g->types, btf_str(g, name));
    put32(&g->types, type);
    put32(&g->types, off);
}

static void build_btf(struct buf *out)
{
    struct btf_gen g = {{0}, {0}};
    put8(&g.strs, 0);
    btf_type(&g, "long", K_INT, 0, false, 8); /* 1 */
    put32(&g.types, 64);
    btf_type(&g, "int", K_INT, 0, false, 4); /* 2 */
    put32(&g.types, 1u << 24 | 32);
    btf_type(&g, "char", K_INT, 0, false, 1); /* 3 */
    put32(&g.types, 8);
    btf_type(&g, NULL, K_ARRAY, 0, false, 0); /* 4: char[16] */
    put32(&g.types, 3);
    put32(&g.types, 2);
    put32(&g.types, 16);
    btf_type(&g, "task_struct", K_STRUCT, 5, false, 64); /* 5 */
    btf_member(&g, "pid", 11, 0);
    btf_member(&g, "tgid", 2, 32);
    btf_member(&g, "comm", 4, 64);
    btf_member(&g, NULL, 6, 192);
    btf_member(&g, "mm", 7, 320);
    btf_type(&g, NULL, K_UNION, 2, false, 8); /* 6 */
    btf_member(&g, "word", 1, 0);
    btf_member(&g, NULL, 8, 0);
    btf_type(&g, NULL, K_PTR, 0, false, 5);    /* 7 */
    btf_type(&g, NULL, K_STRUCT, 2, false, 8); /* 8 */
    btf_member(&g, "lo", 2, 0);
    btf_member(&g, "hi", 2, 32);
    btf_type(&g, "flags", K_STRUCT, 2, true, 4); /* 9: kind_flag bitfields */
    btf_member(&g, "a", 2, 3u << 24 | 0);
    btf_member(&g, "b", 2, 5u << 24 | 3);
    btf_type(&g, "pid_t", K_TYPEDEF, 0, false, 2);  /* 10 */
    btf_type(&g, NULL, K_CONST, 0, false, 10);      /* 11 */
    btf_type(&g, "oldbits", K_STRUCT, 1, false, 4); /* 12: INT bitfield */
    btf_member(&g, "c", 13, 4);
    btf_type(&g, "u3", K_INT, 0, false, 4); /* 13 */
    put32(&g.types, 3);
    btf_type(&g, "outer", K_STRUCT, 1, false, 72); /* 14: named nesting */
    btf_member(&g, "inner", 5, 64);

    put16(out, 0xeb9f);
    put8(out, 1);
    put8(out, 0);
    put32(out, 24);
    put32(out, 0);
    put32(out, (uint32_t)g.types.len);
    put32(out, (uint32_t)g.types.len);
    put32(out, (uint32_t)g.strs.len);
    put(out, g.types.p, g.types.len);
    put(out, g.strs.p, g.strs.len);
    free(g.types.p);
    free(g.strs.p);
}

/* -- kallsyms -- */
#define SYN_TEXT   0xffffffff81000000ull
#define SYN_RODATA 0xffffffff82000000ull
#define SYN_BTF    0xffffffff82800000ull
#define SYN_DATA   0xffffffff82a00000ull
#define SYN_BANNER "Linux version 0.0.0-synthetic (vigil) #1\n"
#define SYN_NSYMS  300
#define SYN_TABLES 0x400 /* kallsyms tables start here in .rodata */

struct syn_sym {
    char name[200];
    char type;
    uint64_t addr;
};

static int cmp_syn_addr(const void *a, const void *b)
{
    const struct syn_sym *x = a, *y = b;
    return (x->addr > y->addr) - (x->addr < y->addr);
}

static size_t syn_symbols(struct syn_sym *s)
{
    size_t n = 0;
#define ADD(nm, t, a)                                                          \
    do {                                                                       \
        snprintf(s[n].name, sizeof s[n].name, "%s", nm);                       \
        s[n].type = t;                                                         \
        s[n].addr = a;                                                         \
        n++;                                                                   \
    } while (0)
    ADD("__per_cpu_start", 'A', 0);
    ADD("current_task", 'A', 0x1b80);
    ADD("_text", 'T', SYN_TEXT);
    ADD("_stext", 'T', SYN_TEXT);
    ADD("entry_SYSCALL_64", 'T', SYN_TEXT + 0x80);
    ADD("x64_sys_call", 'T', SYN_TEXT + 0x100);
    ADD("_etext", 'T', SYN_TEXT + 0x1000);
    ADD("linux_banner", 'D', SYN_RODATA + 0x40);
    ADD("sys_call_table", 'D', SYN_RODATA + 0x200);
    ADD("__per_cpu_offset", 'D', SYN_RODATA + 0x300);
    ADD("init_task", 'D', SYN_DATA + 0x40);
    ADD("dup_name", 't', SYN_TEXT + 0x180);
    ADD("dup_name", 'T', SYN_TEXT + 0x190);
    ADD("_end", 'B', SYN_DATA + 0x2000);
    char longname[160];
    memset(longname, 'q', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    memcpy(longname, "sym_long_", 9);
    ADD(longname, 't', SYN_TEXT + 0x1f0);
    while (n < SYN_NSYMS) {
        char nm[32];
        snprintf(nm, sizeof nm, "sym_%03zu", n);
        ADD(nm, n % 3 ? 't' : 'T', SYN_TEXT + 0x200 + n * 8);
    }
#undef ADD
    qsort(s, n, sizeof *s, cmp_syn_addr);
    return n;
}

/* Token b: the character b itself for printable ASCII, else a multi-byte
 * token (two are used by the encoder below). */
static void syn_token(unsigned b, char *out)
{
    if (b >= 0x21 && b <= 0x7e)
        snprintf(out, 8, "%c", b);
    else if (b == 1)
        snprintf(out, 8, "sym_");
    else if (b == 2)
        snprintf(out, 8, "entry_");
    else
        snprintf(out, 8, "~%02x", b);
}

static size_t syn_encode(const struct syn_sym *s, uint8_t *out)
{
    char full[sizeof s->name + 1];
    size_t nl = strnlen(s->name, sizeof s->name - 1);
    full[0] = s->type;
    memcpy(full + 1, s->name, nl);
    full[nl + 1] = '\0';
    size_t n = 0;
    for (const char *p = full; *p;) {
        if (!strncmp(p, "sym_", 4)) {
            out[n++] = 1;
            p += 4;
        } else if (!strncmp(p, "entry_", 6)) {
            out[n++] = 2;
            p += 6;
        } else {
            out[n++] = (uint8_t)*p++;
        }
    }
    return n;
}

enum {
    SYN_ORDER_NEW = 1, /* offsets after token_index (6.12-like) */
    SYN_RELATIVE = 2,  /* no absolute per-CPU symbols */
    SYN_SEQS = 4,      /* kallsyms_seqs_of_names */
    SYN_MARKERS64 = 8, /* pointer-sized markers (old kernels) */
};

static const struct syn_sym *seq_base;
static int cmp_seq(const void *a, const void *b)
{
    const uint32_t *x = a, *y = b;
    return strcmp(seq_base[*x].name, seq_base[*y].name);
}

static void syn_offsets(struct buf *b, const struct syn_sym *s, size_t n,
                        unsigned flags)
{
    pad_to(b, 8);
    uint64_t base = flags & SYN_RELATIVE ? s[0].addr : SYN_TEXT;
    for (size_t i = 0; i < n; i++) {
        if (flags & SYN_RELATIVE)
            put32(b, (uint32_t)(s[i].addr - base));
        else if (s[i].type == 'A')
            put32(b, (uint32_t)s[i].addr);
        else
            put32(b, (uint32_t)(int32_t)(int64_t)(base - 1 - s[i].addr));
    }
    pad_to(b, 8);
    put64(b, base);
}

static void syn_names(struct buf *b, const struct syn_sym *s, size_t n,
                      unsigned flags)
{
    pad_to(b, 8);
    put32(b, (uint32_t)n);
    pad_to(b, 8);
    size_t start = b->len;
    uint64_t markers[8];
    for (size_t i = 0; i < n; i++) {
        uint8_t enc[256];
        size_t len = syn_encode(&s[i], enc);
        if (i % 256 == 0)
            markers[i / 256] = b->len - start;
        if (len > 127) {
            put8(b, (uint8_t)(0x80 | (len & 0x7f)));
            put8(b, (uint8_t)(len >> 7));
        } else {
            put8(b, (uint8_t)len);
        }
        put(b, enc, len);
    }
    pad_to(b, 8);
    for (size_t i = 0; i < (n + 255) / 256; i++) {
        if (flags & SYN_MARKERS64)
            put64(b, markers[i]);
        else
            put32(b, (uint32_t)markers[i]);
    }
    if (flags & SYN_SEQS && !(flags & SYN_ORDER_NEW)) {
        uint32_t idx[SYN_NSYMS];
        for (size_t i = 0; i < n; i++)
            idx[i] = (uint32_t)i;
        seq_base = s;
        qsort(idx, n, sizeof idx[0], cmp_seq);
        pad_to(b, 8);
        for (size_t i = 0; i < n; i++) {
            put8(b, (uint8_t)(idx[i] >> 16));
            put8(b, (uint8_t)(idx[i] >> 8));
            put8(b, (uint8_t)idx[i]);
        }
    }
    pad_to(b, 8);
    uint16_t tidx[256];
    size_t tstart = b->len;
    for (unsigned t = 0; t < 256; t++) {
        char tok[8];
        syn_token(t, tok);
        tidx[t] = (uint16_t)(b->len - tstart);
        put(b, tok, strlen(tok) + 1);
    }
    pad_to(b, 8);
    for (unsigned t = 0; t < 256; t++)
        put16(b, tidx[t]);
}

/* The kallsyms tables in layout @flags, appended to @b (8-aligned). */
static void syn_kallsyms(struct buf *b, const struct syn_sym *s, size_t n,
                         unsigned flags)
{
    if (!(flags & SYN_ORDER_NEW))
        syn_offsets(b, s, n, flags);
    syn_names(b, s, n, flags);
    if (flags & SYN_ORDER_NEW) {
        syn_offsets(b, s, n, flags);
        if (flags & SYN_SEQS) {
            uint32_t idx[SYN_NSYMS];
            for (size_t i = 0; i < n; i++)
                idx[i] = (uint32_t)i;
            seq_base = s;
            qsort(idx, n, sizeof idx[0], cmp_seq);
            pad_to(b, 8);
            for (size_t i = 0; i < n; i++) {
                put8(b, (uint8_t)(idx[i] >> 16));
                put8(b, (uint8_t)(idx[i] >> 8));
                put8(b, (uint8_t)idx[i]);
            }
        }
    }
    put(b, "trailing rodata", 16);
}

static void syn_rodata(struct buf *r, const struct syn_sym *s, size_t n,
                       unsigned flags)
{
    put(r, NULL, 0x40);
    put(r, SYN_BANNER, sizeof SYN_BANNER);
    put(r, NULL, SYN_TABLES - r->len);
    syn_kallsyms(r, s, n, flags);
}

/* -- ELF -- */
struct syn_sec {
    const char *name;
    uint32_t type;
    uint64_t flags, addr;
    const struct buf *data; /* NULL: zeros of @size */
    uint64_t size;
};

static void build_elf(struct buf *out, const struct buf *rodata,
                      const struct buf *btf)
{
    struct syn_sec secs[] = {
        {"", 0, 0, 0, NULL, 0},
        {".text", 1, 6, SYN_TEXT, NULL, 0x1000},
        {".rodata", 1, 2, SYN_RODATA, rodata, rodata->len},
        {".BTF", 1, 2, SYN_BTF, btf, btf->len},
        {".data", 1, 3, SYN_DATA, NULL, 0x1000},
        {".data..percpu", 1, 3, 0, NULL, 0x2000},
        {".bss", 8, 3, SYN_DATA + 0x1000, NULL, 0x1000},
        {".shstrtab", 3, 0, 0, NULL, 0},
    };
    size_t nsec = sizeof secs / sizeof secs[0];
    struct buf names = {0};
    uint32_t name_off[8];
    for (size_t i = 0; i < nsec; i++) {
        name_off[i] = (uint32_t)names.len;
        put(&names, secs[i].name, strlen(secs[i].name) + 1);
    }
    secs[nsec - 1].data = &names;
    secs[nsec - 1].size = names.len;

    uint64_t offs[8];
    put(out, NULL, 64);
    for (size_t i = 1; i < nsec; i++) {
        pad_to(out, 64);
        offs[i] = out->len;
        if (secs[i].type == 8)
            continue;
        put(out, secs[i].data ? secs[i].data->p : NULL, secs[i].size);
    }
    pad_to(out, 8);
    uint64_t shoff = out->len;
    for (size_t i = 0; i < nsec; i++) {
        put32(out, name_off[i]);
        put32(out, secs[i].type);
        put64(out, secs[i].flags);
        put64(out, secs[i].addr);
        put64(out, i == 0 ? 0 : offs[i]);
        put64(out, secs[i].size);
        put32(out, 0);
        put32(out, 0);
        put64(out, 1);
        put64(out, 0);
    }
    uint8_t *h = out->p;
    memcpy(h, "\x7f\x45\x4c\x46\x02\x01\x01", 7); /* ELF64, LSB, v1 */
    uint16_t e16[] = {2 /* EXEC */, 62 /* x86-64 */};
    memcpy(h + 16, e16, 4);
    uint32_t ver = 1;
    memcpy(h + 20, &ver, 4);
    memcpy(h + 40, &shoff, 8);
    uint16_t tail[] = {64, 0, 0, 64, (uint16_t)nsec, (uint16_t)(nsec - 1)};
    memcpy(h + 52, tail, sizeof tail);
    free(names.p);
}

/* -- compression and bzImage -- */
#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

static bool compress_as(const char *how, const struct buf *in, struct buf *out)
{
    size_t cap = in->len * 2 + 1024;
    put(out, NULL, cap);
    out->len = 0;
    if (!strcmp(how, "gzip")) {
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        if (deflateInit2(&zs, 9, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY) !=
            Z_OK)
            return false;
        zs.next_in = in->p;
        zs.avail_in = (uInt)in->len;
        zs.next_out = out->p;
        zs.avail_out = (uInt)cap;
        int rc = deflate(&zs, Z_FINISH);
        out->len = cap - zs.avail_out;
        deflateEnd(&zs);
        return rc == Z_STREAM_END; /* ISIZE doubles as the size trailer */
    }
    if (!strcmp(how, "xz")) {
        size_t pos = 0;
        if (lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, in->p, in->len,
                                    out->p, &pos, cap) != LZMA_OK)
            return false;
        out->len = pos;
    } else if (!strcmp(how, "zstd")) {
        size_t n = ZSTD_compress(out->p, cap, in->p, in->len, 19);
        if (ZSTD_isError(n))
            return false;
        out->len = n;
    } else if (!strcmp(how, "lz4")) {
        put32(out, 0x184C2102);
        size_t pos = out->len;
        out->len += 4;
        int n =
            LZ4_compress_default((const char *)in->p, (char *)out->p + out->len,
                                 (int)in->len, (int)(cap - out->len));
        if (n <= 0)
            return false;
        uint32_t n32 = (uint32_t)n;
        memcpy(out->p + pos, &n32, 4);
        out->len += (size_t)n;
    } else {
        put(out, in->p, in->len);
    }
    put32(out, (uint32_t)in->len); /* the build's size trailer */
    return true;
}

static void build_bzimage(struct buf *out, const struct buf *payload)
{
    put(out, NULL, 1024 + 0x100); /* 1 setup sector + boot sector */
    uint8_t *h = out->p;
    h[0x1f1] = 1;
    h[0x1fe] = 0x55;
    h[0x1ff] = 0xaa;
    memcpy(h + 0x202, "HdrS", 4);
    h[0x206] = 0x0f;
    h[0x207] = 0x02;
    uint32_t poff = 0x100, plen = (uint32_t)payload->len;
    memcpy(h + 0x248, &poff, 4);
    memcpy(h + 0x24c, &plen, 4);
    put(out, payload->p, payload->len);
}

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
    check(rc == 0, "synthetic kallsyms (layout %#x) found (%s)", flags, d.msg);
    if (rc == 0) {
        bool same = vprof_ksyms_count(ks) == n;
        for (size_t i = 0; same && i < n; i++) {
            struct vprof_ksym k;
            same = vprof_ksyms_get(ks, i, &k) == 0 && k.addr == s[i].addr &&
                   k.type == s[i].type && !strcmp(k.name, s[i].name);
        }
        check(same, "synthetic kallsyms (layout %#x): all %zu symbols decode",
              flags, n);
        struct vprof_ksyms_layout l;
        vprof_ksyms_layout(ks, &l);
        const char *first =
            flags & SYN_ORDER_NEW ? "kallsyms_num_syms" : "kallsyms_offsets";
        size_t nt = 0;
        bool seqs = false;
        while (nt < 9 && l.order[nt] != NULL)
            seqs |= !strcmp(l.order[nt++], "kallsyms_seqs_of_names");
        check(!strcmp(l.order[0], first) &&
                  nt == (flags & SYN_SEQS ? 8u : 7u) &&
                  seqs == !!(flags & SYN_SEQS) &&
                  l.absolute_percpu == !(flags & SYN_RELATIVE),
              "synthetic kallsyms (layout %#x): order starts with %s, %zu "
              "tables, absolute_percpu %d",
              flags, l.order[0], nt, l.absolute_percpu);
        struct vprof_ksym k;
        check(vprof_ksyms_lookup(ks, "dup_name", &k) == 0 && k.type == 'T',
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
        check(rc == 0 && m.bit_offset == want[i].bit_offset &&
                  m.size == want[i].size && m.bit_size == want[i].bit_size,
              "synthetic BTF: %s.%s at bit %" PRIu64 ", %" PRIu64
              " bytes, %u-bit field",
              want[i].type, want[i].path, want[i].bit_offset, want[i].size,
              want[i].bit_size);
    }
    bool ok = vprof_btf_struct_size(btf, "task_struct", &sz, &d) == 0;
    check(ok && sz == 64, "synthetic BTF: sizeof(task_struct) = 64");
    check(vprof_btf_member(btf, "outer", "inner.nope", &m, &d) == -ENOENT,
          "synthetic BTF: missing nested member -> -ENOENT");
    check(vprof_btf_member(btf, "task_struct", "pid.x", &m, &d) == -EINVAL,
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
    check(rc == 0, "synthetic BTF parses (%s)", d.msg);
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
            check(false, "synthetic: %s compression", comps[i]);
            continue;
        }
        build_bzimage(&bz, &payload);
        struct vprof_kimage *img = NULL;
        d.msg[0] = '\0';
        rc = vprof_kimage_open(&img, bz.p, bz.len, 0, &d);
        check(rc == 0, "synthetic %s bzImage opens (%s)", comps[i], d.msg);
        if (rc == 0) {
            size_t vlen;
            const void *v = vprof_kimage_vmlinux(img, &vlen);
            check(!strcmp(vprof_kimage_compression(img), comps[i]) &&
                      vlen == elf.len && !memcmp(v, elf.p, vlen),
                  "synthetic %s bzImage: compression detected, vmlinux "
                  "restored byte for byte",
                  comps[i]);
            const struct vprof_ksyms *ks;
            struct vprof_ksym k;
            rc = vprof_kimage_ksyms(img, &ks, &d);
            check(rc == 0 && vprof_ksyms_lookup(ks, "init_task", &k) == 0 &&
                      k.addr == SYN_DATA + 0x40,
                  "synthetic %s bzImage: kallsyms via the ELF", comps[i]);
            char banner[128] = "";
            check(rc == 0 && vprof_ksyms_lookup(ks, "linux_banner", &k) == 0 &&
                      vprof_kimage_string(img, k.addr, banner, sizeof banner) ==
                          0 &&
                      !strcmp(banner, SYN_BANNER),
                  "synthetic %s bzImage: banner read through its symbol",
                  comps[i]);
            /* Only a few structs exist: the profile must refuse, politely. */
            struct vprof *p = NULL;
            rc = vprof_build(&p, img, &d);
            check(rc == -ENOENT && d.msg[0] != '\0',
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
            check(false, "%s: compress zeros", comps[i]);
            continue;
        }
        build_bzimage(&bz, &payload);
        int rc = vprof_kimage_open(&img, bz.p, bz.len, 0, &d);
        check(rc == -EINVAL && strstr(d.msg, "not an ELF64 vmlinux"),
              "%s: 6 MiB of zeros stop at the first bytes (%s)", comps[i],
              d.msg);
        vprof_kimage_free(img);
        free(payload.p);
        free(bz.p);
        payload = (struct buf){0};
        bz = (struct buf){0};
        if (!compress_as(comps[i], &elfish, &payload)) {
            check(false, "%s: compress", comps[i]);
            continue;
        }
        /* The trailer (the last 4 bytes) says 1 MiB. */
        uint32_t small = 1u << 20;
        memcpy(payload.p + payload.len - 4, &small, 4);
        build_bzimage(&bz, &payload);
        img = NULL;
        rc = vprof_kimage_open(&img, bz.p, bz.len, 0, &d);
        check(rc < 0 && (strstr(d.msg, "more than the 1048576 bytes") ||
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
    int missing = 0;
    test_json_errors();
    test_synthetic();
    test_not_elf();
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
