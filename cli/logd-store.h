/* logd's PostgreSQL store (docs/store.md): records go into a bounded
 * in-memory queue and writer threads of their own (each with its own
 * connection) write them to the database in batches, so a slow or absent
 * database never blocks receiving. What the database cannot take now spills to
 * local JSON Lines files (a bounded directory) and is replayed, exactly once,
 * when it is back.
 *
 * Parts: logd-store.c (the queue and the writer threads), logd-pg.c (the
 * connection, the schema and one batch), logd-spill.c (the spill
 * directory). */
#ifndef VIGIL_CLI_LOGD_STORE_H
#define VIGIL_CLI_LOGD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One record on its way to the database. Its key there is (host,
 * session, recno); received (the logd's CLOCK_REALTIME when it arrived)
 * picks the day's partition and is kept with the record through spill and
 * replay, so a replayed record lands on the row it would have had. */
struct store_rec {
    struct store_rec *next; /* the queue's */
    uint64_t recno, received_ns;
    char host[64];
    char session[17];
    uint32_t len;
    char json[];
};

/* Copy a record into a new store_rec; NULL when out of memory. A host
 * with bytes outside [-.:0-9A-Za-z_] has them replaced by '_' (it is
 * written into spill lines and SQL text unescaped). */
struct store_rec *store_rec_new(const char *host, const char *session,
                                uint64_t recno, uint64_t received_ns,
                                const char *json, size_t len);

struct logd_store_opts {
    const char *conninfo;  /* a libpq connection string or URI */
    const char *password;  /* NULL: libpq's own (PGPASSWORD, .pgpass) */
    const char *name;      /* this logd, for the sessions table */
    const char *spill_dir; /* created when missing */
    uint64_t spill_max;    /* bytes in spill_dir */
    uint64_t queue_max;    /* bytes of records queued in memory */
    int conns;             /* writer threads, each with its connection */
    bool async_commit;     /* synchronous_commit off (--store-sync-commit) */
};

struct logd_store_stats {
    uint64_t stored;   /* committed to the database as they came */
    uint64_t spilled;  /* written to the spill directory */
    uint64_t replayed; /* from the spill directory, committed */
    uint64_t lost;     /* neither: spill full or failing, or rejected */
    uint64_t rejected; /* of lost: the database refused them (not JSON) */
    uint64_t queued;   /* in memory now */
    uint64_t spill_bytes;
    uint64_t reconnects; /* of any connection */
    int conns_up;        /* connections up now */
    int connected;       /* all of them */
};

struct logd_store;

/* Connect, check and migrate the schema, start the threads. Prints why on
 * failure (never the password); 0 or -1. */
int logd_store_open(struct logd_store **out, const struct logd_store_opts *o);
/* Hand a record over (copied). Never waits on the database. */
void logd_store_record(struct logd_store *st, const char *host,
                       const char *session, uint64_t recno, const char *json,
                       size_t len);
/* Stop: what is queued goes to the database when it is up, else to the
 * spill directory (replayed by the next start). NULL is ignored. */
void logd_store_finish(struct logd_store *st);
void logd_store_free(struct logd_store *st);
void logd_store_stats(struct logd_store *st, struct logd_store_stats *o);

#endif
