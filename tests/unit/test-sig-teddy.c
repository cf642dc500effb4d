/* The SIMD first stage of the prefilter (lib/sig/teddy.c).
 *
 * 1. vs_teddy_scan() against a byte-at-a-time reading of the same nibble
 *    tables, over random data and every alignment of the range, and its
 *    candidates against the positions whose bytes pass an entry's pre-check
 *    word (a superset is required: a missed one would be a missed match;
 *    the stage looks at the 3 bytes of the gram only).
 * 2. Whole databases of short and long signatures compiled with and without
 *    the stage (vs_teddy_off) report the same matches, whole and in pieces,
 *    and the stage is really in use in the first. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "xorshift.h"
#include "sig/sig-int.h"
#include "vigil/sig.h"
#include "sighits.h"

static uint64_t rs = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
    return (uint32_t)(xorshift64(&rs) >> 11);
}

static uint8_t buckets_at(const uint8_t *t, const uint8_t *p)
{
    uint8_t m = 0xff;
    for (unsigned j = 0; j < 3; j++)
        m &= t[64 * j + (p[j] & 15)] & t[64 * j + 32 + (p[j] >> 4)];
    return m;
}

static uint64_t load64(const uint8_t *p)
{
    uint64_t x = 0;
    for (unsigned k = 0; k < 8; k++)
        x |= (uint64_t)p[k] << (8 * k);
    return x;
}

/* Random entries (a gram, and a 4th byte fixed, a nibble of it, or
 * nothing, as pre-check words hold them) over random data with some of
 * them planted. */
static void test_scan(unsigned ngrams, unsigned rounds)
{
    static uint8_t data[4096 + 64];
    static uint32_t out[4096 + 1];
    static const uint64_t m4[] = {0, 0xff, 0x0f, 0xf0};
    unsigned missed = 0, differ = 0, starts = 0;

    for (unsigned round = 0; round < rounds; round++) {
        struct vs_group g = {.g = 3, .S = 1, .nent = ngrams};
        g.ents = calloc(ngrams, sizeof *g.ents);
        g.pk = calloc(ngrams, sizeof *g.pk);
        /* Grams over a small alphabet, so the data holds many. */
        for (unsigned k = 0; k < ngrams; k++) {
            uint64_t x = (uint64_t)(0x40 + rnd() % 6) |
                         (uint64_t)(0x40 + rnd() % 6) << 8 |
                         (uint64_t)(rnd() % 256) << 16 |
                         (uint64_t)(0x40 + rnd() % 6) << 24;
            uint64_t m = 0xffffff | m4[rnd() % 4] << 24;
            g.ents[k].gram = x & 0xffffff;
            g.pk[k] = (struct vs_pk){(x & m) << 16, m << 16};
        }
        CHECK_QUIET(vs_teddy_build(&g) == 0 && g.teddy != NULL,
                    "vs_teddy_build() gives tables");
        for (size_t i = 0; i < sizeof data; i++)
            data[i] = rnd() % 4 ? (uint8_t)(0x40 + rnd() % 6) : (uint8_t)rnd();
        for (unsigned k = 0; k < 20; k++) {
            uint64_t x = g.pk[rnd() % ngrams].v >> 16;
            memcpy(data + 2 + rnd() % 4000, &x, 4);
        }
        uint32_t r = 2 + rnd() % 40, end = r + rnd() % 4000;
        size_t n = vs_teddy_scan(g.teddy, data + r, r, end, out);
        size_t k = 0;
        for (uint32_t j = r; j < end; j++) {
            bool cand = buckets_at(g.teddy, data + j) != 0;
            bool at = k < n && out[k] == j;
            if (cand != at)
                differ++;
            k += at;
            uint64_t x = load64(data + j - 2);
            for (unsigned e = 0; e < ngrams; e++)
                if ((x & g.pk[e].m) == g.pk[e].v) {
                    starts++;
                    missed += !at;
                    break;
                }
        }
        CHECK_QUIET(k == n, "every candidate lies in the range, in order");
        free(g.ents);
        free(g.pk);
        free(g.teddy);
    }
    CHECK(differ == 0 && missed == 0 && starts > rounds,
          "SIMD pass, %u entries: %u possible starts found, %u missed, %u "
          "positions differ from the byte-wise tables",
          ngrams, starts, missed, differ);
}

static int cmp_hit(const void *x, const void *y)
{
    const struct hit *a = x, *b = y;
    if (a->sig != b->sig)
        return a->sig < b->sig ? -1 : 1;
    if (a->off != b->off)
        return a->off < b->off ? -1 : 1;
    return a->end < b->end ? -1 : a->end > b->end;
}

static void sort_hits(struct hits *h)
{
    qsort(h->h, h->n, sizeof h->h[0], cmp_hit);
}

static void drop_star(struct hits *h, const bool *star)
{
    size_t m = 0;
    for (size_t i = 0; i < h->n; i++)
        if (!star[h->h[i].sig])
            h->h[m++] = h->h[i];
    h->n = m;
}

static const char hexd[] = "0123456789abcdef";
static const uint8_t alpha[] = {'a', 'b', 'c', 'd', 0x90, 0x00};

/* A random signature: a short one (4-5 bytes, sometimes a ?? or a nibble
 * inside) or a long one (8-20 bytes, sometimes with a bounded gap or a
 * `*`). */
static void gen(char *out, size_t cap, uint8_t *lit, size_t *nlit, bool *star)
{
    bool shortsig = rnd() % 2;
    unsigned len = shortsig ? 4 + rnd() % 2 : 8 + rnd() % 13;
    size_t o = 0;
    *nlit = 0;
    *star = false;
    for (unsigned i = 0; i < len && o + 8 < cap; i++) {
        uint8_t b = alpha[rnd() % sizeof alpha];
        lit[(*nlit)++] = b;
        unsigned kind = rnd() % 16;
        if (i > 0 && i + 1 < len && kind == 0 && !shortsig) {
            o += (size_t)snprintf(out + o, cap - o, "{0-3}");
        } else if (i > 3 && i + 4 < len && kind == 3 && !shortsig) {
            out[o++] = '*';
            *star = true;
        } else if (i > 0 && i + 1 < len && kind == 1) {
            out[o++] = '?';
            out[o++] = '?';
            continue;
        } else if (i > 0 && i + 1 < len && kind == 2) {
            out[o++] = hexd[b >> 4];
            out[o++] = '?';
            continue;
        }
        out[o++] = hexd[b >> 4];
        out[o++] = hexd[b & 15];
    }
    out[o] = '\0';
}

static void test_databases(unsigned rounds)
{
    static char text[64 * 1024];
    static uint8_t data[16384];
    static struct hits a, b, c;
    unsigned used = 0, total = 0;

    for (unsigned round = 0; round < rounds; round++) {
        unsigned nsig = 5 + rnd() % 60;
        size_t tl = 0;
        uint8_t lits[64][24];
        size_t nl[64];
        bool star[64];
        for (unsigned i = 0; i < nsig; i++) {
            char hex[128];
            gen(hex, sizeof hex, lits[i], &nl[i], &star[i]);
            tl += (size_t)snprintf(text + tl, sizeof text - tl, "T%u:0:*:%s\n",
                                   i, hex);
        }
        size_t n = 1000 + rnd() % 15000;
        for (size_t i = 0; i < n; i++)
            data[i] = alpha[rnd() % sizeof alpha];
        for (unsigned k = 0; k < 30; k++) {
            unsigned i = rnd() % nsig;
            size_t at = rnd() % n;
            size_t l = nl[i] < n - at ? nl[i] : n - at;
            memcpy(data + at, lits[i], l);
        }
        struct vsig_db *on, *off;
        if (vsig_db_load(&on, "t.ndb", text, tl, NULL) < 0)
            abort();
        vs_teddy_off = true;
        if (vsig_db_load(&off, "t.ndb", text, tl, NULL) < 0)
            abort();
        vs_teddy_off = false;
        for (unsigned gi = 0; gi < on->ngroups; gi++)
            used += on->groups[gi].teddy != NULL;
        hits_scan(off, data, n, n, &a);
        hits_scan(on, data, n, n, &b);
        hits_scan(on, data, n, 1 + rnd() % 700, &c);
        total += (unsigned)a.n;
        /* The set of matches must agree; their order follows the anchors,
         * which the SIMD stage changes (a short anchor, found at every
         * position, may report before a long one of an earlier match). */
        sort_hits(&a);
        sort_hits(&b);
        sort_hits(&c);
        /* Where a multi-part (`*`) match starts depends on the order in
         * which its parts' anchors are met, and the stage moves anchors:
         * such signatures must match in both, at any offsets. */
        bool in_a[64] = {false}, in_b[64] = {false};
        for (size_t i = 0; i < a.n; i++)
            in_a[a.h[i].sig] = true;
        for (size_t i = 0; i < b.n; i++)
            in_b[b.h[i].sig] = true;
        CHECK_QUIET(memcmp(in_a, in_b, sizeof in_a) == 0,
                    "round %u: the same signatures match with and without "
                    "the SIMD stage",
                    round);
        drop_star(&a, star);
        drop_star(&b, star);
        drop_star(&c, star);
        CHECK_QUIET(a.n == b.n && memcmp(a.h, b.h, a.n * sizeof a.h[0]) == 0,
                    "round %u: same matches with and without the SIMD stage",
                    round);
        CHECK_QUIET(b.n == c.n && memcmp(b.h, c.h, b.n * sizeof b.h[0]) == 0,
                    "round %u: same matches in pieces", round);
        vsig_db_unref(on);
        vsig_db_unref(off);
    }
    CHECK(used >= rounds / 2 && total > rounds,
          "%u databases: SIMD stage used in %u, %u matches compared", rounds,
          used, total);
}

int main(void)
{
    if (!vs_have_avx2()) {
        printf("skip: no AVX2, the SIMD stage is not used on this CPU\n");
        return 77;
    }
    test_scan(1, 50);
    test_scan(9, 100);
    test_scan(64, 100);
    test_scan(VS_TEDDY_MAX, 50);
    test_databases(200);
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("ok\n");
    return 0;
}
