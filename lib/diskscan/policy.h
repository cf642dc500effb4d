/* Detection policies and the per-signature policy table of the NBD filter. */
#ifndef VIGIL_DISKSCAN_POLICY_H
#define VIGIL_DISKSCAN_POLICY_H

#include <stdbool.h>
#include <stddef.h>

enum nbd_policy {
    NBD_POLICY_ALERT = 0,   /* write passes, event + warning */
    NBD_POLICY_CUT_NET = 1, /* write passes, guest network cut via QMP */
    NBD_POLICY_ZERO = 2,    /* matched bytes written as zeros */
    NBD_POLICY_DENY = 3,    /* whole request fails with EIO */
};

/* Parse "alert", "deny", "zero", "cut-net".  Return 0 or -EINVAL. */
int nbd_policy_parse(const char *s, enum nbd_policy *out);
const char *nbd_policy_name(enum nbd_policy p);

struct nbd_policy_table;

/*
 * nbd_policy_table_load: read a policy file, one rule per line:
 *     PATTERN POLICY
 * PATTERN is a signature name or an fnmatch(3) glob ("Vigil.Test.*");
 * blank lines and lines starting with '#' are ignored.  The first rule that
 * matches a signature wins.
 * @line_out: on -EINVAL, the 1-based line that could not be parsed.
 * Return: 0, -EINVAL, -ENOMEM or the -errno of reading the file.
 */
int nbd_policy_table_load(struct nbd_policy_table **out, const char *path,
                          unsigned long *line_out);

/* Policy for signature @name: the first matching rule, else @dflt. */
enum nbd_policy nbd_policy_table_lookup(const struct nbd_policy_table *t,
                                        const char *name, enum nbd_policy dflt);

/* Whether every rule of @t (none when NULL) says @p. */
bool nbd_policy_table_only(const struct nbd_policy_table *t, enum nbd_policy p);

void nbd_policy_table_free(struct nbd_policy_table *t);

#endif
