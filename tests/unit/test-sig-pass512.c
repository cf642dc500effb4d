/* The AVX-512 sampling pass (lib/sig/pass512.c).
 *
 * 1. vs_pass512() against a position-by-position reading of the same bloom
 *    filter (VS_H1S), for each class it serves, filters of every size the
 *    compiler makes (12 to 25 bits) and of every density, random ranges
 *    (shorter and longer than one 64-byte step) and alignments: the same
 *    positions in the same order.
 * 2. Databases of literal, wildcard and bounded-gap signatures scanned with
 *    and without it (vs_pass512_off), whole and in pieces: the same matches
 *    in the same order. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "xorshift.h"
#include "sig/sig-int.h"
#include "vigil/sig.h"
#include "sighits.h"

static uint64_t rs = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
    return (uint32_t)(xorshift64(&rs) >> 11);
}

static const unsigned cls_g[] = {[2] = 4, [3] = 4, [4] = 3, [5] = 3};
static const unsigned cls_s[] = {[2] = 5, [3] = 3, [4] = 2, [5] = 1};

static size_t reference(const uint64_t *bloom, unsigned g, unsigned S,
                        unsigned mbits, uint64_t mul, const uint8_t *p,
                        uint32_t r, uint32_t end, uint32_t *out)
{
    size_t n = 0;
    for (; r < end; r += S, p += S) {
        uint64_t x = (uint64_t)p[0] | (uint64_t)p[1] << 8 |
                     (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
        if (g == 3)
            x &= 0xffffff;
        uint64_t h = VS_H1S(x, mul, mbits);
        if ((bloom[h >> 6] >> (h & 63)) & 1)
            out[n++] = r;
    }
    return n;
}

static void test_pass(unsigned rounds)
{
    static uint8_t data[8192 + 64];
    static uint32_t a[8192 + 16], b[8192 + 16];
    static const uint64_t muls[] = {VS_HASHMUL, 0xC2B2AE3D27D4EB4Full,
                                    0xD6E8FEB86659FD93ull};
    unsigned differ = 0, hits = 0, cases = 0;

    for (unsigned round = 0; round < rounds; round++) {
        unsigned cls = 2 + rnd() % 4, mbits = 12 + rnd() % 14;
        size_t words = ((size_t)1 << mbits) / 64;
        uint64_t *bloom = aligned_alloc(64, words * sizeof *bloom);
        /* From an empty filter to a full one. */
        unsigned density = rnd() % 5;
        for (size_t i = 0; i < words; i++)
            bloom[i] =
                density == 4 ? ~0ull
                : density == 0
                    ? 0
                    : xorshift64(&rs) &
                          (density == 1 ? xorshift64(&rs) & xorshift64(&rs)
                                        : ~0ull);
        for (size_t i = 0; i < sizeof data; i++)
            data[i] = rnd() % 3 ? (uint8_t)(0x40 + rnd() % 8) : (uint8_t)rnd();
        uint64_t mul = muls[rnd() % 3];
        uint32_t r = rnd() % 100, end = r + rnd() % (rnd() % 2 ? 200 : 8000);
        unsigned g = cls_g[cls], S = cls_s[cls];
        size_t n1 = reference(bloom, g, S, mbits, mul, data + r, r, end, a);
        size_t n2 = vs_pass512(cls, bloom, mbits, mul, data + r, r, end, b);
        cases++;
        hits += (unsigned)n1;
        if (n1 != n2 || memcmp(a, b, n1 * sizeof a[0]) != 0)
            differ++;
        free(bloom);
    }
    CHECK(differ == 0 && hits > rounds,
          "AVX-512 pass: %u ranges, %u positions found by both, %u differ",
          cases, hits, differ);
}

/* The matches with the AVX-512 pass switched off (@off) or not. */
static void scan(struct vsig_db *db, bool off, const uint8_t *d, size_t n,
                 size_t piece, struct hits *h)
{
    vs_pass512_off = off; /* read when the stream is made */
    hits_scan(db, d, n, piece, h);
    vs_pass512_off = false;
}

static const char hexd[] = "0123456789abcdef";
static const uint8_t alpha[] = {'a', 'b', 'c', 'd', 'e', 0x90, 0x00, 0x48};

/* A signature of 4-30 bytes over a small alphabet, sometimes with ??, a
 * nibble or a bounded gap inside; its bytes go to @lit for planting. */
static void gen(char *out, size_t cap, uint8_t *lit, size_t *nlit)
{
    unsigned len = 4 + rnd() % 27;
    size_t o = 0;
    *nlit = 0;
    for (unsigned i = 0; i < len && o + 8 < cap; i++) {
        uint8_t c = alpha[rnd() % sizeof alpha];
        unsigned kind = rnd() % 24;
        lit[(*nlit)++] = c;
        if (i > 0 && i + 1 < len && kind == 0) {
            o += (size_t)snprintf(out + o, cap - o, "{0-4}");
        } else if (i > 0 && i + 1 < len && kind == 1) {
            out[o++] = '?';
            out[o++] = '?';
            continue;
        } else if (i > 0 && i + 1 < len && kind == 2) {
            out[o++] = hexd[c >> 4];
            out[o++] = '?';
            continue;
        }
        out[o++] = hexd[c >> 4];
        out[o++] = hexd[c & 15];
    }
    out[o] = '\0';
}

static void test_databases(unsigned rounds)
{
    static char text[128 * 1024];
    static uint8_t data[32768];
    static struct hits a, b, c;
    unsigned total = 0;

    for (unsigned round = 0; round < rounds; round++) {
        unsigned nsig = 5 + rnd() % 200;
        size_t tl = 0;
        static uint8_t lits[256][40];
        size_t nl[256];
        for (unsigned i = 0; i < nsig; i++) {
            char hex[160];
            gen(hex, sizeof hex, lits[i], &nl[i]);
            tl += (size_t)snprintf(text + tl, sizeof text - tl, "T%u:0:*:%s\n",
                                   i, hex);
        }
        size_t n = 1000 + rnd() % 30000;
        for (size_t i = 0; i < n; i++)
            data[i] = rnd() % 4 ? alpha[rnd() % sizeof alpha] : (uint8_t)rnd();
        for (unsigned k = 0; k < 40; k++) {
            unsigned i = rnd() % nsig;
            size_t at = rnd() % n;
            size_t l = nl[i] < n - at ? nl[i] : n - at;
            memcpy(data + at, lits[i], l);
        }
        struct vsig_db *db;
        if (vsig_db_load(&db, "t.ndb", text, tl, NULL) < 0)
            abort();
        scan(db, true, data, n, n, &a);
        scan(db, false, data, n, n, &b);
        scan(db, false, data, n, 1 + rnd() % 3000, &c);
        total += (unsigned)a.n;
        CHECK_QUIET(a.n == b.n && memcmp(a.h, b.h, a.n * sizeof a.h[0]) == 0,
                    "round %u: same matches with and without the AVX-512 "
                    "pass",
                    round);
        CHECK_QUIET(b.n == c.n && memcmp(b.h, c.h, b.n * sizeof b.h[0]) == 0,
                    "round %u: same matches in pieces", round);
        vsig_db_unref(db);
    }
    CHECK(total > rounds, "%u databases: %u matches compared", rounds, total);
}

int main(void)
{
    if (!vs_have_avx512()) {
        printf("skip: no AVX-512 VBMI, the pass is not used on this CPU\n");
        return 77;
    }
    test_pass(3000);
    test_databases(150);
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("ok\n");
    return 0;
}
