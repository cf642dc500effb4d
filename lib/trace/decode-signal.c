/* Signal sets and the kernel's struct sigaction (x86-64), as strace shows
 * them: [HUP CHLD], ~[KILL STOP] when two thirds or more are set;
 * {sa_handler=SIG_DFL, sa_mask=[], sa_flags=SA_RESTORER, sa_restorer=...}. */
#include <string.h>

#include "trace/decode.h"

#define SIGSET_SIZE    8
#define SIGACTION_SIZE 32 /* handler, flags, restorer, mask */

/* Text: the names without "SIG"; JSON: an array of the full names of the
 * members, never the complement. */
static void put_sigset(struct obuf *o, bool json, uint64_t set)
{
    bool first = true;

    if (!json && __builtin_popcountll(set) >= 64 * 2 / 3) {
        ob_putc(o, '~');
        set = ~set;
    }
    ob_putc(o, '[');
    for (int bit = 0; bit < 64; bit++) {
        const char *name;

        if (!(set & ((uint64_t)1 << bit)))
            continue;
        if (!first)
            ob_putc(o, json ? ',' : ' ');
        first = false;
        name = vsys_signal_name(bit + 1);
        if (json)
            ob_putc(o, '"');
        if (name)
            ob_puts(o, json ? name : name + 3);
        else
            ob_udec(o, (unsigned)bit + 1);
        if (json)
            ob_putc(o, '"');
    }
    ob_putc(o, ']');
}

bool vdec_sigset(struct obuf *o, bool json, const uint8_t *d, size_t n)
{
    if (n < SIGSET_SIZE)
        return false;
    put_sigset(o, json, rd64(d));
    return true;
}

/* In strace's order. */
static const struct vsym sa_flags[] = {
    {0x04000000, "SA_RESTORER"},  {0x08000000, "SA_ONSTACK"},
    {0x10000000, "SA_RESTART"},   {0x40000000, "SA_NODEFER"},
    {0x80000000, "SA_RESETHAND"}, {0x4, "SA_SIGINFO"},
    {0x1, "SA_NOCLDSTOP"},        {0x2, "SA_NOCLDWAIT"},
};
#define SA_RESTORER 0x04000000

static void put_sa_flags(struct obuf *o, uint64_t flags)
{
    uint64_t known = 0;

    for (size_t i = 0; i < VSYS_ARRAY_SIZE(sa_flags); i++)
        known |= sa_flags[i].val;
    if (flags != 0 && (flags & known) == 0) {
        ob_hex(o, flags);
        ob_puts(o, " /* SA_??? */");
        return;
    }
    ob_flags(o, flags, sa_flags, VSYS_ARRAY_SIZE(sa_flags), NULL);
}

static void put_handler(struct obuf *o, bool json, uint64_t h)
{
    if (json)
        ob_putc(o, '"');
    if (h == 0)
        ob_puts(o, "SIG_DFL");
    else if (h == 1)
        ob_puts(o, "SIG_IGN");
    else
        ob_hex(o, h);
    if (json)
        ob_putc(o, '"');
}

bool vdec_sigaction(struct obuf *o, bool json, const uint8_t *d, size_t n)
{
    uint64_t flags;

    if (n < SIGACTION_SIZE)
        return false;
    flags = rd64(d + 8);
    ob_puts(o, json ? "{\"sa_handler\":" : "{sa_handler=");
    put_handler(o, json, rd64(d));
    ob_puts(o, json ? ",\"sa_mask\":" : ", sa_mask=");
    put_sigset(o, json, rd64(d + 24));
    ob_puts(o, json ? ",\"sa_flags\":\"" : ", sa_flags=");
    put_sa_flags(o, flags);
    if (json)
        ob_putc(o, '"');
    if (flags & SA_RESTORER) {
        uint64_t r = rd64(d + 16);
        ob_puts(o, json ? ",\"sa_restorer\":" : ", sa_restorer=");
        if (r == 0) {
            ob_puts(o, json ? "null" : "NULL");
        } else {
            if (json)
                ob_putc(o, '"');
            ob_hex(o, r);
            if (json)
                ob_putc(o, '"');
        }
    }
    ob_putc(o, '}');
    return true;
}
