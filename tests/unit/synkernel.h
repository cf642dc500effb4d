/* Synthetic kernel images for test-profile-synthetic.c, built from the
 * format descriptions: BTF, kallsyms tables in each order and encoding,
 * an ELF vmlinux and a bzImage around a compressed payload. */
#ifndef VIGIL_TESTS_SYNKERNEL_H
#define VIGIL_TESTS_SYNKERNEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "vigil/profile.h"

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

#endif
