/* vigil run's shared pieces: the options, and the QEMU child (run-qemu.c):
 * its command line, its process, and what it leaves in the run directory. */
#ifndef VIGIL_CLI_RUN_H
#define VIGIL_CLI_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "qemu-rt.h"
#include "run-disk.h"
#include "run-trace.h"
#include "strvec.h"

/* x86's COMMAND_LINE_SIZE, including the terminating NUL. */
#define KERNEL_CMDLINE_MAX 2048
#define RUNDIR_MAX         256
#define PATH_BUF           (RUNDIR_MAX + 32)

enum { EXIT_TIMEOUT = 124, EXIT_INTERRUPTED = 130 };

struct run_opts {
    const char *kernel;
    const char *initrd;
    const char *append;
    const char *accel;
    const char *qemu;              /* --qemu */
    const struct qemu_rt *qemu_rt; /* the QEMU chosen from it */
    const char *plugin;
    const char *console;
    const char *image;   /* --image FILE[,OPTION...]: also disk[0] */
    unsigned image_part; /* the root's partition number; 0: whole disk */
    const char *disk[RUN_DISKS_MAX]; /* --disk, in order */
    unsigned ndisks;
    const char *disk_db;   /* --db: scan the disks */
    char *update_keys[16]; /* --update-key */
    size_t nupdate_keys;
    const char *update_listen;        /* --update-listen */
    const char *hide_netns;           /* --hide-netns */
    const char *drive[RUN_DISKS_MAX]; /* QEMU -drive values for --disk */
    unsigned smp;
    unsigned memory_mb;
    unsigned timeout_s;
    unsigned wait_boot_s; /* --wait-boot: for the guest agent */
    bool no_plugin;
    bool hide_children;
    bool net;      /* --net user or user-open */
    bool net_open; /* --net user-open: the guest may reach the host */
    bool verbose;
    bool keep;
    bool trace;
    struct run_trace_opts tr;
    char **command; /* NULL: interactive shell */
};

/* Parse vigil run's command line into @o (which holds the defaults).
 * Returns 0, or -1 after printing the error or the usage. */
int run_parse_args(int argc, char **argv, struct run_opts *o);

/* The guest command as the kernel command line carries it (vigil.cmd=):
 * each argument single-quoted for the guest's /bin/sh, then base64.
 * Returns a malloc'd string or NULL when out of memory. */
char *run_encode_command(char **argv);

/* QEMU's argv for @o: machine, kernel, the three serial ports (with
 * --image: the console, and the guest agent's port), disk, NIC, QMP socket
 * and plugin.  Return 0 or -ENOMEM. */
int run_qemu_argv(const struct run_opts *o, const char *rundir,
                  const char *cmdline, const char *plugin_arg,
                  const char *ram_path, struct strvec *av);

/* The guest's RAM (@memory_mb) in a memfd, for QEMU's memory backend at
 * @ram_path in run_qemu_argv() and for the plugin to map: its path
 * (/proc/PID/fd/N, good while the fd is open) in @path. Returns the fd or
 * -errno. */
int run_qemu_ram(unsigned memory_mb, char *path, size_t len);

/* Fork and exec QEMU with @oldmask restored and stderr in @errpath; it dies
 * with us. */
pid_t run_qemu_spawn(char **argv, const char *errpath, const sigset_t *oldmask,
                     const int *keep, size_t nkeep);

enum stop_reason { STOP_NONE, STOP_TIMEOUT, STOP_SIGNAL };

/* Wait for QEMU, enforcing @timeout_s (0: none) and forwarding SIGINT,
 * SIGTERM and SIGHUP (which the caller has blocked) to QEMU itself, whose
 * pid QEMU writes to @rundir/qemu.pid (the child may be bubblewrap, which
 * would not pass a signal on).  Returns the wait status of @pid; *why says
 * whether we stopped it. */
int run_qemu_wait(pid_t pid, const char *rundir, unsigned timeout_s,
                  enum stop_reason *why);

/* The command's status from the run directory's status port; -1 if none. */
int run_read_status(const char *rundir);

/* Print the last @lines lines of @path to stderr, indented, under @what. */
void run_show_tail(const char *path, int lines, const char *what);

/* Remove the files vigil run puts in @rundir, then the directory. */
void run_remove_rundir(const char *rundir);

#endif
