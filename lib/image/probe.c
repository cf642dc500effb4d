/* vimg_probe (vigil/image.h): the first sectors of a raw disk image. */
#include "vigil/image.h"
#include "vigil/le.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define SECTOR      512u
#define GPT_ENTRIES 128u

struct probe {
    vimg_read_fn rd;
    void *ctx;
    uint64_t size;
    struct vimg_layout *out;
    char *err;
    size_t errlen;
};

/* Read exactly @len bytes at @off: 0, 1 when the image ends first, -1. */
static int read_at(struct probe *p, void *buf, size_t len, uint64_t off)
{
    if (off > p->size || len > p->size - off)
        return 1;
    ssize_t n = p->rd(p->ctx, buf, len, off);
    if (n < 0)
        return -1;
    return (size_t)n == len ? 0 : 1;
}

/* The size of the ext2/3/4 file system at @off (from its superblock:
 * s_blocks_count, with its high half under the 64bit feature, times the
 * block size 1024 << s_log_block_size), or 0 if there is none. */
static int ext_size(struct probe *p, uint64_t off, uint64_t *size)
{
    unsigned char sb[1024];
    *size = 0;
    int r = read_at(p, sb, sizeof sb, off + 1024);
    if (r != 0)
        return r < 0 ? -EIO : 0;
    if (sb[0x38] != 0x53 || sb[0x39] != 0xef)
        return 0;
    uint64_t blocks = le32(sb + 0x04);
    if (le32(sb + 0x60) & 0x80)
        blocks |= (uint64_t)le32(sb + 0x150) << 32;
    uint32_t log = le32(sb + 0x18);
    if (log > 6 || blocks == 0 || blocks >> 40)
        return 0; /* not a block size or count ext4 makes */
    *size = blocks << (10 + log);
    return 0;
}

static int fail(struct probe *p, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct probe *p, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, p->errlen, fmt, ap);
    va_end(ap);
    return err;
}

/* Partition @part spans @len bytes at @off: keep its file system if it
 * holds one. */
static int add_part(struct probe *p, unsigned part, uint64_t off, uint64_t len)
{
    if (off > p->size || len > p->size - off)
        return fail(p, -EFBIG,
                    "truncated: partition %u ends at byte %llu, the file "
                    "has %llu",
                    part, (unsigned long long)(off + len),
                    (unsigned long long)p->size);
    uint64_t fs;
    int r = ext_size(p, off, &fs);
    if (r < 0)
        return fail(p, r, "cannot read partition %u", part);
    if (fs == 0 || p->out->nfs == VIMG_FS_MAX)
        return 0;
    if (fs > len)
        return fail(p, -EFBIG,
                    "partition %u: its file system spans %llu bytes, the "
                    "partition %llu",
                    part, (unsigned long long)fs, (unsigned long long)len);
    p->out->fs[p->out->nfs++] =
        (struct vimg_fs){.offset = off, .size = fs, .part = part};
    return 0;
}

static int probe_mbr(struct probe *p, const unsigned char *mbr)
{
    p->out->table = VIMG_MBR;
    for (unsigned i = 0; i < 4; i++) {
        const unsigned char *e = mbr + 446 + 16 * i;
        uint8_t type = e[4];
        uint64_t lba = le32(e + 8), n = le32(e + 12);
        /* Empty, or extended (its logical partitions are not followed). */
        if (type == 0 || type == 0x05 || type == 0x0f || type == 0x85 || n == 0)
            continue;
        int r = add_part(p, i + 1, lba * SECTOR, n * SECTOR);
        if (r < 0)
            return r;
    }
    return 0;
}

static int probe_gpt(struct probe *p)
{
    unsigned char h[92];
    p->out->table = VIMG_GPT;
    if (read_at(p, h, sizeof h, SECTOR) != 0 || memcmp(h, "EFI PART", 8))
        return fail(p, -EINVAL, "a protective MBR without a GPT header");
    uint64_t lba = le64(h + 0x48);
    uint32_t n = le32(h + 0x50), esz = le32(h + 0x54);
    if (esz < 128 || esz > 4096 || esz % 8 || lba == 0 || lba >> 40)
        return fail(p, -EINVAL,
                    "a GPT header with entries of %u bytes at "
                    "sector %llu",
                    esz, (unsigned long long)lba);
    if (n > GPT_ENTRIES)
        n = GPT_ENTRIES;
    static const unsigned char unused[16];
    for (uint32_t i = 0; i < n; i++) {
        unsigned char e[128];
        int r = read_at(p, e, sizeof e, lba * SECTOR + (uint64_t)i * esz);
        if (r != 0)
            return fail(p, r < 0 ? -EIO : -EFBIG,
                        "truncated: the GPT's entry %u is past the end", i);
        uint64_t first = le64(e + 32), last = le64(e + 40);
        if (!memcmp(e, unused, 16))
            continue;
        if (last < first || last >> 48)
            return fail(p, -EINVAL, "GPT entry %u: sectors %llu..%llu", i + 1,
                        (unsigned long long)first, (unsigned long long)last);
        r = add_part(p, i + 1, first * SECTOR, (last - first + 1) * SECTOR);
        if (r < 0)
            return r;
    }
    return 0;
}

int vimg_probe(vimg_read_fn rd, void *ctx, uint64_t size,
               struct vimg_layout *out, char *err, size_t errlen)
{
    struct probe p = {rd, ctx, size, out, err, errlen};
    unsigned char b[SECTOR];
    *out = (struct vimg_layout){.table = VIMG_WHOLE, .nfs = 0};
    if (errlen)
        err[0] = '\0';
    int r = read_at(&p, b, sizeof b, 0);
    if (r != 0)
        return fail(&p, r < 0 ? -EIO : -EINVAL,
                    "too small for a disk image (%llu bytes)",
                    (unsigned long long)size);
    if (!memcmp(b, "QFI\xfb", 4))
        return fail(&p, -ENOTSUP,
                    "a qcow2 header where a raw disk was expected");
    uint64_t fs;
    if ((r = ext_size(&p, 0, &fs)) < 0)
        return fail(&p, r, "cannot read its superblock");
    if (fs > size)
        return fail(&p, -EFBIG,
                    "truncated: its file system spans %llu bytes, the file "
                    "has %llu",
                    (unsigned long long)fs, (unsigned long long)size);
    if (fs > 0) {
        out->fs[out->nfs++] = (struct vimg_fs){.offset = 0, .size = fs};
        return 0;
    }
    if (b[510] != 0x55 || b[511] != 0xaa)
        return fail(&p, -EINVAL,
                    "neither a raw ext2/3/4 file system (no superblock at "
                    "offset 1024) nor a partitioned disk (no partition "
                    "table)");
    bool gpt = false;
    for (unsigned i = 0; i < 4; i++)
        gpt |= b[446 + 16 * i + 4] == 0xee;
    r = gpt ? probe_gpt(&p) : probe_mbr(&p, b);
    if (r == 0 && out->nfs == 0)
        r = fail(&p, -ENOENT, "no ext2/3/4 file system in its %s partitions",
                 gpt ? "GPT" : "MBR");
    return r;
}
