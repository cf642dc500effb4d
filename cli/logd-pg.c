/* logd's PostgreSQL connection (logd-pg.h).
 *
 * A batch is one transaction: COPY into a temporary staging table, then
 * INSERT ... SELECT into the tables with ON CONFLICT DO NOTHING on each
 * record's key. A COPY cut half-way commits nothing, and a batch sent
 * again (replayed from the spill after its commit's answer was lost)
 * adds nothing: every record lands exactly once. */
#include "logd-pg.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logd-fields.h"

/* Migration N takes the schema from version N-1 to N. Only ever append:
 * a database written by this vigil must stay readable by the next. */
static const char *const migrations[LOGD_PG_SCHEMA] = {
    /* 1 */
    "CREATE TABLE sessions(host text NOT NULL, session text NOT NULL,"
    " logd text NOT NULL, first_received timestamptz NOT NULL,"
    " PRIMARY KEY (host, session));"
    /* Partitioned by the day the record arrived: the records' own ts is
     * the monitored host's CLOCK_MONOTONIC, no calendar time. */
    "CREATE TABLE events(host text NOT NULL, session text NOT NULL,"
    " rec bigint NOT NULL, received timestamptz NOT NULL, ts bigint,"
    " pid integer, tid integer, type text, name text, ret bigint,"
    " json jsonb NOT NULL, PRIMARY KEY (host, session, rec, received))"
    " PARTITION BY RANGE (received);"
    /* host (and host, session) use the primary key. */
    "CREATE INDEX events_received ON events(received);"
    "CREATE INDEX events_session ON events(session);"
    "CREATE INDEX events_pid ON events(pid);"
    "CREATE INDEX events_name ON events(name);"
    "CREATE TABLE detections(host text NOT NULL, session text NOT NULL,"
    " rec bigint NOT NULL, received timestamptz NOT NULL, ts bigint,"
    " disk text, signature text, action text, request_ts bigint,"
    " json jsonb NOT NULL, PRIMARY KEY (host, session, rec));"
    "CREATE INDEX detections_signature ON detections(signature);"
    /* One row per process of a session: where it came from (a clone,
     * fork or vfork that returned its pid to the parent; threads are
     * left out), what it last executed and how it ended. */
    "CREATE VIEW processes AS"
    " WITH spawn AS (SELECT DISTINCT ON (host, session, ret) host, session,"
    "  ret::integer AS pid, pid AS parent, ts AS started FROM events"
    "  WHERE name IN ('clone', 'clone3', 'fork', 'vfork') AND ret > 0"
    "  AND coalesce(json->'decoded'->>0, '') NOT LIKE '%CLONE_THREAD%'"
    "  ORDER BY host, session, ret, ts),"
    " exec AS (SELECT DISTINCT ON (host, session, pid) host, session, pid,"
    "  ts AS exec_ts, json->'decoded'->>0 AS exe, json->'decoded'->1 AS argv,"
    "  json->>'comm' AS comm FROM events WHERE name IN ('execve',"
    "  'execveat') AND ret = 0 ORDER BY host, session, pid, ts DESC),"
    " ended AS (SELECT DISTINCT ON (host, session, pid) host, session, pid,"
    "  ts AS exited, (json->'decoded'->>0) AS exit_code FROM events"
    "  WHERE name = 'exit_group' ORDER BY host, session, pid, ts DESC),"
    " k AS (SELECT host, session, pid FROM spawn UNION SELECT host,"
    "  session, pid FROM exec UNION SELECT host, session, pid FROM ended)"
    " SELECT k.host, k.session, k.pid, s.parent AS ppid, s.started,"
    "  x.exec_ts, x.exe, x.argv, x.comm, e.exited, e.exit_code FROM k"
    "  LEFT JOIN spawn s USING (host, session, pid)"
    "  LEFT JOIN exec x USING (host, session, pid)"
    "  LEFT JOIN ended e USING (host, session, pid);"
    /* Partitions are made as days arrive, by whichever logd sees the day
     * first; the lock keeps two from racing. */
    "CREATE FUNCTION vigil_partition(day date) RETURNS void"
    " LANGUAGE plpgsql AS $f$"
    " DECLARE n text := 'events_' || to_char(day, 'YYYYMMDD');"
    " BEGIN"
    "  IF to_regclass(n) IS NULL THEN"
    "   PERFORM pg_advisory_xact_lock(74293802);"
    "   IF to_regclass(n) IS NULL THEN"
    "    EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES"
    " FROM (%L) TO (%L)', n, day::timestamp AT TIME ZONE 'UTC',"
    "     (day + 1)::timestamp AT TIME ZONE 'UTC');"
    "   END IF;"
    "  END IF;"
    " END $f$;"
    /* The fallback for a batch the plain cast refused: a record that is
     * not JSON jsonb takes is kept as a JSON string. */
    "CREATE FUNCTION vigil_jsonb(t text) RETURNS jsonb"
    " LANGUAGE plpgsql IMMUTABLE AS $f$"
    " BEGIN RETURN t::jsonb; EXCEPTION WHEN others THEN RETURN to_jsonb(t);"
    " END $f$;",
};

/* Serializes migrations of logd instances starting at once. */
#define MIGRATE_LOCK "74293801"

static const char stage_sql[] =
    "CREATE TEMP TABLE vigil_stage(host text, session text, rec bigint,"
    " received timestamptz, ts bigint, pid integer, tid integer, type text,"
    " name text, ret bigint, json text) ON COMMIT DELETE ROWS;"
    "SET TimeZone TO 'UTC';";

struct logd_pg {
    PGconn *conn;
    char *conninfo, *password, *name;
    char *buf; /* the COPY text of a batch */
    size_t cap;
};

static void set_err(char *err, size_t errlen, const char *what, const PGconn *c)
{
    const char *m = c ? PQerrorMessage(c) : "out of memory";
    size_t n = strlen(m);
    while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
        n--;
    snprintf(err, errlen, "%s%.*s", what, (int)n, m);
}

/* One statement (or several, all must succeed). */
static int exec_ok(PGconn *c, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType s = PQresultStatus(r);
    int rc = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? 0 : -1;
    if (rc < 0)
        set_err(err, errlen, "", c);
    PQclear(r);
    return rc;
}

static int schema_version(PGconn *c, long *v, char *err, size_t errlen)
{
    PGresult *r = PQexec(c, "SELECT coalesce(max(version), 0) FROM "
                            "schema_version");
    int rc = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        *v = strtol(PQgetvalue(r, 0, 0), NULL, 10);
        rc = 0;
    } else {
        set_err(err, errlen, "", c);
    }
    PQclear(r);
    return rc;
}

static int migrate(PGconn *c, char *err, size_t errlen)
{
    long v = 0;
    if (exec_ok(c,
                "BEGIN; SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ");"
                "CREATE TABLE IF NOT EXISTS schema_version("
                "version integer NOT NULL, applied timestamptz NOT NULL"
                " DEFAULT now())",
                err, errlen) < 0 ||
        schema_version(c, &v, err, errlen) < 0)
        goto fail;
    if (v > LOGD_PG_SCHEMA) {
        snprintf(err, errlen,
                 "the database's schema is version %ld, newer than this "
                 "vigil knows (%d): upgrade vigil",
                 v, LOGD_PG_SCHEMA);
        goto fail;
    }
    for (long i = v; i < LOGD_PG_SCHEMA; i++) {
        char ins[96];
        snprintf(ins, sizeof ins,
                 "INSERT INTO schema_version(version) VALUES(%ld)", i + 1);
        if (exec_ok(c, migrations[i], err, errlen) < 0 ||
            exec_ok(c, ins, err, errlen) < 0)
            goto fail;
    }
    if (exec_ok(c, "COMMIT", err, errlen) < 0)
        goto fail;
    return 0;
fail:
    PQclear(PQexec(c, "ROLLBACK"));
    return -1;
}

static int connect_db(struct logd_pg *pg, char *err, size_t errlen)
{
    /* The URI goes in as dbname (expanded); a password given apart comes
     * later in the arrays and so wins over one in the URI. */
    const char *keys[] = {"dbname", "fallback_application_name",
                          pg->password ? "password" : NULL, NULL};
    const char *vals[] = {pg->conninfo, "vigil-logd", pg->password, NULL};
    PQfinish(pg->conn);
    pg->conn = PQconnectdbParams(keys, vals, 1);
    if (pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK) {
        set_err(err, errlen, "", pg->conn);
        return -1;
    }
    return 0;
}

int logd_pg_reconnect(struct logd_pg *pg, char *err, size_t errlen)
{
    if (connect_db(pg, err, errlen) < 0)
        return -1;
    long v = 0;
    /* The schema may have moved on while we were away. */
    if (schema_version(pg->conn, &v, err, errlen) < 0)
        return -1;
    if (v != LOGD_PG_SCHEMA) {
        snprintf(err, errlen, "the database's schema is now version %ld", v);
        PQfinish(pg->conn);
        pg->conn = NULL;
        return -1;
    }
    return exec_ok(pg->conn, stage_sql, err, errlen);
}

bool logd_pg_connected(const struct logd_pg *pg)
{
    return pg->conn != NULL && PQstatus(pg->conn) == CONNECTION_OK;
}

int logd_pg_open(struct logd_pg **out, const char *conninfo,
                 const char *password, const char *name, char *err,
                 size_t errlen)
{
    struct logd_pg *pg = calloc(1, sizeof *pg);
    if (pg == NULL || (pg->conninfo = strdup(conninfo)) == NULL ||
        (pg->name = strdup(name)) == NULL ||
        (password && (pg->password = strdup(password)) == NULL)) {
        snprintf(err, errlen, "out of memory");
        logd_pg_close(pg);
        return -1;
    }
    if (connect_db(pg, err, errlen) < 0 || migrate(pg->conn, err, errlen) < 0 ||
        exec_ok(pg->conn, stage_sql, err, errlen) < 0) {
        logd_pg_close(pg);
        return -1;
    }
    *out = pg;
    return 0;
}

void logd_pg_close(struct logd_pg *pg)
{
    if (pg == NULL)
        return;
    PQfinish(pg->conn);
    if (pg->password)
        memset(pg->password, 0, strlen(pg->password));
    free(pg->password);
    free(pg->conninfo);
    free(pg->name);
    free(pg->buf);
    free(pg);
}

/* ---- one batch ---- */

static int reserve(struct logd_pg *pg, size_t len, size_t more)
{
    if (len + more <= pg->cap)
        return 0;
    size_t cap = pg->cap ? pg->cap : 1 << 20;
    while (cap < len + more)
        cap *= 2;
    char *b = realloc(pg->buf, cap);
    if (b == NULL)
        return -1;
    pg->buf = b;
    pg->cap = cap;
    return 0;
}

/* COPY's text format: backslash, tab, newline and CR escaped. */
static size_t put_text(char *o, const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\\' || c == '\t' || c == '\n' || c == '\r') {
            o[k++] = '\\';
            c = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : c;
        }
        o[k++] = c;
    }
    return k;
}

static size_t put_num(char *o, bool has, long long v)
{
    return has ? (size_t)sprintf(o, "%lld", v) : (size_t)sprintf(o, "\\N");
}

/* One line of the staging table. */
static int copy_line(struct logd_pg *pg, size_t *len, const struct store_rec *r)
{
    /* Escaping at most doubles; the rest is bounded numbers and names. */
    if (reserve(pg, *len, 2 * (size_t)r->len + 512) < 0)
        return -1;
    struct logd_fields f;
    logd_fields_find(r->json, r->len, &f);
    char *o = pg->buf + *len;
    time_t secs = (time_t)(r->received_ns / 1000000000ull);
    struct tm tm;
    gmtime_r(&secs, &tm);
    o += sprintf(o, "%s\t%s\t%" PRIu64 "\t", r->host, r->session, r->recno);
    o += strftime(o, 32, "%Y-%m-%d %H:%M:%S", &tm);
    o += sprintf(o, ".%06u+00\t",
                 (unsigned)(r->received_ns % 1000000000ull / 1000));
    o += put_num(o, f.has_ts, f.ts);
    *o++ = '\t';
    o += put_num(o, f.has_pid, f.pid);
    *o++ = '\t';
    o += put_num(o, f.has_tid, f.tid);
    *o++ = '\t';
    o +=
        f.type ? put_text(o, f.type, (size_t)f.type_len) : put_num(o, false, 0);
    *o++ = '\t';
    o +=
        f.name ? put_text(o, f.name, (size_t)f.name_len) : put_num(o, false, 0);
    *o++ = '\t';
    o += put_num(o, f.has_ret, f.ret);
    *o++ = '\t';
    o += put_text(o, r->json, r->len);
    *o++ = '\n';
    *len = (size_t)(o - pg->buf);
    return 0;
}

static int copy_batch(struct logd_pg *pg, struct store_rec *const *recs,
                      size_t n, char *err, size_t errlen)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        if (copy_line(pg, &len, recs[i]) < 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    PGresult *r = PQexec(pg->conn, "COPY vigil_stage FROM STDIN");
    bool in_copy = PQresultStatus(r) == PGRES_COPY_IN;
    PQclear(r);
    if (!in_copy) {
        set_err(err, errlen, "", pg->conn);
        return -1;
    }
    int ok = PQputCopyData(pg->conn, pg->buf, (int)len) == 1;
    ok = PQputCopyEnd(pg->conn, ok ? NULL : "send failed") == 1 && ok;
    /* Every result of the COPY is read, or the connection stays busy. */
    while ((r = PQgetResult(pg->conn)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            ok = 0;
            set_err(err, errlen, "", pg->conn);
        }
        PQclear(r);
    }
    return ok ? 0 : -1;
}

/* From the staging table into the tables; @conv: the JSON conversion of
 * the staging table's json column. */
static int move_batch(struct logd_pg *pg, const char *conv, char *err,
                      size_t errlen)
{
    char *name = PQescapeLiteral(pg->conn, pg->name, strlen(pg->name));
    if (name == NULL) {
        set_err(err, errlen, "", pg->conn);
        return -1;
    }
    char sql[2048];
    snprintf(sql, sizeof sql,
             "SELECT vigil_partition(d) FROM (SELECT DISTINCT (received AT TIME"
             " ZONE 'UTC')::date AS d FROM vigil_stage) AS days;"
             "INSERT INTO sessions SELECT host, session, %s, min(received)"
             " FROM vigil_stage GROUP BY host, session ON CONFLICT DO NOTHING;"
             "INSERT INTO events SELECT host, session, rec, received, ts, pid,"
             " tid, type, name, ret, %s FROM vigil_stage"
             " ON CONFLICT DO NOTHING;"
             "INSERT INTO detections SELECT host, session, rec, received, ts,"
             " j->>'disk', j->>'signature', j->>'action',"
             " (j->>'request_ts')::bigint, j FROM (SELECT *, %s AS j"
             " FROM vigil_stage WHERE type = 'detection') AS d"
             " ON CONFLICT DO NOTHING;",
             name, conv, conv);
    PQfreemem(name);
    return exec_ok(pg->conn, sql, err, errlen);
}

static int try_batch(struct logd_pg *pg, struct store_rec *const *recs,
                     size_t n, const char *conv, char *err, size_t errlen)
{
    if (exec_ok(pg->conn, "BEGIN", err, errlen) == 0 &&
        copy_batch(pg, recs, n, err, errlen) == 0 &&
        move_batch(pg, conv, err, errlen) == 0 &&
        exec_ok(pg->conn, "COMMIT", err, errlen) == 0)
        return 0;
    if (PQstatus(pg->conn) == CONNECTION_OK &&
        PQtransactionStatus(pg->conn) != PQTRANS_IDLE)
        PQclear(PQexec(pg->conn, "ROLLBACK"));
    return -1;
}

int logd_pg_write(struct logd_pg *pg, struct store_rec *const *recs, size_t n,
                  char *err, size_t errlen)
{
    if (!logd_pg_connected(pg)) {
        snprintf(err, errlen, "not connected");
        return -EPIPE;
    }
    if (try_batch(pg, recs, n, "json::jsonb", err, errlen) == 0)
        return 0;
    if (!logd_pg_connected(pg))
        return -EPIPE;
    /* The connection is fine, so the batch itself was refused: most
     * likely a record jsonb does not take (an authenticated sender may
     * send any bytes). Once more, slowly, keeping such records as JSON
     * strings. */
    if (try_batch(pg, recs, n, "vigil_jsonb(json)", err, errlen) == 0)
        return 0;
    return logd_pg_connected(pg) ? -EINVAL : -EPIPE;
}
