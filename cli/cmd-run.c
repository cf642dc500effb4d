/* vigil run: boot the guest under QEMU with vigil's plugin attached, run one
 * command inside it and exit with that command's status.
 *
 * QEMU is a child process. The guest talks to us over three serial ports
 * (see guest/init): ttyS0 carries the kernel console into a log file, ttyS1
 * is the command's terminal and is wired to our stdio, and ttyS2 carries
 * nothing but the final "vigil-exit N" line into a status file.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "run-disk.h"
#include "run-hide.h"
#include "run-image.h"
#include "run-requests.h"
#include "run-update.h"
#include "run.h"
#include "run-trace.h"
#include "strvec.h"

/* Where the built guest lives: $VIGIL_GUEST_DIR, or guest/ beside the vigil
 * binary, or the normal build's when this is a sanitizer build. */
static const char *guest_file(const char *name, char *buf, size_t len)
{
    const char *env = getenv("VIGIL_GUEST_DIR");
    if (env != NULL) {
        snprintf(buf, len, "%s/%s", env, name);
        return buf;
    }
    snprintf(buf, len, "%s/guest/%s", cli_self_dir(), name);
    if (access(buf, R_OK) == 0)
        return buf;
    snprintf(buf, len, "%s/../build/guest/%s", cli_self_dir(), name);
    return buf;
}

static bool check_readable(const char *what, const char *path)
{
    if (access(path, R_OK) == 0)
        return true;
    cli_error("%s '%s': %s%s", what, path, strerror(errno),
              errno == ENOENT ? " (build the guest with `make guest`)" : "");
    return false;
}

/* The files QEMU is given: defaults filled in, each one readable.  With
 * --image the kernel and initrd come from the image (into the run
 * directory, by prepare_image()) unless given. */
struct run_paths {
    char kernel[4096], initrd[4096], plugin[4096];
    char *image;                /* --image's file, malloc'd */
    struct run_image_root root; /* where in it the root and /boot are */
};

/* --image: where its root file system is (root=/dev/vdaN), and that its
 * /boot holds what is needed.  Only reads the image. */
static int find_image(struct run_opts *o, struct run_paths *p)
{
    p->image = run_image_file(o->image);
    if (p->image == NULL) {
        cli_error("out of memory");
        return -1;
    }
    bool need_boot = o->kernel == NULL || o->initrd == NULL;
    if (run_image_find(p->image, need_boot, &p->root) < 0)
        return -1;
    o->image_part = p->root.part;
    return 0;
}

static int resolve_paths(struct run_opts *o, struct run_paths *p)
{
    if (o->kernel == NULL && o->image == NULL)
        o->kernel = guest_file("vmlinuz", p->kernel, sizeof p->kernel);
    if (o->initrd == NULL && o->image == NULL)
        o->initrd =
            guest_file("initramfs.cpio.gz", p->initrd, sizeof p->initrd);
    if (o->plugin == NULL) {
        snprintf(p->plugin, sizeof p->plugin, "%s/vigil-qemu.so",
                 cli_self_dir());
        o->plugin = p->plugin;
    }
    /* QEMU splits option values at commas; we do not escape them. */
    /* (--disk's options follow commas; run-disk.c checks its file.) */
    const char *paths[] = {o->kernel, o->initrd, o->plugin, o->console,
                           getenv("TMPDIR")};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        if (paths[i] != NULL && strchr(paths[i], ',') != NULL) {
            cli_error("path '%s' contains a comma, which QEMU cannot take",
                      paths[i]);
            return -1;
        }
    }
    if ((o->kernel != NULL && !check_readable("kernel", o->kernel)) ||
        (o->initrd != NULL && !check_readable("initrd", o->initrd)) ||
        (!o->no_plugin && !check_readable("plugin", o->plugin)))
        return -1;
    if (!strcmp(o->accel, "kvm") && access("/dev/kvm", R_OK | W_OK) != 0) {
        cli_error("--accel kvm: /dev/kvm: %s", strerror(errno));
        return -1;
    }
    return o->image != NULL ? find_image(o, p) : 0;
}

/* The kernel command line; KASLR stays on (no nokaslr here).  Returns 0,
 * or the exit status to fail with. */
static int build_cmdline(const struct run_opts *o, char *cmdline, size_t len)
{
    /* An image is the whole root file system (see docs/image.md); its
     * command goes through the guest agent, not the command line. */
    char root[32] = "";
    if (o->image != NULL && o->image_part > 0)
        snprintf(root, sizeof root, "root=/dev/vda%u rw ", o->image_part);
    else if (o->image != NULL)
        snprintf(root, sizeof root, "root=/dev/vda rw ");
    int n = snprintf(cmdline, len, "%sconsole=ttyS0 panic=-1 quiet%s%s", root,
                     o->append ? " " : "", o->append ? o->append : "");
    if (o->command != NULL && o->image == NULL && n >= 0 && (size_t)n < len) {
        char *enc = run_encode_command(o->command);
        if (enc == NULL) {
            cli_error("out of memory");
            return VIGIL_EXIT_GUEST;
        }
        n += snprintf(cmdline + n, len - n, " vigil.cmd=%s", enc);
        free(enc);
    }
    if (n < 0 || (size_t)n >= KERNEL_CMDLINE_MAX || (size_t)n >= len) {
        cli_error("the command and --append take %d bytes of kernel command "
                  "line; the limit is %d",
                  n, KERNEL_CMDLINE_MAX - 1);
        return VIGIL_EXIT_USAGE;
    }
    return 0;
}

/* A fresh run directory under $TMPDIR, bounded so that every path built
 * from it fits PATH_BUF.  Returns 0, or the exit status to fail with. */
static int make_rundir(char dir[RUNDIR_MAX])
{
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || *tmp == '\0')
        tmp = "/tmp";
    if (snprintf(dir, RUNDIR_MAX, "%s/vigil-run.XXXXXX", tmp) >= RUNDIR_MAX) {
        cli_error("TMPDIR is too long");
        return VIGIL_EXIT_USAGE;
    }
    if (mkdtemp(dir) == NULL) {
        cli_error("cannot create a run directory in %s: %s", tmp,
                  strerror(errno));
        return VIGIL_EXIT_GUEST;
    }
    return 0;
}

/* --image: the image's kernel and initrd, unless --kernel and --initrd
 * were given, copied into the run directory @dir. */
static int prepare_image(struct run_opts *o, const char *dir,
                         struct run_paths *p)
{
    if (o->image == NULL)
        return 0;
    int rc =
        run_image_extract(&p->root, p->image, dir, o->kernel ? NULL : p->kernel,
                          o->initrd ? NULL : p->initrd, sizeof p->kernel);
    if (rc == 0 && o->kernel == NULL)
        o->kernel = p->kernel;
    if (rc == 0 && o->initrd == NULL)
        o->initrd = p->initrd;
    /* The image's kernel profile, from the cache by its build id; when
     * there is none, run-trace.c derives it from the kernel as usual. */
    bool traced = o->trace || o->tr.act.nhide || o->nupdate_keys > 0;
    if (rc == 0 && traced && o->tr.profile == NULL && !o->no_plugin &&
        run_image_profile(o->kernel, p->root.profile, sizeof p->root.profile,
                          o->verbose) == 0)
        o->tr.profile = p->root.profile;
    return rc;
}

/* What runs beside QEMU.  Each part may be NULL; stop_services() stops
 * them in the one order that works: the disk filters first (their last
 * detections join the trace), the trace after everything that feeds its
 * ring, the update service last (the filters report to it). */
/* The guest RAM the plugin can read directly (plugin/xlate.c). */
#define RAM_DIRECT_MB 3072

struct services {
    struct run_update *update;
    struct run_trace *trace;
    struct run_hide *hide;
    struct run_requests *requests;
    struct run_disks *disks;
    char plugin_arg[PATH_BUF + 16];
    /* --callers: the guest's RAM, which the plugin maps too ("" none). */
    char ram_path[64];
    int ram_fd;
};

/* Returns -1 when the trace is not whole (the reasons are printed). */
static int stop_services(struct services *s, bool verbose)
{
    run_disks_stop(s->disks);
    run_requests_stop(s->requests);
    run_hide_stop(s->hide, verbose);
    int rc = run_trace_stop(s->trace, verbose);
    run_update_stop(s->update);
    if (s->ram_path[0] != '\0')
        close(s->ram_fd);
    *s = (struct services){.plugin_arg = ""};
    return rc < 0 ? -1 : 0;
}

/* --disk: served by nbdkit with the vigil filter when scanned.  With a
 * trace, detections also join its stream, through a pipe that only the
 * nbdkit processes inherit. */
static int start_disks(struct services *s, struct run_opts *o, const char *dir)
{
    int evp[2] = {-1, -1};
    if (o->ndisks > 0 && s->trace != NULL && pipe2(evp, O_CLOEXEC) < 0) {
        cli_error("pipe: %s", strerror(errno));
        evp[0] = evp[1] = -1;
    }
    int r = run_disks_start(&s->disks, o->disk, o->ndisks, o->disk_db, dir,
                            o->net, evp[1], o->drive);
    if (evp[1] >= 0)
        close(evp[1]);
    if (r == 0 && s->update != NULL) {
        const char *status[16];
        size_t ns = run_disks_db_status(s->disks, status, 16);
        run_update_set_filters(s->update, status, ns);
    }
    if (r == 0 && run_disks_scanned(s->disks) && evp[0] >= 0)
        run_trace_add_events(s->trace, evp[0]);
    else if (evp[0] >= 0)
        close(evp[0]);
    return r;
}

static int start_services(struct services *s, struct run_opts *o,
                          const char *dir)
{
    *s = (struct services){.plugin_arg = ""};
    /* Signed updates of --db: before the disks, which load it. */
    if (o->nupdate_keys > 0 &&
        run_update_start(&s->update, o->disk_db, o->update_keys,
                         o->nupdate_keys, o->update_listen, 0, o->verbose) < 0)
        return -1;
    /* Without --trace, updates from the guest and hidden calls still need
     * the plugin's channel, which then carries nothing else. */
    o->tr.channel_only = !o->trace;
    bool channel =
        o->trace || o->tr.act.nhide ||
        (s->update != NULL && !o->no_plugin && strcmp(o->accel, "kvm") != 0);
    if (channel && run_trace_start(&s->trace, &o->tr, o->kernel, o->smp,
                                   s->plugin_arg, sizeof s->plugin_arg) < 0)
        goto fail;
    /* --callers walks a stack at every call: the plugin reads it straight
     * from the guest's RAM (docs/callers.md), which it can find there when
     * all of it lies below the pc machine's PCI hole. Else through QEMU. */
    if (s->trace != NULL && (o->tr.act.flags & VACT_CALLERS) &&
        o->memory_mb <= RAM_DIRECT_MB) {
        s->ram_fd = run_qemu_ram(o->memory_mb, s->ram_path, sizeof s->ram_path);
        size_t n = strlen(s->plugin_arg);
        if (s->ram_fd < 0 ||
            (size_t)snprintf(s->plugin_arg + n, sizeof s->plugin_arg - n,
                             ",ram=%s",
                             s->ram_path) >= sizeof s->plugin_arg - n) {
            if (s->ram_fd >= 0)
                close(s->ram_fd);
            s->plugin_arg[n] = '\0';
            s->ram_path[0] = '\0';
        }
    }
    /* --hide: the executor of hidden calls, before the guest runs. */
    if (s->trace != NULL && o->tr.act.nhide &&
        run_hide_start(&s->hide, run_trace_ring(s->trace), o->hide_netns) < 0)
        goto fail;
    /* The plugin's requests (the guest's update hypercall). */
    if (s->trace != NULL &&
        run_requests_start(&s->requests, run_trace_ring(s->trace), s->update) <
            0)
        goto fail;
    if (start_disks(s, o, dir) < 0)
        goto fail;
    return 0;
fail:
    stop_services(s, false);
    return -1;
}

/* The guest's terminal is a serial port: it echoes what it receives and
 * cannot pass an end of file.  Only a terminal on our side makes that a
 * conversation; anything else would end up echoed into the command's
 * output, so QEMU then reads nothing.  QEMU also needs a valid stdin for
 * its stdio chardev. */
static void prepare_stdin(void)
{
    if (!isatty(0) || fcntl(0, F_GETFD) < 0) {
        int fd = open("/dev/null", O_RDONLY);
        if (fd > 0) {
            dup2(fd, 0);
            close(fd);
        }
    }
}

/* A command status meaning: none, and why was printed already. */
#define STATUS_REPORTED (-2)

/* The command's status: the test guest writes it to its status port; an
 * image's comes from the guest agent, and without a command an image's
 * run succeeded when the guest powered off (QEMU exited 0). */
static int guest_status(const struct run_opts *o, const char *dir, int wstatus,
                        int agent_status)
{
    if (o->image == NULL)
        return run_read_status(dir);
    if (o->command != NULL)
        return agent_status >= 0 ? agent_status : STATUS_REPORTED;
    return wstatus != -1 && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0
               ? 0
               : -1;
}

/* vigil run's exit status from how QEMU stopped and the command's @status
 * (guest_status()), with what explains a failure. */
static int run_outcome(const struct run_opts *o, const char *dir,
                       enum stop_reason why, int wstatus, int status,
                       double elapsed)
{
    char errpath[PATH_BUF], logpath[PATH_BUF], conpath[PATH_BUF];
    snprintf(errpath, sizeof errpath, "%s/qemu.err", dir);
    snprintf(logpath, sizeof logpath, "%s/qemu.log", dir);
    snprintf(conpath, sizeof conpath, "%s/console.log", dir);
    if (why == STOP_TIMEOUT) {
        cli_error("timed out after %u s; guest stopped", o->timeout_s);
        run_show_tail(conpath, 10, "guest console");
        return EXIT_TIMEOUT;
    }
    if (why == STOP_SIGNAL) {
        cli_error("interrupted; guest stopped");
        return EXIT_INTERRUPTED;
    }
    if (status >= 0) {
        if (o->verbose)
            fprintf(stderr, "vigil: command exited %d after %.2f s\n", status,
                    elapsed);
        return status;
    }
    if (status == STATUS_REPORTED)
        ; /* already said why */
    else if (wstatus != -1 && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) != 0)
        cli_error("QEMU failed to start or stopped with status %d",
                  WEXITSTATUS(wstatus));
    else if (wstatus != -1 && WIFSIGNALED(wstatus))
        cli_error("QEMU was killed by signal %d", WTERMSIG(wstatus));
    else
        cli_error("the guest stopped without reporting the command's "
                  "status (kernel panic or init failure?)");
    run_show_tail(errpath, 10, "QEMU said");
    run_show_tail(logpath, 10, "plugin messages");
    run_show_tail(o->console ? o->console : conpath, 15, "guest console");
    return VIGIL_EXIT_GUEST;
}

/* Start QEMU and wait for it; the services beside it are stopped before
 * the outcome is read, so that their summaries come first. */
static int run_guest(struct run_opts *o, const char *dir, struct services *s,
                     char **av, const sigset_t *oldmask)
{
    prepare_stdin();
    /* QEMU puts a terminal in raw mode; restore it whatever happens. */
    struct termios tio;
    bool have_tio = isatty(0) && tcgetattr(0, &tio) == 0;
    char errpath[PATH_BUF];
    snprintf(errpath, sizeof errpath, "%s/qemu.err", dir);
    uint64_t t0 = cli_now_ns(CLOCK_MONOTONIC);
    int keep[RUN_DISKS_MAX]; /* the disks' connections to nbdkit */
    size_t nkeep = run_disks_fds(s->disks, keep, RUN_DISKS_MAX);
    pid_t pid = run_qemu_spawn(av, errpath, oldmask, keep, nkeep);
    if (pid < 0) {
        cli_error("fork: %s", strerror(errno));
        return VIGIL_EXIT_GUEST;
    }
    enum stop_reason why;
    int agent_status = -1, wstatus;
    if (o->image != NULL && o->command != NULL)
        wstatus = run_image_command(o, dir, pid, &why, &agent_status);
    else
        wstatus = run_qemu_wait(pid, dir, o->timeout_s, &why);
    double elapsed = (double)(cli_now_ns(CLOCK_MONOTONIC) - t0) / 1e9;
    if (have_tio)
        tcsetattr(0, TCSANOW, &tio);
    if (o->verbose) {
        char logpath[PATH_BUF];
        snprintf(logpath, sizeof logpath, "%s/qemu.log", dir);
        run_show_tail(logpath, 20, "plugin messages");
    }
    int trace_rc = stop_services(s, o->verbose);
    int status = guest_status(o, dir, wstatus, agent_status);
    int rc = run_outcome(o, dir, why, wstatus, status, elapsed);
    if (trace_rc < 0 && why != STOP_TIMEOUT && why != STOP_SIGNAL &&
        rc != VIGIL_EXIT_GUEST) {
        /* A trace with holes must not pass for a clean run: scripts look
         * at the status. */
        cli_error("the command exited %d, but the trace is not whole "
                  "(above)",
                  rc);
        return VIGIL_EXIT_TRACE;
    }
    return rc;
}

static int cmd_run_with(struct run_opts *o)
{
    struct run_paths paths = {.image = NULL};
    char cmdline[KERNEL_CMDLINE_MAX + 64], dir[RUNDIR_MAX];
    int rc = resolve_paths(o, &paths) < 0 ? VIGIL_EXIT_USAGE : 0;
    if (rc == 0)
        rc = build_cmdline(o, cmdline, sizeof cmdline);
    if (rc == 0)
        rc = make_rundir(dir);
    if (rc != 0) {
        free(paths.image);
        return rc;
    }

    /* Blocked before any thread starts, so that only our sigtimedwait()
     * sees them; QEMU gets the old mask back. */
    sigset_t mask, oldmask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, &oldmask);

    struct services s = {.plugin_arg = ""};
    struct strvec av;
    strvec_init(&av);
    if (prepare_image(o, dir, &paths) < 0) {
        rc = VIGIL_EXIT_USAGE;
    } else if (start_services(&s, o, dir) < 0) {
        rc = VIGIL_EXIT_USAGE;
    } else if (run_qemu_argv(o, dir, cmdline, s.plugin_arg,
                             s.ram_path[0] != '\0' ? s.ram_path : NULL,
                             &av) < 0) {
        stop_services(&s, false);
        rc = VIGIL_EXIT_USAGE;
    } else {
        if (o->verbose) {
            fprintf(stderr, "vigil: run directory %s\nvigil: ", dir);
            for (size_t i = 0; i < av.len; i++)
                fprintf(stderr, "%s%s", av.v[i], i + 1 < av.len ? " " : "\n");
        }
        rc = run_guest(o, dir, &s, av.v, &oldmask);
        stop_services(&s, false);
    }
    sigprocmask(SIG_SETMASK, &oldmask, NULL);
    strvec_free(&av);
    if (o->keep)
        fprintf(stderr, "vigil: kept run directory %s\n", dir);
    else
        run_remove_rundir(dir);
    free(paths.image);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    struct run_opts o = {
        .accel = "tcg",
        .smp = 1,
        .memory_mb = 512,
        .tr = {.str_max = 256,
               .buf_max = 64,
               .argv_max = 1024,
               .act = {.flags = VACT_HCALL}},
    };
    if (run_parse_args(argc, argv, &o) < 0)
        return VIGIL_EXIT_USAGE;
    struct qemu_rt rt;
    int err = qemu_rt_find(&rt, o.qemu);
    if (err < 0) {
        cli_error("%s", err == -ENOENT ? "no QEMU found: run `make deps` as "
                                         "root, or give --qemu"
                                       : strerror(-err));
        return VIGIL_EXIT_USAGE;
    }
    o.qemu_rt = &rt;
    if (rt.kind == QEMU_RT_OLD && !o.no_plugin)
        cli_warn("%s is older than QEMU %d.%d, whose plugin API vigil's "
                 "plugin needs; run `make deps` as root to set it up",
                 rt.argv.v[0], QEMU_RT_MIN_MAJOR, QEMU_RT_MIN_MINOR);
    int rc = cmd_run_with(&o);
    qemu_rt_free(&rt);
    return rc;
}
