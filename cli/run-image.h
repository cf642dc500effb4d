/* vigil run --image: boot a distribution from its disk image (docs/image.md).
 * The image's own kernel and initrd are read from its /boot without
 * mounting it; a command runs through the guest agent. */
#ifndef VIGIL_CLI_RUN_IMAGE_H
#define VIGIL_CLI_RUN_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
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
};

/*
 * run_image_find: find the ext2/3/4 file systems of raw image @image (the
 * whole image, or its MBR or GPT partitions; not qcow2, not truncated) and
 * take the first whose /boot holds a kernel, or with !@need_boot the first
 * one.  Only reads the image.
 * Return: 0, or -1 after printing why.
 */
int run_image_find(const char *image, bool need_boot,
                   struct run_image_root *root);

/*
 * run_image_extract: copy @root's newest /boot/vmlinuz-VERSION and
 * /boot/initrd.img-VERSION out of @image into @kernel and @initrd (paths in
 * @rundir, @len bytes), each only when its pointer is not NULL.
 * Return: 0, or -1 after printing why.
 */
int run_image_extract(const struct run_image_root *root, const char *image,
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

#endif
