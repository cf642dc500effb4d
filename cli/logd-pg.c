/* logd's PostgreSQL connection (logd-pg.h).
 *
 * A batch is one transaction, so a COPY cut half-way commits nothing.
 * Its days' partitions and its sessions' rows are made first, each in a
 * transaction of its own, when this connection has not made them yet: so
 * the batch's transaction holds no lock on a session row or on events'
 * partitions, and logd's several connections (and other logd instances)
 * writing the same sessions cannot deadlock on them. Fresh records (first
 * time at the database) take the fast way: COPY straight into events.
 * Records that
 * may be there already (replayed from the spill: their batch may have
 * committed before its answer was lost) take the safe way: COPY into a
 * temporary staging table, then INSERT ... ON CONFLICT DO NOTHING on each
 * record's key, so a record lands exactly once. A fresh batch the fast
 * way refuses while the connection is fine (a duplicate key, a record
 * that is not JSON) is sent again the safe way. */
#include "logd-pg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logd-fields.h"
#include "logd-pg-int.h"

#define NS_PER_DAY (86400ull * 1000000000ull)
/* Sessions known to have their row, with its number: a direct-mapped
 * cache (a miss only costs an INSERT ... ON CONFLICT). */
#define SESS_CACHE 256
#define SESS_KEY   (64 + 1 + 16 + 1)
#define DETECTION  "{\"type\":\"detection\","

static const char stage_sql[] =
    "CREATE TEMP TABLE vigil_stage(host text, session text, rec bigint,"
    " received timestamptz, ts bigint, pid integer, tid integer, type text,"
    " name text, ret bigint, json text, sid bigint) ON COMMIT DELETE ROWS;"
    "SET TimeZone TO 'UTC';";

struct logd_pg {
    PGconn *conn;
    bool async_commit; /* --store-sync-commit off */
    char *conninfo, *password, *name;
    char *buf; /* the COPY data of a batch (logd-pg-copy.c) */
    size_t cap;
    uint64_t days[2]; /* days whose partition exists, +1 (0: none) */
    long long *sids;  /* the session number of each record of a batch */
    size_t sids_cap;
    struct {
        char key[SESS_KEY]; /* host/session; empty: none */
        long long sid;
    } sess[SESS_CACHE];
};

static int connect_db(struct logd_pg *pg, char *err, size_t errlen)
{
    /* The URI goes in as dbname (expanded); a password given apart comes
     * later in the arrays and so wins over one in the URI. */
    const char *keys[] = {"dbname", "fallback_application_name",
                          pg->password ? "password" : NULL, NULL};
    const char *vals[] = {pg->conninfo, "vigil-logd", pg->password, NULL};
    PQfinish(pg->conn);
    memset(pg->days, 0, sizeof pg->days);
    memset(pg->sess, 0, sizeof pg->sess);
    pg->conn = PQconnectdbParams(keys, vals, 1);
    if (pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK) {
        logd_pg_set_err(err, errlen, pg->conn);
        return -1;
    }
    return 0;
}

/* The staging table, and the commit mode the operator chose. */
static int session_setup(struct logd_pg *pg, char *err, size_t errlen)
{
    if (logd_pg_exec(pg->conn, stage_sql, err, errlen) < 0)
        return -1;
    if (!pg->async_commit)
        return 0;
    return logd_pg_exec(pg->conn, "SET synchronous_commit TO off", err, errlen);
}

int logd_pg_reconnect(struct logd_pg *pg, char *err, size_t errlen)
{
    if (connect_db(pg, err, errlen) < 0)
        return -1;
    long v = 0;
    /* The schema may have moved on while we were away. */
    if (logd_pg_schema_version(pg->conn, &v, err, errlen) < 0)
        return -1;
    if (v != LOGD_PG_SCHEMA) {
        snprintf(err, errlen, "the database's schema is now version %ld", v);
        PQfinish(pg->conn);
        pg->conn = NULL;
        return -1;
    }
    return session_setup(pg, err, errlen);
}

static bool logd_pg_connected(const struct logd_pg *pg)
{
    return pg->conn != NULL && PQstatus(pg->conn) == CONNECTION_OK;
}

int logd_pg_open(struct logd_pg **out, const char *conninfo,
                 const char *password, const char *name, bool async_commit,
                 char *err, size_t errlen)
{
    struct logd_pg *pg = calloc(1, sizeof *pg);
    if (pg == NULL || (pg->conninfo = strdup(conninfo)) == NULL ||
        (pg->name = strdup(name)) == NULL ||
        (password && (pg->password = strdup(password)) == NULL)) {
        snprintf(err, errlen, "out of memory");
        logd_pg_close(pg);
        return -1;
    }
    pg->async_commit = async_commit;
    if (connect_db(pg, err, errlen) < 0 ||
        logd_pg_migrate(pg->conn, err, errlen) < 0 ||
        session_setup(pg, err, errlen) < 0) {
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
    free(pg->sids);
    free(pg);
}

/* The receive time as PostgreSQL reads a timestamptz; 40 bytes. */
static size_t put_time(char *o, uint64_t ns)
{
    time_t secs = (time_t)(ns / 1000000000ull);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t k = strftime(o, 32, "%Y-%m-%d %H:%M:%S", &tm);
    return k + (size_t)sprintf(o + k, ".%06u+00",
                               (unsigned)(ns % 1000000000ull / 1000));
}

static int copy_into(struct logd_pg *pg, const char *sql,
                     struct store_rec *const *recs, size_t n, char *err,
                     size_t errlen)
{
    return logd_pg_copy(pg->conn, sql, recs, pg->sids, n, &pg->buf, &pg->cap,
                        err, errlen);
}

/* ---- the fast way ---- */

static int exec_params(struct logd_pg *pg, const char *sql, int n,
                       const char *const *v, char *err, size_t errlen)
{
    PGresult *r = PQexecParams(pg->conn, sql, n, NULL, v, NULL, NULL, 0);
    ExecStatusType s = PQresultStatus(r);
    int rc = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? 0 : -1;
    if (rc < 0)
        logd_pg_set_err(err, errlen, pg->conn);
    PQclear(r);
    return rc;
}

static int ensure_day(struct logd_pg *pg, uint64_t day, char *err,
                      size_t errlen)
{
    if (day + 1 == pg->days[0] || day + 1 == pg->days[1])
        return 0;
    char d[40];
    put_time(d, day * NS_PER_DAY);
    d[10] = 0; /* YYYY-MM-DD */
    const char *v[] = {d};
    if (exec_params(pg, "SELECT vigil_partition($1::date)", 1, v, err, errlen) <
        0)
        return -1;
    pg->days[1] = pg->days[0];
    pg->days[0] = day + 1;
    return 0;
}

static unsigned sess_slot(const char *key)
{
    uint32_t h = 2166136261u;
    for (const char *p = key; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return h % SESS_CACHE;
}

/* The session's row, made if it is new, and its number into *sid. */
static int ensure_session(struct logd_pg *pg, const struct store_rec *r,
                          long long *sid, char *err, size_t errlen)
{
    char key[SESS_KEY], t[40];
    snprintf(key, sizeof key, "%s/%s", r->host, r->session);
    unsigned slot = sess_slot(key);
    if (strcmp(pg->sess[slot].key, key) == 0) {
        *sid = pg->sess[slot].sid;
        return 0;
    }
    put_time(t, r->received_ns);
    const char *v[] = {r->host, r->session, pg->name, t};
    /* Another connection may have made the row from a later batch of the
     * session: first_received is the earliest any batch saw. The update
     * is unconditional so that RETURNING gives the number either way. */
    PGresult *res = PQexecParams(
        pg->conn,
        "INSERT INTO sessions AS s(host, session, logd, first_received)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT (host, session) DO UPDATE"
        " SET first_received = least(s.first_received,"
        " excluded.first_received) RETURNING sid",
        4, NULL, v, NULL, NULL, 0);
    int rc =
        PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 ? 0 : -1;
    if (rc == 0) {
        *sid = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        memcpy(pg->sess[slot].key, key, SESS_KEY);
        pg->sess[slot].sid = *sid;
    } else {
        logd_pg_set_err(err, errlen, pg->conn);
    }
    PQclear(res);
    return rc;
}

static int insert_detection(struct logd_pg *pg, const struct store_rec *r,
                            char *err, size_t errlen)
{
    char rec[24], t[40];
    snprintf(rec, sizeof rec, "%" PRIu64, r->recno);
    put_time(t, r->received_ns);
    const char *v[] = {r->host, r->session, rec, t, r->json};
    return exec_params(
        pg,
        "INSERT INTO detections SELECT $1, $2, $3::bigint, $4::timestamptz,"
        " (j->>'ts')::bigint, j->>'disk', j->>'signature', j->>'action',"
        " (j->>'request_ts')::bigint, j FROM (SELECT $5::jsonb AS j) AS d"
        " ON CONFLICT DO NOTHING",
        5, v, err, errlen);
}

/* Before the batch's transaction, each statement committed on its own. */
/* Also each record's session number, into pg->sids. */
static int prepare(struct logd_pg *pg, struct store_rec *const *recs, size_t n,
                   char *err, size_t errlen)
{
    if (n > pg->sids_cap) {
        long long *s = realloc(pg->sids, n * sizeof *s);
        if (s == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        pg->sids = s;
        pg->sids_cap = n;
    }
    for (size_t i = 0; i < n; i++) {
        const struct store_rec *r = recs[i];
        bool new_sess = i == 0 || strcmp(r->session, recs[i - 1]->session) ||
                        strcmp(r->host, recs[i - 1]->host);
        if (ensure_day(pg, r->received_ns / NS_PER_DAY, err, errlen) < 0 ||
            (new_sess && ensure_session(pg, r, &pg->sids[i], err, errlen) < 0))
            return -1;
        if (!new_sess)
            pg->sids[i] = pg->sids[i - 1];
    }
    return 0;
}

static int fast_batch(struct logd_pg *pg, struct store_rec *const *recs,
                      size_t n, char *err, size_t errlen)
{
    if (copy_into(pg,
                  "COPY events(host, session, rec, received, ts, pid, tid,"
                  " type, name, ret, json, sid) FROM STDIN (FORMAT binary)",
                  recs, n, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (strncmp(recs[i]->json, DETECTION, strlen(DETECTION)) == 0 &&
            insert_detection(pg, recs[i], err, errlen) < 0)
            return -1;
    return 0;
}

/* ---- the safe way ---- */

/* From the staging table into the tables; @slow: the JSON conversions
 * that keep a record the plain casts refuse as a JSON string (events'
 * json is json, detections' jsonb). */
static int safe_batch(struct logd_pg *pg, struct store_rec *const *recs,
                      size_t n, bool slow, char *err, size_t errlen)
{
    const char *conv = slow ? "vigil_json(json)" : "json::json";
    const char *convb = slow ? "vigil_jsonb(json)" : "json::jsonb";
    if (copy_into(pg, "COPY vigil_stage FROM STDIN (FORMAT binary)", recs, n,
                  err, errlen) < 0)
        return -1;
    char sql[2048];
    snprintf(
        sql, sizeof sql,
        "INSERT INTO events(host, session, rec, received, ts, pid, tid,"
        " type, name, ret, json, sid) SELECT host, session, rec,"
        " received, ts, pid, tid, type, name, ret, %s, sid FROM vigil_stage"
        " ON CONFLICT DO NOTHING;"
        "INSERT INTO detections SELECT host, session, rec, received, ts,"
        " j->>'disk', j->>'signature', j->>'action',"
        " (j->>'request_ts')::bigint, j FROM (SELECT *, %s AS j"
        " FROM vigil_stage WHERE type = 'detection') AS d"
        " ON CONFLICT DO NOTHING;",
        conv, convb);
    return logd_pg_exec(pg->conn, sql, err, errlen);
}

/* ---- one batch ---- */

enum way { WAY_FAST, WAY_SAFE, WAY_SAFE_SLOW };

static int try_batch(struct logd_pg *pg, struct store_rec *const *recs,
                     size_t n, enum way way, char *err, size_t errlen)
{
    int rc = prepare(pg, recs, n, err, errlen);
    if (rc == 0)
        rc = logd_pg_exec(pg->conn, "BEGIN", err, errlen);
    if (rc == 0)
        rc = way == WAY_FAST
                 ? fast_batch(pg, recs, n, err, errlen)
                 : safe_batch(pg, recs, n, way == WAY_SAFE_SLOW, err, errlen);
    if (rc == 0)
        rc = logd_pg_exec(pg->conn, "COMMIT", err, errlen);
    if (rc == 0)
        return 0;
    if (PQstatus(pg->conn) == CONNECTION_OK &&
        PQtransactionStatus(pg->conn) != PQTRANS_IDLE)
        PQclear(PQexec(pg->conn, "ROLLBACK"));
    return -1;
}

int logd_pg_write(struct logd_pg *pg, struct store_rec *const *recs, size_t n,
                  bool fresh, char *err, size_t errlen)
{
    if (!logd_pg_connected(pg)) {
        snprintf(err, errlen, "not connected");
        return -EPIPE;
    }
    if (fresh && try_batch(pg, recs, n, WAY_FAST, err, errlen) == 0)
        return 0;
    if (!logd_pg_connected(pg))
        return -EPIPE;
    if (try_batch(pg, recs, n, WAY_SAFE, err, errlen) == 0)
        return 0;
    if (!logd_pg_connected(pg))
        return -EPIPE;
    /* The connection is fine, so the batch itself was refused: most
     * likely a record that is not JSON (an authenticated sender may
     * send any bytes). Once more, slowly, keeping such records as JSON
     * strings. */
    if (try_batch(pg, recs, n, WAY_SAFE_SLOW, err, errlen) == 0)
        return 0;
    return logd_pg_connected(pg) ? -EINVAL : -EPIPE;
}
