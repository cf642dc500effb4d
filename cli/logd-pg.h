/* logd's PostgreSQL connection (logd-store.h): connect, migrate the
 * schema, write one batch of records in one transaction. Not thread-safe:
 * one thread owns a logd_pg. */
#ifndef VIGIL_CLI_LOGD_PG_H
#define VIGIL_CLI_LOGD_PG_H

#include <stdbool.h>
#include <stddef.h>

#include "logd-store.h"

/* The newest schema this vigil knows (docs/store.md, "Schema"). */
#define LOGD_PG_SCHEMA 4

struct logd_pg;

/* Connect and bring the schema to LOGD_PG_SCHEMA. 0, or -1 with why in
 * err (a database schema newer than this vigil's is an error: nothing is
 * written to it). @async_commit: synchronous_commit off for this
 * connection (docs/store.md: a server crash may lose committed batches). */
int logd_pg_open(struct logd_pg **out, const char *conninfo,
                 const char *password, const char *name, bool async_commit,
                 char *err, size_t errlen);
/* Connect again after a failure; 0 or -1 (why in err). */
int logd_pg_reconnect(struct logd_pg *pg, char *err, size_t errlen);
void logd_pg_close(struct logd_pg *pg);

/* Write recs[0..n) in one transaction; rows already there (the same host,
 * session, record number: a replay of a batch that did commit) are left
 * alone. @fresh: the records come from the queue, not the spill, so they
 * are most likely new (the fast way first; see logd-pg.c). 0; -EPIPE when
 * the connection failed (nothing of the batch is committed: spill it);
 * -EINVAL when the database refused the batch for its content. */
int logd_pg_write(struct logd_pg *pg, struct store_rec *const *recs, size_t n,
                  bool fresh, char *err, size_t errlen);

#endif
