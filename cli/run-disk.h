/* vigil run --disk: attach a raw disk, scanned through nbdkit and the vigil
 * filter (docs/disk.md) when a policy or database is given. */
#ifndef VIGIL_CLI_RUN_DISK_H
#define VIGIL_CLI_RUN_DISK_H

#include <stdbool.h>
#include <stddef.h>

struct run_disk;

/* Disks per interface (IDE has four places; virtio is kept alike). */
#define RUN_DISK_MAX 4

/*
 * run_disk_start: parse @spec, "FILE[,if=virtio|ide][,scan=POLICY]
 * [,events=PATH]".  With scan= or @db (default policy alert), start nbdkit
 * serving FILE through nbdkit-vigil-filter.so (beside the vigil binary) on a
 * unix socket in @rundir and wait until it listens; otherwise attach FILE
 * directly.  @net: the guest has netdev net0 and QEMU listens for QMP on
 * @rundir/qmp.sock, so scan=cut-net can cut it.  @events_fd (or -1): nbdkit
 * inherits it and writes every detection to it too (vigil-events-fd).
 * @seq: disks attached so far per interface ([0] virtio, [1] IDE), zero
 * before the first; the disk's guest name (vda, sdb, ...) follows from it.
 * @drive receives the value for QEMU's -drive. Return: 0 or -1 after printing
 * why. *out is NULL when nothing runs.
 */
int run_disk_start(struct run_disk **out, const char *spec, const char *db,
                   const char *rundir, bool net, int events_fd, unsigned seq[2],
                   char *drive, size_t drive_len);

/* Stop nbdkit (after QEMU exited) and free @d; NULL is ignored. */
void run_disk_stop(struct run_disk *d);

#endif
