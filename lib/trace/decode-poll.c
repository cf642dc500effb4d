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

/* Whether the capture at the return holds the array, or as much of it
 * as a capture holds. */
static bool revents_ok(const uint8_t *out, size_t nout, uint64_t nfds)
{
    return out && (nfds <= nout / 8 || nout / 8 >= VDEC_POLL_MAX);
}

/* The descriptors with revents, "[{fd=3, revents=POLLIN}]". */
static void put_revents(struct obuf *o, const uint8_t *out, size_t nout,
                        uint64_t nfds)
{
    size_t shown = nfds < nout / 8 ? (size_t)nfds : nout / 8;
    bool first = true;

    ob_putc(o, '[');
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
    ob_putc(o, ']');
}

void vdec_poll_result(struct obuf *o, int64_t ret, const uint8_t *out,
                      size_t nout, uint64_t nfds)
{
    if (ret == 0) {
        ob_puts(o, " (Timeout)");
        return;
    }
    if (ret < 0 || !revents_ok(out, nout, nfds))
        return;
    ob_puts(o, " (");
    put_revents(o, out, nout, nfds);
    ob_putc(o, ')');
}

/* ---- ppoll: its PPOLL capture (syscalls.h) ---- */

struct ppoll_cap {
    struct vsys_ppoll h;
    const uint8_t *fds, *timeout, *sigset;
};

/* The parts of a capture the guest filled: false when its length does not
 * add up. */
static bool pp_split(struct ppoll_cap *s, const uint8_t *d, size_t n)
{
    if (!d || n < sizeof s->h)
        return false;
    memcpy(&s->h, d, sizeof s->h);
    if (s->h.fds_len > 8 * VDEC_POLL_MAX || s->h.fds_len % 8 ||
        n != sizeof s->h + s->h.fds_len + 24u)
        return false;
    s->fds = d + sizeof s->h;
    s->timeout = s->fds + s->h.fds_len;
    s->sigset = s->timeout + 16;
    return true;
}

static bool pp_has(const struct ppoll_cap *s, unsigned bit)
{
    return s->h.have & (1u << bit);
}

bool vdec_ppoll_arg(struct obuf *o, bool json, unsigned i, const uint64_t a[6],
                    const uint8_t *in, size_t nin, const uint8_t *out,
                    size_t nout)
{
    struct ppoll_cap s, r;
    uint64_t nfds = (uint32_t)a[1];
    bool have_r = out && pp_split(&r, out, nout) && pp_has(&r, VSYS_PP_FDS);

    if (a[i] == 0 || !pp_split(&s, in, nin))
        return false;
    switch (i) {
    case 0:
        if ((s.h.fault & (1u << VSYS_PP_FDS)) ||
            (!pp_has(&s, VSYS_PP_FDS) && nfds != 0))
            return false;
        return vdec_pollfds(o, json, s.fds, s.h.fds_len, have_r ? r.fds : NULL,
                            have_r ? r.h.fds_len : 0, nfds);
    case 2:
        if (!pp_has(&s, VSYS_PP_TIMEOUT))
            return false;
        vdec_timespec(o, json, s.timeout, 16);
        return true;
    case 3:
        return a[4] == 8 && pp_has(&s, VSYS_PP_SIGSET) &&
               vdec_sigset(o, json, s.sigset, 8);
    default:
        return false;
    }
}

void vdec_ppoll_result(struct obuf *o, int64_t ret, const uint64_t a[6],
                       const uint8_t *d, size_t n)
{
    struct ppoll_cap s;
    bool first = true;

    if (ret == 0) {
        ob_puts(o, " (Timeout)");
        return;
    }
    if (ret < 0 || !pp_split(&s, d, n))
        return;
    if (a[0] && pp_has(&s, VSYS_PP_FDS) &&
        revents_ok(s.fds, s.h.fds_len, (uint32_t)a[1])) {
        ob_puts(o, " (");
        put_revents(o, s.fds, s.h.fds_len, (uint32_t)a[1]);
        first = false;
    }
    if (a[2] && pp_has(&s, VSYS_PP_TIMEOUT)) {
        ob_puts(o, first ? " (left " : ", left ");
        first = false;
        vdec_timespec(o, false, s.timeout, 16);
    }
    if (!first)
        ob_putc(o, ')');
}
