/* epoll: epoll_ctl's operation and struct epoll_event, and the events
 * epoll_wait/epoll_pwait returned, as strace 6.1 shows them. On x86-64
 * struct epoll_event is packed: a 4-byte mask, then 8 bytes of data. */
#include "trace/decode.h"

#define EV_SIZE 12

static const struct vsym epoll_bits[] = {
    {0x0001, "EPOLLIN"},          {0x0002, "EPOLLPRI"},
    {0x0004, "EPOLLOUT"},         {0x0008, "EPOLLERR"},
    {0x0010, "EPOLLHUP"},         {0x0020, "EPOLLNVAL"},
    {0x0040, "EPOLLRDNORM"},      {0x0080, "EPOLLRDBAND"},
    {0x0100, "EPOLLWRNORM"},      {0x0200, "EPOLLWRBAND"},
    {0x0400, "EPOLLMSG"},         {0x2000, "EPOLLRDHUP"},
    {1u << 28, "EPOLLEXCLUSIVE"}, {1u << 29, "EPOLLWAKEUP"},
    {1u << 30, "EPOLLONESHOT"},   {1u << 31, "EPOLLET"},
};

static const struct vsym ctl_ops[] = {
    {1, "EPOLL_CTL_ADD"},
    {2, "EPOLL_CTL_DEL"},
    {3, "EPOLL_CTL_MOD"},
};

void vdec_epoll_op(struct obuf *o, bool json, uint64_t op)
{
    const char *s = vsym_find((uint32_t)op, ctl_ops, VSYS_ARRAY_SIZE(ctl_ops));

    if (s)
        vdec_name(o, json, s);
    else if (json)
        ob_dec(o, (int32_t)op);
    else
        ob_printf(o, "%#x /* EPOLL_CTL_??? */", (unsigned)op);
}

/* epoll_create1's flags */
void vdec_epoll_flags(struct obuf *o, bool json, uint64_t v)
{
    static const struct vsym f[] = {{0x80000, "EPOLL_CLOEXEC"}};

    if (json)
        ob_putc(o, '"');
    ob_flags(o, (uint32_t)v, f, VSYS_ARRAY_SIZE(f), "0");
    if (json)
        ob_putc(o, '"');
}

static void put_event(struct obuf *o, bool json, const uint8_t *d)
{
    uint32_t ev = rd32(d);
    uint64_t data = rd64(d + 4);

    ob_puts(o, json ? "{\"events\":\"" : "{events=");
    ob_flags(o, ev, epoll_bits, VSYS_ARRAY_SIZE(epoll_bits), "0");
    if (json)
        ob_printf(o, "\",\"data\":%llu}", (unsigned long long)data);
    else
        ob_printf(o, ", data={u32=%u, u64=%llu}}", (unsigned)(uint32_t)data,
                  (unsigned long long)data);
}

bool vdec_epoll_event(struct obuf *o, bool json, const uint8_t *d, size_t n)
{
    if (n < EV_SIZE)
        return false;
    put_event(o, json, d);
    return true;
}

bool vdec_epoll_events(struct obuf *o, bool json, const uint8_t *d, size_t n,
                       uint64_t count)
{
    size_t shown = count < n / EV_SIZE ? (size_t)count : n / EV_SIZE;

    if (shown < count && shown < VDEC_EPOLL_MAX)
        return false; /* the capture ended before the events did */
    ob_putc(o, '[');
    for (size_t k = 0; k < shown && !o->full; k++) {
        if (k)
            ob_puts(o, json ? "," : ", ");
        put_event(o, json, d + EV_SIZE * k);
    }
    if (shown < count && !json)
        ob_puts(o, shown ? ", ..." : "...");
    ob_putc(o, ']');
    return true;
}
