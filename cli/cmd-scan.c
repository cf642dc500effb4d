/* vigil scan: scan files with ClamAV-format signature databases.
 *
 *   vigil scan --db PATH [--db PATH]... [--all-match] [-r] [--strict] PATH...
 *
 * Output like clamscan: "PATH: SIGNAME FOUND" per detection on stdout, a
 * summary on stderr.  Exit 0 clean, 1 something found, 2 error. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "scan-file.h"
#include "vigil/sig.h"
#include "vigil/sigdb.h"

#define SCAN_EXIT_FOUND 1
#define SCAN_EXIT_ERROR 2
#define DEFAULT_FEED    (1u << 20)

struct scan {
    struct vsig_db *db;
    struct vsig_stream *stream;
    bool all_match, recursive, quiet, verbose;
    size_t feed;
    uint8_t *buf;
    const char *path; /* object being scanned */
    bool found;
    int feed_r; /* vsig_stream_feed() of the last piece */
    unsigned long files, infected, errors, diag_errors;
    uint64_t bytes;
    size_t nsig;              /* signatures loaded */
    double t_start, t_loaded; /* seconds, for the summary */
};

static double now(void)
{
    return (double)cli_now_ns(CLOCK_MONOTONIC) / 1e9;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vigil scan --db PATH [--db PATH]... [OPTIONS] PATH...\n"
            "\n"
            "Scan files (or stdin: -) with ClamAV-format signatures.\n"
            "\n"
            "  -d, --db PATH      database file (.ndb .ldb .hdb .hsb .db .cvd "
            ".cld)\n"
            "                     or a directory of them; repeatable\n"
            "  -z, --all-match    report every signature, not only the "
            "first\n"
            "  -r, --recursive    descend into directories\n"
            "      --strict       fail if any database line cannot be "
            "loaded\n"
            "      --partial-db   scan with the lines that loaded when "
            "others could not\n"
            "                     (refused by default)\n"
            "      --cvd-key FILE verify .cvd/.cld signatures with this key "
            "(\"N E\",\n"
            "                     decimal) instead of ClamAV's (testing)\n"
            "      --no-summary   no summary on stderr\n"
            "  -v, --verbose      also print database notes\n"
            "      --feed-size N  feed the matcher N bytes at a time "
            "(testing)\n"
            "\n"
            "Output: \"PATH: SIGNAME FOUND\".  Exit status: 0 clean, 1 found,"
            " 2 error.\n");
}

/* ---- databases ---- */

static void on_diag(void *opaque, const struct vsig_diag *d)
{
    struct scan *sc = opaque;
    const char *kind = d->severity == VSIG_DIAG_ERROR     ? "skipped"
                       : d->severity == VSIG_DIAG_WARNING ? "warning"
                                                          : "note";

    if (d->severity == VSIG_DIAG_ERROR)
        sc->diag_errors++;
    if (d->severity == VSIG_DIAG_NOTE && !sc->verbose)
        return;
    if (d->line)
        fprintf(stderr, "vigil: %s:%lu: %s: %s\n", d->file, d->line, kind,
                d->msg);
    else
        fprintf(stderr, "vigil: %s: %s: %s\n", d->file, kind, d->msg);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in a directory (without . and ..); NULL-terminated. */
static char **list_dir(const char *dir, int *err)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;

    *err = 0;
    if (d == NULL) {
        *err = -errno;
        return NULL;
    }
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (n + 2 > cap) {
            size_t nc = cap ? cap * 2 : 64;
            char **nn = realloc(names, nc * sizeof *nn);
            if (nn == NULL)
                goto nomem;
            names = nn;
            cap = nc;
        }
        if ((names[n] = strdup(de->d_name)) == NULL)
            goto nomem;
        n++;
    }
    closedir(d);
    if (names == NULL && (names = calloc(1, sizeof *names)) == NULL) {
        *err = -ENOMEM;
        return NULL;
    }
    qsort(names, n, sizeof *names, cmp_str);
    names[n] = NULL;
    return names;
nomem:
    closedir(d);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    *err = -ENOMEM;
    return NULL;
}

static void free_list(char **names)
{
    for (size_t i = 0; names && names[i]; i++)
        free(names[i]);
    free(names);
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);

    if (p)
        snprintf(p, n, "%s%s%s", dir,
                 dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/", name);
    return p;
}

/* ---- scanning ---- */

static int on_match(void *opaque, const struct vsig_match *m)
{
    struct scan *sc = opaque;

    printf("%s: %s FOUND\n", sc->path, m->name);
    sc->found = true;
    return sc->all_match ? VSIG_MUTE : VSIG_STOP;
}

/* scan_file_feed's callback: the library's result is kept in feed_r. */
static int feed_piece(void *opaque, const uint8_t *p, size_t n)
{
    struct scan *sc = opaque;

    sc->feed_r = vsig_stream_feed(sc->stream, p, n);
    return sc->feed_r != 0;
}

static void scan_fd(struct scan *sc, int fd, const char *shown, uint64_t size)
{
    struct vsig_stream_opts o = {
        .sz = sizeof o, .size = size, .target = VSIG_TARGET_AUTO};
    int r = vsig_stream_reset(sc->stream, NULL, &o);

    sc->path = shown;
    sc->found = false;
    if (r < 0) {
        cli_error("%s: %s", shown, strerror(-r));
        sc->errors++;
        return;
    }
    uint64_t got = 0;
    sc->feed_r = 0;
    r = scan_file_feed(fd, size, sc->buf, sc->feed, feed_piece, sc, &got);
    if (r == -ESTALE) {
        cli_error("%s: file changed while scanning", shown);
        sc->errors++;
        return;
    }
    if (r < 0) {
        cli_error("%s: %s", shown, strerror(-r));
        sc->errors++;
        return;
    }
    r = sc->feed_r;
    if (r == 0)
        r = vsig_stream_end(sc->stream);
    if (r < 0) {
        cli_error("%s: %s", shown, strerror(-r));
        sc->errors++;
        return;
    }
    sc->files++;
    sc->bytes += got;
    if (sc->found)
        sc->infected++;
}

static void scan_file(struct scan *sc, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;

    if (fd < 0) {
        cli_error("%s: %s", path, strerror(errno));
        sc->errors++;
        return;
    }
    if (fstat(fd, &st) < 0) {
        cli_error("%s: %s", path, strerror(errno));
        sc->errors++;
        close(fd);
        return;
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    scan_fd(sc, fd, path,
            S_ISREG(st.st_mode) ? (uint64_t)st.st_size : VSIG_SIZE_UNKNOWN);
    close(fd);
}

/* Directories: an explicit stack, entries in name order; symlinks inside
 * a tree are not followed. */
static void scan_dir(struct scan *sc, const char *root)
{
    char **stack = NULL;
    size_t n = 0, cap = 0;
    char *first = strdup(root);

    if (first == NULL)
        goto nomem;
    stack = malloc(sizeof *stack);
    if (stack == NULL) {
        free(first);
        goto nomem;
    }
    cap = 1;
    stack[n++] = first;
    while (n > 0) {
        char *dir = stack[--n];
        int err;
        char **names = list_dir(dir, &err);
        if (names == NULL) {
            cli_error("%s: %s", dir, strerror(-err));
            sc->errors++;
            free(dir);
            continue;
        }
        size_t cnt = 0;
        while (names[cnt])
            cnt++;
        /* Push subdirectories in reverse so they pop in order. */
        for (size_t i = cnt; i-- > 0;) {
            char *p = join(dir, names[i]);
            struct stat st;
            if (p == NULL || lstat(p, &st) < 0) {
                free(p);
                continue;
            }
            if (S_ISDIR(st.st_mode) && sc->recursive) {
                if (n == cap) {
                    char **ns = realloc(stack, cap * 2 * sizeof *ns);
                    if (ns == NULL) {
                        free(p);
                        continue;
                    }
                    stack = ns;
                    cap *= 2;
                }
                stack[n++] = p;
                continue;
            }
            free(p);
        }
        for (size_t i = 0; i < cnt; i++) {
            char *p = join(dir, names[i]);
            struct stat st;
            if (p != NULL && lstat(p, &st) == 0 && S_ISREG(st.st_mode))
                scan_file(sc, p);
            free(p);
        }
        free_list(names);
        free(dir);
    }
    free(stack);
    return;
nomem:
    cli_error("%s: %s", root, strerror(ENOMEM));
    sc->errors++;
}

static void scan_path(struct scan *sc, const char *path)
{
    struct stat st;

    if (strcmp(path, "-") == 0) {
        scan_fd(sc, STDIN_FILENO, "stdin", VSIG_SIZE_UNKNOWN);
        return;
    }
    if (stat(path, &st) < 0) {
        cli_error("%s: %s", path, strerror(errno));
        sc->errors++;
        return;
    }
    if (S_ISDIR(st.st_mode))
        scan_dir(sc, path);
    else
        scan_file(sc, path);
}

/* --cvd-key FILE: its text (a key is two decimal numbers). */
static int read_key(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, len - 1, f) : 0;
    int bad = f == NULL || ferror(f) || !feof(f);
    int err = errno;
    if (f)
        fclose(f);
    buf[n] = '\0';
    if (bad) {
        cli_error("--cvd-key %s: %s", path,
                  f ? "unreadable or too long" : strerror(err));
        return -1;
    }
    return 0;
}

/* The databases into sc->db, with the load's figures kept for the
 * summary. -1 after printing why. */
static int load_dbs(struct scan *sc, const char **dbs, size_t ndb, bool strict,
                    bool partial, const char *cvd_key_path)
{
    char cvd_key[4096] = ""; /* its text */
    sc->t_start = now();
    if (cvd_key_path != NULL &&
        read_key(cvd_key_path, cvd_key, sizeof cvd_key) < 0)
        return -1;
    struct sigdb_opts so = {.strict = strict,
                            .partial = partial,
                            .diag = on_diag,
                            .diag_opaque = sc,
                            .cvd_key = cvd_key_path ? cvd_key : NULL};
    struct sigdb_report rep = {0, 0};
    char err[512] = "";
    int r = sigdb_load(&sc->db, dbs, ndb, &so, &rep, err, sizeof(err));
    if (r < 0) {
        cli_error("%s%s", err,
                  r == -EINVAL && rep.rejected && !strict && !partial
                      ? " (--partial-db accepts it)"
                      : "");
        return -1;
    }
    sc->nsig = rep.signatures;
    sc->t_loaded = now();
    return 0;
}

static void print_summary(const struct scan *sc, double t_done)
{
    struct vsig_db_stats st = {.sz = sizeof st};
    vsig_db_stats(sc->db, &st);
    fprintf(stderr,
            "\n----------- SCAN SUMMARY -----------\n"
            "Known signatures: %zu\n"
            "Skipped database lines: %lu\n"
            "Scanned files: %lu\n"
            "Infected files: %lu\n"
            "Errors: %lu\n"
            "Data scanned: %.2f MB\n"
            "Load time: %.3f sec\n"
            "Scan time: %.3f sec\n"
            "Matcher memory: %.1f MiB\n",
            sc->nsig, sc->diag_errors, sc->files, sc->infected, sc->errors,
            (double)sc->bytes / 1e6, sc->t_loaded - sc->t_start,
            t_done - sc->t_loaded, (double)st.memory / (1 << 20));
}

/* Scan the @n @paths with the loaded database; clamscan's exit status. */
static int scan_all(struct scan *sc, char **paths, int n, bool summary)
{
    int ret = SCAN_EXIT_ERROR;
    if ((sc->buf = malloc(sc->feed)) == NULL ||
        vsig_stream_new(&sc->stream, sc->db, NULL, on_match, sc) < 0) {
        cli_error("out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++)
        scan_path(sc, paths[i]);
    fflush(stdout);
    if (summary)
        print_summary(sc, now());
    ret = sc->errors     ? SCAN_EXIT_ERROR
          : sc->infected ? SCAN_EXIT_FOUND
                         : VIGIL_EXIT_OK;
out:
    vsig_stream_free(sc->stream);
    vsig_db_unref(sc->db);
    free(sc->buf);
    return ret;
}

int cmd_scan(int argc, char **argv)
{
    enum { OPT_STRICT = 256, OPT_NOSUM, OPT_FEED, OPT_PARTIAL, OPT_CVD_KEY };
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"all-match", no_argument, NULL, 'z'},
        {"recursive", no_argument, NULL, 'r'},
        {"strict", no_argument, NULL, OPT_STRICT},
        {"partial-db", no_argument, NULL, OPT_PARTIAL},
        {"no-summary", no_argument, NULL, OPT_NOSUM},
        {"verbose", no_argument, NULL, 'v'},
        {"feed-size", required_argument, NULL, OPT_FEED},
        {"cvd-key", required_argument, NULL, OPT_CVD_KEY},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct scan sc = {.feed = DEFAULT_FEED};
    const char **dbs = calloc((size_t)argc + 1, sizeof *dbs);
    size_t ndb = 0;
    bool strict = false, partial = false, summary = true;
    const char *cvd_key_path = NULL;
    int c;

    if (dbs == NULL) {
        cli_error("out of memory");
        return SCAN_EXIT_ERROR;
    }
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:zrvh", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dbs[ndb++] = optarg;
            break;
        case 'z':
            sc.all_match = true;
            break;
        case 'r':
            sc.recursive = true;
            break;
        case 'v':
            sc.verbose = true;
            break;
        case OPT_STRICT:
            strict = true;
            break;
        case OPT_PARTIAL:
            partial = true;
            break;
        case OPT_CVD_KEY:
            cvd_key_path = optarg;
            break;
        case OPT_NOSUM:
            summary = false;
            break;
        case OPT_FEED: {
            char *end;
            unsigned long v = strtoul(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v == 0 || v > (1ul << 30)) {
                cli_error("--feed-size: expected 1..1073741824");
                free(dbs);
                return VIGIL_EXIT_USAGE;
            }
            sc.feed = v;
            break;
        }
        case 'h':
            usage(stdout);
            free(dbs);
            return VIGIL_EXIT_OK;
        default:
            usage(stderr);
            free(dbs);
            return VIGIL_EXIT_USAGE;
        }
    }
    if (ndb == 0 || optind >= argc) {
        cli_error(ndb == 0 ? "no database given (--db PATH)"
                           : "nothing to scan");
        usage(stderr);
        free(dbs);
        return VIGIL_EXIT_USAGE;
    }

    int r = load_dbs(&sc, dbs, ndb, strict, partial, cvd_key_path);
    free(dbs);
    if (r < 0)
        return SCAN_EXIT_ERROR;
    return scan_all(&sc, argv + optind, argc - optind, summary);
}
