/* vigil run's command line: the usage text and the options, checked
 * against each other, into struct run_opts. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "run.h"

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
        "  --image FILE[,scan=POLICY][,events=PATH][,policies=PATH]\n"
        "                     boot a distribution from its disk image (raw\n"
        "                     or qcow2; its own /boot kernel and initrd, root\n"
        "                     /dev/vda; options as --disk's); COMMAND runs\n"
        "                     through its qemu-guest-agent, else its\n"
        "                     console is on the terminal (docs/image.md)\n"
        "  --wait-boot SECONDS\n"
        "                     with --image and COMMAND: wait that long for\n"
        "                     the guest agent (default: 300)\n"
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
        "  --callers[=N]      with --trace: each call also names the code\n"
        "                     that made it (\"caller\", \"origin\"), the\n"
        "                     thread's last N branches\n"
        "                     (default 32, at most 1024) and the return\n"
        "                     addresses on its stack (docs/callers.md)\n"
        "  --callers-chain K  at most K return addresses (default 16,\n"
        "                     0..64; 0: none)\n"
        "  --ring-size SIZE   with --trace: each vCPU's record ring, a power\n"
        "                     of two from 256K to 1024M (suffix K or M, M\n"
        "                     when none; default 8M)\n"
        "  --ring-full drop|wait\n"
        "                     when a ring is full: stop the vCPU until vigil\n"
        "                     made room (default; up to 10 s, docs/cli.md),\n"
        "                     or drop the record and count it\n"
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

/* --ring-size: a power of two in bytes, K or M (the default) suffix. */
static bool parse_ring_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    unsigned long unit = 1ul << 20;
    if (*end == 'K' || *end == 'k')
        unit = 1ul << 10;
    else if (*end != 'M' && *end != 'm' && *end != '\0')
        return false;
    if (*end != '\0' && end[1] != '\0')
        return false;
    if (errno != 0 || end == s || v == 0 || v > (1ul << 20))
        return false;
    v *= unit;
    if (v < VIGIL_RING_MIN || v > VIGIL_RING_MAX || (v & (v - 1)) != 0)
        return false;
    *out = v;
    return true;
}

/* --image: the image becomes the first disk, so that the guest sees it
 * as /dev/vda and --db scans it like any --disk. */
static int check_image(struct run_opts *o)
{
    if (o->ndisks == RUN_DISKS_MAX) {
        cli_error("--disk: at most %d disks besides --image",
                  RUN_DISKS_MAX - 1);
        return -1;
    }
    memmove(o->disk + 1, o->disk, o->ndisks * sizeof o->disk[0]);
    o->disk[0] = o->image;
    o->ndisks++;
    if (o->wait_boot_s == 0)
        o->wait_boot_s = 300;
    return 0;
}

int run_parse_args(int argc, char **argv, struct run_opts *o)
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
        OPT_IMAGE,
        OPT_WAIT_BOOT,
        OPT_CALLERS,
        OPT_CALLERS_CHAIN,
        OPT_RING_SIZE,
        OPT_RING_FULL,
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
        {"image", required_argument, NULL, OPT_IMAGE},
        {"wait-boot", required_argument, NULL, OPT_WAIT_BOOT},
        {"callers", optional_argument, NULL, OPT_CALLERS},
        {"callers-chain", required_argument, NULL, OPT_CALLERS_CHAIN},
        {"ring-size", required_argument, NULL, OPT_RING_SIZE},
        {"ring-full", required_argument, NULL, OPT_RING_FULL},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    bool callers_chain_set = false;
    bool ring_set = false, ring_drop = false;
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
        case OPT_IMAGE:
            if (strstr(optarg, ",if=") != NULL) {
                cli_error("--image: the image is the guest's first virtio "
                          "disk (/dev/vda); if= does not apply");
                return -1;
            }
            o->image = optarg;
            break;
        case OPT_WAIT_BOOT:
            if (!parse_uint(optarg, 1, 86400, &o->wait_boot_s)) {
                cli_error("--wait-boot: expected seconds > 0, got '%s'",
                          optarg);
                return -1;
            }
            break;
        case OPT_CALLERS: {
            unsigned n = 32;
            if (optarg != NULL &&
                !parse_uint(optarg, 1, VACT_CALLERS_BRANCHES_MAX, &n)) {
                cli_error("--callers: expected 1..%d branches, got '%s'",
                          VACT_CALLERS_BRANCHES_MAX, optarg);
                return -1;
            }
            o->tr.act.flags |= VACT_CALLERS;
            o->tr.act.callers_branches = (uint16_t)n;
            break;
        }
        case OPT_CALLERS_CHAIN: {
            unsigned k;
            if (!parse_uint(optarg, 0, VACT_CALLERS_CHAIN_MAX, &k)) {
                cli_error("--callers-chain: expected 0..%d, got '%s'",
                          VACT_CALLERS_CHAIN_MAX, optarg);
                return -1;
            }
            o->tr.act.callers_chain = (uint16_t)k;
            callers_chain_set = true;
            break;
        }
        case OPT_RING_SIZE:
            if (!parse_ring_size(optarg, &o->tr.ring_bytes)) {
                cli_error("--ring-size: expected a power of two from 256K to "
                          "1024M, got '%s'",
                          optarg);
                return -1;
            }
            ring_set = true;
            break;
        case OPT_RING_FULL:
            if (!strcmp(optarg, "drop")) {
                ring_drop = true;
            } else if (!strcmp(optarg, "wait")) {
                ring_drop = false;
            } else {
                cli_error("--ring-full: expected drop or wait, got '%s'",
                          optarg);
                return -1;
            }
            ring_set = true;
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
    if (!callers_chain_set)
        o->tr.act.callers_chain = 16;
    if ((o->tr.act.flags & VACT_CALLERS || callers_chain_set) && !o->trace) {
        cli_error("--callers and --callers-chain go with --trace");
        return -1;
    }
    if (ring_set && !o->trace) {
        cli_error("--ring-size and --ring-full go with --trace");
        return -1;
    }
    /* Waiting is the default: with drop, a guest that floods the trace with
     * cheap calls could push the calls it wants unseen out of a full ring. */
    if (o->trace && !ring_drop)
        o->tr.act.flags |= VACT_RING_WAIT;
    if (o->wait_boot_s && (o->image == NULL || o->command == NULL)) {
        cli_error("--wait-boot goes with --image and a command");
        return -1;
    }
    if (o->image != NULL && o->command == NULL && o->console != NULL) {
        cli_error("--console: with --image and no command the console is "
                  "the terminal");
        return -1;
    }
    if (o->image != NULL && check_image(o) < 0)
        return -1;
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
