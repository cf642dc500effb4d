/* vigil run --image: boot a distribution from its disk image (docs/image.md).
 * The image's own kernel and initrd are read from its /boot without
 * mounting it; a command runs through the guest agent. */
#ifndef VIGIL_CLI_RUN_IMAGE_H
#define VIGIL_CLI_RUN_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "run.h"

/* How long the guest gets to power off after the command (seconds). */
#define RUN_IMAGE_SHUTDOWN_S 60

/* The image file named by an --image value (FILE[,OPTION...]), malloc'd;
 * NULL when out of memory. */
char *run_image_file(const char *spec);

/* Where an image's root file system is, and its /boot's files. */
struct run_image_root {
    char dev[PATH_BUF + 64]; /* the file system as debugfs names it */
    unsigned part;           /* its partition (root=/dev/vdaN); 0: whole */
    char version[128];       /* of the newest /boot/vmlinuz-VERSION */
    unsigned long long kernel_size, initrd_size;
    bool have_initrd;
    int raw_fd; /* a qcow2 image's raw copy (read by debugfs), or -1 */
    char profile[PATH_BUF + 160]; /* run_image_profile()'s */
};

/*
 * run_image_find: find the ext2/3/4 file systems of raw image @image (the
 * whole image, or its MBR or GPT partitions; not truncated) and take the
 * first whose /boot holds a kernel, or with !@need_boot the first one.
 * Only reads the image.  A qcow2 image (run_qcow2_check) is read through
 * a raw copy that @root holds (raw_fd) until run_image_extract().
 * Return: 0, or -1 after printing why.
 */
int run_image_find(const char *image, bool need_boot,
                   struct run_image_root *root);

/*
 * run_image_extract: copy @root's newest /boot/vmlinuz-VERSION and
 * /boot/initrd.img-VERSION out of @image into @kernel and @initrd (paths in
 * @rundir, @len bytes), each only when its pointer is not NULL.  Closes
 * a qcow2 image's raw copy.
 * Return: 0, or -1 after printing why.
 */
int run_image_extract(struct run_image_root *root, const char *image,
                      const char *rundir, char *kernel, char *initrd,
                      size_t len);

/*
 * run_image_command: with QEMU (@pid) started, wait for the guest agent on
 * @rundir/qga.sock (up to o->wait_boot_s), run o->command through it with
 * its output on our stdout and stderr, then power the guest off and wait
 * for QEMU (RUN_IMAGE_SHUTDOWN_S, then it is killed).  o->timeout_s bounds
 * the whole; SIGINT, SIGTERM and SIGHUP (blocked by the caller) stop it.
 * *cmd_status receives the command's exit status (128 + N when signal N
 * killed it), or -1 after printing why there is none.
 * Return: QEMU's wait status as run_qemu_wait(), with *why.
 */
int run_image_command(const struct run_opts *o, const char *rundir, pid_t pid,
                      enum stop_reason *why, int *cmd_status);

/*
 * run_image_profile: the kernel profile of kernel image @kernel from the
 * cache ($VIGIL_PROFILE_CACHE, else /var/cache/vigil/profiles), keyed by
 * the kernel's build id (NT_GNU_BUILD_ID) and found again by the SHA-256
 * of @kernel without decompressing it; built and stored (atomically) when
 * absent or when the file there fails its checks.  @verbose: say which.
 * Return: 0 with the profile's path in @path (@len bytes); -errno when
 * there is none to give (no build id, no cache: the caller derives the
 * profile itself; a cache that cannot be written was warned about).
 */
int run_image_profile(const char *kernel, char *path, size_t len, bool verbose);

/* A vimg_read_fn (vigil/image.h) reading the file whose descriptor
 * @ctx points to. */
ssize_t run_image_pread(void *ctx, void *buf, size_t len, uint64_t off);

/*
 * run_qcow2_check: whether the file at @path is a qcow2 image (by its
 * magic, never its name), and one that vigil may open: self-contained (no
 * backing file, no external data file), not encrypted (vimg_qcow2_check).
 * Return: 1 with its disk's size in *size; 0 when it is not qcow2; -1
 * after printing why it is refused.
 */
int run_qcow2_check(const char *path, uint64_t *size);

/*
 * run_qcow2_raw_copy: the disk in qcow2 image @path (@size bytes) copied by
 * qemu-img into a file without a name (O_TMPFILE in $TMPDIR, sparse), for
 * debugfs to read as /proc/self/fd/N.
 * Return: 0 with its descriptor (close-on-exec) in *fd, or -1 after
 * printing why.
 */
int run_qcow2_raw_copy(const char *path, uint64_t size, int *fd);

/*
 * run_qnbd_start: serve qcow2 image @path as a raw disk on the unix socket
 * @sock with qemu-nbd (QEMU's qcow2 driver, no backing file), waiting
 * until it listens.  It dies with vigil.
 * Return: its pid, or -1 after printing why (nothing left running).
 */
pid_t run_qnbd_start(const char *path, const char *sock);

/* Stop the qemu-nbd @pid (it flushes the image) and remove @sock. */
void run_qnbd_stop(pid_t pid, const char *sock);

#endif
