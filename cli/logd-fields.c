/* logd-fields.h: the indexed fields of a record, in one pass over it. */
#include "logd-fields.h"

#include <string.h>

/* The closing quote of the string whose opening quote is at @p, or NULL
 * when it is cut off. */
static const char *string_end(const char *p, const char *end)
{
    for (const char *q = p + 1; q < end; q++) {
        if (*q == '\\')
            q++; /* the escaped byte */
        else if (*q == '"')
            return q;
    }
    return NULL;
}

static bool num_at(const char *p, const char *end, long long *v)
{
    long long x = 0;
    bool neg = p < end && *p == '-';
    p += neg;
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

/* A string value's text, when it is plain (no escape) and at most 64
 * bytes: a call's or a record type's name; anything else is not
 * indexed. */
static bool str_at(const char *p, const char *end, const char **s, int *sl)
{
    if (p >= end || *p != '"')
        return false;
    const char *q = string_end(p, end);
    if (q == NULL || q - p - 1 > 64 || memchr(p + 1, '\\', (size_t)(q - p - 1)))
        return false;
    *s = p + 1;
    *sl = (int)(q - p - 1);
    return true;
}

#define KEY(k, lit)                                                            \
    (k##_len == sizeof(lit) - 1 && !memcmp(k, lit, sizeof(lit) - 1))

/* The value of top-level key @key (@klen bytes) at @v. */
static void take(struct logd_fields *f, const char *key, size_t key_len,
                 const char *v, const char *end)
{
    if (KEY(key, "type"))
        str_at(v, end, &f->type, &f->type_len);
    else if (KEY(key, "ts"))
        f->has_ts = num_at(v, end, &f->ts);
    else if (KEY(key, "pid"))
        f->has_pid = num_at(v, end, &f->pid);
    else if (KEY(key, "tid"))
        f->has_tid = num_at(v, end, &f->tid);
    else if (KEY(key, "ret"))
        f->has_ret = num_at(v, end, &f->ret);
    else if (KEY(key, "name"))
        str_at(v, end, &f->name, &f->name_len);
}

/* The bytes the scan stops at: strings and nesting. */
static const bool special[256] = {
    ['"'] = true, ['{'] = true, ['}'] = true, ['['] = true, [']'] = true,
};

static bool is_syscall(const struct logd_fields *f)
{
    return f->type != NULL && f->type_len == 7 &&
           memcmp(f->type, "syscall", 7) == 0;
}

/* Whether nothing more is to be found: a call's six fields, or another
 * record's type and ts. */
static bool complete(const struct logd_fields *f)
{
    if (f->type == NULL || !f->has_ts)
        return false;
    return !is_syscall(f) ||
           (f->has_pid && f->has_tid && f->has_ret && f->name != NULL);
}

void logd_fields_find(const char *rec, size_t len, struct logd_fields *f)
{
    memset(f, 0, sizeof *f);
    const unsigned char *p = (const unsigned char *)rec,
                        *end = (const unsigned char *)rec + len;
    int depth = 0;
    /* Only the record's own keys count (depth 1): objects nested in it
     * (a call's decoded arguments, a detection's writers) have keys of
     * the same names. */
    while (p < end) {
        if (!special[*p]) {
            p++;
            continue;
        }
        if (*p == '"') {
            const char *s = (const char *)p;
            const char *q = string_end(s, rec + len);
            if (q == NULL)
                break;
            if (depth == 1 && q + 1 < rec + len && q[1] == ':') {
                take(f, s + 1, (size_t)(q - s - 1), q + 2, rec + len);
                if (complete(f))
                    break;
            }
            p = (const unsigned char *)q + 1;
            continue;
        }
        if (*p == '{' || *p == '[')
            depth++;
        else if (--depth <= 0)
            break;
        p++;
    }
    /* pid, tid, name and ret mean what the index says only for calls. */
    if (!is_syscall(f)) {
        f->has_pid = f->has_tid = f->has_ret = false;
        f->pid = f->tid = f->ret = 0;
        f->name = NULL;
        f->name_len = 0;
    }
}
