/* logd-pg-row.h: a record as a binary COPY row. */
#include "logd-pg-row.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "logd-fields.h"

/* vigil's renderer never writes it; PostgreSQL's json type accepts it but
 * every ->> that meets it fails, so one such record would break the
 * queries (the processes view) of the whole fleet. */
#define U0000 "\\u0000"

static char *put32(char *o, uint32_t v)
{
    v = htonl(v);
    memcpy(o, &v, 4);
    return o + 4;
}

static char *put_null(char *o)
{
    return put32(o, UINT32_MAX); /* -1 */
}

static char *put_i64(char *o, bool has, long long v)
{
    if (!has)
        return put_null(o);
    o = put32(o, 8);
    o = put32(o, (uint32_t)((uint64_t)v >> 32));
    return put32(o, (uint32_t)v);
}

/* A value out of integer's range (a sender may write any number) is left
 * NULL: the record keeps it in json, and is not refused for it. */
static char *put_i32(char *o, bool has, long long v)
{
    if (!has || v < INT32_MIN || v > INT32_MAX)
        return put_null(o);
    o = put32(o, 4);
    return put32(o, (uint32_t)(int32_t)v);
}

static char *put_bytes(char *o, const char *s, size_t n)
{
    if (s == NULL)
        return put_null(o);
    o = put32(o, (uint32_t)n);
    memcpy(o, s, n);
    return o + n;
}

/* The record as one JSON string: quote, backslash and control bytes
 * escaped (so \u0000's backslash is). At most 6 bytes per byte, + 2. */
static char *put_json_string(char *o, const char *s, size_t n)
{
    char *len_at = o;
    char *p = o + 4;
    *p++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = (char)c;
        } else if (c < 0x20) {
            static const char hex[] = "0123456789abcdef";
            memcpy(p, "\\u00", 4);
            p[4] = hex[c >> 4];
            p[5] = hex[c & 15];
            p += 6;
        } else {
            *p++ = (char)c;
        }
    }
    *p++ = '"';
    put32(len_at, (uint32_t)(p - (len_at + 4)));
    return p;
}

size_t logd_pg_row_max(const struct store_rec *r)
{
    /* Field count, 12 lengths, host and session (bounded by store_rec),
     * five 8-byte and two 4-byte numbers, type and name (at most 64 bytes
     * each: logd-fields.c), the JSON escaped. */
    return 2 + 4 * LOGD_PG_ROW_COLS + sizeof r->host + sizeof r->session +
           5 * 8 + 2 * 4 + 2 * 64 + 6 * (size_t)r->len + 2;
}

size_t logd_pg_row(char *o, const struct store_rec *r, long long sid)
{
    struct logd_fields f;
    logd_fields_find(r->json, r->len, &f);
    char *p = o;
    uint16_t nc = htons(LOGD_PG_ROW_COLS);
    memcpy(p, &nc, 2);
    p += 2;
    p = put_bytes(p, r->host, strlen(r->host));
    p = put_bytes(p, r->session, strlen(r->session));
    p = put_i64(p, true, (long long)r->recno);
    p = put_i64(p, true, (long long)(r->received_ns / 1000) - LOGD_PG_EPOCH_US);
    p = put_i64(p, f.has_ts, f.ts);
    p = put_i32(p, f.has_pid, f.pid);
    p = put_i32(p, f.has_tid, f.tid);
    p = put_bytes(p, f.type, (size_t)f.type_len);
    p = put_bytes(p, f.name, (size_t)f.name_len);
    p = put_i64(p, f.has_ret, f.ret);
    if (memmem(r->json, r->len, U0000, strlen(U0000)) != NULL)
        p = put_json_string(p, r->json, r->len);
    else
        p = put_bytes(p, r->json, r->len);
    p = put_i64(p, true, sid);
    return (size_t)(p - o);
}
