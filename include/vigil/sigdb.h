/* Loading signature databases from files and directories: the one loader
 * that `vigil scan` and the disk filter share (lib/sig does no file I/O).
 *
 * A path is a database file (.ndb .ldb .hdb .hsb .db .cvd .cld) or a
 * directory whose files with those extensions are loaded in name order.
 * Diagnostics name files by the path given (joined with the directory
 * entry for a directory). */
#ifndef VIGIL_SIGDB_H
#define VIGIL_SIGDB_H

#include <stdbool.h>
#include <stddef.h>
#include <vigil/sig.h>

struct sigdb_opts {
    bool strict;       /* any line that cannot be loaded fails the load */
    bool partial;      /* else: a load that rejected lines is kept anyway */
    vsig_diag_fn diag; /* every diagnostic; may be NULL */
    void *diag_opaque;
    /* .cvd/.cld signature key replacing ClamAV's (vsig_load_opts.cvd_key:
     * "N E" in decimal), or NULL. */
    const char *cvd_key;
};

struct sigdb_report {
    size_t signatures; /* loaded */
    size_t rejected;   /* lines (or files) that could not be loaded */
};

/*
 * sigdb_load: read and compile every path in @paths.
 * @rep: filled as far as loading got (may be NULL).
 * @err: on failure, one line: which path and why.
 * Return: 0; the -errno of an unreadable path; -EINVAL for a broken
 * database, a rejected line in strict mode, or rejected lines without
 * @o->partial; -ENODATA when no signature was loaded; -ENOMEM; -E2BIG.
 */
int sigdb_load(struct vsig_db **out, const char *const *paths, size_t npaths,
               const struct sigdb_opts *o, struct sigdb_report *rep, char *err,
               size_t errlen);

/* Whether @name has a database extension. */
bool sigdb_is_db_name(const char *name);

#endif
