/* Shared by logd-pg.c (connection, batches) and logd-pg-schema.c (the
 * schema and its migrations). */
#ifndef VIGIL_CLI_LOGD_PG_INT_H
#define VIGIL_CLI_LOGD_PG_INT_H

#include <libpq-fe.h>
#include <stddef.h>

#include "logd-store.h"

/* libpq's last error into err, trailing newlines cut. */
void logd_pg_set_err(char *err, size_t errlen, const PGconn *c);
/* One statement (or several, all must succeed); 0 or -1 (why in err). */
int logd_pg_exec(PGconn *c, const char *sql, char *err, size_t errlen);
/* The schema version in the database (0: none yet). */
int logd_pg_schema_version(PGconn *c, long *v, char *err, size_t errlen);
/* Bring the schema to LOGD_PG_SCHEMA, or refuse a newer one. */
int logd_pg_migrate(PGconn *c, char *err, size_t errlen);
/* COPY recs[0..n) with @sql (a COPY ... FROM STDIN (FORMAT binary) into
 * events' columns, logd-pg-copy.c), sids[i] the session number of
 * recs[i]; *buf (*cap bytes, reallocated as
 * needed) is the caller's to reuse. 0 or -1 (why in err). */
int logd_pg_copy(PGconn *c, const char *sql, struct store_rec *const *recs,
                 const long long *sids, size_t n, char **buf, size_t *cap,
                 char *err, size_t errlen);

#endif
