/* File I/O for the filter's signature databases (lib/sig does none). */
#include "dbload.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const db_exts[] = {".ndb", ".ldb", ".hdb", ".hsb",
                                      ".db",  ".cvd", ".cld"};

static int has_db_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return 0;
    for (size_t i = 0; i < sizeof(db_exts) / sizeof(db_exts[0]); i++) {
        if (strcmp(dot, db_exts[i]) == 0)
            return 1;
    }
    return 0;
}

static int read_file(const char *path, char **buf, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    int r = 0;
    if (fstat(fd, &st) < 0) {
        r = -errno;
        goto close_fd;
    }
    size_t cap = st.st_size > 0 ? (size_t)st.st_size : 4096, n = 0;
    char *b = malloc(cap);
    if (!b) {
        r = -ENOMEM;
        goto close_fd;
    }
    for (;;) {
        if (n == cap) {
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                r = -ENOMEM;
                goto close_fd;
            }
            b = nb;
            cap *= 2;
        }
        ssize_t got = read(fd, b + n, cap - n);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            free(b);
            goto close_fd;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    *buf = b;
    *len = n;
close_fd:
    close(fd);
    return r;
}

static int add_file(struct vsig_loader *l, const char *path, char *err,
                    size_t errlen)
{
    char *buf = NULL;
    size_t len = 0;
    int r = read_file(path, &buf, &len);
    if (r < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(-r));
        return r;
    }
    const char *base = strrchr(path, '/');
    r = vsig_loader_add(l, base ? base + 1 : path, buf, len);
    free(buf);
    if (r < 0)
        snprintf(err, errlen, "%s: cannot load: %s", path, strerror(-r));
    return r;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_dir(struct vsig_loader *l, const char *path, char *err,
                   size_t errlen)
{
    DIR *d = opendir(path);
    char **names = NULL;
    size_t n = 0, cap = 0;
    int r = 0;

    if (!d) {
        r = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(-r));
        return r;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !has_db_ext(de->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, cap * sizeof(*nn));
            if (!nn) {
                r = -ENOMEM;
                goto free_names;
            }
            names = nn;
        }
        size_t sz = strlen(path) + 1 + strlen(de->d_name) + 1;
        names[n] = malloc(sz);
        if (!names[n]) {
            r = -ENOMEM;
            goto free_names;
        }
        snprintf(names[n], sz, "%s/%s", path, de->d_name);
        n++;
    }
    if (n)
        qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n && r == 0; i++)
        r = add_file(l, names[i], err, errlen);
free_names:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return r;
}

int nbd_db_load(struct vsig_db **out, char *const *paths, size_t npaths,
                vsig_diag_fn diag, void *diag_opaque, char *err, size_t errlen)
{
    struct vsig_load_opts opts = {
        .sz = sizeof(opts), .diag = diag, .diag_opaque = diag_opaque};
    struct vsig_loader *l;
    int r = vsig_loader_new(&l, &opts);
    if (r < 0) {
        snprintf(err, errlen, "signature loader: %s", strerror(-r));
        return r;
    }
    for (size_t i = 0; i < npaths && r == 0; i++) {
        struct stat st;
        if (stat(paths[i], &st) < 0) {
            r = -errno;
            snprintf(err, errlen, "%s: %s", paths[i], strerror(-r));
        } else if (S_ISDIR(st.st_mode)) {
            r = add_dir(l, paths[i], err, errlen);
        } else {
            r = add_file(l, paths[i], err, errlen);
        }
    }
    if (r == 0 && vsig_loader_count(l) == 0) {
        r = -ENODATA;
        snprintf(err, errlen, "no signatures loaded");
    }
    if (r == 0) {
        r = vsig_loader_compile(l, out);
        if (r < 0)
            snprintf(err, errlen, "compiling signatures: %s", strerror(-r));
    }
    vsig_loader_free(l);
    return r;
}
