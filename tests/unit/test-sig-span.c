/* vsig_db_match_span (lib/sig/span.c): the longest bytes one match of a
 * database can cover, which the disk filter reads back around each write;
 * unbounded signatures are flagged, not counted. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "vigil/sig.h"

static void span_of(const char *name, const char *text, uint64_t want,
                    int want_unbounded)
{
    struct vsig_db *db;
    int r = vsig_db_load(&db, name, text, strlen(text), NULL);
    CHECK(r == 0, "load %s", text);
    if (r < 0)
        return;
    int unb = -1;
    uint64_t got = vsig_db_match_span(db, &unb);
    CHECK(got == want && unb == want_unbounded,
          "%s: span %llu (want %llu), unbounded %d (want %d)", text,
          (unsigned long long)got, (unsigned long long)want, unb,
          want_unbounded);
    vsig_db_unref(db);
}

int main(void)
{
    span_of("a.ndb", "A:0:*:41424344\n", 6, 0);
    span_of("a.ndb", "A:0:*:4142{10-20}4344\nB:0:*:41\n", 26, 0);
    span_of("a.ndb", "A:0:*:41??42\n", 5, 0);
    span_of("a.ndb", "A:0:*:4142*4344\nB:0:*:414243\n", 5, 1);
    span_of("a.ndb", "A:0:*:4142{5-}4344\n", 0, 1);
    span_of("a.ndb", "A:0:*:41(42|4343)44\n", 6, 0);
    /* Bounded gaps longer than a segment: several segments, still bounded. */
    span_of("a.ndb", "A:0:*:41424344{40000-40000}45464748\n", 40010, 0);
    span_of("a.ldb", "L;Target:0;0;41424344\n", 0, 1);
    return failures != 0;
}
