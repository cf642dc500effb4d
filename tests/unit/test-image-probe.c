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

static void put_be32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (24 - 8 * i));
}

static void put_be64(unsigned char *p, uint64_t v)
{
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

/* A qcow2 v@version header: a 1 GiB disk, 64 KiB clusters. */
static void qcow2_at0(uint32_t version)
{
    memset(img, 0, 65536);
    memcpy(img, "QFI\xfb", 4);
    put_be32(img + 4, version);
    put_be32(img + 20, 16);
    put_be64(img + 24, 1ull << 30);
    put_be32(img + 96, 4);
    put_be32(img + 100, 112);
}

static int qcow2(uint64_t size, struct vimg_qcow2 *q, char *err)
{
    return vimg_qcow2_check(rd, NULL, size, q, err, 256);
}

/* vimg_qcow2_check: what QEMU's qcow2 driver may be given, and the headers
 * that name other files (a backing file, an external data file). */
static void test_qcow2(void)
{
    struct vimg_qcow2 q;
    char err[256];
    qcow2_at0(3);
    int r = qcow2(BUF, &q, err);
    CHECK(r == 0 && q.version == 3 && q.size == 1ull << 30,
          "qcow2 v3: accepted (%d %s)", r, err);
    qcow2_at0(2);
    r = qcow2(BUF, &q, err);
    CHECK(r == 0 && q.version == 2, "qcow2 v2: accepted (%d %s)", r, err);

    /* The backing file /etc/shadow: refused, named, never opened. */
    qcow2_at0(3);
    memcpy(img + 512, "/etc/shadow", 11);
    put_be64(img + 8, 512);
    put_be32(img + 16, 11);
    r = qcow2(BUF, &q, err);
    CHECK(r == -EPERM && strstr(err, "backing file (/etc/shadow)"),
          "qcow2 with a backing file: %s", err);
    memcpy(img + 512, "/x\x1b[2J", 6);
    put_be32(img + 16, 6);
    r = qcow2(BUF, &q, err);
    CHECK(r == -EPERM && strstr(err, "(/x?[2J)"),
          "qcow2: a backing name's escape not printed: %s", err);
    put_be64(img + 8, BUF - 2); /* its name past the end */
    r = qcow2(BUF, &q, err);
    CHECK(r == -EPERM && strstr(err, "backing file (?)"),
          "qcow2: a backing name past the end: %s", err);

    qcow2_at0(3);
    put_be64(img + 72, 1u << 2);
    r = qcow2(BUF, &q, err);
    CHECK(r == -EPERM && strstr(err, "external data file"),
          "qcow2 with an external data file: %s", err);
    put_be64(img + 72, 1u << 1);
    r = qcow2(BUF, &q, err);
    CHECK(r == -EINVAL && strstr(err, "corrupt"), "qcow2 marked corrupt: %s",
          err);
    put_be64(img + 72, 1u << 9);
    r = qcow2(BUF, &q, err);
    CHECK(r == -ENOTSUP, "qcow2 with unknown features: %s", err);
    put_be64(img + 72, 1u << 0); /* dirty: QEMU repairs it on open */
    r = qcow2(BUF, &q, err);
    CHECK(r == 0, "qcow2 dirty: accepted (%d %s)", r, err);

    qcow2_at0(3);
    put_be32(img + 32, 1);
    r = qcow2(BUF, &q, err);
    CHECK(r == -ENOTSUP && strstr(err, "encrypted"), "encrypted: %s", err);
    qcow2_at0(4);
    r = qcow2(BUF, &q, err);
    CHECK(r == -ENOTSUP && strstr(err, "version 4"), "version 4: %s", err);
    qcow2_at0(3);
    put_be32(img + 20, 40);
    r = qcow2(BUF, &q, err);
    CHECK(r == -EINVAL && strstr(err, "cluster"), "cluster bits 40: %s", err);
    qcow2_at0(3);
    put_be64(img + 24, 0);
    r = qcow2(BUF, &q, err);
    CHECK(r == -EINVAL && strstr(err, "disk size"), "disk size 0: %s", err);
    qcow2_at0(3);
    r = qcow2(80, &q, err);
    CHECK(r == -EINVAL && strstr(err, "truncated"), "80 bytes: %s", err);

    memset(img, 0, 65536);
    ext_at(0, 256);
    r = qcow2(BUF, &q, err);
    CHECK(r == -ENOENT, "an ext4 image is not qcow2 (%d)", r);
    r = qcow2(2, &q, err);
    CHECK(r == -ENOENT, "2 bytes are not qcow2 (%d)", r);
}

/* One ELF note at @p: returns its size. */
static size_t note(unsigned char *p, const char *name, uint32_t type,
                   const void *desc, uint32_t descsz)
{
    uint32_t namesz = (uint32_t)strlen(name) + 1;
    put32(p, namesz);
    put32(p + 4, descsz);
    put32(p + 8, type);
    memcpy(p + 12, name, namesz);
    size_t off = 12 + ((namesz + 3) & ~3u);
    memcpy(p + off, desc, descsz);
    return off + ((descsz + 3) & ~3u);
}

/* vimg_build_id on notes as a kernel's .notes holds them (Xen and Linux
 * notes before the GNU build id), and broken ones. */
static void test_build_id(void)
{
    unsigned char n[512] = {0};
    char hex[129];
    static const unsigned char id[20] = {
        0xbb, 0x60, 0x3a, 0x91, 0x47, 0xd3, 0xef, 0xe4, 0x74, 0x4b,
        0xf8, 0x3c, 0x83, 0xee, 0xe3, 0x97, 0xc5, 0x91, 0xcc, 0x20};
    size_t len = note(n, "Xen", 5, "xen-3.0", 7);
    len += note(n + len, "Linux", 6, "6.1", 3);
    size_t at = len;
    len += note(n + len, "GNU", 3, id, sizeof id);
    int r = vimg_build_id(n, len, hex, sizeof hex);
    CHECK(r == 0 && !strcmp(hex, "bb603a9147d3efe4744bf83c83eee397c591cc20"),
          "build id after two other notes (%d %s)", r, r == 0 ? hex : "");
    CHECK(vimg_build_id(n, at, hex, sizeof hex) == -ENOENT,
          "build id: none among other notes");
    CHECK(vimg_build_id(n, len, hex, 40) == -ERANGE,
          "build id: a buffer too small");
    put32(n + at + 4, 0xfffffff0); /* descsz past the end */
    CHECK(vimg_build_id(n, len, hex, sizeof hex) == -EINVAL,
          "build id: a descsz past the end");
    put32(n + at + 4, 4);
    CHECK(vimg_build_id(n, len, hex, sizeof hex) == -EINVAL,
          "build id: 4 bytes are too short");
    put32(n, 0xffffffff); /* namesz overflowing the alignment */
    CHECK(vimg_build_id(n, len, hex, sizeof hex) == -EINVAL,
          "build id: a namesz of 2^32-1");
    CHECK(vimg_build_id(n, 11, hex, sizeof hex) == -ENOENT,
          "build id: notes shorter than a header");
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
    test_qcow2();
    test_build_id();
    return failures != 0;
}
