/* The few fields of a record that logd's stores index, found in one pass
 * over its bytes without building anything: the record's own keys only
 * (nesting and strings, with their escapes, are followed, so a key of the
 * same name in a nested object or inside a string is not taken). The type
 * and ts of every record; pid, tid, name and ret of syscall records only.
 * A string is indexed when it is plain (no escape) and at most 64 bytes;
 * a number when it is an integer, cut to 18 digits. Absent: NULL, or the
 * has_ flag false. tests/unit/test-logd-fields.c compares it with
 * jansson. */
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
