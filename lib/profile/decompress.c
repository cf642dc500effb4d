/* Decompression of bzImage payloads.
 *
 * The kernel build compresses vmlinux.bin and appends its size as a 32-bit
 * little-endian trailer (for gzip that is the format's own ISIZE field).
 * The trailer (at most the caller's limit) bounds the output buffer, which
 * grows as output arrives; a stream that wants to write more, or ends short
 * of it, is corrupt, and one whose first bytes are not ELF is refused
 * there. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "profile/internal.h"

#define LZ4_LEGACY_MAGIC 0x184C2102u
/* lz4 -l writes independent blocks of at most 8 MiB of output each. */
#define LZ4_LEGACY_BLOCK ((size_t)8 << 20)

static const struct {
    enum vprof_comp comp;
    const char *name;
    const char *magic;
    size_t len;
} magics[] = {
    {VPROF_COMP_GZIP, "gzip", "\x1f\x8b", 2},
    {VPROF_COMP_XZ, "xz", "\xfd\x37\x7a\x58\x5a\x00", 6},
    {VPROF_COMP_LZ4, "lz4", "\x02\x21\x4c\x18", 4},
    {VPROF_COMP_ZSTD, "zstd", "\x28\xb5\x2f\xfd", 4},
    {VPROF_COMP_BZIP2, "bzip2", "BZh", 3},
    /* .lzma ("lzma alone"): properties byte 0x5d, then the dictionary
     * size; the kernel's is small enough for the top byte to be 0. */
    {VPROF_COMP_LZMA, "lzma", "\x5d\x00\x00", 3},
    {VPROF_COMP_LZO, "lzo", "\x89LZO\0\r\n\x1a\n", 9},
    {VPROF_COMP_LZ4_FRAME, "lz4 frame", "\x04\x22\x4d\x18", 4},
    {VPROF_COMP_NONE, "none", "\x7f\x45\x4c\x46", 4},
};

enum vprof_comp vprof_comp_detect(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++)
        if (len >= magics[i].len && !memcmp(p, magics[i].magic, magics[i].len))
            return magics[i].comp;
    return VPROF_COMP_UNKNOWN;
}

const char *vprof_comp_name(enum vprof_comp c)
{
    for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++)
        if (magics[i].comp == c)
            return magics[i].name;
    return "unknown";
}

/* Output sink: a buffer that grows as output arrives, up to the size the
 * trailer announced (itself bounded by the caller's limit).  Growing rather
 * than allocating the trailer's value at once, and checking the first chunk
 * for an ELF header, keep a small bomb from costing the memory it claims. */
struct sink {
    uint8_t *buf;
    size_t len;       /* bytes produced */
    size_t cap;       /* bytes allocated */
    size_t limit;     /* = trailer value */
    bool checked;     /* the ELF header was seen */
    const char *what; /* the format's name, for messages */
};

#define SINK_FIRST ((size_t)1 << 20)
/* Enough of the output to tell an ELF64 little-endian file. */
#define ELF_HEAD 6

static int too_big(struct vprof_diag *d, const char *what, size_t cap)
{
    return vprof_fail(d, EINVAL,
                      "%s payload decompresses to more than the %zu bytes "
                      "its size trailer announces",
                      what, cap);
}

/* Room for more output: at least @want bytes when the limit allows, else
 * whatever is left before the limit (0: the output is complete). */
static int sink_room(struct sink *s, size_t want, struct vprof_diag *d)
{
    if (s->cap - s->len >= want || s->cap == s->limit)
        return 0;
    size_t n = s->cap ? s->cap : SINK_FIRST;
    while (n - s->len < want && n < s->limit)
        n = n > s->limit / 2 ? s->limit : n * 2;
    if (n > s->limit)
        n = s->limit;
    uint8_t *p = realloc(s->buf, n);
    if (p == NULL)
        return vprof_fail(d, ENOMEM, "out of memory (%zu bytes)", n);
    s->buf = p;
    s->cap = n;
    return 0;
}

/* Once the output starts, it must be the vmlinux ELF: stop at once if not,
 * rather than inflate the rest of a stream that is not a kernel. */
static int sink_check(struct sink *s, bool done, struct vprof_diag *d)
{
    if (s->checked || (s->len < ELF_HEAD && !done))
        return 0;
    s->checked = true;
    if (s->len >= ELF_HEAD &&
        !memcmp(s->buf,
                "\x7f"
                "ELF",
                4) &&
        s->buf[4] == 2 /* ELFCLASS64 */ && s->buf[5] == 1 /* LSB */)
        return 0;
    return vprof_fail(d, EINVAL,
                      "%s payload is not an ELF64 vmlinux: its first bytes "
                      "are %02x %02x %02x %02x",
                      s->what, s->len > 0 ? s->buf[0] : 0,
                      s->len > 1 ? s->buf[1] : 0, s->len > 2 ? s->buf[2] : 0,
                      s->len > 3 ? s->buf[3] : 0);
}

/* The decoders below share one loop shape: make room, decode a step,
 * account the output, check the head; a step that makes no progress means
 * the output is full (too big) or the input ran out (truncated). */
#define STEP ((size_t)4 << 20)

static int inflate_gzip(const uint8_t *in, size_t len, struct sink *s,
                        struct vprof_diag *d)
{
    if (len > UINT_MAX)
        return vprof_fail(d, EFBIG, "gzip payload too large");
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        return vprof_fail(d, ENOMEM, "zlib: cannot initialise");
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    int ret = 0;
    for (;;) {
        if ((ret = sink_room(s, STEP, d)) < 0)
            break;
        size_t room = s->cap - s->len;
        zs.next_out = s->buf + s->len;
        zs.avail_out = (uInt)(room < STEP ? room : STEP);
        uInt before = zs.avail_out;
        int rc = inflate(&zs, Z_NO_FLUSH);
        s->len += before - zs.avail_out;
        if ((ret = sink_check(s, rc == Z_STREAM_END, d)) < 0)
            break;
        if (rc == Z_STREAM_END)
            break;
        if (rc == Z_OK)
            continue;
        if (rc == Z_BUF_ERROR && room == 0)
            ret = too_big(d, "gzip", s->limit);
        else if (rc == Z_BUF_ERROR)
            ret = vprof_fail(d, EINVAL, "gzip payload is truncated");
        else if (rc == Z_MEM_ERROR)
            ret = vprof_fail(d, ENOMEM, "zlib: out of memory");
        else
            ret = vprof_fail(d, EINVAL, "gzip payload is corrupt: %s",
                             zs.msg != NULL ? zs.msg : "inflate failed");
        break;
    }
    inflateEnd(&zs);
    return ret;
}

static int decode_xz(const uint8_t *in, size_t len, struct sink *s,
                     struct vprof_diag *d)
{
    /* The dictionary never needs to exceed the output: bound the decoder's
     * memory by it so a hostile header cannot ask for gigabytes. */
    uint64_t memlimit = (uint64_t)s->limit + ((uint64_t)32 << 20);
    lzma_stream xs = LZMA_STREAM_INIT;
    if (lzma_stream_decoder(&xs, memlimit, 0) != LZMA_OK)
        return vprof_fail(d, ENOMEM, "liblzma: cannot initialise");
    xs.next_in = in;
    xs.avail_in = len;
    int ret = 0;
    for (;;) {
        if ((ret = sink_room(s, STEP, d)) < 0)
            break;
        size_t room = s->cap - s->len;
        xs.next_out = s->buf + s->len;
        xs.avail_out = room < STEP ? room : STEP;
        size_t before = xs.avail_out, in_before = xs.avail_in;
        lzma_ret rc = lzma_code(&xs, LZMA_FINISH);
        s->len += before - xs.avail_out;
        if ((ret = sink_check(s, rc == LZMA_STREAM_END, d)) < 0)
            break;
        if (rc == LZMA_STREAM_END)
            break;
        bool moved = before != xs.avail_out || in_before != xs.avail_in;
        if (rc == LZMA_OK && (moved || room > 0))
            continue;
        if ((rc == LZMA_BUF_ERROR || rc == LZMA_OK) && room == 0)
            ret = too_big(d, "xz", s->limit);
        else if (rc == LZMA_BUF_ERROR)
            ret = vprof_fail(d, EINVAL, "xz payload is truncated");
        else if (rc == LZMA_MEM_ERROR)
            ret = vprof_fail(d, ENOMEM, "liblzma: out of memory");
        else if (rc == LZMA_MEMLIMIT_ERROR)
            ret = vprof_fail(d, EINVAL,
                             "xz payload asks for more decoder memory than "
                             "its output size justifies");
        else
            ret = vprof_fail(d, EINVAL, "xz payload is corrupt (liblzma %d)",
                             (int)rc);
        break;
    }
    lzma_end(&xs);
    return ret;
}

static int decode_zstd(const uint8_t *in, size_t len, struct sink *s,
                       struct vprof_diag *d)
{
    /* Streaming: the window libzstd allocates is bounded by its default
     * window limit (128 MiB, what the kernel's zstd -22 uses) and by the
     * frame's content size. */
    ZSTD_DCtx *z = ZSTD_createDCtx();
    if (z == NULL)
        return vprof_fail(d, ENOMEM, "libzstd: cannot initialise");
    ZSTD_inBuffer ib = {.src = in, .size = len, .pos = 0};
    int ret = 0;
    for (;;) {
        if ((ret = sink_room(s, STEP, d)) < 0)
            break;
        size_t room = s->cap - s->len;
        ZSTD_outBuffer ob = {.dst = s->buf + s->len,
                             .size = room < STEP ? room : STEP,
                             .pos = 0};
        size_t in_before = ib.pos;
        size_t rc = ZSTD_decompressStream(z, &ob, &ib);
        s->len += ob.pos;
        if (ZSTD_isError(rc)) {
            ret = vprof_fail(d, EINVAL, "zstd payload is corrupt: %s",
                             ZSTD_getErrorName(rc));
            break;
        }
        bool end = rc == 0 && ib.pos == ib.size;
        if ((ret = sink_check(s, end, d)) < 0 || end)
            break;
        if (ob.pos > 0 || ib.pos > in_before)
            continue;
        if (room == 0)
            ret = too_big(d, "zstd", s->limit);
        else
            ret = vprof_fail(d, EINVAL, "zstd payload is truncated");
        break;
    }
    ZSTD_freeDCtx(z);
    return ret;
}

static int decode_lz4_legacy(const uint8_t *in, size_t len, struct sink *s,
                             struct vprof_diag *d)
{
    size_t pos = 4; /* magic, checked by the caller */
    size_t max_block = (size_t)LZ4_compressBound((int)LZ4_LEGACY_BLOCK);
    while (pos < len) {
        if (len - pos < 4)
            return vprof_fail(d, EINVAL,
                              "lz4 payload is truncated in a block header");
        uint32_t csize = le32(in + pos);
        pos += 4;
        if (csize == LZ4_LEGACY_MAGIC) /* concatenated streams */
            continue;
        if (csize == 0 || csize > max_block)
            return vprof_fail(d, EINVAL,
                              "lz4 payload is corrupt: block of %u bytes at "
                              "payload offset %zu",
                              csize, pos - 4);
        if (csize > len - pos)
            return vprof_fail(d, EINVAL, "lz4 payload is truncated");
        int rc = sink_room(s, LZ4_LEGACY_BLOCK, d);
        if (rc < 0)
            return rc;
        size_t room = s->cap - s->len;
        if (room == 0)
            return too_big(d, "lz4", s->limit);
        if (room > LZ4_LEGACY_BLOCK)
            room = LZ4_LEGACY_BLOCK;
        int n =
            LZ4_decompress_safe((const char *)in + pos, (char *)s->buf + s->len,
                                (int)csize, (int)room);
        if (n < 0)
            return vprof_fail(d, EINVAL,
                              "lz4 payload is corrupt (or longer than its "
                              "size trailer) in the block at offset %zu",
                              pos - 4);
        s->len += (size_t)n;
        pos += csize;
        if ((rc = sink_check(s, pos >= len, d)) < 0)
            return rc;
    }
    return sink_check(s, true, d);
}

int vprof_decompress(enum vprof_comp c, const uint8_t *in, size_t len,
                     size_t max, uint8_t **out, size_t *out_len,
                     struct vprof_diag *d)
{
    const char *name = vprof_comp_name(c);
    switch (c) {
    case VPROF_COMP_GZIP:
    case VPROF_COMP_XZ:
    case VPROF_COMP_LZ4:
    case VPROF_COMP_ZSTD:
    case VPROF_COMP_NONE:
        break;
    case VPROF_COMP_BZIP2:
    case VPROF_COMP_LZMA:
    case VPROF_COMP_LZO:
    case VPROF_COMP_LZ4_FRAME:
        return vprof_fail(d, ENOTSUP,
                          "kernel payload is %s-compressed, which is not "
                          "supported (gzip, xz, zstd and lz4 are)",
                          name);
    default:
        return vprof_fail(d, EINVAL,
                          "kernel payload has an unknown compression format "
                          "(magic %02x %02x %02x %02x)",
                          len > 0 ? in[0] : 0, len > 1 ? in[1] : 0,
                          len > 2 ? in[2] : 0, len > 3 ? in[3] : 0);
    }
    if (c == VPROF_COMP_NONE) {
        /* Drop the size trailer if there is one. */
        if (len >= 8 && le32(in + len - 4) == len - 4)
            len -= 4;
        if (len > max)
            return vprof_fail(d, EFBIG, "vmlinux larger than %zu bytes", max);
        uint8_t *copy = malloc(len);
        if (copy == NULL)
            return vprof_fail(d, ENOMEM, "out of memory (%zu bytes)", len);
        memcpy(copy, in, len);
        *out = copy;
        *out_len = len;
        return 0;
    }
    if (len < 8)
        return vprof_fail(d, EINVAL, "%s payload is truncated", name);
    size_t expect = le32(in + len - 4);
    if (expect < 64)
        return vprof_fail(d, EINVAL,
                          "payload size trailer says %zu bytes: not a kernel",
                          expect);
    if (expect > max)
        return vprof_fail(d, EFBIG,
                          "payload decompresses to %zu bytes, over the limit "
                          "of %zu",
                          expect, max);
    struct sink s = {.limit = expect, .what = name};
    int rc;
    switch (c) {
    case VPROF_COMP_GZIP: /* the trailer is gzip's own ISIZE field */
        rc = inflate_gzip(in, len, &s, d);
        break;
    case VPROF_COMP_XZ:
        rc = decode_xz(in, len - 4, &s, d);
        break;
    case VPROF_COMP_ZSTD:
        rc = decode_zstd(in, len - 4, &s, d);
        break;
    default:
        rc = decode_lz4_legacy(in, len - 4, &s, d);
        break;
    }
    if (rc == 0 && s.len != expect)
        rc = vprof_fail(d, EINVAL,
                        "%s payload decompressed to %zu bytes, but its size "
                        "trailer says %zu (truncated or corrupt)",
                        name, s.len, expect);
    if (rc < 0) {
        free(s.buf);
        return rc;
    }
    if (s.cap > s.len) { /* give back what the last growth overshot */
        uint8_t *p = realloc(s.buf, s.len);
        if (p != NULL)
            s.buf = p;
    }
    *out = s.buf;
    *out_len = s.len;
    return 0;
}
