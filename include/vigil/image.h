/* What a raw disk image holds, read from its first sectors: a whole
 * ext2/3/4 file system, or a partition table (MBR or GPT) whose partitions
 * hold them.  Pure: the caller supplies the reads. */
#ifndef VIGIL_IMAGE_H
#define VIGIL_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VIMG_FS_MAX 16

/* Reads @len bytes at @off into @buf; returns how many it read (fewer at
 * the end of the image), or -1. */
typedef ssize_t (*vimg_read_fn)(void *ctx, void *buf, size_t len, uint64_t off);

enum vimg_table { VIMG_WHOLE, VIMG_MBR, VIMG_GPT };

struct vimg_fs {
    uint64_t offset; /* of the file system in the image, bytes */
    uint64_t size;   /* of the file system, bytes */
    unsigned part;   /* its partition's number (Linux's vdaN); 0: whole */
};

struct vimg_layout {
    enum vimg_table table;
    size_t nfs;                     /* ext2/3/4 file systems found */
    struct vimg_fs fs[VIMG_FS_MAX]; /* in partition order */
};

/*
 * vimg_probe: the ext2/3/4 file systems of the raw image of @size bytes
 * that @rd reads.  Partitions holding something else (swap, FAT) are left
 * out; extended MBR partitions are not followed; GPT checksums are not
 * verified; sectors are 512 bytes.
 * Return: 0, or -errno with a one-line reason in @err: -ENOTSUP (qcow2:
 * see vimg_qcow2_check),
 * -EFBIG (truncated: a file system or partition ends past @size), -ENOENT
 * (a partition table without any ext2/3/4 file system), -EINVAL (none of
 * these), -EIO (a read failed).
 */
int vimg_probe(vimg_read_fn rd, void *ctx, uint64_t size,
               struct vimg_layout *out, char *err, size_t errlen);

/* A qcow2 image's header, as far as vigil needs it. */
struct vimg_qcow2 {
    uint32_t version; /* 2 or 3 */
    uint64_t size;    /* of the disk it holds, bytes */
};

/*
 * vimg_qcow2_check: whether the image that @rd reads (of @size bytes) is
 * a qcow2 image vigil may open: version 2 or 3, not encrypted, not marked
 * corrupt, and self-contained, i.e. without a backing file (its name, any
 * path, is in the header: following it would read a file the user did
 * not give, /etc/shadow as well) and without an external data file.
 * Return: 0 with @out filled; -ENOENT when it is not qcow2 at all (no
 * magic); -ENOTSUP, -EPERM (a backing or data file) or -EINVAL (a
 * malformed header), each with a one-line reason in @err; -EIO.
 */
int vimg_qcow2_check(vimg_read_fn rd, void *ctx, uint64_t size,
                     struct vimg_qcow2 *out, char *err, size_t errlen);

/*
 * vimg_build_id: the GNU build id (NT_GNU_BUILD_ID) among the ELF notes
 * @notes (@len bytes, a kernel's .notes section), as lowercase hex in
 * @hex (@hexlen bytes, 129 is enough).
 * Return: 0; -ENOENT (none); -EINVAL (malformed notes, an id under 8 or
 * over 64 bytes); -ERANGE (@hex too small).
 */
int vimg_build_id(const void *notes, size_t len, char *hex, size_t hexlen);

#endif
