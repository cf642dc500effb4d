/* The prefilter's pruning of gram hits (lib/sig/prefilter.c, group.c):
 * the window filter of short anchors and the live bits that follow the
 * chains' progress.  Both only drop hits that could not lead anywhere, so
 * databases compiled with and without them (vs_prune_off) must report the
 * very same matches, in the same order, whole and in pieces.
 *
 * The signatures are built to exercise both: multi-part signatures whose
 * parts are common short words of the data (chains start, restart and
 * complete all the time), bounded and unbounded gaps, small byte sets in
 * the anchor windows, single-part literals, and in every other database
 * logical signatures of such subsignatures (repeats of a matched one are
 * dropped by their live bits); the data is those words and random bytes. */
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

static const char *const words[] = {"func",
                                    "wind",
                                    "docum",
                                    "tion",
                                    "init",
                                    "exec",
                                    "ment",
                                    "ring",
                                    "data",
                                    "call",
                                    "alloc",
                                    "free",
                                    "\x8b\x45\xfc\x89",
                                    "\x48\x89\xe5\x41"};
#define NWORDS (sizeof words / sizeof words[0])

/* The matches of @d in pieces of @piece bytes; with @again, the stream
 * first scans @d whole and is reset, so that what the first object left
 * (chains, counts, live bits) must not change the second's matches. */
static void scan(struct vsig_db *db, const uint8_t *d, size_t n, size_t piece,
                 bool again, struct hits *hs)
{
    struct vsig_stream *s;
    hs->n = 0;
    if (vsig_stream_new(&s, db, NULL, hits_collect, hs) < 0)
        abort();
    if (again) {
        if (vsig_stream_feed(s, d, n) < 0 || vsig_stream_end(s) < 0 ||
            vsig_stream_reset(s, NULL, NULL) < 0)
            abort();
        hs->n = 0;
    }
    for (size_t p = 0; p < n; p += piece) {
        size_t k = n - p < piece ? n - p : piece;
        if (vsig_stream_feed(s, d + p, k) < 0)
            abort();
    }
    if (vsig_stream_end(s) < 0)
        abort();
    vsig_stream_free(s);
}

static size_t hex(char *out, const char *w)
{
    static const char hd[] = "0123456789abcdef";
    size_t o = 0;
    for (; *w; w++) {
        uint8_t b = (uint8_t)*w;
        /* Now and then a small set in the window: a letter either case. */
        if (b >= 'a' && b <= 'z' && rnd() % 8 == 0) {
            o += (size_t)sprintf(out + o, "(%c%c|%c%c)", hd[b >> 4], hd[b & 15],
                                 hd[(b - 32) >> 4], hd[(b - 32) & 15]);
            continue;
        }
        out[o++] = hd[b >> 4];
        out[o++] = hd[b & 15];
    }
    return o;
}

/* A signature body: 1 to 4 parts, each a word or a random literal. */
static size_t body(char *out)
{
    size_t o = 0;
    unsigned parts = 1 + rnd() % 4;
    for (unsigned p = 0; p < parts; p++) {
        if (p > 0) {
            unsigned k = rnd() % 4;
            if (k == 0)
                out[o++] = '*';
            else if (k == 1)
                o += (size_t)sprintf(out + o, "{%u-%u}", rnd() % 4,
                                     4 + rnd() % 40);
            else if (k == 2)
                o += (size_t)sprintf(out + o, "{%u}", 1 + rnd() % 6);
            else
                o += (size_t)sprintf(out + o, "{%u-}", rnd() % 8);
        }
        if (rnd() % 3) {
            o += hex(out + o, words[rnd() % NWORDS]);
        } else {
            char lit[16];
            unsigned n = 4 + rnd() % 10;
            for (unsigned i = 0; i < n; i++)
                lit[i] = (char)(1 + rnd() % 255);
            lit[n] = '\0';
            o += hex(out + o, lit);
        }
    }
    return o;
}

/* One line: an .ndb signature, or a logical one of 2 or 3 subsignatures
 * with only '&' and '|' (whose repeated subsignature matches are dropped
 * by their live bits) or with a count. */
static size_t gen(char *out, unsigned id, bool ldb)
{
    size_t o;
    if (!ldb) {
        o = (size_t)sprintf(out, "P%u:0:*:", id);
        o += body(out + o);
    } else {
        static const char *const expr[] = {"0&1",   "0|1", "(0|1)&2",
                                           "0&1&2", "0>2", "(0&1)|2"};
        const char *e = expr[rnd() % 6];
        unsigned nsub = strchr(e, '2') ? 3 : 2;
        o = (size_t)sprintf(out, "L%u;Target:0;%s", id, e);
        for (unsigned i = 0; i < nsub; i++) {
            out[o++] = ';';
            o += body(out + o);
        }
    }
    out[o++] = '\n';
    return o;
}

int main(void)
{
    static char text[128 * 1024];
    static uint8_t data[65536];
    static struct hits a, b, c;
    unsigned rounds = 150, filtered = 0;
    size_t total = 0;

    for (unsigned round = 0; round < rounds; round++) {
        unsigned nsig = 5 + rnd() % 200;
        bool ldb = round % 2;
        const char *name = ldb ? "p.ldb" : "p.ndb";
        size_t tl = 0;
        for (unsigned i = 0; i < nsig; i++)
            tl += gen(text + tl, i, ldb);
        size_t n = 4096 + rnd() % (sizeof data - 4096);
        for (size_t i = 0; i < n;) {
            if (rnd() % 3) {
                const char *w = words[rnd() % NWORDS];
                size_t l = strlen(w);
                memcpy(data + i, w, l < n - i ? l : n - i);
                i += l;
            } else {
                data[i++] = (uint8_t)(rnd() % 4 ? ' ' + rnd() % 90 : rnd());
            }
        }
        struct vsig_db *on, *off;
        if (vsig_db_load(&on, name, text, tl, NULL) < 0)
            abort();
        vs_prune_off = true;
        if (vsig_db_load(&off, name, text, tl, NULL) < 0)
            abort();
        vs_prune_off = false;
        for (unsigned gi = 0; gi < on->ngroups; gi++)
            filtered += on->groups[gi].wf != NULL;
        scan(off, data, n, n, false, &a);
        scan(on, data, n, n, false, &b);
        scan(on, data, n, 1 + rnd() % 3000, true, &c);
        total += a.n;
        CHECK_QUIET(a.n == b.n && memcmp(a.h, b.h, a.n * sizeof a.h[0]) == 0,
                    "round %u: the same matches with and without pruning "
                    "(%zu and %zu)",
                    round, a.n, b.n);
        CHECK_QUIET(b.n == c.n && memcmp(b.h, c.h, b.n * sizeof b.h[0]) == 0,
                    "round %u: the same matches in pieces, after a reset",
                    round);
        vsig_db_unref(on);
        vsig_db_unref(off);
    }
    CHECK(filtered >= rounds / 2 && total > 10 * rounds,
          "%u databases: window filter in %u, %zu matches compared", rounds,
          filtered, total);
    return failures != 0;
}
