/* One COPY of records into events or the staging table, in PostgreSQL's
 * binary COPY format (logd-pg-int.h; each row: logd-pg-row.c).
 *
 * Binary, not text: the server then parses no numbers, no timestamps and
 * no escapes, and logd escapes nothing and formats no time. The json
 * column's binary form is its text, so the server still checks every
 * record is JSON, and every text column that its bytes are valid in the
 * database's encoding.
 *
 * The data goes out in chunks while the rest of the batch is encoded, so
 * the server parses and inserts the first rows while logd encodes the
 * last ones. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logd-pg-int.h"
#include "logd-pg-row.h"

#define CHUNK (256 * 1024)

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

static int send_chunk(PGconn *c, struct out *o)
{
    int ok = PQputCopyData(c, o->buf, (int)o->len) == 1;
    o->len = 0;
    return ok ? 0 : -1;
}

/* The whole COPY data, sent as it is encoded; NULL or why it stopped. */
static const char *put_all(PGconn *c, struct out *o,
                           struct store_rec *const *recs, const long long *sids,
                           size_t n)
{
    if (reserve(o, sizeof header) < 0)
        return "out of memory";
    memcpy(o->buf, header, sizeof header - 1);
    o->len = sizeof header - 1;
    for (size_t i = 0; i < n; i++) {
        if (reserve(o, logd_pg_row_max(recs[i])) < 0)
            return "out of memory";
        o->len += logd_pg_row(o->buf + o->len, recs[i], sids[i]);
        if (o->len >= CHUNK && send_chunk(c, o) < 0)
            return "send failed";
    }
    if (reserve(o, 2) < 0)
        return "out of memory";
    memcpy(o->buf + o->len, "\377\377", 2); /* the trailer: -1 */
    o->len += 2;
    return send_chunk(c, o) < 0 ? "send failed" : NULL;
}

int logd_pg_copy(PGconn *c, const char *sql, struct store_rec *const *recs,
                 const long long *sids, size_t n, char **buf, size_t *cap,
                 char *err, size_t errlen)
{
    PGresult *r = PQexec(c, sql);
    bool in_copy = PQresultStatus(r) == PGRES_COPY_IN;
    PQclear(r);
    if (!in_copy) {
        logd_pg_set_err(err, errlen, c);
        return -1;
    }
    struct out o = {.buf = *buf, .len = 0, .cap = *cap};
    const char *why = put_all(c, &o, recs, sids, n);
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
    if (why != NULL && strcmp(why, "out of memory") == 0)
        snprintf(err, errlen, "out of memory");
    return ok ? 0 : -1;
}
