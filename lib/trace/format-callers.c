/* The JSON of --callers' chain and branches (docs/callers.md,
 * docs/events.md). Addresses are strings, as "ip" is: JSON numbers lose
 * precision above 2^53 in many readers. */
#include "trace/internal.h"

/* "0x..." by hand: an event can hold a thousand addresses, and printf per
 * address made the consumer the bottleneck of a traced run. */
static void put_addr(struct obuf *o, uint64_t a)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[20];
    size_t i = sizeof tmp;
    tmp[--i] = '"';
    do {
        tmp[--i] = digits[a & 15];
        a >>= 4;
    } while (a != 0);
    tmp[--i] = 'x';
    tmp[--i] = '0';
    tmp[--i] = '"';
    ob_put(o, tmp + i, sizeof tmp - i);
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
    for (unsigned i = 0; i < c->nbranch && !o->full; i++) {
        ob_puts(o, i ? ",[" : "[");
        put_addr(o, c->branches[i].from);
        ob_putc(o, ',');
        put_addr(o, c->branches[i].to);
        ob_putc(o, ']');
    }
    ob_putc(o, ']');
}
