/* The JSON of --callers' chain and branches (docs/callers.md,
 * docs/events.md). Addresses are strings, as "ip" is: JSON numbers lose
 * precision above 2^53 in many readers. */
#include "trace/internal.h"

static void put_addr(struct obuf *o, uint64_t a)
{
    ob_puts(o, "\"0x");
    ob_printf(o, "%llx", (unsigned long long)a);
    ob_putc(o, '"');
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
