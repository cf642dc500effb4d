/* vigil doctor: which QEMU vigil would run, what its plugin API allows, and
 * whether the guest image is there; exits 0 when `vigil run` can trace and
 * act on a guest. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "qemu-rt.h"

#define PLUGIN_API 7 /* plugin/qemu-api.h */

static void usage(FILE *f)
{
    fprintf(f, "usage: vigil doctor [--qemu FILE] [--plugin FILE]\n"
               "\n"
               "Print the QEMU that `vigil run` uses and how it is started,\n"
               "its plugin API range and what that allows (observe: trace;\n"
               "act: skip, rewrite and inject calls, hypercalls), and\n"
               "whether KVM and the guest image are there. Exits 0 when the\n"
               "plugin loads, 1 when it does not.\n");
}

/* The plugin API range QEMU offers, from the plugin's probe line or from
 * QEMU's refusal; false when neither is in @out. */
static bool api_range(const char *out, int *min, int *max)
{
    const char *p = strstr(out, "vigil-plugin: probe: QEMU plugin API ");
    if (p != NULL && sscanf(p + 37, "%d..%d", min, max) == 2)
        return true;
    /* "plugin requires API version 7, but this QEMU supports only up to
     * version 4" (or "...only a minimum version of 8"). */
    if ((p = strstr(out, "only up to version ")) != NULL &&
        sscanf(p + 19, "%d", max) == 1) {
        *min = 0;
        return true;
    }
    if ((p = strstr(out, "only a minimum version of ")) != NULL &&
        sscanf(p + 26, "%d", min) == 1) {
        *max = *min;
        return true;
    }
    return false;
}

int cmd_doctor(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"qemu", required_argument, NULL, 'q'},
        {"plugin", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *given = NULL, *plugin = NULL;
    char pbuf[4096];
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'q':
            given = optarg;
            break;
        case 'p':
            plugin = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return VIGIL_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return VIGIL_EXIT_USAGE;
    }
    if (plugin == NULL) {
        snprintf(pbuf, sizeof pbuf, "%s/vigil-qemu.so", cli_self_dir());
        plugin = pbuf;
    }

    struct qemu_rt rt;
    int err = qemu_rt_find(&rt, given);
    if (err < 0) {
        printf("qemu:     none found (run `make deps` as root)\n");
        return 1;
    }
    char what[1024], line[256];
    qemu_rt_describe(&rt, what, sizeof what);
    printf("qemu:     %s\n", what);
    int major, minor;
    err = qemu_rt_version(&rt, line, sizeof line, &major, &minor);
    printf("version:  %s\n",
           err < 0 && err != -ENOEXEC ? strerror(-err) : line);

    struct strvec av;
    strvec_init(&av);
    for (size_t i = 0; i < rt.argv.len; i++)
        strvec_push(&av, rt.argv.v[i]);
    strvec_pushl(&av, "-M", "none", "-display", "none", "-nodefaults",
                 "-plugin", NULL);
    strvec_pushf(&av, "%s,probe=on", plugin);
    strvec_pushl(&av, "-d", "plugin", NULL);
    static char out[8192];
    int rc = strvec_ok(&av) ? qemu_rt_capture(av.v, out, sizeof out) : -ENOMEM;
    strvec_free(&av);
    qemu_rt_free(&rt);

    int min = 0, max = 0;
    bool known = rc >= 0 && api_range(out, &min, &max);
    bool loads = known && min <= PLUGIN_API && PLUGIN_API <= max;
    if (known && min > 0)
        printf("plugin:   %s (API %d); this QEMU offers API %d..%d\n", plugin,
               PLUGIN_API, min, max);
    else if (known)
        printf("plugin:   %s (API %d); this QEMU offers API up to %d\n", plugin,
               PLUGIN_API, max);
    else
        printf("plugin:   %s (API %d); the probe failed: %.*s\n", plugin,
               PLUGIN_API, (int)strcspn(out, "\n"), out);
    if (loads)
        printf("features: observe (trace system calls), act (skip, rewrite "
               "and inject calls, write guest memory, hypercalls)\n");
    else if (known && max >= 4)
        printf("features: none through the plugin: QEMU %d.%d can observe "
               "but not act, and vigil's plugin needs API %d (QEMU 11.1); "
               "--no-plugin runs and disk scanning work\n",
               major, minor, PLUGIN_API);
    else
        printf("features: none through the plugin; --no-plugin runs and "
               "disk scanning work\n");
    printf("kvm:      %s\n", access("/dev/kvm", R_OK | W_OK) == 0
                                 ? "/dev/kvm usable (--accel kvm: no plugin)"
                                 : "no usable /dev/kvm (TCG only)");
    char g[4096];
    const char *gdir = getenv("VIGIL_GUEST_DIR");
    if (gdir != NULL)
        snprintf(g, sizeof g, "%s/vmlinuz", gdir);
    else
        snprintf(g, sizeof g, "%s/guest/vmlinuz", cli_self_dir());
    printf("guest:    %s%s\n", g,
           access(g, R_OK) == 0 ? "" : " missing (run `make guest`)");
    return loads ? 0 : 1;
}
