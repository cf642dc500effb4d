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
#include "run-requests.h"
#include "run-update.h"
#include "run.h"
#include "run-trace.h"
#include "strvec.h"

static void run_usage(FILE *f)
{
    fprintf(
        f,
        "usage: vigil run [OPTIONS] [-- COMMAND [ARGS...]]\n"
        "\n"
        "Boot the test guest under QEMU with vigil attached, run COMMAND in\n"
        "it (an interactive shell if none is given) and exit with its "
        "status.\n"
        "\n"
        "  --kernel FILE      guest kernel (default: the built guest)\n"
        "  --initrd FILE      guest initramfs (default: the built guest)\n"
        "  --append ARGS      extra kernel command line arguments\n"
        "  --accel tcg|kvm    accelerator (default: tcg)\n"
        "  --smp N            number of vCPUs (default: 1)\n"
        "  --memory MB        guest memory (default: 512)\n"
        "  --disk FILE[,if=virtio|ide][,scan=POLICY][,events=PATH]\n"
        "       [,policies=PATH]\n"
        "                     attach FILE as a raw disk; with scan= or --db\n"
        "                     every write is scanned; POLICY is alert,\n"
        "                     deny, zero or cut-net (docs/disk.md)\n"
        "  --db PATH          signature database(s) for --disk scanning;\n"
        "                     replace it by rename to reload it\n"
        "  --net user|user-open|none\n"
        "                     give the guest a virtio NIC on QEMU's user-mode\n"
        "                     network, netdev id net0 (default: none); user\n"
        "                     is isolated (restrict=on: no way out to the\n"
        "                     host or beyond), user-open is not\n"
        "  --console FILE     write the kernel console to FILE "
        "(- for stderr)\n"
        "  --timeout SECONDS  stop the guest after SECONDS (exit 124)\n"
        "  --plugin FILE      the vigil QEMU plugin (default: beside "
        "vigil)\n"
        "  --no-plugin        run without the plugin (for baselines)\n"
        "  --qemu FILE        the QEMU binary (default: $VIGIL_QEMU, else\n"
        "                     the host's if >= 11.1, else the one setup\n"
        "                     installed; `vigil doctor` says which)\n"
        "  --keep             keep the run directory and print its path\n"
        "  --log udp://HOST:PORT|tcp://HOST:PORT --key FILE\n"
        "                     stream the trace to `vigil logd` once it sends\n"
        "                     START to --log-control-port N (default 7701)\n"
        "                     on --log-control-bind ADDR (default 0.0.0.0:\n"
        "                     every IPv4 address; 50 packets/s at most);\n"
        "                     --log-wait S waits up to S s for it before\n"
        "                     boot; --log-heartbeats N: stop after N\n"
        "                     missed (3; 0: never)\n"
        "  --inject SET:error=ERRNO|:retval=N[:when=FIRST[..LAST][+STEP]]\n"
        "                     make the calls in SET of the --trace\n"
        "                     selection fail or return N without reaching\n"
        "                     the guest kernel (strace's -e inject=);\n"
        "                     repeatable\n"
        "  --no-hypercalls    leave vmcall to raise #UD, as without vigil\n"
        "  --hide exe=PATH|comm=NAME\n"
        "                     run that process's socket calls on the host,\n"
        "                     never in the guest kernel (repeatable;\n"
        "                     --hide-children: its children too;\n"
        "                     --hide-netns NAME: in that namespace)\n"
        "  --update-key FILE  accept signed updates of --db (a minisign\n"
        "                     public key; repeatable): from the guest's\n"
        "                     hypercall, and with --update-listen\n"
        "                     udp://ADDR:PORT over the network\n"
        "  -v, --verbose      print the QEMU command and plugin messages\n"
        "\n"
        "Exit status: the command's, or 124 on timeout, 125 when QEMU or\n"
        "the guest failed before the command finished, 130 on "
        "interrupt.\n");
}

static bool parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return false;
    *out = (unsigned)v;
    return true;
}

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

static int parse_args(int argc, char **argv, struct run_opts *o)
{
    enum {
        OPT_KERNEL = 256,
        OPT_INITRD,
        OPT_APPEND,
        OPT_ACCEL,
        OPT_SMP,
        OPT_MEMORY,
        OPT_DISK,
        OPT_DISK_DB,
        OPT_NET,
        OPT_CONSOLE,
        OPT_TIMEOUT,
        OPT_PLUGIN,
        OPT_NO_PLUGIN,
        OPT_QEMU,
        OPT_KEEP,
        OPT_TRACE,
        OPT_FOLLOW,
        OPT_FORMAT,
        OPT_PROFILE,
        OPT_STRSIZE,
        OPT_BUFSIZE,
        OPT_LOG,
        OPT_LOG_KEY,
        OPT_LOG_CTL,
        OPT_LOG_WAIT,
        OPT_LOG_BIND,
        OPT_LOG_HB,
        OPT_INJECT,
        OPT_NO_HCALL,
        OPT_UPDATE_KEY,
        OPT_UPDATE_LISTEN,
        OPT_HIDE,
        OPT_HIDE_CHILDREN,
        OPT_HIDE_NETNS,
    };
    static const struct option longopts[] = {
        {"kernel", required_argument, NULL, OPT_KERNEL},
        {"initrd", required_argument, NULL, OPT_INITRD},
        {"append", required_argument, NULL, OPT_APPEND},
        {"accel", required_argument, NULL, OPT_ACCEL},
        {"smp", required_argument, NULL, OPT_SMP},
        {"memory", required_argument, NULL, OPT_MEMORY},
        {"disk", required_argument, NULL, OPT_DISK},
        {"db", required_argument, NULL, OPT_DISK_DB},
        {"net", required_argument, NULL, OPT_NET},
        {"console", required_argument, NULL, OPT_CONSOLE},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"plugin", required_argument, NULL, OPT_PLUGIN},
        {"no-plugin", no_argument, NULL, OPT_NO_PLUGIN},
        {"qemu", required_argument, NULL, OPT_QEMU},
        {"keep", no_argument, NULL, OPT_KEEP},
        {"trace", required_argument, NULL, OPT_TRACE},
        {"follow-children", no_argument, NULL, OPT_FOLLOW},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"output", required_argument, NULL, 'o'},
        {"profile", required_argument, NULL, OPT_PROFILE},
        {"strsize", required_argument, NULL, OPT_STRSIZE},
        {"bufsize", required_argument, NULL, OPT_BUFSIZE},
        {"log", required_argument, NULL, OPT_LOG},
        {"key", required_argument, NULL, OPT_LOG_KEY},
        {"log-control-port", required_argument, NULL, OPT_LOG_CTL},
        {"log-wait", required_argument, NULL, OPT_LOG_WAIT},
        {"log-control-bind", required_argument, NULL, OPT_LOG_BIND},
        {"log-heartbeats", required_argument, NULL, OPT_LOG_HB},
        {"inject", required_argument, NULL, OPT_INJECT},
        {"no-hypercalls", no_argument, NULL, OPT_NO_HCALL},
        {"update-key", required_argument, NULL, OPT_UPDATE_KEY},
        {"update-listen", required_argument, NULL, OPT_UPDATE_LISTEN},
        {"hide", required_argument, NULL, OPT_HIDE},
        {"hide-children", no_argument, NULL, OPT_HIDE_CHILDREN},
        {"hide-netns", required_argument, NULL, OPT_HIDE_NETNS},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+vho:", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_KERNEL:
            o->kernel = optarg;
            break;
        case OPT_INITRD:
            o->initrd = optarg;
            break;
        case OPT_APPEND:
            o->append = optarg;
            break;
        case OPT_ACCEL:
            if (strcmp(optarg, "tcg") != 0 && strcmp(optarg, "kvm") != 0) {
                cli_error("--accel: expected tcg or kvm, got '%s'", optarg);
                return -1;
            }
            o->accel = optarg;
            break;
        case OPT_SMP:
            if (!parse_uint(optarg, 1, 64, &o->smp)) {
                cli_error("--smp: expected 1..64, got '%s'", optarg);
                return -1;
            }
            break;
        case OPT_MEMORY:
            if (!parse_uint(optarg, 64, 65536, &o->memory_mb)) {
                cli_error("--memory: expected 64..65536 (MB), got '%s'",
                          optarg);
                return -1;
            }
            break;
        case OPT_DISK:
            if (o->ndisks == RUN_DISKS_MAX) {
                cli_error("--disk: at most %d disks", RUN_DISKS_MAX);
                return -1;
            }
            o->disk[o->ndisks++] = optarg;
            break;
        case OPT_DISK_DB:
            o->disk_db = optarg;
            break;
        case OPT_NET:
            if (strcmp(optarg, "user") != 0 && strcmp(optarg, "none") != 0 &&
                strcmp(optarg, "user-open") != 0) {
                cli_error("--net: expected user, user-open or none, got '%s'",
                          optarg);
                return -1;
            }
            o->net = strcmp(optarg, "none") != 0;
            o->net_open = !strcmp(optarg, "user-open");
            break;
        case OPT_CONSOLE:
            o->console = optarg;
            break;
        case OPT_TIMEOUT:
            if (!parse_uint(optarg, 1, 86400 * 7, &o->timeout_s)) {
                cli_error("--timeout: expected seconds > 0, got '%s'", optarg);
                return -1;
            }
            break;
        case OPT_PLUGIN:
            o->plugin = optarg;
            break;
        case OPT_NO_PLUGIN:
            o->no_plugin = true;
            break;
        case OPT_QEMU:
            o->qemu = optarg;
            break;
        case OPT_KEEP:
            o->keep = true;
            break;
        case OPT_TRACE:
            if (run_trace_parse_select(optarg, &o->tr.sel) < 0) {
                cli_error("--trace: expected all, pid=N, comm=NAME (up to "
                          "15 characters) or exe=PATH, got '%s'",
                          optarg);
                return -1;
            }
            o->trace = true;
            break;
        case OPT_FOLLOW:
            o->tr.sel.follow_children = 1;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0) {
                cli_error("--format: expected json or text, got '%s'", optarg);
                return -1;
            }
            o->tr.text = !strcmp(optarg, "text");
            break;
        case 'o':
            o->tr.output = optarg;
            break;
        case OPT_PROFILE:
            o->tr.profile = optarg;
            break;
        case OPT_STRSIZE:
            if (!parse_uint(optarg, 1, 4096, &o->tr.str_max)) {
                cli_error("--strsize: expected 1..4096, got '%s'", optarg);
                return -1;
            }
            break;
        case OPT_BUFSIZE:
            if (!parse_uint(optarg, 0, 4096, &o->tr.buf_max)) {
                cli_error("--bufsize: expected 0..4096, got '%s'", optarg);
                return -1;
            }
            break;
        case OPT_LOG:
            o->tr.log_url = optarg;
            break;
        case OPT_LOG_KEY:
            o->tr.log_key = optarg;
            break;
        case OPT_LOG_CTL:
            if (!parse_uint(optarg, 1, 65535, &o->tr.log_ctl_port)) {
                cli_error("--log-control-port: expected 1..65535");
                return -1;
            }
            break;
        case OPT_LOG_HB:
            if (!parse_uint(optarg, 0, 1000, &o->tr.log_hb_missed)) {
                cli_error("--log-heartbeats: expected 0..1000");
                return -1;
            }
            o->tr.log_hb_set = true;
            break;
        case OPT_LOG_BIND:
            o->tr.log_ctl_bind = optarg;
            break;
        case OPT_LOG_WAIT:
            if (!parse_uint(optarg, 0, 3600, &o->tr.log_wait_s)) {
                cli_error("--log-wait: expected 0..3600 seconds");
                return -1;
            }
            break;
        case OPT_INJECT: {
            char err[160];
            if (vigil_inject_parse(optarg, &o->tr.act, err, sizeof err) < 0) {
                cli_error("--inject '%s': %s", optarg, err);
                return -1;
            }
            break;
        }
        case OPT_NO_HCALL:
            o->tr.act.flags &= ~(uint32_t)VACT_HCALL;
            break;
        case OPT_UPDATE_KEY:
            if (o->nupdate_keys ==
                sizeof o->update_keys / sizeof *o->update_keys) {
                cli_error("--update-key: at most 16 keys");
                return -1;
            }
            o->update_keys[o->nupdate_keys++] = optarg;
            break;
        case OPT_UPDATE_LISTEN:
            o->update_listen = optarg;
            break;
        case OPT_HIDE: {
            struct vact_config *a = &o->tr.act;
            if (a->nhide == VACT_HIDE_MAX) {
                cli_error("--hide: at most %d", VACT_HIDE_MAX);
                return -1;
            }
            if (run_trace_parse_select(optarg, &a->hide[a->nhide]) < 0 ||
                (a->hide[a->nhide].kind != VIGIL_SEL_EXE &&
                 a->hide[a->nhide].kind != VIGIL_SEL_COMM)) {
                cli_error("--hide: expected exe=PATH or comm=NAME, got '%s'",
                          optarg);
                return -1;
            }
            a->nhide++;
            break;
        }
        case OPT_HIDE_CHILDREN:
            o->hide_children = true;
            break;
        case OPT_HIDE_NETNS:
            o->hide_netns = optarg;
            break;
        case 'v':
            o->verbose = true;
            break;
        case 'h':
            run_usage(stdout);
            exit(0);
        default:
            run_usage(stderr);
            return -1;
        }
    }
    o->command = optind < argc ? argv + optind : NULL;
    if (!o->trace && (o->tr.sel.follow_children || o->tr.output)) {
        cli_error("--follow-children and --output need --trace");
        return -1;
    }
    if ((o->tr.log_url || o->tr.log_key) &&
        (!o->trace || !o->tr.log_url || !o->tr.log_key)) {
        cli_error("--log URL and --key FILE go together, with --trace");
        return -1;
    }
    if ((o->nupdate_keys || o->update_listen) &&
        (!o->nupdate_keys || !o->disk_db)) {
        cli_error("signed updates need --db (the database they replace) and "
                  "--update-key");
        return -1;
    }
    for (uint32_t i = 0; i < o->tr.act.nhide; i++)
        o->tr.act.hide[i].follow_children = o->hide_children;
    if (o->hide_netns && !o->tr.act.nhide) {
        cli_error("--hide-netns goes with --hide");
        return -1;
    }
    if (o->tr.act.nhide && (o->no_plugin || !strcmp(o->accel, "kvm"))) {
        cli_error("--hide needs the plugin under TCG");
        return -1;
    }
    if (o->tr.act.nrules > 0 && !o->trace) {
        cli_error("--inject acts on the threads --trace selects: give "
                  "--trace too");
        return -1;
    }
    if (o->trace && o->no_plugin) {
        cli_error("--trace needs the plugin");
        return -1;
    }
    if (o->trace && !strcmp(o->accel, "kvm")) {
        /* Under KVM guest code never passes QEMU's translator. */
        cli_error("--trace needs --accel tcg: a TCG plugin sees nothing of a "
                  "KVM guest");
        return -1;
    }
    return 0;
}

static bool check_readable(const char *what, const char *path)
{
    if (access(path, R_OK) == 0)
        return true;
    cli_error("%s '%s': %s%s", what, path, strerror(errno),
              errno == ENOENT ? " (build the guest with `make guest`)" : "");
    return false;
}

static int cmd_run_with(struct run_opts *op);

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
    if (parse_args(argc, argv, &o) < 0)
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

static int cmd_run_with(struct run_opts *op)
{
    struct run_opts o = *op;
    char kbuf[4096], ibuf[4096], pbuf[4096];
    if (o.kernel == NULL)
        o.kernel = guest_file("vmlinuz", kbuf, sizeof kbuf);
    if (o.initrd == NULL)
        o.initrd = guest_file("initramfs.cpio.gz", ibuf, sizeof ibuf);
    if (o.plugin == NULL) {
        snprintf(pbuf, sizeof pbuf, "%s/vigil-qemu.so", cli_self_dir());
        o.plugin = pbuf;
    }
    /* QEMU splits option values at commas; we do not escape them. */
    /* (--disk's options follow commas; run-disk.c checks its file.) */
    const char *paths[] = {o.kernel, o.initrd, o.plugin, o.console,
                           getenv("TMPDIR")};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        const char *c = paths[i] ? strchr(paths[i], ',') : NULL;
        if (c != NULL) {
            cli_error("path '%s' contains a comma, which QEMU cannot take",
                      paths[i]);
            return VIGIL_EXIT_USAGE;
        }
    }
    if (!check_readable("kernel", o.kernel) ||
        !check_readable("initrd", o.initrd) ||
        (!o.no_plugin && !check_readable("plugin", o.plugin)))
        return VIGIL_EXIT_USAGE;
    if (!strcmp(o.accel, "kvm") && access("/dev/kvm", R_OK | W_OK) != 0) {
        cli_error("--accel kvm: /dev/kvm: %s", strerror(errno));
        return VIGIL_EXIT_USAGE;
    }

    /* The kernel command line; KASLR stays on (no nokaslr here). */
    char cmdline[KERNEL_CMDLINE_MAX + 64];
    int n =
        snprintf(cmdline, sizeof cmdline, "console=ttyS0 panic=-1 quiet%s%s",
                 o.append ? " " : "", o.append ? o.append : "");
    if (o.command != NULL) {
        char *enc = run_encode_command(o.command);
        if (enc == NULL) {
            cli_error("out of memory");
            return VIGIL_EXIT_GUEST;
        }
        n = snprintf(cmdline + n, sizeof cmdline - n, " vigil.cmd=%s", enc) + n;
        free(enc);
    }
    if (n < 0 || (size_t)n >= KERNEL_CMDLINE_MAX) {
        cli_error("the command and --append take %d bytes of kernel command "
                  "line; the limit is %d",
                  n, KERNEL_CMDLINE_MAX - 1);
        return VIGIL_EXIT_USAGE;
    }

    /* Bounded so that every path built from it below fits PATH_BUF. */
    char dir[RUNDIR_MAX];
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || *tmp == '\0')
        tmp = "/tmp";
    if (snprintf(dir, sizeof dir, "%s/vigil-run.XXXXXX", tmp) >=
        (int)sizeof dir) {
        cli_error("TMPDIR is too long");
        return VIGIL_EXIT_USAGE;
    }
    if (mkdtemp(dir) == NULL) {
        cli_error("cannot create a run directory in %s: %s", tmp,
                  strerror(errno));
        return VIGIL_EXIT_GUEST;
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

    /* Signed updates of --db: before the disks, which load it. */
    struct run_update *update = NULL;
    if (o.nupdate_keys > 0 &&
        run_update_start(&update, o.disk_db, o.update_keys, o.nupdate_keys,
                         o.update_listen, 0, o.verbose) < 0) {
        sigprocmask(SIG_SETMASK, &oldmask, NULL);
        run_remove_rundir(dir);
        return VIGIL_EXIT_USAGE;
    }
    char plugin_arg[PATH_BUF + 16] = "";
    struct run_trace *trace = NULL;
    /* Without --trace, updates from the guest and hidden calls still need
     * the plugin's channel, which then carries nothing else. */
    o.tr.channel_only = !o.trace;
    if ((o.trace || o.tr.act.nhide ||
         (update != NULL && !o.no_plugin && strcmp(o.accel, "kvm") != 0)) &&
        run_trace_start(&trace, &o.tr, o.kernel, dir, o.smp, plugin_arg,
                        sizeof plugin_arg) < 0) {
        run_update_stop(update);
        sigprocmask(SIG_SETMASK, &oldmask, NULL);
        run_remove_rundir(dir);
        return VIGIL_EXIT_USAGE;
    }
    /* --hide: the executor of hidden calls, before the guest runs. */
    struct run_hide *hide = NULL;
    if (trace != NULL && o.tr.act.nhide &&
        run_hide_start(&hide, run_trace_ring(trace), o.hide_netns) < 0) {
        run_trace_stop(trace, false);
        run_update_stop(update);
        sigprocmask(SIG_SETMASK, &oldmask, NULL);
        run_remove_rundir(dir);
        return VIGIL_EXIT_USAGE;
    }
    /* The plugin's requests (the guest's update hypercall). */
    struct run_requests *requests = NULL;
    if (trace != NULL &&
        run_requests_start(&requests, run_trace_ring(trace), update) < 0) {
        run_hide_stop(hide, false);
        run_trace_stop(trace, false);
        run_update_stop(update);
        sigprocmask(SIG_SETMASK, &oldmask, NULL);
        run_remove_rundir(dir);
        return VIGIL_EXIT_USAGE;
    }
    /* --disk: served by nbdkit with the vigil filter when scanned.  With a
     * trace, detections also join its stream, through a pipe that only the
     * nbdkit processes inherit. */
    struct run_disks *disks = NULL;
    int evp[2] = {-1, -1};
    if (o.ndisks > 0 && trace != NULL && pipe2(evp, O_CLOEXEC) < 0) {
        cli_error("pipe: %s", strerror(errno));
        evp[0] = evp[1] = -1;
    }
    int r = run_disks_start(&disks, o.disk, o.ndisks, o.disk_db, dir, o.net,
                            evp[1], o.drive);
    if (evp[1] >= 0)
        close(evp[1]);
    if (r == 0 && update != NULL) {
        const char *status[16];
        size_t ns = run_disks_db_status(disks, status, 16);
        run_update_set_filters(update, status, ns);
    }
    if (r == 0 && run_disks_scanned(disks) && evp[0] >= 0)
        run_trace_add_events(trace, evp[0]);
    else if (evp[0] >= 0)
        close(evp[0]);
    if (r < 0) {
        run_requests_stop(requests);
        run_hide_stop(hide, false);
        run_trace_stop(trace, false);
        run_update_stop(update);
        sigprocmask(SIG_SETMASK, &oldmask, NULL);
        run_remove_rundir(dir);
        return VIGIL_EXIT_USAGE;
    }

    struct strvec av;
    strvec_init(&av);
    if (run_qemu_argv(&o, dir, cmdline, plugin_arg, &av) < 0) {
        strvec_free(&av);
        run_requests_stop(requests);
        run_hide_stop(hide, false);
        run_trace_stop(trace, false);
        run_disks_stop(disks);
        run_update_stop(update);
        run_remove_rundir(dir);
        return VIGIL_EXIT_USAGE;
    }
    if (o.verbose) {
        fprintf(stderr, "vigil: run directory %s\nvigil: ", dir);
        for (size_t i = 0; i < av.len; i++)
            fprintf(stderr, "%s%s", av.v[i], i + 1 < av.len ? " " : "\n");
    }

    /* The guest's terminal is a serial port: it echoes what it receives
     * and cannot pass an end of file. Only a terminal on our side makes
     * that a conversation; anything else would end up echoed into the
     * command's output, so QEMU then reads nothing. */
    if (!isatty(0)) {
        int fd = open("/dev/null", O_RDONLY);
        if (fd >= 0 && fd != 0) {
            dup2(fd, 0);
            close(fd);
        }
    }
    /* QEMU needs a valid stdin for its stdio chardev. */
    if (fcntl(0, F_GETFD) < 0) {
        int fd = open("/dev/null", O_RDONLY);
        if (fd > 0) {
            dup2(fd, 0);
            close(fd);
        }
    }
    /* QEMU puts a terminal in raw mode; restore it whatever happens. */
    struct termios tio;
    bool have_tio = isatty(0) && tcgetattr(0, &tio) == 0;

    char errpath[PATH_BUF];
    snprintf(errpath, sizeof errpath, "%s/qemu.err", dir);
    uint64_t t0 = cli_now_ns(CLOCK_MONOTONIC);
    pid_t pid = run_qemu_spawn(av.v, errpath, &oldmask);
    int rc;
    if (pid < 0) {
        cli_error("fork: %s", strerror(errno));
        rc = VIGIL_EXIT_GUEST;
        goto out;
    }
    enum stop_reason why;
    int wstatus = run_qemu_wait(pid, dir, o.timeout_s, &why);
    double elapsed = (double)(cli_now_ns(CLOCK_MONOTONIC) - t0) / 1e9;
    if (have_tio)
        tcsetattr(0, TCSANOW, &tio);

    char logpath[PATH_BUF], conpath[PATH_BUF];
    snprintf(logpath, sizeof logpath, "%s/qemu.log", dir);
    snprintf(conpath, sizeof conpath, "%s/console.log", dir);
    if (o.verbose)
        run_show_tail(logpath, 20, "plugin messages");

    /* The disk filters first: their last detections join the trace. */
    run_disks_stop(disks);
    disks = NULL;
    run_requests_stop(requests);
    requests = NULL;
    run_hide_stop(hide, o.verbose);
    hide = NULL;
    run_trace_stop(trace, o.verbose);
    trace = NULL;
    int status = run_read_status(dir);
    if (why == STOP_TIMEOUT) {
        cli_error("timed out after %u s; guest stopped", o.timeout_s);
        run_show_tail(conpath, 10, "guest console");
        rc = EXIT_TIMEOUT;
    } else if (why == STOP_SIGNAL) {
        cli_error("interrupted; guest stopped");
        rc = EXIT_INTERRUPTED;
    } else if (status >= 0) {
        rc = status;
        if (o.verbose)
            fprintf(stderr, "vigil: command exited %d after %.2f s\n", rc,
                    elapsed);
    } else {
        if (wstatus != -1 && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) != 0)
            cli_error("QEMU failed to start or stopped with status %d",
                      WEXITSTATUS(wstatus));
        else if (wstatus != -1 && WIFSIGNALED(wstatus))
            cli_error("QEMU was killed by signal %d", WTERMSIG(wstatus));
        else
            cli_error("the guest stopped without reporting the command's "
                      "status (kernel panic or init failure?)");
        run_show_tail(errpath, 10, "QEMU said");
        run_show_tail(logpath, 10, "plugin messages");
        run_show_tail(o.console ? o.console : conpath, 15, "guest console");
        rc = VIGIL_EXIT_GUEST;
    }
out:
    run_requests_stop(requests);
    run_hide_stop(hide, false);
    run_trace_stop(trace, false);
    run_disks_stop(disks);
    run_update_stop(update);
    sigprocmask(SIG_SETMASK, &oldmask, NULL);
    strvec_free(&av);
    if (o.keep)
        fprintf(stderr, "vigil: kept run directory %s\n", dir);
    else
        run_remove_rundir(dir);
    return rc;
}
