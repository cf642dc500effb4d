/* vimg_probe (lib/image/probe.c) on images built in memory: a whole
 * ext2/3/4 file system, MBR and GPT disks with partitions that do and do
 * not hold one, and the broken forms a user may give (truncated, qcow2,
 * random bytes, partitions past the end). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "vigil/image.h"

#define BUF (4u << 20)

static unsigned char img[BUF];

/* The image is img[], then zeros up to the size the test gives. */
static ssize_t rd(void *ctx, void *buf, size_t len, uint64_t off)
{
    (void)ctx;
    memset(buf, 0, len);
    if (off < BUF)
        memcpy(buf, img + off, len < BUF - off ? len : BUF - off);
    return (ssize_t)len;
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

/* An ext4 superblock at @off: @blocks blocks of 4096 bytes. */
static void ext_at(size_t off, uint32_t blocks)
{
    unsigned char *sb = img + off + 1024;
    put32(sb + 0x04, blocks);
    put32(sb + 0x18, 2);
    sb[0x38] = 0x53;
    sb[0x39] = 0xef;
}

static void mbr_entry(int i, uint8_t type, uint32_t lba, uint32_t n)
{
    unsigned char *e = img + 446 + 16 * i;
    e[4] = type;
    put32(e + 8, lba);
    put32(e + 12, n);
    img[510] = 0x55;
    img[511] = 0xaa;
}

static int probe(uint64_t size, struct vimg_layout *l, char *err)
{
    return vimg_probe(rd, NULL, size, l, err, 256);
}

int main(void)
{
    struct vimg_layout l;
    char err[256];
    int r;

    ext_at(0, 256); /* 1 MiB */
    r = probe(1 << 20, &l, err);
    CHECK(r == 0 && l.table == VIMG_WHOLE && l.nfs == 1 &&
              l.fs[0].offset == 0 && l.fs[0].size == 1 << 20 &&
              l.fs[0].part == 0,
          "a whole ext4 file system (%d %s)", r, err);
    r = probe((1 << 20) - 4096, &l, err);
    CHECK(r == -EFBIG && strstr(err, "truncated"), "truncated: %s", err);

    memset(img, 0, BUF);
    memcpy(img, "QFI\xfb", 4);
    r = probe(BUF, &l, err);
    CHECK(r == -ENOTSUP && strstr(err, "qcow2"), "qcow2: %s", err);

    srand(19);
    for (size_t i = 0; i < 65536; i++)
        img[i] = (unsigned char)rand();
    img[510] = 0;
    r = probe(BUF, &l, err);
    CHECK(r == -EINVAL && strstr(err, "neither"), "random bytes: %s", err);
    r = probe(100, &l, err);
    CHECK(r == -EINVAL && strstr(err, "too small"), "100 bytes: %s", err);

    /* MBR: swap first, the root file system in partition 2. */
    memset(img, 0, BUF);
    mbr_entry(0, 0x82, 2048, 2048);
    mbr_entry(1, 0x83, 4096, 2048);
    ext_at(4096 * 512, 256);
    r = probe(BUF, &l, err);
    CHECK(r == 0 && l.table == VIMG_MBR && l.nfs == 1 && l.fs[0].part == 2 &&
              l.fs[0].offset == 4096 * 512,
          "MBR: the ext4 in partition 2 (%d %s)", r, err);
    r = probe(4096 * 512 + 4096, &l, err);
    CHECK(r == -EFBIG && strstr(err, "partition 2 ends"),
          "MBR: partition past the end: %s", err);
    mbr_entry(1, 0x83, 4096, 1024); /* smaller than its file system */
    r = probe(BUF, &l, err);
    CHECK(r == -EFBIG && strstr(err, "partition 2: its file system"),
          "MBR: file system larger than its partition: %s", err);
    mbr_entry(1, 0x05, 4096, 2048);
    r = probe(BUF, &l, err);
    CHECK(r == -ENOENT && strstr(err, "no ext2/3/4"),
          "MBR: only swap and an extended partition: %s", err);

    /* GPT: protective MBR, header at LBA 1, 128 entries at LBA 2; entry 2
     * (an ESP) holds no ext4, entry 3 does. */
    memset(img, 0, BUF);
    mbr_entry(0, 0xee, 1, 0xffffffff);
    memcpy(img + 512, "EFI PART", 8);
    put64(img + 512 + 0x48, 2);
    put32(img + 512 + 0x50, 128);
    put32(img + 512 + 0x54, 128);
    unsigned char *e = img + 1024 + 128;
    memset(e, 0xaa, 16);
    put64(e + 32, 2048);
    put64(e + 40, 4095);
    e += 128;
    memset(e, 0xbb, 16);
    put64(e + 32, 4096);
    put64(e + 40, 6143);
    ext_at(4096 * 512, 256);
    r = probe(BUF, &l, err);
    CHECK(r == 0 && l.table == VIMG_GPT && l.nfs == 1 && l.fs[0].part == 3 &&
              l.fs[0].offset == 4096 * 512 && l.fs[0].size == 1 << 20,
          "GPT: the ext4 in partition 3 (%d %s)", r, err);
    put32(img + 512 + 0x54, 100);
    r = probe(BUF, &l, err);
    CHECK(r == -EINVAL && strstr(err, "GPT header"),
          "GPT: entries of 100 bytes: %s", err);
    put32(img + 512 + 0x54, 128);
    put64(e + 40, 100);
    r = probe(BUF, &l, err);
    CHECK(r == -EINVAL && strstr(err, "GPT entry 3"),
          "GPT: an entry ending before it starts: %s", err);
    memset(img + 512, 0, 8);
    r = probe(BUF, &l, err);
    CHECK(r == -EINVAL && strstr(err, "without a GPT header"),
          "GPT: protective MBR alone: %s", err);
    return failures != 0;
}
