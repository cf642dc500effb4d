/* The few fields of a record that logd's stores index, found without
 * parsing the JSON: records come from vigil's own renderer, keys in a fixed
 * order, and a quote inside a string is always escaped, so `"key":` can
 * only be a key. The type and ts of every record; pid, tid, name and ret
 * of syscall records only. */
#ifndef VIGIL_CLI_LOGD_FIELDS_H
#define VIGIL_CLI_LOGD_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

struct logd_fields {
    long long ts, pid, tid, ret;
    bool has_ts, has_pid, has_tid, has_ret;
    const char *type, *name; /* not NUL-terminated; NULL: absent */
    int type_len, name_len;
};

void logd_fields_find(const char *rec, size_t len, struct logd_fields *f);

#endif
