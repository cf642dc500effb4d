/* Filter parameters: see config.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <nbdkit-filter.h>

static int set_str(char **dst, const char *v, bool path)
{
    char *s = path ? nbdkit_absolute_path(v) : strdup(v);
    if (!s) {
        if (!path)
            nbdkit_error("strdup: %m");
        return -1;
    }
    free(*dst);
    *dst = s;
    return 0;
}

static int add_db(struct filter_config *c, const char *value)
{
    char **p = realloc(c->db_paths, (c->n_db + 1) * sizeof(*p));
    if (!p) {
        nbdkit_error("realloc: %m");
        return -1;
    }
    c->db_paths = p;
    c->db_paths[c->n_db] = nbdkit_absolute_path(value);
    if (!c->db_paths[c->n_db])
        return -1;
    c->n_db++;
    return 0;
}

static int set_bool(bool *dst, const char *value, bool negate)
{
    int v = nbdkit_parse_bool(value);
    if (v < 0)
        return -1;
    *dst = negate ? !v : v;
    return 0;
}

static int set_events_fd(struct filter_config *c, const char *key,
                         const char *value)
{
    int fd;
    if (nbdkit_parse_int(key, value, &fd) < 0)
        return -1;
    if (fd < 3 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        nbdkit_error("vigil-events-fd: %d is not an open descriptor", fd);
        return -1;
    }
    c->events_pipe = fd;
    return 0;
}

static int set_timeout(struct filter_config *c, const char *value)
{
    char *end;
    errno = 0;
    long ms = strtol(value, &end, 10);
    if (errno || end == value || *end || ms <= 0 || ms > 600000) {
        nbdkit_error("vigil-qmp-timeout: bad milliseconds '%s'", value);
        return -1;
    }
    c->qmp_timeout_ms = (int)ms;
    return 0;
}

int config_set(struct filter_config *c, const char *key, const char *value)
{
    static const struct {
        const char *key;
        size_t field;
        bool path;
    } strs[] = {
        {"vigil-policy-file", offsetof(struct filter_config, policy_file), 1},
        {"vigil-events", offsetof(struct filter_config, events_path), 1},
        {"vigil-qmp", offsetof(struct filter_config, qmp_path), 1},
        {"vigil-netdev", offsetof(struct filter_config, netdev), 0},
        {"vigil-db-reload", offsetof(struct filter_config, reload_path), 1},
        {"vigil-db-status", offsetof(struct filter_config, status_path), 1},
        {"vigil-disk", offsetof(struct filter_config, disk), 0},
        {"vigil-cvd-key", offsetof(struct filter_config, cvd_key_path), 1},
    };
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        if (strcmp(key, strs[i].key) == 0)
            return set_str((char **)((char *)c + strs[i].field), value,
                           strs[i].path);
    if (strcmp(key, "vigil-db") == 0)
        return add_db(c, value);
    if (strcmp(key, "vigil-policy") == 0) {
        if (nbd_policy_parse(value, &c->policy) == 0)
            return 0;
        nbdkit_error("vigil-policy: unknown policy '%s' "
                     "(alert, deny, zero, cut-net)",
                     value);
        return -1;
    }
    if (strcmp(key, "vigil-scan-behind") == 0)
        return set_bool(&c->behind_off, value, true);
    if (strcmp(key, "vigil-partial-db") == 0)
        return set_bool(&c->partial_db, value, false);
    if (strcmp(key, "vigil-events-fd") == 0)
        return set_events_fd(c, key, value);
    if (strcmp(key, "vigil-qmp-timeout") == 0)
        return set_timeout(c, value);
    return 1;
}

static int load_policies(struct filter_config *c)
{
    unsigned long line;
    int r = nbd_policy_table_load(&c->table, c->policy_file, &line);
    if (r == -EINVAL)
        nbdkit_error("%s:%lu: expected 'SIGNATURE POLICY'", c->policy_file,
                     line);
    else if (r < 0)
        nbdkit_error("%s: %s", c->policy_file, strerror(-r));
    return r < 0 ? -1 : 0;
}

/* vigil-cvd-key: the key's text (two decimal numbers, docs/signatures.md). */
static int read_key(struct filter_config *c)
{
    FILE *f = fopen(c->cvd_key_path, "r");
    char buf[4096];
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    bool bad = f == NULL || ferror(f) || !feof(f);
    if (f)
        fclose(f);
    buf[n] = '\0';
    if (bad || (c->cvd_key = strdup(buf)) == NULL) {
        nbdkit_error("vigil-cvd-key: %s: unreadable or too long",
                     c->cvd_key_path);
        return -1;
    }
    return 0;
}

int config_complete(struct filter_config *c)
{
    if (c->n_db == 0) {
        nbdkit_error("vigil-db=PATH is required");
        return -1;
    }
    if (c->policy_file && load_policies(c) < 0)
        return -1;
    if (c->policy == NBD_POLICY_CUT_NET && !c->qmp_path) {
        nbdkit_error("vigil-policy=cut-net needs vigil-qmp=SOCKET");
        return -1;
    }
    if (c->cvd_key_path && read_key(c) < 0)
        return -1;
    if (!c->netdev && set_str(&c->netdev, "net0", false) < 0)
        return -1;
    if (!c->disk && set_str(&c->disk, "disk", false) < 0)
        return -1;
    if (c->events_path) {
        c->events_fd = open(c->events_path,
                            O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (c->events_fd < 0) {
            nbdkit_error("vigil-events: %s: %m", c->events_path);
            return -1;
        }
    }
    return 0;
}

void config_free(struct filter_config *c)
{
    nbd_policy_table_free(c->table);
    for (size_t i = 0; i < c->n_db; i++)
        free(c->db_paths[i]);
    free(c->db_paths);
    if (c->events_fd >= 0)
        close(c->events_fd);
    if (c->events_pipe >= 0)
        close(c->events_pipe);
    free(c->policy_file);
    free(c->status_path);
    free(c->events_path);
    free(c->qmp_path);
    free(c->netdev);
    free(c->reload_path);
    free(c->disk);
    free(c->cvd_key_path);
    free(c->cvd_key);
}
