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

struct logd_db {
    sqlite3 *db;
    sqlite3_stmt *ins, *sess;
    bool in_txn;
    unsigned test_delay_ms; /* VIGIL_LOGD_TEST_COMMIT_DELAY_MS */
};

/* What a crash costs is in docs/protocol.md, "logd's output". */
static const char schema[] =
    /* 16 KiB pages: a quarter of the page writes and index splits of the
     * default 4 KiB; the writer's CPU per record fell by about a fifth
     * (docs/protocol.md). Only a new database takes it (the first
     * statement before any table); an existing one keeps its size. */
    "PRAGMA page_size=16384;"
    "PRAGMA journal_mode=WAL;"
    /* NORMAL: with WAL, commits only append to the WAL (no fsync); it is
     * synced at checkpoints. A power cut or OS crash may lose the last
     * transactions but never corrupts the database; a crash of logd alone
     * loses nothing committed. OFF could corrupt it on a power cut. */
    "PRAGMA synchronous=NORMAL;"
    /* The three indexes of a long-running store outgrow the default 2 MiB
     * page cache; pages missing from it are read back at every insert. */
    "PRAGMA cache_size=-32768;"
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
    /* No global count of SQLite's memory: it takes a mutex at every
     * allocation. Only before SQLite starts (later calls fail, harmless). */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    /* NOMUTEX: one thread at a time uses the connection (logd-db.h), so
     * SQLite's own locking around every bind and step is pure cost. */
    if (sqlite3_open_v2(path, &db->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK ||
        sqlite3_exec(db->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db->db,
                           "INSERT INTO events(session, rec, ts, pid, tid, "
                           "type, name, json) VALUES(?,?,?,?,?,?,?,?)",
                           -1, SQLITE_PREPARE_PERSISTENT, &db->ins,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db->db,
                           "INSERT OR IGNORE INTO sessions(id, source, "
                           "started) VALUES(?,?,?)",
                           -1, SQLITE_PREPARE_PERSISTENT, &db->sess,
                           NULL) != SQLITE_OK) {
        cli_error("%s: %s", path,
                  db->db ? sqlite3_errmsg(db->db) : "no memory");
        logd_db_close(db);
        return -EIO;
    }
    /* A reader (an analyst's sqlite3) holding the database while a
     * checkpoint needs it: wait rather than lose rows; the store's queue
     * holds what arrives meanwhile. */
    sqlite3_busy_timeout(db->db, 10000);
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
    sqlite3_finalize(db->sess);
    sqlite3_close(db->db);
    free(db);
}

bool logd_db_in_txn(struct logd_db *db)
{
    if (db->in_txn && sqlite3_get_autocommit(db->db))
        db->in_txn = false; /* rolled back by SQLite after an error */
    return db->in_txn;
}

int logd_db_begin(struct logd_db *db)
{
    if (sqlite3_exec(db->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return -EIO;
    db->in_txn = true;
    return 0;
}

/* After a failed statement: SQLite may have rolled the whole transaction
 * back (SQLITE_FULL, SQLITE_IOERR do), and then every row since BEGIN is
 * gone too. */
static int step_failed(struct logd_db *db)
{
    return db->in_txn && !logd_db_in_txn(db) ? -ECANCELED : -EIO;
}

int logd_db_session(struct logd_db *db, const char *session, const char *source,
                    uint64_t started_s)
{
    sqlite3_stmt *st = db->sess;
    sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)started_s);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : step_failed(db);
}

int logd_db_insert(struct logd_db *db, const char *session, uint64_t recno,
                   const struct logd_fields *f, const char *rec, size_t len)
{
    sqlite3_stmt *st = db->ins;
    sqlite3_bind_text(st, 1, session, 16, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)recno);
    sqlite3_bind_int64(st, 3, f->ts);
    sqlite3_bind_int64(st, 4, f->pid);
    sqlite3_bind_int64(st, 5, f->tid);
    if (f->type)
        sqlite3_bind_text(st, 6, f->type, f->type_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 6);
    if (f->name)
        sqlite3_bind_text(st, 7, f->name, f->name_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 7);
    sqlite3_bind_text(st, 8, rec, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : step_failed(db);
}

int logd_db_commit(struct logd_db *db)
{
    if (db->test_delay_ms > 0) {
        struct timespec ts = {db->test_delay_ms / 1000,
                              (long)(db->test_delay_ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
    if (!logd_db_in_txn(db))
        return -EIO;
    db->in_txn = false;
    if (sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        /* A failed COMMIT leaves the transaction open: end it, its rows
         * are lost. */
        sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
        return -EIO;
    }
    return 0;
}
