/* Policy names and the per-signature policy file. */
#include "diskscan/policy.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rule {
    char *pattern;
    enum nbd_policy policy;
};

struct nbd_policy_table {
    struct rule *rules;
    size_t n, cap;
};

static const char *const names[] = {
    [NBD_POLICY_ALERT] = "alert",
    [NBD_POLICY_CUT_NET] = "cut-net",
    [NBD_POLICY_ZERO] = "zero",
    [NBD_POLICY_DENY] = "deny",
};

int nbd_policy_parse(const char *s, enum nbd_policy *out)
{
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum nbd_policy)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *nbd_policy_name(enum nbd_policy p)
{
    if ((size_t)p < sizeof(names) / sizeof(names[0]))
        return names[p];
    return "?";
}

static int table_add(struct nbd_policy_table *t, const char *pattern,
                     size_t len, enum nbd_policy p)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        struct rule *r = realloc(t->rules, cap * sizeof(*r));
        if (!r)
            return -ENOMEM;
        t->rules = r;
        t->cap = cap;
    }
    char *pat = strndup(pattern, len);
    if (!pat)
        return -ENOMEM;
    t->rules[t->n].pattern = pat;
    t->rules[t->n].policy = p;
    t->n++;
    return 0;
}

/* One line without its newline; NUL-terminated by the caller. */
static int parse_line(struct nbd_policy_table *t, char *line)
{
    const char *ws = " \t\r";
    char *p = line + strspn(line, ws);
    if (*p == '\0' || *p == '#')
        return 0;
    size_t plen = strcspn(p, ws);
    char *pol = p + plen;
    pol += strspn(pol, ws);
    size_t qlen = strcspn(pol, ws);
    if (plen == 0 || qlen == 0 || pol[qlen + strspn(pol + qlen, ws)] != '\0')
        return -EINVAL;
    pol[qlen] = '\0';
    enum nbd_policy policy;
    if (nbd_policy_parse(pol, &policy) < 0)
        return -EINVAL;
    return table_add(t, p, plen, policy);
}

int nbd_policy_table_load(struct nbd_policy_table **out, const char *path,
                          unsigned long *line_out)
{
    struct nbd_policy_table *t = calloc(1, sizeof(*t));
    char *line = NULL;
    size_t cap = 0;
    unsigned long lineno = 0;
    int rc = 0;

    *line_out = 0;
    if (!t)
        return -ENOMEM;
    FILE *f = fopen(path, "re");
    if (!f) {
        rc = -errno;
        goto free_table;
    }
    ssize_t n;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        size_t len = (size_t)n;
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (strlen(line) != len)
            rc = -EINVAL; /* embedded NUL */
        else
            rc = parse_line(t, line);
        if (rc < 0) {
            *line_out = lineno;
            break;
        }
    }
    if (rc == 0 && ferror(f))
        rc = -EIO;
    free(line);
    fclose(f);
    if (rc == 0) {
        *out = t;
        return 0;
    }
free_table:
    nbd_policy_table_free(t);
    return rc;
}

enum nbd_policy nbd_policy_table_lookup(const struct nbd_policy_table *t,
                                        const char *name, enum nbd_policy dflt)
{
    if (!t)
        return dflt;
    for (size_t i = 0; i < t->n; i++) {
        if (fnmatch(t->rules[i].pattern, name, 0) == 0)
            return t->rules[i].policy;
    }
    return dflt;
}

void nbd_policy_table_free(struct nbd_policy_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->rules[i].pattern);
    free(t->rules);
    free(t);
}

bool nbd_policy_table_only(const struct nbd_policy_table *t, enum nbd_policy p)
{
    for (size_t i = 0; t && i < t->n; i++)
        if (t->rules[i].policy != p)
            return false;
    return true;
}
