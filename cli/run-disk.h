/* vigil run --disk: attach a raw disk, scanned through nbdkit and the vigil
 * filter (docs/disk.md) when a policy or database is given. */
#ifndef VIGIL_CLI_RUN_DISK_H
#define VIGIL_CLI_RUN_DISK_H

#include <stdbool.h>
#include <stddef.h>

struct run_disks;

/* Disks per interface (IDE has four places; virtio is kept alike). */
#define RUN_DISK_MAX  4
#define RUN_DISKS_MAX (2 * RUN_DISK_MAX)

/*
 * run_disks_start: the @n --disk options @specs, each
 * "FILE[,if=virtio|ide][,scan=POLICY][,events=PATH][,policies=PATH]".  A
 * disk with scan=, events=, policies= or @db (default policy alert) is
 * served by its own nbdkit through nbdkit-vigil-filter.so (beside the vigil
 * binary) on a unix socket in @rundir, started and listening on return;
 * the others are attached directly.  Disks are named as the guest names
 * them, per interface in order (vda, vdb, ...; sda, ...).  @net: the guest
 * has netdev net0 and QEMU listens for QMP on @rundir/qmp.sock, so
 * scan=cut-net can cut it.  @events_fd (or -1): every nbdkit inherits it
 * and writes each detection to it too (vigil-events-fd).  @drives[i]
 * receives the value for QEMU's -drive of disk i, valid until
 * run_disks_stop().
 * Return: 0, or -1 after printing why (nothing is left running).
 */
int run_disks_start(struct run_disks **out, const char *const *specs,
                    unsigned n, const char *db, const char *rundir, bool net,
                    int events_fd, const char **drives);

/* Whether any disk is scanned (an nbdkit runs). */
bool run_disks_scanned(const struct run_disks *ds);

/* The status files of the scanned disks' filters (vigil-db-status), valid
 * until run_disks_stop(); returns how many, at most @max. */
size_t run_disks_db_status(const struct run_disks *ds, const char **paths,
                           size_t max);

/* The connected sockets QEMU must inherit (its -drive values name them),
 * valid until run_disks_stop(); returns how many, at most @max. */
size_t run_disks_fds(const struct run_disks *ds, int *fds, size_t max);

/* Stop every nbdkit (after QEMU exited) and free @ds; NULL is ignored. */
void run_disks_stop(struct run_disks *ds);

#endif
