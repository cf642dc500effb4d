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

/*
 * run_image_extract: check that @image is a whole raw ext2/3/4 file system
 * (not partitioned, not qcow2, not truncated) and copy the newest
 * /boot/vmlinuz-VERSION and its /boot/initrd.img-VERSION out of it into
 * @kernel and @initrd (paths in @rundir), each only when its pointer is not
 * NULL.  The image is only read.
 * Return: 0, or -1 after printing why.
 */
int run_image_extract(const char *image, const char *rundir, char *kernel,
                      char *initrd, size_t len);

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
