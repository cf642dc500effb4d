/* The JSON of --callers' chain and branches (docs/callers.md,
 * docs/events.md). Addresses are strings, as "ip" is: JSON numbers lose
 * precision above 2^53 in many readers. */
#include "trace/internal.h"

/* Addresses by hand, written in place: an event can hold a thousand, and
 * printf per address made the consumer the bottleneck of a traced run
 * (then a copy per address still was a tenth of its time). */
size_t branch_json_at(char *d, const struct vigil_branch *b)
{
    size_t n = 0;
    d[n++] = '[';
    n += qhex_at(d + n, b->from);
    d[n++] = ',';
    n += qhex_at(d + n, b->to);
    d[n++] = ']';
    return n;
}

/* A [from,to] pair, formatted in place when the buffer surely has room,
 * else through ob_put and its sticky "full" rules. */
static void put_branch(struct obuf *o, const struct vigil_branch *b, bool first)
{
    char tmp[BRANCH_JSON_MAX + 1];
    bool direct = !o->full && o->len - o->pos >= sizeof tmp;
    char *d = direct ? o->p + o->pos : tmp;
    size_t n = 0;
    if (!first)
        d[n++] = ',';
    n += branch_json_at(d + n, b);
    if (direct)
        o->pos += n;
    else
        ob_put(o, tmp, n);
}

void ob_callers_json(struct obuf *o, const struct vigil_callers *c)
{
    if (c == NULL)
        return;
    ob_puts(o, ",\"chain\":");
    if (c->chain_json != NULL) {
        ob_put(o, c->chain_json, c->chain_json_len);
    } else {
        ob_putc(o, '[');
        for (unsigned i = 0; i < c->nchain && !o->full; i++) {
            if (i)
                ob_putc(o, ',');
            ob_qhex(o, c->chain[i]);
        }
        ob_putc(o, ']');
    }
    if (c->chain_trunc)
        ob_puts(o, ",\"chain_truncated\":true");
    ob_puts(o, ",\"branches\":");
    if (c->branches_json != NULL) {
        ob_put(o, c->branches_json, c->branches_json_len);
    } else {
        ob_putc(o, '[');
        for (unsigned i = 0; i < c->nbranch && !o->full; i++)
            put_branch(o, &c->branches[i], i == 0);
        ob_putc(o, ']');
    }
    if (c->partial)
        ob_puts(o, ",\"branches_partial\":true");
}
