/* logd's PostgreSQL schema and its migrations (docs/store.md, "Schema"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logd-pg-int.h"
#include "logd-pg.h"

/* One row per process of a session: where it came from (a clone, fork or
 * vfork that returned its pid to the parent; threads are left out), what
 * it last executed and how it ended. The same text in migrations 1 and 2
 * (2 recreates it over events.json's new type). */
#define PROCESSES_VIEW                                                         \
    "CREATE VIEW processes AS"                                                 \
    " WITH spawn AS (SELECT DISTINCT ON (host, session, ret) host, session,"   \
    "  ret::integer AS pid, pid AS parent, ts AS started FROM events"          \
    "  WHERE name IN ('clone', 'clone3', 'fork', 'vfork') AND ret > 0"         \
    "  AND coalesce(json->'decoded'->>0, '') NOT LIKE '%CLONE_THREAD%'"        \
    "  ORDER BY host, session, ret, ts),"                                      \
    " exec AS (SELECT DISTINCT ON (host, session, pid) host, session, pid,"    \
    "  ts AS exec_ts, json->'decoded'->>0 AS exe, json->'decoded'->1 AS argv," \
    "  json->>'comm' AS comm FROM events WHERE name IN ('execve',"             \
    "  'execveat') AND ret = 0 ORDER BY host, session, pid, ts DESC),"         \
    " ended AS (SELECT DISTINCT ON (host, session, pid) host, session, pid,"   \
    "  ts AS exited, (json->'decoded'->>0) AS exit_code FROM events"           \
    "  WHERE name = 'exit_group' ORDER BY host, session, pid, ts DESC),"       \
    " k AS (SELECT host, session, pid FROM spawn UNION SELECT host,"           \
    "  session, pid FROM exec UNION SELECT host, session, pid FROM ended)"     \
    " SELECT k.host, k.session, k.pid, s.parent AS ppid, s.started,"           \
    "  x.exec_ts, x.exe, x.argv, x.comm, e.exited, e.exit_code FROM k"         \
    "  LEFT JOIN spawn s USING (host, session, pid)"                           \
    "  LEFT JOIN exec x USING (host, session, pid)"                            \
    "  LEFT JOIN ended e USING (host, session, pid);"

/* The same from schema 4 on, with each process's session number (sid):
 * a join of events to processes on (sid, pid) uses events' key. */
#define PROCESSES_VIEW_4                                                       \
    "CREATE VIEW processes AS"                                                 \
    " WITH spawn AS (SELECT DISTINCT ON (sid, ret) host, session, sid,"        \
    "  ret::integer AS pid, pid AS parent, ts AS started FROM events"          \
    "  WHERE name IN ('clone', 'clone3', 'fork', 'vfork') AND ret > 0"         \
    "  AND coalesce(json->'decoded'->>0, '') NOT LIKE '%CLONE_THREAD%'"        \
    "  ORDER BY sid, ret, ts),"                                                \
    " exec AS (SELECT DISTINCT ON (sid, pid) host, session, sid, pid,"         \
    "  ts AS exec_ts, json->'decoded'->>0 AS exe, json->'decoded'->1 AS argv," \
    "  json->>'comm' AS comm FROM events WHERE name IN ('execve',"             \
    "  'execveat') AND ret = 0 ORDER BY sid, pid, ts DESC),"                   \
    " ended AS (SELECT DISTINCT ON (sid, pid) host, session, sid, pid,"        \
    "  ts AS exited, (json->'decoded'->>0) AS exit_code FROM events"           \
    "  WHERE name = 'exit_group' ORDER BY sid, pid, ts DESC),"                 \
    " k AS (SELECT host, session, sid, pid FROM spawn UNION SELECT host,"      \
    "  session, sid, pid FROM exec UNION SELECT host, session, sid, pid"       \
    "  FROM ended)"                                                            \
    " SELECT k.host, k.session, k.sid, k.pid, s.parent AS ppid, s.started,"    \
    "  x.exec_ts, x.exe, x.argv, x.comm, e.exited, e.exit_code FROM k"         \
    "  LEFT JOIN spawn s USING (sid, pid)"                                     \
    "  LEFT JOIN exec x USING (sid, pid)"                                      \
    "  LEFT JOIN ended e USING (sid, pid);"

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
    "CREATE INDEX detections_signature ON detections(signature);" PROCESSES_VIEW
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
    /* 2: faster writes (docs/store.md, "Throughput"). json, not jsonb:
     * the server checks the record is JSON but builds no jsonb (about
     * half its CPU per record); queries parse the rows they read instead.
     * The time index a BRIN (records arrive in time order within a day's
     * partition: a few pages of index per partition, not a btree entry per
     * record); session and pid one composite index (the processes view and
     * its joins look a pid up within a session). The type change rewrites
     * every partition once. */
    "DROP VIEW processes;"
    "ALTER TABLE events ALTER COLUMN json TYPE json USING "
    "json::json;" PROCESSES_VIEW
    "DROP INDEX events_received, events_session, events_pid;"
    "CREATE INDEX events_received ON events USING brin(received);"
    "CREATE INDEX events_session_pid ON events(session, pid);"
    /* The fallback for a batch the plain cast refused, as vigil_jsonb. */
    "CREATE FUNCTION vigil_json(t text) RETURNS json"
    " LANGUAGE plpgsql IMMUTABLE AS $f$"
    " BEGIN RETURN t::json; EXCEPTION WHEN others THEN RETURN to_json(t);"
    " END $f$;",
    /* 3: one btree fewer per record (docs/store.md, "Throughput"). The
     * record's key and the (session, pid) lookups share one unique index,
     * (host, session, pid, rec, received): pid is read from the record's
     * bytes, so every copy of a record has the same pid and the index
     * still refuses a second copy; NULLS NOT DISTINCT makes that hold for
     * records without a pid too. Lookups by host, host and session, and
     * host, session and pid use its first columns. */
    "ALTER TABLE events DROP CONSTRAINT events_pkey;"
    "DROP INDEX events_session_pid;"
    "ALTER TABLE events ADD CONSTRAINT events_key UNIQUE NULLS NOT DISTINCT"
    " (host, session, pid, rec, received);",
    /* 4: a key on numbers (docs/store.md, "Throughput"): each session gets
     * a number, sid, in sessions, and events' key becomes (sid, pid, rec,
     * received); comparing two texts at every level of the key's btree
     * cost more than the rest of the key. sid stands for (host, session),
     * which sessions keeps unique, so the key still refuses a second copy
     * of a record. host and session stay in events for the queries; a
     * lookup by them goes through sessions to sid. The call name is
     * compared bytewise (COLLATE "C": no strcoll in its index). Sessions
     * that have events but no row (none should) get one first. */
    "DROP VIEW processes;"
    "INSERT INTO sessions SELECT host, session, 'schema-4', min(received)"
    " FROM events GROUP BY host, session ON CONFLICT DO NOTHING;"
    "ALTER TABLE sessions ADD COLUMN sid bigint GENERATED ALWAYS AS IDENTITY;"
    "ALTER TABLE sessions ADD CONSTRAINT sessions_sid UNIQUE (sid);"
    "ALTER TABLE events ADD COLUMN sid bigint;"
    "UPDATE events e SET sid = s.sid FROM sessions s"
    " WHERE s.host = e.host AND s.session = e.session;"
    "ALTER TABLE events ALTER COLUMN sid SET NOT NULL;"
    "ALTER TABLE events DROP CONSTRAINT events_key;"
    "ALTER TABLE events ADD CONSTRAINT events_key UNIQUE NULLS NOT DISTINCT"
    " (sid, pid, rec, received);"
    "DROP INDEX events_name;"
    "ALTER TABLE events ALTER COLUMN name TYPE text COLLATE \"C\";"
    "CREATE INDEX events_name ON events(name);" PROCESSES_VIEW_4,
};

/* Serializes migrations of logd instances starting at once. */
#define MIGRATE_LOCK "74293801"
/* The first migration that changes what logd writes (events.sid, NOT
 * NULL): a logd of an older vigil still writing would have every record
 * refused, so it must be stopped first. */
#define WRITE_CHANGE 4

/* Other logd connections to this database, those waiting to migrate (on
 * the advisory lock, a logd of this vigil or newer) left out; -1 on
 * error. */
static long other_logd(PGconn *c, char *err, size_t errlen)
{
    PGresult *r = PQexec(
        c, "SELECT count(*) FROM pg_stat_activity WHERE pid <> "
           "pg_backend_pid() AND datname = current_database() AND "
           "application_name = 'vigil-logd' AND wait_event IS DISTINCT FROM "
           "'advisory'");
    long n = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    else
        logd_pg_set_err(err, errlen, c);
    PQclear(r);
    return n;
}

void logd_pg_set_err(char *err, size_t errlen, const PGconn *c)
{
    const char *m = c ? PQerrorMessage(c) : "out of memory";
    size_t n = strlen(m);
    while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
        n--;
    snprintf(err, errlen, "%.*s", (int)n, m);
}

/* One statement (or several, all must succeed). */
int logd_pg_exec(PGconn *c, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType s = PQresultStatus(r);
    int rc = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? 0 : -1;
    if (rc < 0)
        logd_pg_set_err(err, errlen, c);
    PQclear(r);
    return rc;
}

int logd_pg_schema_version(PGconn *c, long *v, char *err, size_t errlen)
{
    PGresult *r = PQexec(c, "SELECT coalesce(max(version), 0) FROM "
                            "schema_version");
    int rc = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        *v = strtol(PQgetvalue(r, 0, 0), NULL, 10);
        rc = 0;
    } else {
        logd_pg_set_err(err, errlen, c);
    }
    PQclear(r);
    return rc;
}

int logd_pg_migrate(PGconn *c, char *err, size_t errlen)
{
    long v = 0;
    if (logd_pg_exec(c,
                     "BEGIN; SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ");"
                     "CREATE TABLE IF NOT EXISTS schema_version("
                     "version integer NOT NULL, applied timestamptz NOT NULL"
                     " DEFAULT now())",
                     err, errlen) < 0 ||
        logd_pg_schema_version(c, &v, err, errlen) < 0)
        goto fail;
    if (v > LOGD_PG_SCHEMA) {
        snprintf(err, errlen,
                 "the database's schema is version %ld, newer than this "
                 "vigil knows (%d): upgrade vigil",
                 v, LOGD_PG_SCHEMA);
        goto fail;
    }
    if (v > 0 && v < WRITE_CHANGE) {
        long n = other_logd(c, err, errlen);
        if (n < 0)
            goto fail;
        if (n > 0) {
            snprintf(err, errlen,
                     "the database's schema is version %ld and %ld other "
                     "logd connection(s) use it: migration %d changes what "
                     "logd writes, so stop every older logd first",
                     v, n, WRITE_CHANGE);
            goto fail;
        }
    }
    for (long i = v; i < LOGD_PG_SCHEMA; i++) {
        char ins[96];
        snprintf(ins, sizeof ins,
                 "INSERT INTO schema_version(version) VALUES(%ld)", i + 1);
        if (logd_pg_exec(c, migrations[i], err, errlen) < 0 ||
            logd_pg_exec(c, ins, err, errlen) < 0)
            goto fail;
    }
    if (logd_pg_exec(c, "COMMIT", err, errlen) < 0)
        goto fail;
    return 0;
fail:
    PQclear(PQexec(c, "ROLLBACK"));
    return -1;
}
