/* vigil's TCG plugin, loaded into QEMU with -plugin.
 *
 * This file is the plugin's front door: it checks the API version, parses
 * the plugin arguments and reports what it attached to. The hot path (work
 * on vCPU threads) never blocks, prints or takes locks.
 */
#include <stdio.h>
#include <string.h>

#include "qemu-api.h"
#include "tracer.h"
#include "xlate.h"
#include "vigil/ring.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = VIGIL_QEMU_PLUGIN_API;

static unsigned int vcpus_seen;
static bool tracing;

static void on_vcpu_init(unsigned int vcpu, void *udata)
{
    (void)udata;
    __atomic_fetch_add(&vcpus_seen, 1, __ATOMIC_RELAXED);
    if (tracing)
        tracer_vcpu_init(vcpu);
}

static void on_atexit(void *udata)
{
    char msg[640];
    (void)udata;
    char tr[512] = "";
    if (tracing)
        tracer_report(tr, sizeof tr);
    snprintf(msg, sizeof msg, "vigil-plugin: exit, %u vCPUs initialised%s%s\n",
             __atomic_load_n(&vcpus_seen, __ATOMIC_RELAXED), tr[0] ? ", " : "",
             tr);
    qemu_plugin_outs(msg);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
                                           const qemu_info_t *info, int argc,
                                           char **argv)
{
    char msg[160];

    if (info->version.cur < VIGIL_QEMU_PLUGIN_API ||
        info->version.min > VIGIL_QEMU_PLUGIN_API) {
        snprintf(msg, sizeof msg,
                 "vigil-plugin: QEMU plugin API %d..%d does not include %d\n",
                 info->version.min, info->version.cur, VIGIL_QEMU_PLUGIN_API);
        qemu_plugin_outs(msg);
        return -1;
    }
    if (!info->system_emulation || strcmp(info->target_name, "x86_64") != 0) {
        snprintf(msg, sizeof msg,
                 "vigil-plugin: needs x86_64 system emulation, got %s %s\n",
                 info->target_name, info->system_emulation ? "system" : "user");
        qemu_plugin_outs(msg);
        return -1;
    }
    const char *ring_path = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strncmp(argv[i], "ring=", 5)) {
            ring_path = argv[i] + 5;
            continue;
        }
        if (!strncmp(argv[i], "ram=", 4)) {
            /* Without it (it cannot be mapped) reads go through QEMU. */
            if (!xlate_map_ram(argv[i] + 4)) {
                snprintf(msg, sizeof msg,
                         "vigil-plugin: cannot map the guest's RAM %s: "
                         "stack pages are read through QEMU\n",
                         argv[i] + 4);
                qemu_plugin_outs(msg);
            }
            continue;
        }
        if (!strcmp(argv[i], "probe=on")) {
            /* `vigil doctor`: say what this QEMU offers, load nothing. */
            snprintf(msg, sizeof msg,
                     "vigil-plugin: probe: QEMU plugin API %d..%d\n",
                     info->version.min, info->version.cur);
            qemu_plugin_outs(msg);
            return -1;
        }
        snprintf(msg, sizeof msg, "vigil-plugin: unknown argument '%s'\n",
                 argv[i]);
        qemu_plugin_outs(msg);
        return -1;
    }
    if (ring_path != NULL) {
        struct vring_map *ring;
        char err[128];
        int rc = vring_open(ring_path, &ring);
        if (rc < 0) {
            snprintf(msg, sizeof msg, "vigil-plugin: cannot open ring %s: %s\n",
                     ring_path, strerror(-rc));
            qemu_plugin_outs(msg);
            return -1;
        }
        if (tracer_install(id, ring, err, sizeof err) < 0) {
            snprintf(msg, sizeof msg, "vigil-plugin: %s\n", err);
            qemu_plugin_outs(msg);
            vring_close(ring);
            return -1;
        }
        struct vring_shm *shm = vring_shm(ring);
        __atomic_store_n(&shm->plugin_nvcpus, (uint32_t)info->system.smp_vcpus,
                         __ATOMIC_RELAXED);
        __atomic_store_n(&shm->plugin_attached, 1, __ATOMIC_RELEASE);
        tracing = true;
    }

    qemu_plugin_register_vcpu_init_cb(id, on_vcpu_init, NULL);
    qemu_plugin_register_atexit_cb(id, on_atexit, NULL);

    snprintf(msg, sizeof msg,
             "vigil-plugin: loaded, API %d (QEMU offers %d..%d), %d vCPUs\n",
             VIGIL_QEMU_PLUGIN_API, info->version.min, info->version.cur,
             info->system.smp_vcpus);
    qemu_plugin_outs(msg);
    return 0;
}
