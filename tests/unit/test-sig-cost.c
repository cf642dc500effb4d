/* Verification cost of bounded ranges: the work a stream does must grow with
 * data x pattern length, not with the width of a range.  The stream's step
 * counter (vsig_stream_stats) is checked against c x data x tokens on inputs
 * that made the old set simulation cost data x range (an outside review:
 * 41{0-32000}4243 over "BCBC..." took 19 s per MiB).  No timing: the counter
 * is deterministic.  The matches themselves are compared with the plain set
 * simulation (the linear path switched off), so the fast path changes cost,
 * never results. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "xorshift.h"
#include "sig/sig-int.h"
#include "vigil/sig.h"

/* Steps allowed per data byte and pattern token. */
#define STEP_FACTOR 16

struct hit {
    uint32_t sig;
    uint64_t off, end;
};

struct hits {
    struct hit h[8192];
    size_t n, total;
};

static int collect(void *opaque, const struct vsig_match *m)
{
    struct hits *h = opaque;
    if (h->n < sizeof h->h / sizeof h->h[0])
        h->h[h->n++] = (struct hit){m->sig, m->offset, m->end};
    h->total++;
    return VSIG_CONTINUE;
}

static void no_diag(void *opaque, const struct vsig_diag *d)
{
    (void)opaque;
    (void)d;
}

static struct vsig_db *load_opt(const char *name, const char *text,
                                unsigned flags)
{
    struct vsig_load_opts o = {.sz = sizeof o, .flags = flags, .diag = no_diag};
    struct vsig_db *db = NULL;
    if (vsig_db_load(&db, name, text, strlen(text), &o) < 0) {
        fprintf(stderr, "cannot load %s\n", text);
        exit(1);
    }
    return db;
}

static struct vsig_db *load(const char *name, const char *text)
{
    return load_opt(name, text, VSIG_LOAD_STRICT);
}

/* Scan in pieces of @piece bytes; returns the verification steps. */
static uint64_t scan_opt(struct vsig_db *db, const uint8_t *d, size_t n,
                         size_t piece, bool sized, struct hits *h)
{
    struct vsig_stream *s;
    struct vsig_stream_stats st = {.sz = sizeof st};
    struct vsig_stream_opts o = {.sz = sizeof o,
                                 .size = sized ? n : VSIG_SIZE_UNKNOWN,
                                 .target = VSIG_TARGET_AUTO};
    int r;

    memset(h, 0, sizeof *h);
    if (vsig_stream_new(&s, db, &o, collect, h) < 0)
        exit(1);
    for (size_t p = 0; p < n; p += piece) {
        size_t k = n - p < piece ? n - p : piece;
        if ((r = vsig_stream_feed(s, d + p, k)) != 0)
            exit(1);
    }
    if (vsig_stream_end(s) != 0)
        exit(1);
    vsig_stream_stats(s, &st);
    vsig_stream_free(s);
    return st.verify_steps;
}

static uint64_t scan(struct vsig_db *db, const uint8_t *d, size_t n,
                     size_t piece, struct hits *h)
{
    return scan_opt(db, d, n, piece, false, h);
}

/* @unit repeated to @n bytes, with @head at the start. */
static uint8_t *fill(const char *head, const char *unit, size_t n)
{
    uint8_t *d = malloc(n);
    size_t hl = strlen(head), ul = strlen(unit);
    for (size_t i = 0; i < n; i++)
        d[i] = i < hl ? (uint8_t)head[i] : (uint8_t)unit[(i - hl) % ul];
    return d;
}

struct cost_case {
    const char *name, *db, *head, *unit;
    unsigned tokens; /* pattern length: bytes and ranges, not their widths */
};

static const struct cost_case cases[] = {
    /* The review's signature: the prefix range in front of the anchor. */
    {"x.ndb", "S1:0:*:41{0-32000}4243\n", "", "BC", 4},
    {"x.ndb", "S1:0:*:41{0-32000}4243\n", "A", "BC", 4},
    {"x.ndb", "S1:0:*:41{0-32000}4243\n", "", "ABC", 4},
    /* The range after the anchor, and on both sides. */
    {"x.ndb", "S2:0:*:4243{0-32000}41\n", "", "BC", 4},
    {"x.ndb", "S2:0:*:4243{0-32000}41\n", "", "BCBCBCA", 4},
    {"x.ndb", "S3:0:*:41{0-16000}4243{0-16000}44\n", "", "BCA", 6},
    {"x.ndb", "S4:0:*:4?{0-20000}4243??{10-30}(44|45){0-5000}4?\n", "", "BCA",
     10},
    /* An absolute offset window on a ranged signature. */
    {"x.ndb", "S5:0:0,40000:41{0-32000}4243\n", "", "ABC", 4},
    /* Fixed-width parts: a long {n} between literals. */
    {"x.ndb", "S6:0:*:41{30000}4243\n", "", "BC", 4},
    {"x.ndb", "S6:0:*:41{30000}4243\n", "", "ABC", 4},
    /* Logical signatures: several ranged subsignatures over text. */
    {"x.ldb",
     "L1;Target:0;0&1&2&3;6c6f72656d{0-32000}2069;"
     "69707375{0-32000}6d20;646f6c6f72{0-32000}2073;"
     "616d6574{0-32000}7a7a7a\n",
     "", "lorem ipsum dolor sit amet, consectetur adipiscing elit ", 22},
};

static void test_cost(void)
{
    static struct hits h;
    const size_t n = 256 * 1024;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct cost_case *c = &cases[i];
        struct vsig_db *db = load(c->name, c->db);
        uint8_t *d = fill(c->head, c->unit, n);
        uint64_t steps = scan(db, d, n, n, &h);
        uint64_t bound = (uint64_t)STEP_FACTOR * n * c->tokens;
        int len = (int)strcspn(c->db, "\n");
        CHECK(steps <= bound, "%.*s over \"%s%s...\": %llu steps <= %llu",
              len < 60 ? len : 60, c->db, c->head, c->unit,
              (unsigned long long)steps, (unsigned long long)bound);
        free(d);
        vsig_db_unref(db);
    }
}

/* ---- the linear path against the set simulation ---- */

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint32_t rnd(uint32_t n)
{
    return (uint32_t)((xorshift64(&rng) >> 11) % n);
}

static const char alpha[] = "ABCa \n";

#define ADD(...) (l += (size_t)snprintf(out + l, cap - l, __VA_ARGS__))

/* One fixed-width item: a byte, a nibble, ??, a set, a negated byte. */
static size_t gen_item(char *out, size_t cap, bool literal)
{
    size_t l = 0;
    uint8_t b = (uint8_t)alpha[rnd(sizeof alpha - 1)];
    switch (literal ? 0 : rnd(6)) {
    case 1:
        ADD("??");
        break;
    case 2:
        ADD("%x?", b >> 4);
        break;
    case 3:
        ADD("(%02x|%02x)", b, (uint8_t)alpha[rnd(sizeof alpha - 1)]);
        break;
    case 4:
        ADD("!(%02x)", b);
        break;
    default:
        ADD("%02x", b);
        break;
    }
    return l;
}

static size_t gen_gap(char *out, size_t cap)
{
    size_t l = 0;
    uint32_t n = rnd(40), m = n + rnd(400);
    switch (rnd(8)) {
    case 0:
        ADD("*");
        break;
    case 1:
        ADD("{%u}", n);
        break;
    case 2:
        ADD("{-%u}", m);
        break;
    case 3:
        ADD("{%u-}", n);
        break;
    default:
        ADD("{%u-%u}", n, m);
        break;
    }
    return l;
}

static size_t gen_hex(char *out, size_t cap)
{
    size_t l = 0;
    if (rnd(6) == 0)
        ADD("(B)");
    else if (rnd(8) == 0)
        l += gen_gap(out + l, cap - l) * 0, ADD("{%u-%u}", rnd(3), 3 + rnd(90));
    int parts = 1 + (int)rnd(4);
    for (int p = 0; p < parts; p++) {
        if (p > 0)
            l += gen_gap(out + l, cap - l);
        int len = 1 + (int)rnd(4), lit = (int)rnd((uint32_t)len);
        for (int k = 0; k < len; k++)
            l += gen_item(out + l, cap - l, k == lit);
    }
    if (rnd(6) == 0)
        ADD("(W)");
    else if (rnd(8) == 0)
        ADD("{%u-%u}", rnd(3), 3 + rnd(90));
    return l;
}

static const char *const offsets[] = {"*", "*",           "*",       "5,300",
                                      "0", "EOF-200,150", "100,2000"};

static bool same(const struct hits *x, const struct hits *y)
{
    return x->total == y->total && x->n == y->n &&
           memcmp(x->h, y->h, x->n * sizeof x->h[0]) == 0;
}

static void test_same_matches(void)
{
    static char ndb[64 * 700], ldb[16 * 1400];
    static uint8_t d[6000];
    static struct hits h1, h2;
    unsigned bad = 0, total = 0, rounds = 150;
    size_t linear = 0;

    for (unsigned round = 0; round < rounds && bad < 5; round++) {
        size_t l = 0;
        for (int i = 0; i < 64; i++) {
            l += (size_t)snprintf(
                ndb + l, sizeof ndb - l, "N%d:0:%s:", i,
                offsets[rnd(sizeof offsets / sizeof offsets[0])]);
            l += gen_hex(ndb + l, sizeof ndb - l);
            ndb[l++] = '\n';
        }
        ndb[l] = '\0';
        l = 0;
        for (int i = 0; i < 16; i++) {
            l += (size_t)snprintf(ldb + l, sizeof ldb - l,
                                  "L%d;Target:0;(0&1)|2>%u;", i, rnd(4));
            for (int k = 0; k < 3; k++) {
                l += gen_hex(ldb + l, sizeof ldb - l);
                if (rnd(4) == 0)
                    l += (size_t)snprintf(ldb + l, sizeof ldb - l, "::i");
                ldb[l++] = k < 2 ? ';' : '\n';
            }
        }
        ldb[l] = '\0';
        size_t n = 200 + rnd(sizeof d - 200);
        for (size_t i = 0; i < n; i++)
            d[i] = (uint8_t)alpha[rnd(sizeof alpha - 1)];

        const char *names[2] = {"r.ndb", "r.ldb"};
        const char *texts[2] = {ndb, ldb};
        for (int f = 0; f < 2; f++) {
            vs_lin_span = UINT32_MAX;
            struct vsig_db *ref = load_opt(names[f], texts[f], 0);
            vs_lin_span = 0;
            struct vsig_db *lin = load_opt(names[f], texts[f], 0);
            linear += lin->nlin;
            bool sized = rnd(2);
            size_t piece = rnd(3) ? n : 1 + rnd(300);
            scan_opt(ref, d, n, n, sized, &h1);
            scan_opt(lin, d, n, piece, sized, &h2);
            total += (unsigned)h1.total;
            if (!same(&h1, &h2)) {
                bad++;
                fprintf(stderr, "round %u %s: %zu matches, linear %zu\n%s",
                        round, names[f], h1.total, h2.total, texts[f]);
            }
            vsig_db_unref(ref);
            vsig_db_unref(lin);
        }
    }
    vs_lin_span = 256;
    CHECK(bad == 0,
          "linear path: same matches as the set simulation (%u "
          "matches in %u rounds)",
          total, rounds);
    CHECK(total > rounds, "the random signatures match often enough");
    CHECK(linear > rounds * 10, "%zu parts took the linear path", linear);
}

/* Parts after a range too long for one part (> 32 KiB): the chain checks the
 * latest start against that range, and the simulation takes over when it
 * lies past it.  Sparse letters in 100 KiB of filler. */
static void test_long_chains(void)
{
    static const char db[] = "C1:0:*:4142{0-300}4344{33000-34000}45{0-500}46\n"
                             "C2:0:*:41{40000-41000}42{0-2000}4344\n"
                             "C3:0:*:41{35000}42{300-900}43\n"
                             "C4:0:*:4142{0-1000}43{36000-40000}44{0-400}4546\n"
                             "C5:0:1000,50000:41{0-900}42{33000-34000}43\n";
    static uint8_t d[100 * 1024];
    static struct hits h1, h2;
    unsigned bad = 0, total = 0;

    for (int round = 0; round < 12; round++) {
        /* Sparse noise, then instances near the edges of each range. */
        for (size_t i = 0; i < sizeof d; i++)
            d[i] = rnd(300) == 0 ? (uint8_t)("BCDEF"[rnd(5)]) : (uint8_t)'x';
        for (int k = 0; k < 4; k++) {
            size_t p = rnd(20000);
            d[p] = 'A';
            p += 1 + 39990 + rnd(1020);
            d[p] = 'B';
            p += 1 + rnd(2010);
            d[p] = 'C';
            d[p + 1] = 'D';
            p = rnd(30000);
            d[p] = 'A';
            p += 1 + 34995 + rnd(10);
            d[p] = 'B';
            d[p + 1 + 290 + rnd(620)] = 'C';
        }
        vs_lin_span = UINT32_MAX;
        struct vsig_db *ref = load("c.ndb", db);
        vs_lin_span = 0;
        struct vsig_db *lin = load("c.ndb", db);
        vs_lin_span = 256;
        size_t piece = round % 3 == 0 ? sizeof d : 1 + rnd(5000);
        scan_opt(ref, d, sizeof d, sizeof d, round % 2, &h1);
        scan_opt(lin, d, sizeof d, piece, round % 2, &h2);
        total += (unsigned)h1.total;
        bad += !same(&h1, &h2);
        vsig_db_unref(ref);
        vsig_db_unref(lin);
    }
    CHECK(bad == 0, "parts after ranges over 32 KiB: same matches (%u)", total);
    CHECK(total >= 8, "those signatures match often enough (%u)", total);
}

int main(void)
{
    test_cost();
    test_same_matches();
    test_long_chains();
    return failures != 0;
}
