/* libFuzzer: vimg_probe (lib/image/probe.c) on the first bytes of a disk
 * image, which a user's --image file controls entirely.  Past the input
 * the image reads as zeros up to a size the first byte scales, so that
 * partitions can lie inside it.  What it finds must lie inside the image,
 * and a failure must say why.  vimg_qcow2_check reads the same bytes as a
 * qcow2 header. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
    const uint8_t *p;
    size_t n;
};

static ssize_t rd(void *ctx, void *buf, size_t len, uint64_t off)
{
    const struct input *in = ctx;
    memset(buf, 0, len);
    if (off < in->n) {
        size_t take = in->n - off < len ? in->n - (size_t)off : len;
        memcpy(buf, in->p + off, take);
    }
    return (ssize_t)len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    uint64_t claimed = (uint64_t)size * (1 + (size ? data[0] % 64 : 0)) +
                       (size ? (uint64_t)data[size - 1] << 20 : 0);
    struct vimg_layout l;
    char err[128];
    int r = vimg_probe(rd, &in, claimed, &l, err, sizeof err);
    if (r < 0 && (err[0] == '\0' || memchr(err, '\0', sizeof err) == NULL))
        abort();
    if (r == 0 && (l.nfs == 0 || l.nfs > VIMG_FS_MAX))
        abort();
    for (size_t i = 0; r == 0 && i < l.nfs; i++)
        if (l.fs[i].offset > claimed ||
            l.fs[i].size > claimed - l.fs[i].offset || l.fs[i].size == 0)
            abort();
    struct vimg_qcow2 q;
    r = vimg_qcow2_check(rd, &in, claimed, &q, err, sizeof err);
    if (r < 0 && r != -ENOENT &&
        (err[0] == '\0' || memchr(err, '\0', sizeof err) == NULL))
        abort();
    for (const char *c = err; r < 0 && *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
            abort();
    if (r == 0 && (q.size == 0 || (q.version != 2 && q.version != 3)))
        abort();
    return 0;
}
