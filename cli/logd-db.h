/* vigil logd's embedded store: every record in an SQLite database
 * (OUTDIR/events.db), indexed by time, pid and call name (docs/protocol.md,
 * "logd's output"). */
#ifndef VIGIL_CLI_LOGD_DB_H
#define VIGIL_CLI_LOGD_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct logd_db;

/* Open or create OUTDIR/events.db.  Prints why on failure; 0 or -errno. */
int logd_db_open(struct logd_db **out, const char *outdir);
/* Close; NULL is ignored. */
void logd_db_close(struct logd_db *db);

/* A session seen for the first time (@session: 16 hex digits). 0 or, like
 * logd_db_insert, -EIO / -ECANCELED. */
int logd_db_session(struct logd_db *db, const char *session, const char *source,
                    uint64_t started_s);
/* Record @recno of @session, one JSON object. 0; -EIO when this row was
 * not stored; -ECANCELED when SQLite rolled back the whole transaction
 * (every row inserted since the last commit is lost too). */
int logd_db_insert(struct logd_db *db, const char *session, uint64_t recno,
                   const char *rec, size_t len);
/* Inserts go in transactions: commit the current one when it is old enough
 * (or with @force, and then start none); NULL is ignored. 1 when a commit
 * went through, 0 when none was due, -EIO when the commit failed: every
 * row inserted since the last commit is lost. */
int logd_db_commit(struct logd_db *db, bool force);

#endif
