/* The filter's parameters (vigil-*=VALUE on nbdkit's command line), see
 * docs/disk.md. */
#ifndef VIGIL_NBD_CONFIG_H
#define VIGIL_NBD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "diskscan/policy.h"

struct filter_config {
    char **db_paths; /* vigil-db, absolute */
    size_t n_db;
    enum nbd_policy policy;
    char *policy_file;
    struct nbd_policy_table *table; /* loaded by config_complete */
    char *events_path;
    int events_fd;   /* opened by config_complete, or -1 */
    int events_pipe; /* vigil-events-fd: inherited from vigil run, or -1 */
    char *qmp_path;
    char *netdev;
    int qmp_timeout_ms;
    char *reload_path;
    char *status_path; /* vigil-db-status */
    char *disk;
    bool behind_off;    /* vigil-scan-behind=no */
    bool partial_db;    /* vigil-partial-db=yes */
    char *cvd_key_path; /* vigil-cvd-key */
    char *cvd_key;      /* its text, read by config_complete */
};

#define FILTER_CONFIG_INIT                                                     \
    {                                                                          \
        .events_fd = -1, .events_pipe = -1, .qmp_timeout_ms = 2000             \
    }

/* One key=value.  Return 1 when the key is not the filter's, 0 when taken,
 * -1 after nbdkit_error. */
int config_set(struct filter_config *c, const char *key, const char *value);

/* Check the whole, fill in defaults, load the policy file, open the events
 * file.  Return 0, or -1 after nbdkit_error. */
int config_complete(struct filter_config *c);

void config_free(struct filter_config *c);

#define CONFIG_HELP                                                            \
    "vigil-db=PATH            signature database or directory "                \
    "(repeatable)\n"                                                           \
    "vigil-partial-db=BOOL    accept a database with rejected lines "          \
    "(false)\n"                                                                \
    "vigil-cvd-key=PATH       .cvd signature key instead of ClamAV's "         \
    "(tests)\n"                                                                \
    "vigil-policy=POLICY      alert|deny|zero|cut-net\n"                       \
    "vigil-policy-file=PATH   'SIGNATURE-GLOB POLICY' lines\n"                 \
    "vigil-events=PATH        append JSON Lines detections\n"                  \
    "vigil-events-fd=N        also write them to descriptor N\n"               \
    "vigil-qmp=SOCKET         QMP socket for cut-net\n"                        \
    "vigil-netdev=ID          netdev to take down (net0)\n"                    \
    "vigil-qmp-timeout=MS     QMP timeout (2000)\n"                            \
    "vigil-db-status=PATH     write which database is in force\n"              \
    "vigil-db-reload=PATH     reload databases when its mtime "                \
    "changes\n"                                                                \
    "vigil-disk=NAME          disk name in events (disk)\n"                    \
    "vigil-scan-behind=BOOL   alert-only: scan behind the "                    \
    "I/O (true)"

#endif
