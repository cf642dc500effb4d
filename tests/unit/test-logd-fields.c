/* logd's indexed fields (cli/logd-fields.c), found in one pass without
 * parsing the JSON, against jansson's parse of the same records: crafted
 * cases (keys of the same names nested in a call's decoded arguments or
 * inside strings, escapes, cut records), then random records with the
 * keys in random order, nested objects and arrays, and strings full of
 * quotes and backslashes. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/logd-fields.h"

static int failures;

struct want {
    const char *type, *name; /* NULL: absent */
    bool has_ts, has_pid, has_tid, has_ret;
    long long ts, pid, tid, ret;
};

static bool same_str(const char *a, int alen, const char *b)
{
    if (a == NULL || b == NULL)
        return a == NULL && b == NULL;
    return (size_t)alen == strlen(b) && memcmp(a, b, (size_t)alen) == 0;
}

static void compare(const char *what, const char *rec, size_t len,
                    const struct want *w)
{
    struct logd_fields f;
    logd_fields_find(rec, len, &f);
    bool ok = same_str(f.type, f.type_len, w->type) &&
              same_str(f.name, f.name_len, w->name) && f.has_ts == w->has_ts &&
              f.has_pid == w->has_pid && f.has_tid == w->has_tid &&
              f.has_ret == w->has_ret && (!w->has_ts || f.ts == w->ts) &&
              (!w->has_pid || f.pid == w->pid) &&
              (!w->has_tid || f.tid == w->tid) &&
              (!w->has_ret || f.ret == w->ret);
    if (ok)
        return;
    if (failures++ < 10)
        printf("NOT OK: %s: %.*s\n  got type %.*s ts %d:%lld pid %d:%lld "
               "tid %d:%lld ret %d:%lld name %.*s\n  want type %s ts %d:%lld "
               "pid %d:%lld tid %d:%lld ret %d:%lld name %s\n",
               what, (int)(len > 400 ? 400 : len), rec, f.type ? f.type_len : 6,
               f.type ? f.type : "(none)", f.has_ts, f.ts, f.has_pid, f.pid,
               f.has_tid, f.tid, f.has_ret, f.ret, f.name ? f.name_len : 6,
               f.name ? f.name : "(none)", w->type ? w->type : "(none)",
               w->has_ts, w->ts, w->has_pid, w->pid, w->has_tid, w->tid,
               w->has_ret, w->ret, w->name ? w->name : "(none)");
}

/* What jansson says: top-level keys only; numbers as logd takes them
 * (integers of at most 18 digits; reals and longer ones are not
 * generated here); type and name strings of at most 64 bytes written
 * without escapes (the generator's escapes all leave a quote or a
 * backslash in the string); pid, tid, ret and name for calls only. */
static bool plain(json_t *v)
{
    return json_is_string(v) && json_string_length(v) <= 64 &&
           strpbrk(json_string_value(v), "\"\\") == NULL;
}

static bool reference(const char *rec, size_t len, struct want *w)
{
    static char type[128], name[128];
    memset(w, 0, sizeof *w);
    json_error_t err;
    json_t *o = json_loadb(rec, len, 0, &err);
    if (o == NULL || !json_is_object(o)) {
        json_decref(o);
        return false;
    }
    json_t *v;
    if ((v = json_object_get(o, "type")) && plain(v)) {
        snprintf(type, sizeof type, "%s", json_string_value(v));
        w->type = type;
    }
    bool call = w->type && strcmp(w->type, "syscall") == 0;
    if ((v = json_object_get(o, "ts")) && json_is_integer(v)) {
        w->has_ts = true;
        w->ts = json_integer_value(v);
    }
    if (call && (v = json_object_get(o, "pid")) && json_is_integer(v)) {
        w->has_pid = true;
        w->pid = json_integer_value(v);
    }
    if (call && (v = json_object_get(o, "tid")) && json_is_integer(v)) {
        w->has_tid = true;
        w->tid = json_integer_value(v);
    }
    if (call && (v = json_object_get(o, "ret")) && json_is_integer(v)) {
        w->has_ret = true;
        w->ret = json_integer_value(v);
    }
    if (call && (v = json_object_get(o, "name")) && plain(v)) {
        snprintf(name, sizeof name, "%s", json_string_value(v));
        w->name = name;
    }
    json_decref(o);
    return true;
}

static void crafted(const char *what, const char *rec, struct want w)
{
    compare(what, rec, strlen(rec), &w);
}

/* ---- random records ---- */

static unsigned long long rng = 88172645463325252ull;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

struct buf {
    char s[8192];
    size_t n;
};

static void put(struct buf *b, const char *s)
{
    size_t l = strlen(s);
    if (b->n + l < sizeof b->s) {
        memcpy(b->s + b->n, s, l);
        b->n += l;
    }
}

static const char *const keys[] = {"type", "ts",   "pid",  "tid",
                                   "ret",  "name", "comm", "decoded"};

/* A string of plain bytes, escaped quotes and backslashes, and text that
 * looks like the keys. */
static void gen_string(struct buf *b)
{
    static const char *const parts[] = {"a",
                                        "read",
                                        "\\\"",
                                        "\\\\",
                                        "\\\"pid\\\":7",
                                        "\\\"name\\\":\\\"x",
                                        ":",
                                        "{",
                                        "}",
                                        "[",
                                        "]",
                                        ",",
                                        "syscall"};
    put(b, "\"");
    for (unsigned i = rnd(6); i > 0; i--)
        put(b, parts[rnd(sizeof parts / sizeof *parts)]);
    put(b, "\"");
}

static void gen_value(struct buf *b, int depth);

/* An object of distinct keys (logd and jansson differ on duplicates: the
 * first against the last), in random order. */
static void gen_object(struct buf *b, int depth)
{
    enum { NKEYS = sizeof keys / sizeof *keys };
    unsigned order[NKEYS];
    for (unsigned i = 0; i < NKEYS; i++)
        order[i] = i;
    for (unsigned i = NKEYS - 1; i > 0; i--) {
        unsigned j = rnd(i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    put(b, "{");
    for (unsigned i = 0, n = rnd(depth ? 4 : NKEYS + 1); i < n; i++) {
        char k[32];
        snprintf(k, sizeof k, "%s\"%s\":", i ? "," : "", keys[order[i]]);
        put(b, k);
        gen_value(b, depth + 1);
    }
    put(b, "}");
}

static void gen_value(struct buf *b, int depth)
{
    char num[32];
    switch (rnd(depth > 3 ? 3 : 6)) {
    case 0:
        snprintf(num, sizeof num, "%lld",
                 (long long)(rnd(3) ? rnd(100000) : rng % 1000000000000000ull) *
                     (rnd(4) ? 1 : -1));
        put(b, num);
        break;
    case 1:
        gen_string(b);
        break;
    case 2:
        put(b, rnd(2) ? "\"syscall\"" : "\"detection\"");
        break;
    case 3:
        gen_object(b, depth);
        break;
    case 4:
        put(b, "[");
        for (unsigned i = rnd(4), first = 1; i > 0; i--, first = 0) {
            if (!first)
                put(b, ",");
            gen_value(b, depth + 1);
        }
        put(b, "]");
        break;
    default:
        put(b, rnd(2) ? "null" : "true");
    }
}

int main(void)
{
    /* The record as vigil writes it. */
    crafted(
        "a call",
        "{\"type\":\"syscall\",\"ts\":354376894394,\"ts_exit\":1,\"pid\":37,"
        "\"tid\":38,\"comm\":\"modprobe\",\"name\":\"brk\",\"args\":[0],"
        "\"decoded\":[null],\"ret\":93827781713920,\"state\":\"done\"}",
        (struct want){"syscall", "brk", true, true, true, true, 354376894394,
                      37, 38, 93827781713920});
    crafted(
        "keys of the same names nested before the record's own",
        "{\"type\":\"syscall\",\"decoded\":[{\"pid\":9,\"tid\":9,\"name\":"
        "\"inner\",\"ret\":5,\"ts\":1}],\"ts\":2,\"pid\":1,\"tid\":3,"
        "\"name\":\"wait4\",\"ret\":-4}",
        (struct want){"syscall", "wait4", true, true, true, true, 2, 1, 3, -4});
    crafted(
        "key-like text inside strings",
        "{\"type\":\"syscall\",\"comm\":\"a\\\",\\\"pid\\\":7,\\\"name\\\":"
        "\\\"x\",\"ts\":1,\"pid\":2,\"tid\":2,\"name\":\"read\",\"ret\":0}",
        (struct want){"syscall", "read", true, true, true, true, 1, 2, 2, 0});
    crafted("a string ending in an escaped backslash",
            "{\"type\":\"syscall\",\"comm\":\"a\\\\\",\"pid\":5,\"ts\":1,"
            "\"tid\":5,\"name\":\"x\",\"ret\":1}",
            (struct want){"syscall", "x", true, true, true, true, 1, 5, 5, 1});
    crafted("another type's pid, tid and name are not indexed",
            "{\"type\":\"detection\",\"ts\":7,\"pid\":3,\"name\":\"EICAR\","
            "\"writers\":[{\"pid\":4}]}",
            (struct want){"detection", NULL, true, false, false, false, 7, 0, 0,
                          0});
    crafted(
        "a record cut in a string",
        "{\"type\":\"syscall\",\"ts\":9,\"pid\":1,\"comm\":\"ab",
        (struct want){"syscall", NULL, true, true, false, false, 9, 1, 0, 0});
    crafted(
        "a name longer than 64 bytes is not indexed",
        "{\"type\":\"syscall\",\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"ts\":1}",
        (struct want){"syscall", NULL, true, false, false, false, 1, 0, 0, 0});
    crafted("not an object", "[\"type\",\"syscall\"]", (struct want){0});
    crafted("empty", "", (struct want){0});

    long n = 0, checked = 0;
    struct want w;
    for (; n < 300000; n++) {
        struct buf b = {.n = 0};
        gen_object(&b, 0);
        if (!reference(b.s, b.n, &w))
            continue;
        compare("random", b.s, b.n, &w);
        checked++;
    }
    printf("%ld random records, %ld parsed by jansson and compared\n", n,
           checked);
    if (checked < n / 2) {
        printf("NOT OK: too few random records parsed\n");
        failures++;
    }
    printf("%s\n", failures ? "FAIL" : "PASS");
    return failures ? 1 : 0;
}
