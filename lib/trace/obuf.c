/* A bounded output buffer for the formatters: appends that never overflow
 * and a sticky "did not fit" flag, so formatters need no length checks. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "trace/internal.h"

void ob_init(struct obuf *o, char *buf, size_t len)
{
    o->p = buf;
    o->len = len;
    o->pos = 0;
    o->full = len == 0;
}

void ob_printf(struct obuf *o, const char *fmt, ...)
{
    va_list ap;
    size_t avail;
    int n;

    if (o->full)
        return;
    avail = o->len - o->pos;
    va_start(ap, fmt);
    n = vsnprintf(o->p + o->pos, avail, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= avail) {
        o->full = true;
        return;
    }
    o->pos += (size_t)n;
}

/* Two digits at a time: an event's numbers (nanosecond times, ids,
 * arguments) are dozens of digits, a digit a division. */
static const char two_digits[201] = "0001020304050607080910111213141516171819"
                                    "2021222324252627282930313233343536373839"
                                    "4041424344454647484950515253545556575859"
                                    "6061626364656667686970717273747576777879"
                                    "8081828384858687888990919293949596979899";

void ob_udec(struct obuf *o, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof(tmp);

    while (v >= 100) {
        i -= 2;
        memcpy(tmp + i, two_digits + 2 * (v % 100), 2);
        v /= 100;
    }
    if (v >= 10) {
        i -= 2;
        memcpy(tmp + i, two_digits + 2 * v, 2);
    } else {
        tmp[--i] = (char)('0' + v);
    }
    ob_put(o, tmp + i, sizeof(tmp) - i);
}

void ob_dec(struct obuf *o, int64_t v)
{
    if (v < 0) {
        ob_putc(o, '-');
        ob_udec(o, (uint64_t)0 - (uint64_t)v);
    } else {
        ob_udec(o, (uint64_t)v);
    }
}

/* The 8 hex digits of @v as 8 characters, the most significant first in
 * memory: each nibble spread to a byte, then '0' added, and 'a' - '0' - 10
 * more where the nibble is 10 or above (adding 6 carries into bit 4). No
 * loop per digit: --callers events hold dozens of addresses each. */
static uint64_t hex8(uint32_t v)
{
    uint64_t x = v;
    x = (x | x << 16) & 0x0000ffff0000ffffull;
    x = (x | x << 8) & 0x00ff00ff00ff00ffull;
    x = (x | x << 4) & 0x0f0f0f0f0f0f0f0full;
    x = __builtin_bswap64(x);
    uint64_t alpha = (x + 0x0606060606060606ull) >> 4 & 0x0101010101010101ull;
    return x + 0x3030303030303030ull + alpha * ('a' - '0' - 10);
}

size_t hex_digits(char *d, uint64_t v)
{
    unsigned nd = v != 0 ? (67u - (unsigned)__builtin_clzll(v)) / 4 : 1;
    char t[16];
    uint64_t hi = hex8((uint32_t)(v >> 32)), lo = hex8((uint32_t)v);
    memcpy(t, &hi, 8);
    memcpy(t + 8, &lo, 8);
    /* The last nd of the 16 digits, in copies of constant size. */
    if (nd >= 8) {
        memcpy(d, t + 16 - nd, 8);
        memcpy(d + nd - 8, t + 8, 8);
    } else {
        for (unsigned k = 0; k < nd; k++)
            d[k] = t[16 - nd + k];
    }
    return nd;
}

void ob_hex(struct obuf *o, uint64_t v)
{
    char tmp[18] = "0x";
    if (v == 0)
        ob_putc(o, '0');
    else
        ob_put(o, tmp, 2 + hex_digits(tmp + 2, v));
}

size_t qhex_at(char *d, uint64_t v)
{
    d[0] = '"';
    d[1] = '0';
    d[2] = 'x';
    size_t n = 3 + hex_digits(d + 3, v);
    d[n] = '"';
    return n + 1;
}

void ob_qhex(struct obuf *o, uint64_t v)
{
    char tmp[QHEX_MAX];
    ob_put(o, tmp, qhex_at(tmp, v));
}

/* The one-letter escape both quotings share; C has \v where JSON has \b.
 * 0: the byte has none. */
static char escape_letter(uint8_t c, bool json)
{
    switch (c) {
    case '"':
        return '"';
    case '\\':
        return '\\';
    case '\f':
        return 'f';
    case '\n':
        return 'n';
    case '\r':
        return 'r';
    case '\t':
        return 't';
    case '\b':
        return json ? 'b' : 0;
    case '\v':
        return json ? 0 : 'v';
    default:
        return 0;
    }
}

/* A byte with no one-letter escape and no printable self: C's shortest
 * octal (all three digits when an octal digit follows, which would
 * otherwise be read as part of the escape), or JSON's \u00XX. */
static void ob_escape_code(struct obuf *o, uint8_t c, bool digit_follows,
                           bool json)
{
    static const char digits[] = "0123456789abcdef";
    char e[6];
    size_t k = 0;

    e[k++] = '\\';
    if (json) {
        e[k++] = 'u';
        e[k++] = '0';
        e[k++] = '0';
        e[k++] = digits[c >> 4];
        e[k++] = digits[c & 15];
    } else {
        if (digit_follows || c >= 0100)
            e[k++] = (char)('0' + (c >> 6));
        if (digit_follows || c >= 010)
            e[k++] = (char)('0' + ((c >> 3) & 7));
        e[k++] = (char)('0' + (c & 7));
    }
    ob_put(o, e, k);
}

static void ob_quote(struct obuf *o, const uint8_t *s, size_t n, bool json)
{
    for (size_t i = 0; i < n && !o->full; i++) {
        uint8_t c = s[i];
        char esc = escape_letter(c, json);
        if (esc) {
            char e[2] = {'\\', esc};
            ob_put(o, e, 2);
        } else if (c >= 0x20 && c < 0x7f) {
            ob_putc(o, (char)c);
        } else {
            ob_escape_code(
                o, c, i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '7', json);
        }
    }
}

void ob_cquote(struct obuf *o, const uint8_t *s, size_t n)
{
    ob_quote(o, s, n, false);
}

void ob_xquote(struct obuf *o, const uint8_t *s, size_t n)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n && !o->full; i++) {
        char e[4] = {'\\', 'x', digits[s[i] >> 4], digits[s[i] & 15]};
        ob_put(o, e, 4);
    }
}

void ob_jquote(struct obuf *o, const uint8_t *s, size_t n)
{
    ob_quote(o, s, n, true);
}

int ob_finish(struct obuf *o)
{
    if (o->full || o->pos >= o->len || o->pos > INT_MAX) {
        if (o->len)
            o->p[0] = '\0';
        return -ENOSPC;
    }
    o->p[o->pos] = '\0';
    return (int)o->pos;
}
