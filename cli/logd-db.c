/* vigil logd's SQLite store (logd-db.h). */
#include "logd-db.h"

#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "logd-fields.h"

/* Inserts are grouped in transactions of at most this long. */
#define DB_COMMIT_NS 500000000ull

struct logd_db {
    sqlite3 *db;
    sqlite3_stmt *ins;
    bool in_txn;
    uint64_t last_commit_ns;
    unsigned test_delay_ms; /* VIGIL_LOGD_TEST_COMMIT_DELAY_MS */
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    /* NORMAL: with WAL, a power cut may lose the last transactions but never
     * corrupts the database; OFF could. */
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS sessions(id TEXT PRIMARY KEY, source TEXT,"
    " started INTEGER);"
    "CREATE TABLE IF NOT EXISTS events(session TEXT NOT NULL,"
    " rec INTEGER NOT NULL, ts INTEGER, pid INTEGER, tid INTEGER,"
    " type TEXT, name TEXT, json TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS events_ts ON events(ts);"
    "CREATE INDEX IF NOT EXISTS events_pid ON events(pid);"
    "CREATE INDEX IF NOT EXISTS events_name ON events(name);";

int logd_db_open(struct logd_db **out, const char *outdir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/events.db", outdir);
    struct logd_db *db = calloc(1, sizeof(*db));
    if (db == NULL) {
        cli_error("%s: out of memory", path);
        return -ENOMEM;
    }
    if (sqlite3_open(path, &db->db) != SQLITE_OK ||
        sqlite3_exec(db->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db->db,
                           "INSERT INTO events(session, rec, ts, pid, tid, "
                           "type, name, json) VALUES(?,?,?,?,?,?,?,?)",
                           -1, &db->ins, NULL) != SQLITE_OK) {
        cli_error("%s: %s", path,
                  db->db ? sqlite3_errmsg(db->db) : "no memory");
        logd_db_close(db);
        return -EIO;
    }
    const char *delay = getenv("VIGIL_LOGD_TEST_COMMIT_DELAY_MS");
    db->test_delay_ms = delay ? (unsigned)atoi(delay) : 0;
    *out = db;
    return 0;
}

void logd_db_close(struct logd_db *db)
{
    if (db == NULL)
        return;
    sqlite3_finalize(db->ins);
    sqlite3_close(db->db);
    free(db);
}

/* After a failed statement: SQLite may have rolled the whole transaction
 * back (SQLITE_FULL, SQLITE_IOERR do), and then every row since BEGIN is
 * gone too. */
static int step_failed(struct logd_db *db)
{
    if (db->in_txn && sqlite3_get_autocommit(db->db)) {
        db->in_txn = false;
        return -ECANCELED;
    }
    return -EIO;
}

int logd_db_session(struct logd_db *db, const char *session, const char *source,
                    uint64_t started_s)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->db,
                           "INSERT OR IGNORE INTO sessions(id, source, "
                           "started) VALUES(?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)started_s);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : step_failed(db);
}

int logd_db_insert(struct logd_db *db, const char *session, uint64_t recno,
                   const char *rec, size_t len)
{
    struct logd_fields f;
    logd_fields_find(rec, len, &f);
    sqlite3_stmt *st = db->ins;
    sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)recno);
    sqlite3_bind_int64(st, 3, f.ts);
    sqlite3_bind_int64(st, 4, f.pid);
    sqlite3_bind_int64(st, 5, f.tid);
    if (f.type)
        sqlite3_bind_text(st, 6, f.type, f.type_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 6);
    if (f.name)
        sqlite3_bind_text(st, 7, f.name, f.name_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 7);
    sqlite3_bind_text(st, 8, rec, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : step_failed(db);
}

int logd_db_commit(struct logd_db *db, bool force)
{
    int err = 0;
    if (db == NULL)
        return 0;
    if (db->in_txn && sqlite3_get_autocommit(db->db))
        db->in_txn = false; /* rolled back by SQLite after an error */
    uint64_t now = cli_now_ns(CLOCK_MONOTONIC);
    if (db->in_txn && (force || now - db->last_commit_ns > DB_COMMIT_NS)) {
        if (db->test_delay_ms > 0) {
            struct timespec ts = {db->test_delay_ms / 1000,
                                  (long)(db->test_delay_ms % 1000) * 1000000};
            nanosleep(&ts, NULL);
        }
        if (sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            /* A failed COMMIT leaves the transaction open: end it, its
             * rows are lost. */
            sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
            err = -EIO;
        } else {
            err = 1;
        }
        db->in_txn = false;
    }
    if (!db->in_txn && !force) {
        if (sqlite3_exec(db->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK)
            db->in_txn = true;
        db->last_commit_ns = now;
    }
    return err;
}
