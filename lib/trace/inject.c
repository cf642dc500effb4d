/* --inject rules in strace's -e inject= syntax (see vigil/act.h). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/act.h"
#include "vigil/errf.h"

#define WHEN_MAX 65535 /* strace's bound */

#define fail(err, errlen, ...) vigil_errf(-EINVAL, err, errlen, __VA_ARGS__)

/* A decimal number in [min, max] spanning exactly [s, s + n). */
static bool number(const char *s, size_t n, long long min, long long max,
                   long long *out)
{
    char buf[32];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno != 0 || *end != '\0' || end == buf || v < min || v > max ||
        buf[0] == '+' || buf[0] == ' ')
        return false;
    *out = v;
    return true;
}

static int errno_of(const char *s, size_t n)
{
    long long v;
    if (number(s, n, 1, 4095, &v))
        return (int)v;
    for (int e = 1; e < 4096; e++) {
        const char *name = vsys_errno_name(e);
        if (name != NULL && strlen(name) == n && !memcmp(name, s, n))
            return e;
    }
    return 0;
}

/* FIRST[..LAST][+[STEP]] */
static int parse_when(const char *s, size_t n, struct vact_rule *r, char *err,
                      size_t errlen)
{
    const char *end = s + n, *plus = memchr(s, '+', n);
    const char *dots = NULL;
    for (const char *p = s; p + 1 < (plus ? plus : end); p++)
        if (p[0] == '.' && p[1] == '.') {
            dots = p;
            break;
        }
    const char *first_end = dots ? dots : plus ? plus : end;
    long long first, last = 0, step = 0;
    if (!number(s, (size_t)(first_end - s), 1, WHEN_MAX, &first))
        return fail(err, errlen,
                    "when=: expected FIRST[..LAST][+[STEP]] "
                    "with numbers 1..%d",
                    WHEN_MAX);
    if (dots) {
        const char *last_end = plus ? plus : end;
        if (!number(dots + 2, (size_t)(last_end - dots - 2), first, WHEN_MAX,
                    &last))
            return fail(err, errlen,
                        "when=: LAST must be a number from FIRST to %d",
                        WHEN_MAX);
        step = 1;
    }
    if (plus) {
        step = 1;
        if (plus + 1 < end &&
            !number(plus + 1, (size_t)(end - plus - 1), 1, WHEN_MAX, &step))
            return fail(err, errlen, "when=: STEP must be a number 1..%d",
                        WHEN_MAX);
    }
    r->first = (uint32_t)first;
    r->last = (uint32_t)last;
    r->step = (uint32_t)step;
    return 0;
}

/* The calls named by SET into @set (1 = named). */
static int parse_set(const char *s, size_t n, uint8_t set[VSYS_NR_MAX + 1],
                     char *err, size_t errlen)
{
    bool negate = n > 0 && s[0] == '!';
    if (negate) {
        s++;
        n--;
    }
    if (n == 0)
        return fail(err, errlen, "no system call named before ':'");
    memset(set, negate, VSYS_NR_MAX + 1);
    for (const char *p = s, *end = s + n; p < end;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        size_t len = (size_t)((comma ? comma : end) - p);
        char name[64];
        if (len == 0 || len >= sizeof name)
            return fail(err, errlen, "empty or overlong system call name");
        memcpy(name, p, len);
        name[len] = '\0';
        int nr = vsys_number(name);
        if (nr < 0 || nr > VSYS_NR_MAX)
            return fail(err, errlen, "unknown system call '%s'", name);
        set[nr] = !negate;
        p += len + (comma != NULL);
        if (comma != NULL && p == end)
            return fail(err, errlen, "empty system call name after ','");
    }
    return 0;
}

int vigil_inject_parse(const char *spec, struct vact_config *act, char *err,
                       size_t errlen)
{
    if (spec == NULL || act == NULL)
        return fail(err, errlen, "no rule");
    if (act->nrules >= VACT_RULES_MAX)
        return snprintf(err, errlen, "at most %d --inject rules",
                        VACT_RULES_MAX),
               -ENOSPC;
    const char *colon = strchr(spec, ':');
    if (colon == NULL)
        return fail(err, errlen,
                    "expected SET:error=ERRNO or SET:retval=N[:when=EXPR]");
    uint8_t set[VSYS_NR_MAX + 1];
    int rc = parse_set(spec, (size_t)(colon - spec), set, err, errlen);
    if (rc < 0)
        return rc;

    struct vact_rule r = {.first = 1, .step = 1};
    bool have_ret = false, have_when = false;
    for (const char *p = colon + 1; *p != '\0';) {
        const char *next = strchr(p, ':');
        size_t len = next ? (size_t)(next - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (eq == NULL)
            return fail(err, errlen, "expected KEY=VALUE, got '%.*s'", (int)len,
                        p);
        size_t klen = (size_t)(eq - p), vlen = len - klen - 1;
        const char *val = eq + 1;
        if (klen == 5 && !memcmp(p, "error", 5)) {
            int e = errno_of(val, vlen);
            if (e == 0)
                return fail(err, errlen, "error=: unknown errno '%.*s'",
                            (int)vlen, val);
            if (have_ret)
                return fail(err, errlen,
                            "error= and retval= exclude each "
                            "other, and each comes once");
            r.ret = -e;
            have_ret = true;
        } else if (klen == 6 && !memcmp(p, "retval", 6)) {
            long long v;
            if (!number(val, vlen, LLONG_MIN, LLONG_MAX, &v))
                return fail(err, errlen, "retval=: expected an integer");
            if (have_ret)
                return fail(err, errlen,
                            "error= and retval= exclude each "
                            "other, and each comes once");
            r.ret = v;
            have_ret = true;
        } else if (klen == 4 && !memcmp(p, "when", 4)) {
            if (have_when)
                return fail(err, errlen, "when= comes once");
            rc = parse_when(val, vlen, &r, err, errlen);
            if (rc < 0)
                return rc;
            have_when = true;
        } else {
            return fail(err, errlen,
                        "'%.*s=' is not supported (vigil injects error= "
                        "and retval=, with when=)",
                        (int)klen, p);
        }
        if (next == NULL)
            break;
        p = next + 1;
        if (*p == '\0')
            return fail(err, errlen, "empty option after ':'");
    }
    if (!have_ret)
        return fail(err, errlen, "error=ERRNO or retval=N is needed");
    if (!have_when) {
        r.first = 1;
        r.step = 1; /* every call, as strace without when= */
    }
    uint32_t idx = act->nrules++;
    act->rule[idx] = r;
    for (int nr = 0; nr <= VSYS_NR_MAX; nr++)
        if (set[nr])
            act->rule_of[nr] = (uint8_t)(idx + 1);
    act->flags |= VACT_INJECT;
    return 0;
}
