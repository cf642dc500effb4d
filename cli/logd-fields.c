/* logd-fields.h: the indexed fields of a record. */
#include "logd-fields.h"

#include <string.h>

static bool find_num(const char *rec, size_t len, const char *key, long long *v)
{
    const char *p = memmem(rec, len, key, strlen(key));
    if (p == NULL)
        return false;
    p += strlen(key);
    long long x = 0;
    bool neg = false;
    const char *end = rec + len;
    if (p < end && *p == '-') {
        neg = true;
        p++;
    }
    const char *start = p;
    /* 18 digits: no overflow; longer numbers (unsigned 64-bit values) are
     * cut, as the SQLite store always did. */
    while (p < end && *p >= '0' && *p <= '9' && p - start < 18)
        x = x * 10 + (*p++ - '0');
    if (p == start)
        return false;
    *v = neg ? -x : x;
    return true;
}

static bool find_str(const char *rec, size_t len, const char *key,
                     const char **s, int *sl)
{
    const char *p = memmem(rec, len, key, strlen(key));
    if (p == NULL)
        return false;
    p += strlen(key);
    const char *q = memchr(p, '"', (size_t)(rec + len - p));
    if (q == NULL || q - p > 64)
        return false;
    *s = p;
    *sl = (int)(q - p);
    return true;
}

void logd_fields_find(const char *rec, size_t len, struct logd_fields *f)
{
    memset(f, 0, sizeof *f);
    find_str(rec, len, "{\"type\":\"", &f->type, &f->type_len);
    f->has_ts = find_num(rec, len, "\"ts\":", &f->ts);
    /* Other types nest objects with keys of these names (a detection's
     * "writers" have a pid): their first match is not the record's own. */
    if (f->type == NULL || f->type_len != 7 ||
        memcmp(f->type, "syscall", 7) != 0)
        return;
    f->has_pid = find_num(rec, len, "\"pid\":", &f->pid);
    f->has_tid = find_num(rec, len, "\"tid\":", &f->tid);
    /* ret follows the decoded array, whose objects are the callee's. */
    f->has_ret = find_num(rec, len, "],\"ret\":", &f->ret);
    find_str(rec, len, "\"name\":\"", &f->name, &f->name_len);
}
