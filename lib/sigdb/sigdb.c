/* Signature databases from files: see include/vigil/sigdb.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigil/sigdb.h"

#include "vigil/file.h"

/* One database file (main.cvd is about 160 MB today). */
#define SIGDB_FILE_MAX ((size_t)2 << 30)

struct load {
    struct vsig_loader *l;
    const struct sigdb_opts *o;
    size_t rejected;
    char *err;
    size_t errlen;
};

bool sigdb_is_db_name(const char *name)
{
    static const char *const exts[] = {".ndb", ".ldb", ".hdb", ".hsb",
                                       ".db",  ".cvd", ".cld"};
    const char *dot = strrchr(name, '.');
    if (!dot)
        return false;
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
        if (strcmp(dot, exts[i]) == 0)
            return true;
    return false;
}

static void on_diag(void *opaque, const struct vsig_diag *d)
{
    struct load *ld = opaque;
    if (d->severity == VSIG_DIAG_ERROR)
        ld->rejected++;
    if (ld->o->diag)
        ld->o->diag(ld->o->diag_opaque, d);
}

static int add_file(struct load *ld, const char *path)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int r = vigil_read_file(path, SIGDB_FILE_MAX, &buf, &len);
    if (r < 0) {
        snprintf(ld->err, ld->errlen, "%s: %s", path, strerror(-r));
        return r;
    }
    r = vsig_loader_add(ld->l, path, buf, len);
    free(buf);
    if (r == -EINVAL)
        snprintf(ld->err, ld->errlen, "%s: database not loaded%s", path,
                 ld->o->strict ? " (strict)" : "");
    else if (r < 0)
        snprintf(ld->err, ld->errlen, "%s: %s", path, strerror(-r));
    return r;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Database files of @dir, full paths, sorted; *n of them. */
static int list_dbs(const char *dir, char ***out, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    char **names = NULL;
    size_t cap = 0;
    int r = 0;
    struct dirent *de;
    *n = 0;
    while (r == 0 && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !sigdb_is_db_name(de->d_name))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, cap * sizeof(*nn));
            if (!nn) {
                r = -ENOMEM;
                break;
            }
            names = nn;
        }
        bool slash = dir[0] && dir[strlen(dir) - 1] == '/';
        if (asprintf(&names[*n], "%s%s%s", dir, slash ? "" : "/", de->d_name) <
            0)
            r = -ENOMEM;
        else
            (*n)++;
    }
    closedir(d);
    if (*n)
        qsort(names, *n, sizeof(*names), cmp_str);
    *out = names;
    return r;
}

static int add_path(struct load *ld, const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        int r = -errno;
        snprintf(ld->err, ld->errlen, "%s: %s", path, strerror(-r));
        return r;
    }
    if (!S_ISDIR(st.st_mode))
        return add_file(ld, path);
    char **names = NULL;
    size_t n = 0;
    int r = list_dbs(path, &names, &n);
    if (r < 0)
        snprintf(ld->err, ld->errlen, "%s: %s", path, strerror(-r));
    for (size_t i = 0; i < n && r == 0; i++)
        r = add_file(ld, names[i]);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return r;
}

static int finish(struct load *ld, struct vsig_db **out)
{
    if (vsig_loader_count(ld->l) == 0) {
        snprintf(ld->err, ld->errlen, "no signatures loaded");
        return -ENODATA;
    }
    if (ld->rejected && !ld->o->partial) {
        snprintf(ld->err, ld->errlen,
                 "%zu database lines could not be loaded; refusing a "
                 "partial database",
                 ld->rejected);
        return -EINVAL;
    }
    int r = vsig_loader_compile(ld->l, out);
    if (r < 0)
        snprintf(ld->err, ld->errlen, "compiling signatures: %s", strerror(-r));
    return r;
}

int sigdb_load(struct vsig_db **out, const char *const *paths, size_t npaths,
               const struct sigdb_opts *o, struct sigdb_report *rep, char *err,
               size_t errlen)
{
    struct load ld = {.o = o, .err = err, .errlen = errlen};
    struct vsig_load_opts lo = {.sz = sizeof(lo),
                                .flags = o->strict ? VSIG_LOAD_STRICT : 0,
                                .diag = on_diag,
                                .diag_opaque = &ld,
                                .cvd_key = o->cvd_key};
    int r = vsig_loader_new(&ld.l, &lo);
    if (r < 0) {
        snprintf(err, errlen, "signature loader: %s", strerror(-r));
        return r;
    }
    for (size_t i = 0; i < npaths && r == 0; i++)
        r = add_path(&ld, paths[i]);
    if (rep)
        *rep = (struct sigdb_report){.signatures = vsig_loader_count(ld.l),
                                     .rejected = ld.rejected};
    if (r == 0)
        r = finish(&ld, out);
    vsig_loader_free(ld.l);
    return r;
}
