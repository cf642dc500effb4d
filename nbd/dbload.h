/* Load signature databases from files and directories into one vsig_db. */
#ifndef VIGIL_NBD_DBLOAD_H
#define VIGIL_NBD_DBLOAD_H

#include <stddef.h>
#include <vigil/sig.h>

/*
 * nbd_db_load: read every path in @paths (a database file, or a directory
 * whose files with a database extension are loaded in name order) and
 * compile them.  Lines that cannot be loaded go to @diag and are skipped.
 * @err: on failure, which file and why.
 * Return: 0; -ENOENT (or another -errno) for an unreadable path; -EINVAL
 * for a broken database; -ENODATA when no signature was loaded; -ENOMEM.
 */
int nbd_db_load(struct vsig_db **out, char *const *paths, size_t npaths,
                vsig_diag_fn diag, void *diag_opaque, char *err, size_t errlen);

#endif
