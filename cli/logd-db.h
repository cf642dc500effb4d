/* vigil logd's embedded store: every record in an SQLite database
 * (OUTDIR/events.db), indexed by time, pid and call name (docs/protocol.md,
 * "logd's output"). One connection, used by one thread at a time: opened
 * by logd's main thread, then used by the store's writer thread alone
 * (logd-dbq.h). */
#ifndef VIGIL_CLI_LOGD_DB_H
#define VIGIL_CLI_LOGD_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logd-fields.h"

struct logd_db;

/* Open or create OUTDIR/events.db.  Prints why on failure; 0 or -errno. */
int logd_db_open(struct logd_db **out, const char *outdir);
/* Close; NULL is ignored. */
void logd_db_close(struct logd_db *db);

/* Start a transaction: 0 or -EIO. */
int logd_db_begin(struct logd_db *db);
/* A session seen for the first time (@session: 16 hex digits). 0 or, like
 * logd_db_insert_rows, -EIO / -ECANCELED. */
int logd_db_session(struct logd_db *db, const char *session, const char *source,
                    uint64_t started_s);
/* Record @recno of @session, one JSON object, with its indexed fields @f
 * (found by the caller; pointers into @rec). */
struct logd_db_row {
    const char *session; /* 16 hex digits */
    uint64_t recno;
    struct logd_fields f;
    const char *rec;
    size_t len;
};
/* Insert @rows[0..@n) with one statement (one step for the whole batch:
 * the cost per row of binding, stepping and opening the table's and the
 * indexes' cursors goes). 0 when all were stored. Otherwise -EIO when
 * only row @*done was not stored (the rows before it were; those after it
 * were not tried: call again with them), or -ECANCELED when SQLite rolled
 * back the whole transaction (every row inserted since logd_db_begin is
 * lost too, and no transaction is open any more). */
int logd_db_insert_rows(struct logd_db *db, const struct logd_db_row *rows,
                        size_t n, size_t *done);
/* Commit the transaction: 0, or -EIO when it failed and every row inserted
 * since logd_db_begin is lost. No transaction is open afterwards. */
int logd_db_commit(struct logd_db *db);
/* Whether a transaction is open (SQLite may have rolled it back). */
bool logd_db_in_txn(struct logd_db *db);

#endif
