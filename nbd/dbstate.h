/* The database in force, and replacing it while the guest runs.
 *
 * A reload is noticed (the trigger file's mtime or inode changed) at a
 * request or by a watcher thread within 100 ms, and built on a thread of
 * its own without any lock that I/O takes; the new database is then
 * published with one pointer swap (a vsig_slot), and scans in flight
 * finish with the database they started with.  A reload that fails, or
 * that loads only part of its lines without vigil-partial-db, keeps the
 * old database; one that keeps fewer than half the signatures is warned
 * about. */
#ifndef VIGIL_NBD_DBSTATE_H
#define VIGIL_NBD_DBSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <vigil/sig.h>

struct dbstate_opts {
    char *const *paths; /* vigil-db */
    size_t npaths;
    const char *reload_path; /* vigil-db-reload, or NULL */
    const char *status_path; /* vigil-db-status, or NULL */
    bool partial;            /* vigil-partial-db */
    const char *cvd_key;     /* vigil-cvd-key's text, or NULL */
};

/* The first load (@o is kept: its strings must outlive the filter).
 * Return 0, or -1 after nbdkit_error. */
int dbstate_init(const struct dbstate_opts *o);

/* Start the watcher (after nbdkit forked). */
void dbstate_watch(void);

/* Start a reload if the trigger changed; returns at once. */
void dbstate_check(void);

/* A new reference to the database in force. */
struct vsig_db *dbstate_get(void);

/* Stop the watcher; then free everything (waits for a reload). */
void dbstate_stop(void);
void dbstate_free(void);

#endif
