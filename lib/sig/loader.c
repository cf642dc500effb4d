/* The public loader: format dispatch by file extension, line splitting,
 * diagnostics and strict mode. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sig/sig-int.h"

struct vsig_loader {
    struct vsig_load_opts opts;
    struct vs_store st;
};

enum fmt { F_NDB, F_LDB, F_HDB, F_HSB, F_DB, F_CVD, F_CLD, F_UNKNOWN };

static enum fmt fmt_of(const char *name)
{
    static const struct {
        const char *ext;
        enum fmt f;
    } tab[] = {{".ndb", F_NDB}, {".ldb", F_LDB}, {".hdb", F_HDB},
               {".hsb", F_HSB}, {".db", F_DB},   {".cvd", F_CVD},
               {".cld", F_CLD}};
    const char *dot = strrchr(name, '.');

    if (dot == NULL)
        return F_UNKNOWN;
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strcmp(dot, tab[i].ext) == 0)
            return tab[i].f;
    return F_UNKNOWN;
}

static void diag(struct vsig_loader *l, enum vsig_severity sev,
                 const char *file, unsigned long line, const char *msg)
{
    if (l->opts.diag) {
        struct vsig_diag d = {
            .severity = sev, .file = file, .line = line, .msg = msg};
        l->opts.diag(l->opts.diag_opaque, &d);
    }
}

int vsig_loader_new(struct vsig_loader **out, const struct vsig_load_opts *o)
{
    struct vsig_loader *l = calloc(1, sizeof *l);

    if (l == NULL)
        return -ENOMEM;
    if (o) {
        size_t n = o->sz < sizeof l->opts ? o->sz : sizeof l->opts;
        if (n < sizeof(size_t)) {
            free(l);
            return -EINVAL;
        }
        memcpy(&l->opts, o, n);
    }
    l->opts.sz = sizeof l->opts;
    *out = l;
    return 0;
}

void vsig_loader_free(struct vsig_loader *l)
{
    if (l == NULL)
        return;
    vs_store_free(&l->st);
    free(l);
}

size_t vsig_loader_count(const struct vsig_loader *l)
{
    return l->st.nsigs;
}

static int parse_line(struct vs_store *st, enum fmt f, const char *s,
                      size_t len, struct vs_err *e)
{
    switch (f) {
    case F_NDB:
        return vs_parse_ndb_line(st, s, len, e);
    case F_LDB:
        return vs_parse_ldb_line(st, s, len, e);
    case F_HDB:
        return vs_parse_hash_line(st, s, len, true, e);
    case F_HSB:
        return vs_parse_hash_line(st, s, len, false, e);
    case F_DB:
        return vs_parse_db_line(st, s, len, e);
    default:
        return -EINVAL;
    }
}

/* A text database: one signature per line; CR LF accepted; empty lines and
 * lines starting with '#' are skipped. */
static int load_text(struct vsig_loader *l, enum fmt f, const char *file,
                     const char *buf, size_t len)
{
    unsigned long lineno = 0;
    size_t pos = 0;
    bool strict = l->opts.flags & VSIG_LOAD_STRICT;

    while (pos < len) {
        const char *s = buf + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - s) : len - pos;
        pos += ll + (nl ? 1 : 0);
        lineno++;
        if (ll > 0 && s[ll - 1] == '\r')
            ll--;
        if (ll == 0 || s[0] == '#')
            continue;
        struct vs_err e = {{0}};
        struct vs_mark m;
        vs_store_mark(&l->st, &m);
        if (memchr(s, '\0', ll) != NULL) {
            vs_errf(&e, "NUL byte in line");
            vs_store_rollback(&l->st, &m);
            diag(l, VSIG_DIAG_ERROR, file, lineno, e.msg);
            if (strict)
                return -EINVAL;
            continue;
        }
        int r = parse_line(&l->st, f, s, ll, &e);
        for (size_t mi = m.nmsigs; r == 0 && mi < l->st.nmsigs; mi++) {
            r = vs_plan_msig(&l->st, (uint32_t)mi, &e);
            if (r == 0 && l->st.msigs[mi].off.kind == VS_OFF_EOF &&
                l->st.msigs[mi].off.off >= VS_EOF_TAIL)
                diag(l, VSIG_DIAG_WARNING, file, lineno,
                     "EOF offset beyond 1 MiB: matches only when the object "
                     "size is known in advance");
        }
        if (r == 0) {
            /* Planned: the parsed tokens are no longer needed. */
            for (size_t mi = m.nmsigs; mi < l->st.nmsigs; mi++)
                l->st.msigs[mi].tok = l->st.msigs[mi].ntok = 0;
            l->st.ntoks = m.ntoks;
        }
        if (r == -ENOMEM || r == -E2BIG)
            return r;
        if (r < 0) {
            vs_store_rollback(&l->st, &m);
            if (e.msg[0] == '\0')
                snprintf(e.msg, sizeof e.msg, "%s", strerror(-r));
            diag(l, VSIG_DIAG_ERROR, file, lineno, e.msg);
            if (strict)
                return -EINVAL;
        }
    }
    return 0;
}

struct member_ctx {
    struct vsig_loader *l;
    const char *container;
};

static int load_member(void *opaque, const char *name, const uint8_t *buf,
                       size_t len)
{
    struct member_ctx *c = opaque;
    char file[512];
    enum fmt f = fmt_of(name);

    snprintf(file, sizeof file, "%s:%s", c->container, name);
    if (f == F_UNKNOWN || f == F_CVD || f == F_CLD) {
        diag(c->l, VSIG_DIAG_NOTE, file, 0,
             "not a supported signature database; skipped");
        return 0;
    }
    return load_text(c->l, f, file, (const char *)buf, len);
}

static int add_any(struct vsig_loader *l, const char *name, const void *buf,
                   size_t len)
{
    enum fmt f;

    if (name == NULL || (buf == NULL && len > 0))
        return -EINVAL;
    f = fmt_of(name);
    if (f == F_UNKNOWN) {
        diag(l, VSIG_DIAG_ERROR, name, 0,
             "unknown database type (expected .ndb .ldb .hdb .hsb .db .cvd "
             ".cld)");
        return -EINVAL;
    }
    if (f == F_CVD || f == F_CLD) {
        struct vs_err e = {{0}};
        struct member_ctx c = {.l = l, .container = name};
        bool md5ok;
        int r = vs_cvd_unpack(buf, len, f == F_CLD, load_member, &c, &e, &md5ok,
                              l->opts.cvd_key);
        if (r < 0 && e.msg[0] != '\0')
            diag(l, VSIG_DIAG_ERROR, name, 0, e.msg);
        return r;
    }
    return load_text(l, f, name, buf, len);
}

int vsig_loader_add(struct vsig_loader *l, const char *name, const void *buf,
                    size_t len)
{
    struct vs_mark m;

    if (l == NULL)
        return -EINVAL;
    vs_store_mark(&l->st, &m);
    int r = add_any(l, name, buf, len);
    if (r < 0)
        vs_store_rollback(&l->st, &m);
    return r;
}

int vsig_loader_compile(struct vsig_loader *l, struct vsig_db **out)
{
    int r = vs_compile(&l->st, out);
    /* vs_compile took the arrays it needs; start over either way. */
    vs_store_free(&l->st);
    return r;
}

int vsig_db_load(struct vsig_db **out, const char *name, const void *buf,
                 size_t len, const struct vsig_load_opts *opts)
{
    struct vsig_loader *l;
    int r = vsig_loader_new(&l, opts);

    if (r < 0)
        return r;
    r = vsig_loader_add(l, name, buf, len);
    if (r == 0)
        r = vsig_loader_compile(l, out);
    vsig_loader_free(l);
    return r;
}
