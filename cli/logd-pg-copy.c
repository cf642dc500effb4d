/* One COPY of records into events or the staging table, in PostgreSQL's
 * binary COPY format (logd-pg-int.h).
 *
 * Binary, not text: the server then parses no numbers, no timestamps and
 * no escapes (bench/store: about 1-2 us less server CPU per record), and
 * logd escapes nothing and formats no time (gmtime and strftime were a
 * good part of its 3 us per record). The json column's binary form is its
 * text, so the server still checks every record is JSON, and every text
 * column that its bytes are valid in the database's encoding.
 *
 * The data goes out in chunks while the rest of the batch is encoded, so
 * the server parses and inserts the first rows while logd encodes the
 * last ones. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logd-fields.h"
#include "logd-pg-int.h"

#define CHUNK  (256 * 1024)
#define NCOLS  11
/* timestamptz's binary form counts microseconds from 2000-01-01 UTC. */
#define PG_EPOCH_US 946684800000000ll
/* vigil's renderer never writes it; PostgreSQL's json type accepts it but
 * every ->> that meets it fails, so one such record would break the
 * queries (the processes view) of the whole fleet. */
#define U0000 "\\u0000"

static const char header[] = "PGCOPY\n\377\r\n\0" /* signature */
                             "\0\0\0\0"           /* flags */
                             "\0\0\0\0";          /* extension length */

struct out {
    char *buf;
    size_t len, cap;
};

static int reserve(struct out *o, size_t more)
{
    if (o->len + more <= o->cap)
        return 0;
    size_t cap = o->cap ? o->cap : 2 * CHUNK;
    while (cap < o->len + more)
        cap *= 2;
    char *b = realloc(o->buf, cap);
    if (b == NULL)
        return -1;
    o->buf = b;
    o->cap = cap;
    return 0;
}

static void put32(struct out *o, uint32_t v)
{
    v = htonl(v);
    memcpy(o->buf + o->len, &v, 4);
    o->len += 4;
}

static void put64(struct out *o, uint64_t v)
{
    put32(o, (uint32_t)(v >> 32));
    put32(o, (uint32_t)v);
}

static void put_null(struct out *o)
{
    put32(o, UINT32_MAX); /* -1 */
}

static void put_i64(struct out *o, bool has, long long v)
{
    if (!has)
        return put_null(o);
    put32(o, 8);
    put64(o, (uint64_t)v);
}

/* A value out of integer's range (a sender may write any number) is left
 * NULL: the record keeps it in json, and is not refused for it. */
static void put_i32(struct out *o, bool has, long long v)
{
    if (!has || v < INT32_MIN || v > INT32_MAX)
        return put_null(o);
    put32(o, 4);
    put32(o, (uint32_t)(int32_t)v);
}

static void put_bytes(struct out *o, const char *s, size_t n)
{
    if (s == NULL)
        return put_null(o);
    put32(o, (uint32_t)n);
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

/* The record as one JSON string: quote, backslash and control bytes
 * escaped (\u0000 included: its backslash is). At most 6 bytes per byte. */
static void put_json_string(struct out *o, const char *s, size_t n)
{
    size_t at = o->len;
    o->len += 4;
    char *p = o->buf + o->len;
    *p++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = (char)c;
        } else if (c < 0x20) {
            p += sprintf(p, "\\u%04x", c);
        } else {
            *p++ = (char)c;
        }
    }
    *p++ = '"';
    size_t len = (size_t)(p - (o->buf + o->len));
    uint32_t be = htonl((uint32_t)len);
    memcpy(o->buf + at, &be, 4);
    o->len += len;
}

/* One row: host, session, rec, received, ts, pid, tid, type, name, ret,
 * json (the columns of events and of the staging table, in order). */
static int put_row(struct out *o, const struct store_rec *r)
{
    if (reserve(o, 6 * (size_t)r->len + 512) < 0)
        return -1;
    struct logd_fields f;
    logd_fields_find(r->json, r->len, &f);
    uint16_t nc = htons(NCOLS);
    memcpy(o->buf + o->len, &nc, 2);
    o->len += 2;
    put_bytes(o, r->host, strlen(r->host));
    put_bytes(o, r->session, strlen(r->session));
    put_i64(o, true, (long long)r->recno);
    put_i64(o, true, (long long)(r->received_ns / 1000) - PG_EPOCH_US);
    put_i64(o, f.has_ts, f.ts);
    put_i32(o, f.has_pid, f.pid);
    put_i32(o, f.has_tid, f.tid);
    put_bytes(o, f.type, (size_t)f.type_len);
    put_bytes(o, f.name, (size_t)f.name_len);
    put_i64(o, f.has_ret, f.ret);
    if (memmem(r->json, r->len, U0000, strlen(U0000)) != NULL)
        put_json_string(o, r->json, r->len);
    else
        put_bytes(o, r->json, r->len);
    return 0;
}

static int send_chunk(PGconn *c, struct out *o)
{
    int ok = PQputCopyData(c, o->buf, (int)o->len) == 1;
    o->len = 0;
    return ok ? 0 : -1;
}

int logd_pg_copy(PGconn *c, const char *sql, struct store_rec *const *recs,
                 size_t n, char **buf, size_t *cap, char *err, size_t errlen)
{
    PGresult *r = PQexec(c, sql);
    bool in_copy = PQresultStatus(r) == PGRES_COPY_IN;
    PQclear(r);
    if (!in_copy) {
        logd_pg_set_err(err, errlen, c);
        return -1;
    }
    struct out o = {.buf = *buf, .len = 0, .cap = *cap};
    const char *why = NULL;
    if (reserve(&o, sizeof header) < 0) {
        why = "out of memory";
    } else {
        memcpy(o.buf, header, sizeof header - 1);
        o.len = sizeof header - 1;
    }
    for (size_t i = 0; i < n && why == NULL; i++) {
        if (put_row(&o, recs[i]) < 0)
            why = "out of memory";
        else if (o.len >= CHUNK && send_chunk(c, &o) < 0)
            why = "send failed";
    }
    if (why == NULL && reserve(&o, 2) < 0)
        why = "out of memory";
    if (why == NULL) {
        memcpy(o.buf + o.len, "\377\377", 2); /* the trailer: -1 */
        o.len += 2;
        if (send_chunk(c, &o) < 0)
            why = "send failed";
    }
    *buf = o.buf;
    *cap = o.cap;
    /* A COPY ended with an error message commits nothing of it. */
    int ok = PQputCopyEnd(c, why) == 1 && why == NULL;
    /* Every result of the COPY is read, or the connection stays busy. */
    while ((r = PQgetResult(c)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            ok = 0;
            logd_pg_set_err(err, errlen, c);
        }
        PQclear(r);
    }
    if (!ok && why != NULL && strcmp(why, "out of memory") == 0)
        snprintf(err, errlen, "out of memory");
    return ok ? 0 : -1;
}
