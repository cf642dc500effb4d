/* vimg_qcow2_check (vigil/image.h): a qcow2 header, read before QEMU's
 * qcow2 driver (qemu-img, qemu-nbd) opens the file, so that nothing the
 * header names outside the image is ever opened. */
#include "vigil/image.h"
#include "vigil/le.h"
#include "vigil/errf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define HDR 112u
/* Incompatible features (qcow2 v3): dirty 0, corrupt 1, external data
 * file 2, compression type 3, extended L2 entries 4. */
#define INCOMPAT_CORRUPT   (1ull << 1)
#define INCOMPAT_DATA_FILE (1ull << 2)
#define INCOMPAT_KNOWN     0x1full

#define fail(err, errlen, code, ...) vigil_errf(code, err, errlen, __VA_ARGS__)

/* The backing file's name from the header, printable, for the message. */
static void backing_name(vimg_read_fn rd, void *ctx, uint64_t size,
                         const unsigned char *h, char *name, size_t len)
{
    uint64_t off = be64(h + 8);
    uint32_t n = be32(h + 16);
    snprintf(name, len, "?");
    if (n == 0 || n >= len || off > size || n > size - off)
        return;
    if (rd(ctx, name, n, off) != (ssize_t)n) {
        snprintf(name, len, "?");
        return;
    }
    name[n] = '\0';
    for (uint32_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || (unsigned char)name[i] >= 0x7f)
            name[i] = '?';
}

int vimg_qcow2_check(vimg_read_fn rd, void *ctx, uint64_t size,
                     struct vimg_qcow2 *out, char *err, size_t errlen)
{
    unsigned char h[HDR] = {0};
    if (errlen > 0)
        err[0] = '\0';
    if (size < 4)
        return -ENOENT;
    ssize_t got = rd(ctx, h, size < HDR ? (size_t)size : HDR, 0);
    if (got < 0)
        return fail(err, errlen, -EIO, "cannot read its header");
    if (got < 4 || memcmp(h, "QFI\xfb", 4) != 0)
        return -ENOENT;
    uint32_t version = be32(h + 4);
    if (got < 72 || (version == 3 && got < 104))
        return fail(err, errlen, -EINVAL, "qcow2: truncated header");
    if (version != 2 && version != 3)
        return fail(err, errlen, -ENOTSUP, "qcow2 version %u not supported",
                    version);
    uint32_t cluster_bits = be32(h + 20);
    if (cluster_bits < 9 || cluster_bits > 21)
        return fail(err, errlen, -EINVAL, "qcow2: bad cluster size 2^%u",
                    cluster_bits);
    if (be32(h + 32) != 0)
        return fail(err, errlen, -ENOTSUP, "encrypted qcow2 not supported");
    if (be64(h + 8) != 0) {
        char name[1024];
        backing_name(rd, ctx, size, h, name, sizeof name);
        return fail(err, errlen, -EPERM,
                    "qcow2 with a backing file (%s) refused: vigil opens "
                    "only the file given; `qemu-img convert -O qcow2` makes "
                    "a self-contained one",
                    name);
    }
    uint64_t incompat = version == 3 ? be64(h + 72) : 0;
    if (incompat & INCOMPAT_DATA_FILE)
        return fail(err, errlen, -EPERM,
                    "qcow2 with an external data file refused: vigil opens "
                    "only the file given");
    if (incompat & INCOMPAT_CORRUPT)
        return fail(err, errlen, -EINVAL,
                    "qcow2 marked corrupt (`qemu-img check -r all` repairs "
                    "it)");
    if (incompat & ~INCOMPAT_KNOWN)
        return fail(err, errlen, -ENOTSUP,
                    "qcow2 with unknown incompatible features 0x%llx",
                    (unsigned long long)incompat);
    uint64_t vsize = be64(h + 24);
    if (vsize == 0 || vsize >> 56)
        return fail(err, errlen, -EINVAL, "qcow2: bad disk size %llu",
                    (unsigned long long)vsize);
    *out = (struct vimg_qcow2){.version = version, .size = vsize};
    return 0;
}
