/* bench/scan helper: the same .ndb signatures through Hyperscan.
 *
 *   scan-hs SIGS.ndb CORPUS_DIR
 *
 * Converts each hex signature to a regular expression (bytes as \xHH, ?? as
 * '.', nibbles as classes, {n-m} as .{n,m}, '*' as .*, alternatives as
 * (?:..|..)), compiles them in block mode with DOTALL and SINGLEMATCH, then
 * scans every file of the corpus in one block.  Prints compile seconds, scan
 * seconds, bytes and (file, signature) matches.  Logical signatures (.ldb
 * lines: Name;Target...;EXPR;SUB0;SUB1...) become quiet subexpressions and
 * a logical combination (HS_FLAG_COMBINATION) over them; only '&', '|' and
 * parentheses are handled.  Not part of the library. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hs/hs.h>

#include "vigil/hex.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of this process: on a shared machine, waiting for a CPU
 * inflates wall-clock figures but not this. */
static double cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void app(char **o, size_t *n, size_t *cap, const char *s)
{
    size_t l = strlen(s);
    if (*n + l + 1 > *cap) {
        *cap = (*n + l + 1) * 2;
        *o = realloc(*o, *cap);
        if (*o == NULL)
            exit(2);
    }
    memcpy(*o + *n, s, l + 1);
    *n += l;
}

/* ClamAV hex -> PCRE-ish pattern; NULL if a construct is not handled. */
static char *convert(const char *h)
{
    char *o = NULL, tmp[64];
    size_t n = 0, cap = 0;
    app(&o, &n, &cap, "");
    for (size_t i = 0; h[i];) {
        char c = h[i];
        if (c == '*') {
            app(&o, &n, &cap, ".*");
            i++;
        } else if (c == '{') {
            const char *e = strchr(h + i, '}');
            if (!e)
                return NULL;
            char in[32];
            size_t l = (size_t)(e - h - i - 1);
            if (l >= sizeof in)
                return NULL;
            memcpy(in, h + i + 1, l);
            in[l] = 0;
            char *dash = strchr(in, '-');
            if (!dash)
                snprintf(tmp, sizeof tmp, ".{%s}", in);
            else if (dash == in)
                snprintf(tmp, sizeof tmp, ".{0,%s}", in + 1);
            else if (dash[1] == 0) {
                *dash = 0;
                snprintf(tmp, sizeof tmp, ".{%s,}", in);
            } else {
                *dash = 0;
                snprintf(tmp, sizeof tmp, ".{%s,%s}", in, dash + 1);
            }
            app(&o, &n, &cap, tmp);
            i = (size_t)(e - h) + 1;
        } else if (c == '(' || c == '!') {
            int neg = c == '!';
            const char *s = h + i + (neg ? 2 : 1);
            const char *e = strchr(s, ')');
            if (!e)
                return NULL;
            app(&o, &n, &cap, neg ? "[^" : "(?:");
            for (const char *p = s; p < e;) {
                if (*p == '|') {
                    if (!neg)
                        app(&o, &n, &cap, "|");
                    p++;
                    continue;
                }
                if (vigil_hexval(p[0]) < 0 || vigil_hexval(p[1]) < 0)
                    return NULL;
                snprintf(tmp, sizeof tmp, "\\x%c%c", p[0], p[1]);
                app(&o, &n, &cap, tmp);
                p += 2;
            }
            app(&o, &n, &cap, neg ? "]" : ")");
            i = (size_t)(e - h) + 1;
        } else if (h[i + 1] == 0) {
            return NULL;
        } else if (c == '?' && h[i + 1] == '?') {
            app(&o, &n, &cap, ".");
            i += 2;
        } else if (c == '?') {
            snprintf(tmp, sizeof tmp, "[");
            for (int hi = 0; hi < 16; hi++) {
                char x[8];
                snprintf(x, sizeof x, "\\x%x%c", hi, h[i + 1]);
                strncat(tmp, x, sizeof tmp - strlen(tmp) - 1);
            }
            strncat(tmp, "]", sizeof tmp - strlen(tmp) - 1);
            app(&o, &n, &cap, tmp);
            i += 2;
        } else if (h[i + 1] == '?') {
            snprintf(tmp, sizeof tmp, "[\\x%c0-\\x%cf]", c, c);
            app(&o, &n, &cap, tmp);
            i += 2;
        } else {
            if (vigil_hexval(c) < 0 || vigil_hexval(h[i + 1]) < 0)
                return NULL;
            snprintf(tmp, sizeof tmp, "\\x%c%c", c, h[i + 1]);
            app(&o, &n, &cap, tmp);
            i += 2;
        }
    }
    return o;
}

struct pats {
    char **re;
    unsigned *ids, *flags;
    size_t n, cap;
};

static void add(struct pats *p, char *re, unsigned flags)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 1024;
        p->re = realloc(p->re, p->cap * sizeof *p->re);
        p->ids = realloc(p->ids, p->cap * sizeof *p->ids);
        p->flags = realloc(p->flags, p->cap * sizeof *p->flags);
        if (!p->re || !p->ids || !p->flags)
            exit(2);
    }
    p->re[p->n] = re;
    p->ids[p->n] = (unsigned)p->n;
    p->flags[p->n] = flags;
    p->n++;
}

/* An .ldb line: its subsignatures, then the combination over their ids.
 * 0 or -1 if something is not handled. */
static int add_ldb(struct pats *p, char *line)
{
    char *f[66];
    int nf = 0;
    for (char *t = line; t && nf < 66; nf++) {
        f[nf] = t;
        t = strchr(t, ';');
        if (t)
            *t++ = 0;
    }
    if (nf < 4)
        return -1;
    size_t base = p->n;
    for (int k = 3; k < nf; k++) {
        char *re = convert(f[k]);
        if (!re)
            return -1;
        add(p, re, HS_FLAG_DOTALL | HS_FLAG_SINGLEMATCH | HS_FLAG_QUIET);
    }
    char *o = NULL, tmp[32];
    size_t n = 0, cap = 0;
    app(&o, &n, &cap, "");
    for (const char *e = f[2]; *e;) {
        if (*e >= '0' && *e <= '9') {
            unsigned long k = strtoul(e, (char **)&e, 10);
            if (k >= (unsigned long)(nf - 3))
                return -1;
            snprintf(tmp, sizeof tmp, "%zu", base + k);
            app(&o, &n, &cap, tmp);
        } else if (strchr("&|()", *e)) {
            tmp[0] = *e++;
            tmp[1] = 0;
            app(&o, &n, &cap, tmp);
        } else {
            return -1;
        }
    }
    add(p, o, HS_FLAG_COMBINATION | HS_FLAG_SINGLEMATCH);
    return 0;
}

static int on_match(unsigned id, unsigned long long from, unsigned long long to,
                    unsigned flags, void *ctx)
{
    (void)id, (void)from, (void)to, (void)flags;
    ++*(unsigned long *)ctx;
    return 0;
}

/* One pass over the corpus: per file, read it whole, then time hs_scan(). */
struct pass {
    unsigned long matches;
    unsigned long long bytes;
    double wall, cpu;
};

static int scan_dir(const hs_database_t *db, hs_scratch_t *scratch,
                    const char *dir, struct pass *r)
{
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        return -1;
    }
    struct dirent *de;
    char *buf = NULL;
    size_t bcap = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *in = fopen(path, "rb");
        if (!in)
            continue;
        fseek(in, 0, SEEK_END);
        long sz = ftell(in);
        fseek(in, 0, SEEK_SET);
        if (sz <= 0 || (size_t)sz > bcap) {
            bcap = sz > 0 ? (size_t)sz : 1;
            buf = realloc(buf, bcap);
            if (!buf)
                exit(2);
        }
        size_t got = fread(buf, 1, (size_t)(sz > 0 ? sz : 0), in);
        fclose(in);
        double s0 = now(), c0 = cpu();
        hs_scan(db, buf, (unsigned)got, 0, scratch, on_match, &r->matches);
        r->cpu += cpu() - c0;
        r->wall += now() - s0;
        r->bytes += got;
    }
    closedir(d);
    free(buf);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int runs = argc == 4 ? atoi(argv[3]) : 1;
    if (argc < 3 || argc > 4 || runs < 1 || runs > 99) {
        fprintf(stderr, "usage: scan-hs SIGS.ndb CORPUS_DIR [RUNS]\n");
        return 2;
    }
    double t0 = now();
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    struct pats P = {0};
    size_t skipped = 0;
    char line[8192];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (strchr(line, ';')) {
            if (add_ldb(&P, line) < 0)
                skipped++;
            continue;
        }
        char *hex = line;
        for (int k = 0; k < 3 && hex; k++) {
            hex = strchr(hex, ':');
            if (hex)
                hex++;
        }
        char *re = hex ? convert(hex) : NULL;
        if (!re) {
            skipped++;
            continue;
        }
        add(&P, re, HS_FLAG_DOTALL | HS_FLAG_SINGLEMATCH);
    }
    fclose(f);
    hs_database_t *db;
    hs_compile_error_t *err;
    if (hs_compile_multi((const char *const *)P.re, P.flags, P.ids,
                         (unsigned)P.n, HS_MODE_BLOCK, NULL, &db,
                         &err) != HS_SUCCESS) {
        fprintf(stderr, "hs_compile_multi: %s (pattern %d)\n", err->message,
                err->expression);
        return 2;
    }
    hs_scratch_t *scratch = NULL;
    if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS)
        return 2;
    double t1 = now();

    /* Several passes: the medians (the machine may be shared). */
    struct pass first = {0};
    double wall[99], cpus[99];
    for (int i = 0; i < runs; i++) {
        struct pass r = {0};
        if (scan_dir(db, scratch, argv[2], &r) < 0)
            return 2;
        if (i == 0)
            first = r;
        wall[i] = r.wall;
        cpus[i] = r.cpu;
    }
    qsort(wall, (size_t)runs, sizeof wall[0], cmp_double);
    qsort(cpus, (size_t)runs, sizeof cpus[0], cmp_double);
    printf("patterns %zu\nskipped %zu\ncompile_s %.3f\nscan_s %.4f\n"
           "scan_cpu_s %.4f\nbytes %llu\nmatches %lu\n",
           P.n, skipped, t1 - t0, wall[runs / 2], cpus[runs / 2], first.bytes,
           first.matches);
    hs_free_scratch(scratch);
    hs_free_database(db);
    return 0;
}
