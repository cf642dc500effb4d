/* bench helper: the signature library alone, scanning a corpus held in
 * memory, for before/after comparisons steadier than bench/scan's.
 *
 *   cc -O2 -Iinclude -o scan-lib bench/scan-lib.c build/libvigil.a \
 *       -lnettle -lhogweed -lgmp -lz -lpthread
 *   scan-lib SIGS CORPUS_DIR [PASSES]
 *
 * Loads the database, reads every file of the directory into memory, then
 * scans them all PASSES times (default 7), each file as one stream fed in
 * 1 MiB pieces like `vigil scan`.  Prints the best and the median pass in
 * MB/s of CPU time (no read(): comparable with scan-hs), and the matches
 * of one pass.  Not part of the library or the tests. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "vigil/sig.h"

#define MAXF  1024
#define PIECE (1u << 20)

static unsigned long nmatch;

static double cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int on_match(void *opaque, const struct vsig_match *m)
{
    (void)opaque, (void)m;
    nmatch++;
    return VSIG_CONTINUE;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = sz >= 0 ? malloc((size_t)sz + 1) : NULL;
    *n = b ? fread(b, 1, (size_t)sz, f) : 0;
    fclose(f);
    return b;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int scan_one(struct vsig_db *db, const char *buf, size_t len)
{
    struct vsig_stream *s;
    if (vsig_stream_new(&s, db, NULL, on_match, NULL) < 0)
        return -1;
    for (size_t o = 0; o < len; o += PIECE) {
        size_t l = len - o < PIECE ? len - o : PIECE;
        if (vsig_stream_feed(s, buf + o, l) < 0)
            return -1;
    }
    int r = vsig_stream_end(s);
    vsig_stream_free(s);
    return r < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
    int passes = argc == 4 ? atoi(argv[3]) : 7;
    if (argc < 3 || argc > 4 || passes < 1 || passes > 99) {
        fprintf(stderr, "usage: scan-lib SIGS CORPUS_DIR [PASSES]\n");
        return 2;
    }
    size_t n;
    char *text = slurp(argv[1], &n);
    struct vsig_db *db;
    if (!text || vsig_db_load(&db, argv[1], text, n, NULL) < 0) {
        fprintf(stderr, "scan-lib: cannot load %s\n", argv[1]);
        return 2;
    }
    DIR *dir = opendir(argv[2]);
    if (!dir) {
        perror(argv[2]);
        return 2;
    }
    static char *bufs[MAXF];
    static size_t lens[MAXF];
    int nf = 0;
    double total = 0;
    struct dirent *de;
    while ((de = readdir(dir)) && nf < MAXF) {
        char path[4096];
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", argv[2], de->d_name);
        if ((bufs[nf] = slurp(path, &lens[nf])) != NULL)
            total += (double)lens[nf++];
    }
    closedir(dir);
    double t[99];
    unsigned long first = 0;
    for (int p = 0; p < passes; p++) {
        nmatch = 0;
        double c0 = cpu();
        for (int i = 0; i < nf; i++)
            if (scan_one(db, bufs[i], lens[i]) < 0)
                return 2;
        t[p] = cpu() - c0;
        if (p == 0)
            first = nmatch;
    }
    qsort(t, (size_t)passes, sizeof t[0], cmp_double);
    printf("best %.1f MB/s median %.1f MB/s matches %lu\n", total / t[0] / 1e6,
           total / t[passes / 2] / 1e6, first);
    vsig_db_unref(db);
    return 0;
}
