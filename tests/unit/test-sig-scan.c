/* The streaming matcher: hand-written cases for each construct, a random
 * comparison with a brute-force reference matcher, chunking invariance,
 * logical and hash signatures, mute/stop, and database replacement while
 * other threads scan. */
#undef NDEBUG
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/sig.h"
#include "check.h"
#include "xorshift.h"

static void quiet_diag(void *opaque, const struct vsig_diag *d)
{
    (void)opaque;
    fprintf(stderr, "diag: %s:%lu: %s\n", d->file, d->line, d->msg);
}

static struct vsig_db *db_from(const char *name, const char *text)
{
    struct vsig_load_opts o = {
        .sz = sizeof o, .flags = VSIG_LOAD_STRICT, .diag = quiet_diag};
    struct vsig_db *db = NULL;
    int r = vsig_db_load(&db, name, text, strlen(text), &o);
    if (r < 0) {
        fprintf(stderr, "cannot load %s: %s\n", name, strerror(-r));
        exit(1);
    }
    return db;
}

/* ---- collecting matches ---- */

struct hit {
    uint32_t sig;
    uint64_t off, end;
};

struct hits {
    struct hit h[4096];
    size_t n;
    int mode; /* return value for the callback */
    char text[4096];
};

static int collect(void *opaque, const struct vsig_match *m)
{
    struct hits *h = opaque;
    if (h->n < sizeof h->h / sizeof h->h[0])
        h->h[h->n++] = (struct hit){m->sig, m->offset, m->end};
    size_t l = strlen(h->text);
    snprintf(h->text + l, sizeof h->text - l, "%s%s@%llu", l ? " " : "",
             m->name, (unsigned long long)m->offset);
    return h->mode;
}

/* Scan @data fed in pieces of @chunk bytes (0: all at once). */
static void scan(struct vsig_db *db, const void *data, size_t len, size_t chunk,
                 bool known_size, struct hits *h)
{
    struct vsig_stream_opts o = {.sz = sizeof o,
                                 .size = known_size ? len : VSIG_SIZE_UNKNOWN,
                                 .target = VSIG_TARGET_AUTO};
    struct vsig_stream *s;
    int mode = h->mode;
    memset(h, 0, sizeof *h);
    h->mode = mode;
    int r = vsig_stream_new(&s, db, &o, collect, h);
    CHECK_QUIET(r == 0, "r == 0");
    const uint8_t *p = data;
    size_t pos = 0;
    while (pos < len && r == 0) {
        size_t n = chunk == 0 || len - pos < chunk ? len - pos : chunk;
        r = vsig_stream_feed(s, p + pos, n);
        pos += n;
    }
    if (r == 0)
        r = vsig_stream_end(s);
    CHECK_QUIET(r >= 0, "r >= 0");
    vsig_stream_free(s);
}

/* ---- hand-written cases ---- */

struct tcase {
    const char *ext, *db;
    const char *data; /* C string; \x escapes */
    const char *want; /* "Name@offset ..." in report order */
};

static const struct tcase cases[] = {
    {".ndb", "A:0:*:414243444546", "zzABCDEFzzABCDEF", "A@2 A@10"},
    {".ndb", "A:0:*:41??4344", "xAzCDxAACDx", "A@1 A@6"},
    {".ndb", "A:0:*:4142434?", "ABCDABC@ABCP", "A@0 A@4"},
    {".ndb", "A:0:*:4142?344", "AB3DABCDAB#D", "A@0 A@4 A@8"},
    {".ndb", "A:0:*:41424344*45464748", "ABCDxxEFGH", "A@0"},
    {".ndb", "A:0:*:41424344*45464748", "EFGHABCD", ""},
    {".ndb", "A:0:*:41424344*44454647", "ABCDEFG", ""}, /* no overlap */
    {".ndb", "A:0:*:41424344{2}45464748", "ABCDxxEFGH ABCDxEFGH", "A@0"},
    {".ndb", "A:0:*:41424344{-2}45464748", "ABCDEFGH ABCDxxxEFGH", "A@0"},
    {".ndb", "A:0:*:41424344{2-}45464748", "ABCDxEFGH ABCDxxxEFGH", "A@0"},
    {".ndb", "A:0:*:41424344{2-}45464748", "ABCDxEFGH", ""},
    {".ndb", "A:0:*:41424344{1-2}45464748", "ABCDxxEFGH", "A@0"},
    {".ndb", "A:0:*:41424344(45|46)4748", "ABCDFGH ABCDGGH", "A@0"},
    {".ndb", "A:0:*:41424344!(45|46)4748", "ABCDFGH ABCDGGH", "A@8"},
    {".ndb", "A:0:*:41424344(4546|4748)49", "ABCDGHI ABCDEGI", "A@0"},
    {".ndb", "A:0:*:41424344!(4546|4748)49", "ABCDGHI ABCDEGI", "A@8"},
    {".ndb", "A:0:*:41424344(45|4647|??48)494a", "ABCDxHIJ ABCDFGIJ",
     "A@0 A@9"},
    {".ndb", "A:0:*:4142434445[1-2]46", "ABCDExF ABCDExxxF", "A@0"},
    {".ndb", "A:0:*:(B)41424344", "ABCD xABCD .ABCD", "A@0 A@12"},
    {".ndb", "A:0:*:41424344(B)", "ABCDx ABCD.ABCD", "A@11"},
    {".ndb", "A:0:*:41424344(L)45464748", "ABCD\nEFGH ABCD EFGH", "A@0"},
    {".ndb", "A:0:*:41424344(W)45464748", "ABCD-EFGH ABCDxEFGH", "A@0"},
    {".ndb", "A:0:3:41424344", "xxxABCDABCD", "A@3"},
    {".ndb", "A:0:2,3:41424344", "ABCDxABCDxABCD", "A@5"},
    {".ndb", "A:0:EOF-4:41424344", "ABCDxxABCD", "A@6"},
    {".ndb", "A:0:EOF-6,1:41424344", "ABCDxxABCDx", "A@6"},
    {".ndb", "A:0:EOF-7,1:41424344", "ABCDxxABCDx", ""},
    {".ndb", "A:0:8:01[1-3]41424344", "xxxxx\001xxABCD", "A@5"},
    {".db", "Old=32e4cd16cd1233c0", "xx\x32\xe4\xcd\x16\xcd\x12\x33\xc0",
     "Old@2"},
    {".ldb", "L;Target:0;0&1;41424344;45464748", "EFGH..ABCD", "L@6"},
    /* Hits of a subsignature that already matched are dropped in the
     * prefilter when the expression has only '&' and '|' (group.c): the
     * report still comes from the subsignature that completed it, whole
     * or in parts, and '=' still counts every match. */
    {".ldb", "L;Target:0;0&1;41424344*45464748;494a4b4c",
     "ABCDxEFGHxABCDxEFGHxIJKL", "L@20"},
    {".ldb", "L;Target:0;0&1;494a4b4c;41424344*45464748",
     "IJKLxIJKLxABCDxIJKLxEFGH", "L@10"},
    {".ldb", "L;Target:0;0&1=3;41424344;45464748", "ABCDEFGHEFGHEFGH", "L@12"},
    /* A subsignature seen again does not re-evaluate '&' and '|': the
     * one that completes the expression still fires it. */
    {".ldb", "L;Target:0;0&1;41424344;45464748", "ABCDABCDABCDEFGH", "L@12"},
    {".ldb", "L;Target:0;(0|1)&2;41424344;45464748;494a4b4c",
     "ABCDEFGHABCDxIJKL", "L@13"},
    {".ldb", "L;Target:0;0>1;41414141", "AAAAA", "L@1"},
    {".ldb", "L;Target:0;0=2;41424344", "ABCDABCD", "L@4"},
    {".ldb", "L;Target:0;0=2;41424344", "ABCDABCDABCD", ""},
    {".ldb", "L;Target:0;0&1=0;41424344;45464748", "ABCD", "L@0"},
    {".ldb", "L;Target:0;(0&1)=0;41424344;45464748", "ABCD", "L@0"},
    {".ldb", "L;Target:0;(0|1)>1,2;41424344;45464748", "ABCDABCD", ""},
    {".ldb", "L;Target:0;(0|1)>1,2;41424344;45464748", "ABCDEFGH", "L@4"},
    {".ldb", "L;Target:0,FileSize:1-5;0;41424344", "ABCDxx", ""},
    {".ldb", "L;Engine:81-255,Target:0;0;6162636465::i", "xxaBcDeXX", "L@2"},
    {".ldb", "L;Engine:81-255,Target:0;0;61626364::w", "abcd a\0b\0c\0d\0",
     "L@5"},
    {".ldb", "L;Engine:81-255,Target:0;0=2;61626364::wa", "abcd a\0b\0c\0d\0",
     "L@5"},
    {".ldb", "L;Engine:81-255,Target:0;0;61626364::f", "xabcd abcd.", "L@6"},
    {".ndb", "E:6:*:41424344",
     "\x7f"
     "ELFxxABCD",
     "E@6"},
    {".ndb", "E:6:*:41424344", "xxxxABCD", ""},
    {".hdb", "900150983cd24fb0d6963f7d28e17f72:3:Abc.Md5", "abc", "Abc.Md5@0"},
    {".hdb", "900150983cd24fb0d6963f7d28e17f72:4:Abc.Md5", "abc", ""},
    {".hsb", "a9993e364706816aba3e25717850c26c9cd0d89d:*:Abc.Sha1:73", "abc",
     "Abc.Sha1@0"},
    {".hsb",
     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad:3:"
     "Abc.Sha256",
     "abc", "Abc.Sha256@0"},
};

static size_t data_len(const struct tcase *c)
{
    /* Cases with embedded NULs: length of the literal is not strlen. */
    if (strstr(c->db, "::w") != NULL)
        return 13;
    if (strstr(c->data, "xxxxx\001") != NULL)
        return 13;
    return strlen(c->data);
}

static void test_cases(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct tcase *c = &cases[i];
        char name[16];
        snprintf(name, sizeof name, "case%s", c->ext);
        struct vsig_db *db = db_from(name, c->db);
        size_t len = data_len(c);
        static struct hits h;
        for (int chunk = 0; chunk <= 3; chunk++) {
            for (int known = 0; known <= 1; known++) {
                h.mode = VSIG_CONTINUE;
                scan(db, c->data, len, (size_t)chunk, known, &h);
                if (strcmp(h.text, c->want) != 0) {
                    fprintf(stderr,
                            "case %zu (%s) chunk %d known %d: got '%s' want "
                            "'%s'\n",
                            i, c->db, chunk, known, h.text, c->want);
                    failures++;
                }
            }
        }
        vsig_db_unref(db);
    }
}

/* ---- random comparison with a brute-force reference ---- */

/* Reference element: a byte class or a gap. */
struct relem {
    bool gap;
    bool cls[256];
    unsigned lo, hi; /* gap; hi UINT32_MAX unbounded */
};

struct rsig {
    struct relem e[80];
    int n;
    char hex[1024];
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
    return (uint32_t)(xorshift64(&rng_state) >> 11);
}

static const uint8_t alpha[] = {'A', 'B', 'C', 0x41 + 0x80};

static void add_hex(struct rsig *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void add_hex(struct rsig *s, const char *fmt, ...)
{
    size_t l = strlen(s->hex);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->hex + l, sizeof s->hex - l, fmt, ap);
    va_end(ap);
}

/* A signature of 1-3 parts of 2 to @maxlen + 1 bytes each. */
static void gen_sig(struct rsig *s, int maxlen)
{
    memset(s, 0, sizeof *s);
    int parts = 1 + (int)(rnd() % 3);
    for (int p = 0; p < parts; p++) {
        if (p > 0) {
            struct relem *g = &s->e[s->n++];
            g->gap = true;
            switch (rnd() % 5) {
            case 0:
                g->lo = 0, g->hi = UINT32_MAX;
                add_hex(s, "*");
                break;
            case 1:
                g->lo = g->hi = rnd() % 4;
                add_hex(s, "{%u}", g->lo);
                break;
            case 2:
                g->lo = 0, g->hi = rnd() % 4;
                add_hex(s, "{-%u}", g->hi);
                break;
            case 3:
                g->lo = rnd() % 4, g->hi = UINT32_MAX;
                add_hex(s, "{%u-}", g->lo);
                break;
            default:
                g->lo = rnd() % 3;
                g->hi = g->lo + 1 + rnd() % 3;
                add_hex(s, "{%u-%u}", g->lo, g->hi);
                break;
            }
        }
        int len = 2 + (int)(rnd() % (unsigned)maxlen);
        for (int k = 0; k < len; k++) {
            struct relem *e = &s->e[s->n++];
            uint8_t b = alpha[rnd() % sizeof alpha];
            unsigned kind = k == 0 || k == len - 1 ? 0 : rnd() % 5;
            switch (kind) {
            case 1:
                memset(e->cls, 1, sizeof e->cls);
                add_hex(s, "??");
                break;
            case 2:
                for (int v = 0; v < 256; v++)
                    e->cls[v] = (v & 0xf0) == (b & 0xf0);
                add_hex(s, "%x?", b >> 4);
                break;
            case 3: {
                uint8_t c = alpha[rnd() % sizeof alpha];
                e->cls[b] = e->cls[c] = true;
                if (b == c)
                    add_hex(s, "(%02x)", b);
                else
                    add_hex(s, "(%02x|%02x)", b, c);
                break;
            }
            case 4:
                memset(e->cls, 1, sizeof e->cls);
                e->cls[b] = false;
                add_hex(s, "!(%02x)", b);
                break;
            default:
                e->cls[b] = true;
                add_hex(s, "%02x", b);
                break;
            }
        }
    }
}

/* Does @s occur in @d (start anywhere)? Set-of-positions simulation. */
static bool ref_match(const struct rsig *s, const uint8_t *d, size_t n)
{
    bool *cur = calloc(n + 1, 1), *nxt = calloc(n + 1, 1);
    memset(cur, 1, n + 1);
    for (int i = 0; i < s->n; i++) {
        const struct relem *e = &s->e[i];
        memset(nxt, 0, n + 1);
        for (size_t p = 0; p <= n; p++) {
            if (!cur[p])
                continue;
            if (!e->gap) {
                if (p < n && e->cls[d[p]])
                    nxt[p + 1] = true;
                continue;
            }
            for (uint64_t q = p + e->lo;
                 q <= n && (e->hi == UINT32_MAX || q <= p + e->hi); q++)
                nxt[q] = true;
        }
        bool *t = cur;
        cur = nxt;
        nxt = t;
    }
    bool any = false;
    for (size_t p = 0; p <= n; p++)
        any |= cur[p];
    free(cur);
    free(nxt);
    return any;
}

/* Write at @d an instance of @s (at most @room bytes); its length. */
static size_t plant(const struct rsig *s, uint8_t *d, size_t room)
{
    size_t n = 0;
    for (int i = 0; i < s->n; i++) {
        const struct relem *e = &s->e[i];
        unsigned k = e->gap ? e->lo + (e->hi == e->lo ? 0 : rnd() % 3) : 1;
        if (e->gap && e->hi != UINT32_MAX && k > e->hi)
            k = e->hi;
        for (unsigned j = 0; j < k && n < room; j++) {
            uint8_t b = alpha[rnd() % sizeof alpha];
            for (unsigned t = 0; !e->gap && !e->cls[b] && t < 256; t++)
                b = (uint8_t)(b + 1);
            d[n++] = b;
        }
    }
    return n;
}

/* Rounds of @nsig random signatures of parts up to @maxlen + 1 bytes over
 * a four-letter alphabet (many anchors share their grams: the gram table's
 * pre-check word decides between them), against ref_match(). */
static void test_random(int nsig, int maxlen, int rounds)
{
    static struct rsig sigs[400];
    static char text[400 * 1100];
    static uint8_t data[4096];
    static struct hits h, h2;

    unsigned positives = 0, checked = 0;
    for (int round = 0; round < rounds; round++) {
        text[0] = '\0';
        for (int i = 0; i < nsig; i++) {
            gen_sig(&sigs[i], maxlen);
            size_t l = strlen(text);
            snprintf(text + l, sizeof text - l, "R%d:0:*:%s\n", i, sigs[i].hex);
        }
        struct vsig_db *db = db_from("rand.ndb", text);
        size_t n = 20 + rnd() % 1500;
        for (size_t i = 0; i < n; i++)
            data[i] = alpha[rnd() % sizeof alpha] ^ (rnd() % 16 == 0);
        /* Long signatures rarely occur by chance: plant some, anywhere
         * (the ends of the data included). */
        for (int k = 0; maxlen > 4 && k < 8; k++) {
            size_t at = rnd() % n;
            plant(&sigs[rnd() % (unsigned)nsig], data + at, n - at);
        }
        h.mode = VSIG_MUTE;
        scan(db, data, n, 0, true, &h);
        bool got[400] = {false};
        for (size_t i = 0; i < h.n; i++)
            got[h.h[i].sig] = true;
        for (int i = 0; i < nsig; i++) {
            bool want = ref_match(&sigs[i], data, n);
            positives += want;
            checked++;
            if (want != got[i]) {
                fprintf(stderr, "round %d: R%d (%s): engine %d reference %d\n",
                        round, i, sigs[i].hex, got[i], want);
                failures++;
            }
        }
        /* Every match, any chunking: the same list. */
        h.mode = VSIG_CONTINUE;
        scan(db, data, n, 0, false, &h);
        size_t chunk = 1 + rnd() % 64;
        h2.mode = VSIG_CONTINUE;
        scan(db, data, n, chunk, false, &h2);
        if (h.n != h2.n || memcmp(h.h, h2.h, h.n * sizeof h.h[0]) != 0) {
            fprintf(stderr, "round %d: chunk %zu changes the matches\n", round,
                    chunk);
            failures++;
        }
        vsig_db_unref(db);
        if (failures > 10)
            return;
    }
    printf("random (%d signatures, parts up to %d bytes): %u of %u "
           "signature/data pairs match\n",
           nsig, maxlen + 1, positives, checked);
    CHECK_QUIET(positives > checked / 50 && positives < checked * 9 / 10,
                "positives > checked / 50 && positives < checked * 9 / 10");
}

/* ---- mute, stop, reset ---- */

static void test_control(void)
{
    struct vsig_db *db = db_from("c.ndb", "A:0:*:41424344\nB:0:*:45464748\n");
    const char *d = "ABCD ABCD EFGH ABCD EFGH";
    static struct hits h;

    h.mode = VSIG_CONTINUE;
    scan(db, d, strlen(d), 0, false, &h);
    CHECK_QUIET(strcmp(h.text, "A@0 A@5 B@10 A@15 B@20") == 0,
                "strcmp(h.text, \"A@0 A@5 B@10 A@15 B@20\") == 0");
    h.mode = VSIG_MUTE;
    scan(db, d, strlen(d), 0, false, &h);
    CHECK_QUIET(strcmp(h.text, "A@0 B@10") == 0,
                "strcmp(h.text, \"A@0 B@10\") == 0");
    h.mode = VSIG_STOP;
    scan(db, d, strlen(d), 3, false, &h);
    CHECK_QUIET(strcmp(h.text, "A@0") == 0, "strcmp(h.text, \"A@0\") == 0");

    /* A declared size is enforced. */
    struct vsig_stream *s;
    struct vsig_stream_opts o = {.sz = sizeof o, .size = 4};
    CHECK_QUIET(vsig_stream_new(&s, db, &o, collect, &h) == 0,
                "vsig_stream_new(&s, db, &o, collect, &h) == 0");
    CHECK_QUIET(vsig_stream_feed(s, "ABCDE", 5) == -EINVAL,
                "vsig_stream_feed(s, \"ABCDE\", 5) == -EINVAL");
    CHECK_QUIET(vsig_stream_feed(s, "ABC", 3) == 0,
                "vsig_stream_feed(s, \"ABC\", 3) == 0");
    CHECK_QUIET(vsig_stream_end(s) == -EINVAL, "vsig_stream_end(s) == -EINVAL");
    CHECK_QUIET(vsig_stream_end(s) == -EINVAL, "vsig_stream_end(s) == -EINVAL");

    /* Reset: reuse for another object and another database. */
    struct vsig_db *db2 = db_from("d.ndb", "C:0:*:494a4b4c\n");
    h.mode = VSIG_CONTINUE;
    memset(h.text, 0, sizeof h.text);
    CHECK_QUIET(vsig_stream_reset(s, db2, NULL) == 0,
                "vsig_stream_reset(s, db2, NULL) == 0");
    vsig_db_unref(db2);
    CHECK_QUIET(vsig_stream_feed(s, "xxIJKLxx", 8) == 0,
                "vsig_stream_feed(s, \"xxIJKLxx\", 8) == 0");
    CHECK_QUIET(vsig_stream_end(s) == 0, "vsig_stream_end(s) == 0");
    CHECK_QUIET(strcmp(h.text, "C@2") == 0, "strcmp(h.text, \"C@2\") == 0");
    CHECK_QUIET(vsig_stream_offset(s) == 8, "vsig_stream_offset(s) == 8");
    vsig_stream_free(s);
    CHECK_QUIET(strcmp(vsig_db_name(db, 1), "B") == 0,
                "strcmp(vsig_db_name(db, 1), \"B\") == 0");
    CHECK_QUIET(vsig_db_name(db, 2) == NULL, "vsig_db_name(db, 2) == NULL");
    vsig_db_unref(db);
}

/* ---- replacing the database while streams run ---- */

struct worker {
    struct vsig_slot *slot;
    int bad;
};

static int first_name(void *opaque, const struct vsig_match *m)
{
    char *out = opaque;
    snprintf(out, 32, "%s", m->name);
    return VSIG_STOP;
}

static void *worker(void *arg)
{
    struct worker *w = arg;
    const char *data = "....GEN-SIGNATURE-XYZ....";
    for (int i = 0; i < 2000; i++) {
        struct vsig_db *db = vsig_slot_get(w->slot);
        struct vsig_stream *s;
        char name[32] = "";
        if (vsig_stream_new(&s, db, NULL, first_name, name) < 0) {
            w->bad++;
            vsig_db_unref(db);
            continue;
        }
        vsig_db_unref(db); /* the stream holds its own reference */
        for (size_t k = 0; data[k]; k++)
            if (vsig_stream_feed(s, data + k, 1) != 0)
                break;
        if (vsig_stream_end(s) < 0 || strncmp(name, "Gen", 3) != 0)
            w->bad++;
        vsig_stream_free(s);
    }
    return NULL;
}

static void test_slot(void)
{
    struct vsig_db *db0 = db_from("g.ndb", "Gen0:0:*:5349474e4154555245\n");
    struct vsig_slot *slot;
    CHECK_QUIET(vsig_slot_new(&slot, db0) == 0,
                "vsig_slot_new(&slot, db0) == 0");
    vsig_db_unref(db0);
    struct worker w[3] = {{slot, 0}, {slot, 0}, {slot, 0}};
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, worker, &w[i]);
    for (int gen = 1; gen < 200; gen++) {
        char text[64];
        snprintf(text, sizeof text, "Gen%d:0:*:5349474e4154555245\n", gen);
        struct vsig_db *db = db_from("g.ndb", text);
        vsig_slot_set(slot, db);
        vsig_db_unref(db);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        CHECK_QUIET(w[i].bad == 0, "w[i].bad == 0");
    }
    vsig_slot_set(slot, NULL);
    CHECK_QUIET(vsig_slot_get(slot) == NULL, "vsig_slot_get(slot) == NULL");
    vsig_slot_free(slot);
}

int main(void)
{
    test_cases();
    test_control();
    test_random(60, 4, 120);
    test_random(400, 24, 40);
    test_slot();
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("ok\n");
    return 0;
}
