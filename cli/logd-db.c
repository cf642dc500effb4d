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
#include "logd-ckpt.h"

struct logd_db {
    sqlite3 *db;
    sqlite3_stmt *sess, *ins_rows;
    bool in_txn;
    struct logd_ckpt *ckpt; /* NULL: SQLite's own checkpoints */
    /* logd_db_insert_rows' batch, read by the logd_rows table; pos: the
     * row its cursor is on (the one that failed when a step fails). */
    const struct logd_db_row *rows;
    size_t nrows, pos;
    /* VIGIL_LOGD_TEST_COMMIT_DELAY_MS=MS[:N]: each commit, or the first
     * N, sleeps MS first (tests: a disk whose commits stall). */
    unsigned test_delay_ms;
    long test_delays; /* left; -1: every commit */
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

/* ---- logd_rows: logd_db_insert_rows' batch as a virtual table ----
 * One "INSERT ... SELECT FROM logd_rows" step per batch instead of a bind,
 * step and reset per row: the statement, the table's and the three
 * indexes' cursors stay open over the batch (an index key landing on the
 * page the cursor is on needs no descent from the root), and the row's
 * values are read straight from the queue. It is an eponymous table of this
 * connection alone (no CREATE VIRTUAL TABLE: nothing of it is in the
 * file), so an analyst's sqlite3 never sees it. */

enum {
    COL_SESSION,
    COL_REC,
    COL_TS,
    COL_PID,
    COL_TID,
    COL_TYPE,
    COL_NAME,
    COL_JSON
};

struct rows_vtab {
    sqlite3_vtab base;
    struct logd_db *db;
};

struct rows_cur {
    sqlite3_vtab_cursor base;
    struct logd_db *db;
};

static int rows_connect(sqlite3 *conn, void *aux, int argc,
                        const char *const *argv, sqlite3_vtab **out, char **err)
{
    (void)argc, (void)argv, (void)err;
    int rc = sqlite3_declare_vtab(conn, "CREATE TABLE x(session, rec, ts, "
                                        "pid, tid, type, name, json)");
    if (rc != SQLITE_OK)
        return rc;
    struct rows_vtab *v = sqlite3_malloc(sizeof *v);
    if (v == NULL)
        return SQLITE_NOMEM;
    memset(v, 0, sizeof *v);
    v->db = aux;
    *out = &v->base;
    return SQLITE_OK;
}

static int rows_disconnect(sqlite3_vtab *v)
{
    sqlite3_free(v);
    return SQLITE_OK;
}

static int rows_best_index(sqlite3_vtab *v, sqlite3_index_info *info)
{
    (void)v;
    info->estimatedCost = 1000;
    info->estimatedRows = 1000;
    return SQLITE_OK;
}

static int rows_open(sqlite3_vtab *v, sqlite3_vtab_cursor **out)
{
    struct rows_cur *c = sqlite3_malloc(sizeof *c);
    if (c == NULL)
        return SQLITE_NOMEM;
    memset(c, 0, sizeof *c);
    c->db = ((struct rows_vtab *)(void *)v)->db;
    *out = &c->base;
    return SQLITE_OK;
}

static int rows_close(sqlite3_vtab_cursor *c)
{
    sqlite3_free(c);
    return SQLITE_OK;
}

static struct logd_db *cur_db(sqlite3_vtab_cursor *c)
{
    return ((struct rows_cur *)(void *)c)->db;
}

static int rows_filter(sqlite3_vtab_cursor *c, int idx, const char *idxs,
                       int argc, sqlite3_value **argv)
{
    (void)idx, (void)idxs, (void)argc, (void)argv;
    cur_db(c)->pos = 0;
    return SQLITE_OK;
}

static int rows_next(sqlite3_vtab_cursor *c)
{
    cur_db(c)->pos++;
    return SQLITE_OK;
}

static int rows_eof(sqlite3_vtab_cursor *c)
{
    struct logd_db *db = cur_db(c);
    return db->pos >= db->nrows;
}

static void result_text(sqlite3_context *ctx, const char *s, int len)
{
    if (s)
        sqlite3_result_text(ctx, s, len, SQLITE_STATIC);
    else
        sqlite3_result_null(ctx);
}

/* A row's values, column by column. */
static int rows_column(sqlite3_vtab_cursor *c, sqlite3_context *ctx, int col)
{
    struct logd_db *db = cur_db(c);
    const struct logd_db_row *r = &db->rows[db->pos];
    switch (col) {
    case COL_SESSION:
        sqlite3_result_text(ctx, r->session, 16, SQLITE_STATIC);
        break;
    case COL_REC:
        sqlite3_result_int64(ctx, (sqlite3_int64)r->recno);
        break;
    case COL_TS:
        sqlite3_result_int64(ctx, r->f.ts);
        break;
    case COL_PID:
        sqlite3_result_int64(ctx, r->f.pid);
        break;
    case COL_TID:
        sqlite3_result_int64(ctx, r->f.tid);
        break;
    case COL_TYPE:
        result_text(ctx, r->f.type, r->f.type_len);
        break;
    case COL_NAME:
        result_text(ctx, r->f.name, r->f.name_len);
        break;
    case COL_JSON:
        sqlite3_result_text(ctx, r->rec, (int)r->len, SQLITE_STATIC);
        break;
    }
    return SQLITE_OK;
}

static int rows_rowid(sqlite3_vtab_cursor *c, sqlite3_int64 *out)
{
    *out = (sqlite3_int64)cur_db(c)->pos;
    return SQLITE_OK;
}

/* xCreate NULL: eponymous only (usable as "logd_rows" without CREATE). */
static const sqlite3_module rows_module = {
    .iVersion = 0,
    .xConnect = rows_connect,
    .xBestIndex = rows_best_index,
    .xDisconnect = rows_disconnect,
    .xOpen = rows_open,
    .xClose = rows_close,
    .xFilter = rows_filter,
    .xNext = rows_next,
    .xEof = rows_eof,
    .xColumn = rows_column,
    .xRowid = rows_rowid,
};

/* The checkpoints' thread copies the WAL after every commit once it holds
 * this many frames (16 KiB pages; SQLite's default). */
#define CKPT_FRAMES 1000
/* The WAL starts over from its beginning only when a write transaction
 * begins with all of it copied; the writer begins its next transaction at
 * once after a commit, before the thread has copied that commit's pages,
 * so it never would. Past this size (64 MiB) the writer copies the rest
 * itself (the last transaction's pages: the thread copied the earlier
 * ones), and the WAL starts over at the next commit. */
#define CKPT_FRAMES_MAX 4000

/* After each commit, in the writer thread. */
static int wal_grown(void *arg, sqlite3 *conn, const char *name, int frames)
{
    struct logd_db *db = arg;
    if (frames >= CKPT_FRAMES_MAX) {
        /* The thread's checkpoint first (it holds SQLite's checkpoint
         * lock, and ours would give up at once): it is copying the earlier
         * transactions, ours copies only what is left. */
        logd_ckpt_wait(db->ckpt);
        (void)sqlite3_wal_checkpoint_v2(conn, name, SQLITE_CHECKPOINT_PASSIVE,
                                        NULL, NULL);
    } else if (frames >= CKPT_FRAMES)
        logd_ckpt_kick(db->ckpt);
    return SQLITE_OK;
}

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
                            SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
                        NULL) != SQLITE_OK ||
        sqlite3_exec(db->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_create_module(db->db, "logd_rows", &rows_module, db) !=
            SQLITE_OK ||
        /* OR FAIL: a failing row ends the statement but keeps the rows
         * before it, so exactly one row is lost and the rest is tried
         * again (ABORT, the default, would also make SQLite keep a
         * statement journal of every page the batch touches, to undo
         * them: about a tenth of the writer's time). No row of ours
         * breaks a constraint; a full disk still rolls back the whole
         * transaction, as with ABORT. */
        sqlite3_prepare_v3(db->db,
                           "INSERT OR FAIL INTO events(session, rec, ts, "
                           "pid, tid, type, name, json) SELECT session, rec, "
                           "ts, pid, tid, type, name, json FROM logd_rows",
                           -1, SQLITE_PREPARE_PERSISTENT, &db->ins_rows,
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
    /* Checkpoints beside the writer (logd-ckpt.h): replaces SQLite's own
     * after commits (itself a WAL hook). Without the thread, SQLite's stay. */
    if (logd_ckpt_start(&db->ckpt, path) == 0)
        sqlite3_wal_hook(db->db, wal_grown, db);
    const char *delay = getenv("VIGIL_LOGD_TEST_COMMIT_DELAY_MS");
    db->test_delay_ms = delay ? (unsigned)atoi(delay) : 0;
    db->test_delays =
        delay && strchr(delay, ':') ? atol(strchr(delay, ':') + 1) : -1;
    *out = db;
    return 0;
}

void logd_db_close(struct logd_db *db)
{
    if (db == NULL)
        return;
    /* Its connection first: the writer's, closed last, then copies what
     * is left of the WAL and removes it. */
    logd_ckpt_stop(db->ckpt);
    sqlite3_finalize(db->ins_rows);
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

int logd_db_insert_rows(struct logd_db *db, const struct logd_db_row *rows,
                        size_t n, size_t *done)
{
    *done = n;
    if (n == 0)
        return 0;
    db->rows = rows;
    db->nrows = n;
    db->pos = 0;
    int rc = sqlite3_step(db->ins_rows);
    sqlite3_reset(db->ins_rows);
    db->rows = NULL;
    if (rc == SQLITE_DONE)
        return 0;
    /* The row the cursor was on failed. Past the last row nothing is
     * known to have failed but the statement did: count the last row as
     * not stored rather than claim it stored. */
    *done = db->pos < n ? db->pos : n - 1;
    return step_failed(db);
}

int logd_db_commit(struct logd_db *db)
{
    if (db->test_delay_ms > 0 && db->test_delays != 0) {
        db->test_delays -= db->test_delays > 0;
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
