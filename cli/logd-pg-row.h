/* One record as one row of PostgreSQL's binary COPY format, in the
 * columns of events and of the staging table (host, session, rec,
 * received, ts, pid, tid, type, name, ret, json, sid). No libpq: the encoder
 * alone, so fuzz/fuzz-logd-store.c can check it on any bytes. */
#ifndef VIGIL_CLI_LOGD_PG_ROW_H
#define VIGIL_CLI_LOGD_PG_ROW_H

#include <stddef.h>

#include "logd-store.h"

#define LOGD_PG_ROW_COLS 12
/* timestamptz's binary form counts microseconds from 2000-01-01 UTC. */
#define LOGD_PG_EPOCH_US 946684800000000ll

/* The most bytes logd_pg_row writes for r. */
size_t logd_pg_row_max(const struct store_rec *r);
/* Write r's row at o (logd_pg_row_max(r) bytes at least), @sid its
 * session's number (the sessions table's); its length. A record containing
 * \u0000 goes in as one JSON string (docs/store.md, "Limits"); a pid or tid out
 * of integer's range as NULL. */
size_t logd_pg_row(char *o, const struct store_rec *r, long long sid);

#endif
