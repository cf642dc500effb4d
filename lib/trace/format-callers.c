/* The JSON of --callers' chain and branches (docs/callers.md,
 * docs/events.md). Addresses are strings, as "ip" is: JSON numbers lose
 * precision above 2^53 in many readers. */
#include <string.h>

#include "trace/internal.h"

/* "0x..." by hand, written in place: an event can hold a thousand
 * addresses, and printf per address made the consumer the bottleneck of a
 * traced run (then a copy per address still was a tenth of its time, and
 * a digit at a time the largest part of what was left).
 * @d has room for ADDR_MAX bytes; returns the bytes written. */
#define ADDR_MAX 20 /* "0x" and 16 digits, quoted */

/* The 8 hex digits of @v as 8 characters, the most significant first in
 * memory: each nibble spread to a byte, then '0' added, and 'a' - '0' - 10
 * more where the nibble is 10 or above (adding 6 carries into bit 4). */
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

static size_t addr_at(char *d, uint64_t a)
{
    unsigned nd = a != 0 ? (67u - (unsigned)__builtin_clzll(a)) / 4 : 1;
    char t[16];
    uint64_t hi = hex8((uint32_t)(a >> 32)), lo = hex8((uint32_t)a);
    memcpy(t, &hi, 8);
    memcpy(t + 8, &lo, 8);
    d[0] = '"';
    d[1] = '0';
    d[2] = 'x';
    /* The last nd of the 16 digits, in two copies of constant size. */
    if (nd >= 8) {
        memcpy(d + 3, t + 16 - nd, 8);
        memcpy(d + 3 + nd - 8, t + 8, 8);
    } else {
        for (unsigned k = 0; k < nd; k++)
            d[3 + k] = t[16 - nd + k];
    }
    d[3 + nd] = '"';
    return 4 + nd;
}

static void put_addr(struct obuf *o, uint64_t a)
{
    char tmp[ADDR_MAX];
    ob_put(o, tmp, addr_at(tmp, a));
}

/* A [from,to] pair, formatted in place when the buffer surely has room,
 * else through ob_put and its sticky "full" rules. */
static void put_branch(struct obuf *o, const struct vigil_branch *b, bool first)
{
    char tmp[2 * ADDR_MAX + 4];
    bool direct = !o->full && o->len - o->pos >= sizeof tmp;
    char *d = direct ? o->p + o->pos : tmp;
    size_t n = 0;
    if (!first)
        d[n++] = ',';
    d[n++] = '[';
    n += addr_at(d + n, b->from);
    d[n++] = ',';
    n += addr_at(d + n, b->to);
    d[n++] = ']';
    if (direct)
        o->pos += n;
    else
        ob_put(o, tmp, n);
}

void ob_callers_json(struct obuf *o, const struct vigil_callers *c)
{
    if (c == NULL)
        return;
    ob_puts(o, ",\"chain\":[");
    for (unsigned i = 0; i < c->nchain && !o->full; i++) {
        if (i)
            ob_putc(o, ',');
        put_addr(o, c->chain[i]);
    }
    ob_putc(o, ']');
    if (c->chain_trunc)
        ob_puts(o, ",\"chain_truncated\":true");
    ob_puts(o, ",\"branches\":[");
    for (unsigned i = 0; i < c->nbranch && !o->full; i++)
        put_branch(o, &c->branches[i], i == 0);
    ob_putc(o, ']');
    if (c->partial)
        ob_puts(o, ",\"branches_partial\":true");
}
