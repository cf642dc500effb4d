/* The guest agent's replies, parsed (vigil/qga-reply.h).  The bytes are
 * the guest's: the nesting is bounded before jansson sees them (its own
 * limit is 2048 levels of recursion), numbers are range-checked before
 * they become ints, and the agent's error text is made printable before
 * it can reach a terminal. */
#include "vigil/qga-reply.h"
#include "vigil/errf.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int qga_frame(const char *buf, size_t len, const char **line, size_t *line_len,
              size_t *used)
{
    const char *nl = len ? memchr(buf, '\n', len) : NULL;
    if (nl == NULL)
        return len >= QGA_LINE_MAX ? -EMSGSIZE : 0;
    size_t n = (size_t)(nl - buf);
    const char *start = buf;
    const char *ff = n ? memrchr(buf, 0xff, n) : NULL;
    if (ff != NULL)
        start = ff + 1;
    *line = start;
    *line_len = n - (size_t)(start - buf);
    *used = n + 1;
    return 1;
}

#define fail(err, errlen, code, ...) vigil_errf(code, err, errlen, __VA_ARGS__)

/* Whether objects and arrays nest deeper than QGA_DEPTH_MAX, brackets
 * inside strings aside. */
static bool too_deep(const char *s, size_t n)
{
    unsigned depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > QGA_DEPTH_MAX)
                return true;
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return false;
}

/* Whether the UTF-8 sequence @u of @n bytes (valid: jansson checked it)
 * is a control that moves a terminal's cursor or changes its state: C1
 * controls (U+0080..U+009F) and the bidirectional overrides. */
static bool is_control(const unsigned char *u, size_t n)
{
    if (n == 2)
        return u[0] == 0xc2 && u[1] < 0xa0;
    return n == 3 && u[0] == 0xe2 &&
           ((u[1] == 0x80 && u[2] >= 0xaa && u[2] <= 0xae) ||
            (u[1] == 0x81 && u[2] >= 0xa6 && u[2] <= 0xa9));
}

/* The agent's error text into @err, each control character (C0, DEL, C1,
 * bidi) replaced by '?': it is printed on the user's terminal.  Other
 * UTF-8 stays (the agent quotes names with U+201C), never cut in two. */
static void copy_desc(json_t *error, char *err, size_t errlen)
{
    const char *d = json_string_value(json_object_get(error, "desc"));
    if (errlen == 0)
        return;
    if (d == NULL)
        d = "error (no description)";
    const unsigned char *u = (const unsigned char *)d;
    size_t o = 0;
    while (*u != '\0') {
        size_t n = *u < 0x80 ? 1 : *u < 0xe0 ? 2 : *u < 0xf0 ? 3 : 4;
        if (o + n >= errlen)
            break;
        if (n == 1 && (*u < 0x20 || *u == 0x7f))
            err[o++] = '?';
        else if (is_control(u, n))
            err[o++] = '?';
        else {
            memcpy(err + o, u, n);
            o += n;
        }
        u += n;
    }
    err[o] = '\0';
}

/*
 * Parse @line into *ret, the "return" member of its object (a borrowed
 * reference into *root, which the caller frees).  QGA_SKIP for what is not
 * an answer, -EPROTO for an error object, -EBADMSG when too deep.
 */
static int parse(const char *line, size_t len, json_t **root, json_t **ret,
                 char *err, size_t errlen)
{
    *root = NULL;
    *ret = NULL;
    if (errlen > 0)
        err[0] = '\0';
    if (too_deep(line, len))
        return fail(err, errlen, -EBADMSG, "reply nested deeper than %u levels",
                    QGA_DEPTH_MAX);
    json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
    if (j == NULL || !json_is_object(j)) {
        json_decref(j);
        return QGA_SKIP;
    }
    *root = j;
    json_t *e = json_object_get(j, "error");
    if (e != NULL) {
        copy_desc(e, err, errlen);
        return -EPROTO;
    }
    *ret = json_object_get(j, "return");
    return *ret != NULL ? 0 : QGA_SKIP;
}

int qga_parse_sync(const char *line, size_t len, uint32_t id, char *err,
                   size_t errlen)
{
    json_t *root, *ret;
    int r = parse(line, len, &root, &ret, err, errlen);
    if (r == 0 && !json_is_integer(ret))
        r = fail(err, errlen, -EBADMSG, "guest-sync: not an integer");
    else if (r == 0 && json_integer_value(ret) != (json_int_t)id)
        r = QGA_SKIP;
    json_decref(root);
    return r;
}

int qga_parse_exec(const char *line, size_t len, int64_t *pid, char *err,
                   size_t errlen)
{
    json_t *root, *ret;
    int r = parse(line, len, &root, &ret, err, errlen);
    if (r == 0) {
        json_t *p = json_object_get(ret, "pid");
        if (!json_is_integer(p) || json_integer_value(p) < 1 ||
            json_integer_value(p) > INT32_MAX)
            r = fail(err, errlen, -EBADMSG, "guest-exec: no valid pid");
        else
            *pid = json_integer_value(p);
    }
    json_decref(root);
    return r;
}

/* The base64 string member @key of @obj, decoded into a malloc'd buffer
 * (NULL when absent or empty). */
static int decode(json_t *obj, const char *key, unsigned char **out,
                  size_t *out_len, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    *out_len = 0;
    if (v == NULL)
        return 0;
    if (!json_is_string(v))
        return fail(err, errlen, -EBADMSG, "%s: not a string", key);
    size_t n = json_string_length(v);
    if (n == 0)
        return 0;
    if (n / 4 * 3 > QGA_DATA_MAX)
        return fail(err, errlen, -EBADMSG, "%s: more than %u bytes", key,
                    QGA_DATA_MAX);
    size_t cap = n / 4 * 3 + 3;
    unsigned char *b = malloc(cap);
    if (b == NULL)
        return fail(err, errlen, -ENOMEM, "%s: out of memory", key);
    if (sodium_base642bin(b, cap, json_string_value(v), n, "\r\n", out_len,
                          NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(b);
        *out_len = 0;
        return fail(err, errlen, -EBADMSG, "%s: bad base64", key);
    }
    *out = b;
    return 0;
}

/* The optional integer @key of @ret, in [@lo, @hi], into *v (else -1). */
static int int_field(json_t *ret, const char *key, int lo, int hi, int *v,
                     char *err, size_t errlen)
{
    json_t *j = json_object_get(ret, key);
    *v = -1;
    if (j == NULL)
        return 0;
    if (!json_is_integer(j) || json_integer_value(j) < lo ||
        json_integer_value(j) > hi)
        return fail(err, errlen, -EBADMSG, "guest-exec-status: bad %s", key);
    *v = (int)json_integer_value(j);
    return 0;
}

/* The members of a guest-exec-status "return" into @st. */
static int exec_status(json_t *ret, struct qga_status *st, char *err,
                       size_t errlen)
{
    json_t *ex = json_object_get(ret, "exited");
    if (!json_is_boolean(ex))
        return fail(err, errlen, -EBADMSG, "guest-exec-status: no exited");
    st->exited = json_is_true(ex);
    int r = int_field(ret, "exitcode", 0, 255, &st->exitcode, err, errlen);
    if (r == 0)
        r = int_field(ret, "signal", 1, 127, &st->signal, err, errlen);
    if (r == 0 && st->exited && (st->exitcode < 0) == (st->signal < 0))
        r = fail(err, errlen, -EBADMSG,
                 "guest-exec-status: exited needs one exitcode or signal");
    for (size_t i = 0; r == 0 && i < 2; i++) {
        const char *k = i ? "err-truncated" : "out-truncated";
        json_t *t = json_object_get(ret, k);
        if (t != NULL && !json_is_boolean(t))
            r = fail(err, errlen, -EBADMSG, "%s: not a boolean", k);
        st->truncated |= json_is_true(t);
    }
    if (r == 0)
        r = decode(ret, "out-data", &st->out, &st->out_len, err, errlen);
    if (r == 0)
        r = decode(ret, "err-data", &st->err, &st->err_len, err, errlen);
    return r;
}

int qga_parse_exec_status(const char *line, size_t len, struct qga_status *st,
                          char *err, size_t errlen)
{
    *st = (struct qga_status){.exitcode = -1, .signal = -1};
    json_t *root, *ret;
    int r = parse(line, len, &root, &ret, err, errlen);
    if (r == 0 && !json_is_object(ret))
        r = fail(err, errlen, -EBADMSG, "guest-exec-status: not an object");
    else if (r == 0)
        r = exec_status(ret, st, err, errlen);
    json_decref(root);
    if (r != 0) {
        qga_status_free(st);
        *st = (struct qga_status){.exitcode = -1, .signal = -1};
    }
    return r;
}

void qga_status_free(struct qga_status *st)
{
    free(st->out);
    free(st->err);
    st->out = st->err = NULL;
    st->out_len = st->err_len = 0;
}

int qga_parse_ack(const char *line, size_t len, char *err, size_t errlen)
{
    json_t *root, *ret;
    int r = parse(line, len, &root, &ret, err, errlen);
    json_decref(root);
    return r;
}
