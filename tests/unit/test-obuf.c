/* The output buffer's number writers against printf: edges (0, one and
 * two digits, powers of ten and of sixteen, the largest values) and a
 * million pseudo-random values of every magnitude. */
#undef NDEBUG
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "trace/internal.h"

#include "check.h"

static uint64_t rng = 88172645463325252ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng >> (rng % 64);
}

/* One value through every writer; false at the first that differs. */
static bool same(uint64_t v)
{
    char buf[128], ref[128];
    struct obuf o;
    ob_init(&o, buf, sizeof buf);
    ob_udec(&o, v);
    ob_putc(&o, ' ');
    ob_dec(&o, (int64_t)v);
    ob_putc(&o, ' ');
    ob_hex(&o, v);
    ob_putc(&o, ' ');
    ob_qhex(&o, v);
    buf[o.pos] = '\0';
    snprintf(ref, sizeof ref,
             "%" PRIu64 " %" PRId64 " %s%" PRIx64 " \"0x%" PRIx64 "\"", v,
             (int64_t)v, v ? "0x" : "", v, v);
    if (strcmp(buf, ref) != 0) {
        printf("%s\n%s\n", buf, ref);
        return false;
    }
    return true;
}

int main(void)
{
    bool ok = true;
    uint64_t p = 1;
    for (int i = 0; i < 20 && ok; i++, p *= 10)
        ok = same(p - 1) && same(p) && same(p + 1);
    for (int i = 0; i < 64 && ok; i++)
        ok = same((1ull << i) - 1) && same(1ull << i);
    ok = ok && same(0) && same(UINT64_MAX) && same(UINT64_MAX - 1) &&
         same((uint64_t)INT64_MIN) && same((uint64_t)INT64_MAX);
    CHECK(ok, "edges as printf writes them");
    ok = true;
    for (int i = 0; i < 1000000 && ok; i++)
        ok = same(next());
    CHECK(ok, "a million values as printf writes them");
    struct obuf o;
    char small[8];
    ob_init(&o, small, sizeof small);
    ob_udec(&o, 1234567);
    ob_udec(&o, 1);
    CHECK(o.full && o.pos == 7 && !memcmp(small, "1234567", 7),
          "what does not fit is left out, whole");
    return failures != 0;
}
