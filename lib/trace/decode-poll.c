/* poll's array of struct pollfd (8 bytes each: fd, events, revents), as
 * strace shows it: the events asked at entry as the argument, and the
 * descriptors with revents after " = N" at the return. */
#include <string.h>

#include "trace/decode.h"

static const struct vsym poll_bits[] = {
    {0x0001, "POLLIN"},     {0x0002, "POLLPRI"},        {0x0004, "POLLOUT"},
    {0x0008, "POLLERR"},    {0x0010, "POLLHUP"},        {0x0020, "POLLNVAL"},
    {0x0040, "POLLRDNORM"}, {0x0080, "POLLRDBAND"},     {0x0100, "POLLWRNORM"},
    {0x0200, "POLLWRBAND"}, {0x0400, "POLLMSG"},        {0x1000, "POLLREMOVE"},
    {0x2000, "POLLRDHUP"},  {0x8000, "POLL_BUSY_LOOP"},
};

struct pfd {
    int32_t fd;
    uint16_t events, revents;
};

static struct pfd pfd_at(const uint8_t *d, size_t k)
{
    struct pfd p;

    memcpy(&p.fd, d + 8 * k, 4);
    memcpy(&p.events, d + 8 * k + 4, 2);
    memcpy(&p.revents, d + 8 * k + 6, 2);
    return p;
}

static void put_bits(struct obuf *o, bool json, uint16_t v)
{
    if (json)
        ob_putc(o, '"');
    ob_flags(o, v, poll_bits, VSYS_ARRAY_SIZE(poll_bits), "0");
    if (json)
        ob_putc(o, '"');
}

bool vdec_pollfds(struct obuf *o, bool json, const uint8_t *in, size_t nin,
                  const uint8_t *out, size_t nout, uint64_t nfds)
{
    size_t shown = nfds < nin / 8 ? (size_t)nfds : nin / 8;

    if (shown < nfds && shown < VDEC_POLL_MAX)
        return false; /* the capture ended before the array did */
    ob_putc(o, '[');
    for (size_t k = 0; k < shown && !o->full; k++) {
        struct pfd p = pfd_at(in, k);

        if (k)
            ob_puts(o, json ? "," : ", ");
        ob_printf(o, json ? "{\"fd\":%d" : "{fd=%d", (int)p.fd);
        if (json || p.fd >= 0) {
            ob_puts(o, json ? ",\"events\":" : ", events=");
            put_bits(o, json, p.events);
        }
        if (json && out && nout >= 8 * (k + 1)) {
            ob_puts(o, ",\"revents\":");
            put_bits(o, json, pfd_at(out, k).revents);
        }
        ob_putc(o, '}');
    }
    if (shown < nfds && !json)
        ob_puts(o, shown ? ", ..." : "...");
    ob_putc(o, ']');
    return true;
}

void vdec_poll_result(struct obuf *o, int64_t ret, const uint8_t *out,
                      size_t nout, uint64_t nfds)
{
    size_t shown = nfds < nout / 8 ? (size_t)nfds : nout / 8;
    bool first = true;

    if (ret == 0) {
        ob_puts(o, " (Timeout)");
        return;
    }
    if (ret < 0 || !out || (shown < nfds && shown < VDEC_POLL_MAX))
        return;
    ob_puts(o, " ([");
    for (size_t k = 0; k < shown && !o->full; k++) {
        struct pfd p = pfd_at(out, k);

        if (!p.revents)
            continue;
        if (!first)
            ob_puts(o, ", ");
        first = false;
        ob_printf(o, "{fd=%d, revents=", (int)p.fd);
        put_bits(o, false, p.revents);
        ob_putc(o, '}');
    }
    if (shown < nfds)
        ob_puts(o, first ? "..." : ", ...");
    ob_puts(o, "])");
}
