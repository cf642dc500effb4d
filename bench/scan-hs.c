/* bench/scan helper: the same .ndb signatures through Hyperscan.
 *
 *   scan-hs SIGS.ndb CORPUS_DIR
 *
 * Converts each hex signature to a regular expression (bytes as \xHH, ?? as
 * '.', nibbles as classes, {n-m} as .{n,m}, '*' as .*, alternatives as
 * (?:..|..)), compiles them in block mode with DOTALL and SINGLEMATCH, then
 * scans every file of the corpus in one block.  Prints compile seconds, scan
 * seconds, bytes and (file, signature) matches.  Not part of the library. */
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

static int on_match(unsigned id, unsigned long long from, unsigned long long to,
                    unsigned flags, void *ctx)
{
    (void)id, (void)from, (void)to, (void)flags;
    ++*(unsigned long *)ctx;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: scan-hs SIGS.ndb CORPUS_DIR\n");
        return 2;
    }
    double t0 = now();
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    char **pats = NULL;
    unsigned *ids = NULL, *flags = NULL;
    size_t n = 0, cap = 0, skipped = 0;
    char line[8192];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
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
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            pats = realloc(pats, cap * sizeof *pats);
            ids = realloc(ids, cap * sizeof *ids);
            flags = realloc(flags, cap * sizeof *flags);
            if (!pats || !ids || !flags)
                return 2;
        }
        pats[n] = re;
        ids[n] = (unsigned)n;
        flags[n] = HS_FLAG_DOTALL | HS_FLAG_SINGLEMATCH;
        n++;
    }
    fclose(f);
    hs_database_t *db;
    hs_compile_error_t *err;
    if (hs_compile_multi((const char *const *)pats, flags, ids, (unsigned)n,
                         HS_MODE_BLOCK, NULL, &db, &err) != HS_SUCCESS) {
        fprintf(stderr, "hs_compile_multi: %s (pattern %d)\n", err->message,
                err->expression);
        return 2;
    }
    hs_scratch_t *scratch = NULL;
    if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS)
        return 2;
    double t1 = now();

    DIR *d = opendir(argv[2]);
    if (!d) {
        perror(argv[2]);
        return 2;
    }
    struct dirent *de;
    unsigned long matches = 0;
    unsigned long long bytes = 0;
    double scan = 0;
    char *buf = NULL;
    size_t bcap = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[2], de->d_name);
        FILE *in = fopen(path, "rb");
        if (!in)
            continue;
        fseek(in, 0, SEEK_END);
        long sz = ftell(in);
        fseek(in, 0, SEEK_SET);
        if (sz <= 0 || (size_t)sz > bcap) {
            bcap = sz > 0 ? (size_t)sz : 1;
            buf = realloc(buf, bcap);
        }
        size_t got = fread(buf, 1, (size_t)(sz > 0 ? sz : 0), in);
        fclose(in);
        double s0 = now();
        hs_scan(db, buf, (unsigned)got, 0, scratch, on_match, &matches);
        scan += now() - s0;
        bytes += got;
    }
    closedir(d);
    printf("patterns %zu\nskipped %zu\ncompile_s %.3f\nscan_s %.3f\n"
           "bytes %llu\nmatches %lu\n",
           n, skipped, t1 - t0, scan, bytes, matches);
    hs_free_scratch(scratch);
    hs_free_database(db);
    return 0;
}
