/* The structures format.c has always decoded (argv, socket addresses,
 * wait status, timespec, open_how, descriptor pairs) and quoted bytes,
 * shared with the other decoders. */
#include <arpa/inet.h>
#include <string.h>

#include "trace/decode.h"

void vdec_name(struct obuf *o, bool json, const char *s)
{
    if (json)
        ob_putc(o, '"');
    ob_puts(o, s);
    if (json)
        ob_putc(o, '"');
}

void vdec_ptr(struct obuf *o, bool json, uint64_t v)
{
    if (v == 0) {
        ob_puts(o, json ? "null" : "NULL");
        return;
    }
    if (json)
        ob_putc(o, '"');
    ob_hex(o, v);
    if (json)
        ob_putc(o, '"');
}

/* Bytes as a quoted string in either form (text: hex escapes for all bytes
 * when `hex`). */
void vdec_bytes_as(struct obuf *o, bool json, const uint8_t *s, size_t n,
                   bool trunc, bool hex)
{
    ob_putc(o, '"');
    if (json)
        ob_jquote(o, s, n);
    else if (hex)
        ob_xquote(o, s, n);
    else
        ob_cquote(o, s, n);
    ob_putc(o, '"');
    if (trunc && !json)
        ob_puts(o, "...");
}

void vdec_bytes(struct obuf *o, bool json, const uint8_t *s, size_t n,
                bool trunc)
{
    vdec_bytes_as(o, json, s, n, trunc, false);
}

void vdec_argv(struct obuf *o, bool json, const uint8_t *d, size_t n,
               bool trunc)
{
    size_t at = 0;
    bool first = true, cut = false;

    ob_putc(o, '[');
    while (at < n && !o->full) {
        const uint8_t *nul = memchr(d + at, 0, n - at);
        size_t len = nul ? (size_t)(nul - (d + at)) : n - at;

        if (!first)
            ob_puts(o, json ? "," : ", ");
        first = false;
        cut = !nul;
        vdec_bytes(o, json, d + at, len, cut);
        at += len + (nul ? 1 : 0);
    }
    if (trunc && !cut && !json)
        ob_puts(o, first ? "..." : ", ...");
    ob_putc(o, ']');
}

bool vdec_strv(struct obuf *o, bool json, const uint8_t *d, size_t n,
               bool trunc)
{
    size_t at = 0;
    bool first = true, open = false, any = false;

    ob_putc(o, '[');
    while (at < n && !o->full) {
        bool cut = d[at++] != 0;
        const uint8_t *nul = at < n ? memchr(d + at, 0, n - at) : NULL;
        size_t len = nul ? (size_t)(nul - (d + at)) : n - at;

        if (!first)
            ob_puts(o, json ? "," : ", ");
        first = false;
        open = !nul; /* the capture's room ended inside this string */
        any = any || cut || open;
        vdec_bytes(o, json, d + at, len, cut || open);
        at += len + (nul ? 1 : 0);
    }
    if (trunc && !open && !json)
        ob_puts(o, first ? "..." : ", ...");
    ob_putc(o, ']');
    return any || trunc;
}

void vdec_envc(struct obuf *o, bool json, uint64_t addr, const uint8_t *d)
{
    uint32_t n;

    memcpy(&n, d, 4);
    if (json) {
        ob_puts(o, "{\"addr\":\"");
        ob_hex(o, addr);
        ob_printf(o, "\",\"vars\":%u}", (unsigned)n);
        return;
    }
    ob_hex(o, addr);
    ob_printf(o, " /* %u var%s */", (unsigned)n, n == 1 ? "" : "s");
}

static void put_inet6(struct obuf *o, const uint8_t *a)
{
    char tmp[INET6_ADDRSTRLEN];

    if (inet_ntop(AF_INET6, a, tmp, sizeof(tmp)))
        ob_puts(o, tmp);
}

static void put_family(struct obuf *o, bool json, unsigned fam)
{
    const char *name = vsys_family_name(fam);

    if (name)
        vdec_name(o, json, name);
    else
        ob_udec(o, fam);
}

void vdec_sockaddr(struct obuf *o, bool json, const uint8_t *d, size_t n,
                   bool trunc)
{
    unsigned fam;

    if (n < 2) {
        ob_puts(o, json ? "{}" : "{}");
        return;
    }
    fam = (unsigned)d[0] | (unsigned)d[1] << 8;
    ob_puts(o, json ? "{\"family\":" : "{sa_family=");
    put_family(o, json, fam);
    if (fam == 1) { /* AF_UNIX */
        const uint8_t *p = d + 2;
        size_t len = n - 2;
        bool abstract = len > 0 && p[0] == 0;
        const uint8_t *nul;

        if (abstract) {
            p++;
            len--;
        } else if ((nul = memchr(p, 0, len)) != NULL) {
            len = (size_t)(nul - p);
        }
        if (n > 2 || trunc) {
            ob_puts(o, json ? ",\"path\":" : ", sun_path=");
            if (abstract && !json)
                ob_putc(o, '@');
            vdec_bytes(o, json, p, len, trunc);
            if (abstract && json)
                ob_puts(o, ",\"abstract\":true");
        }
    } else if (fam == 2 && n >= 8) { /* AF_INET */
        unsigned port = (unsigned)d[2] << 8 | d[3];
        char ip[16];
        size_t k = 0;

        for (int i = 0; i < 4; i++) {
            unsigned b = d[4 + i];
            if (b >= 100)
                ip[k++] = (char)('0' + b / 100);
            if (b >= 10)
                ip[k++] = (char)('0' + b / 10 % 10);
            ip[k++] = (char)('0' + b % 10);
            if (i < 3)
                ip[k++] = '.';
        }
        ip[k] = '\0';
        if (json)
            ob_printf(o, ",\"port\":%u,\"addr\":\"%s\"", port, ip);
        else
            ob_printf(o, ", sin_port=htons(%u), sin_addr=inet_addr(\"%s\")",
                      port, ip);
    } else if (fam == 10 && n >= 24) { /* AF_INET6 */
        unsigned port = (unsigned)d[2] << 8 | d[3];
        uint32_t flow = (uint32_t)d[4] << 24 | (uint32_t)d[5] << 16 |
                        (uint32_t)d[6] << 8 | d[7];

        if (json) {
            ob_printf(o, ",\"port\":%u,\"flowinfo\":%u,\"addr\":\"", port,
                      (unsigned)flow);
            put_inet6(o, d + 8);
            ob_putc(o, '"');
            if (n >= 28)
                ob_printf(o, ",\"scope_id\":%u", (unsigned)rd32(d + 24));
        } else {
            ob_printf(o,
                      ", sin6_port=htons(%u), sin6_flowinfo=htonl(%u), "
                      "inet_pton(AF_INET6, \"",
                      port, (unsigned)flow);
            put_inet6(o, d + 8);
            ob_puts(o, "\", &sin6_addr)");
            if (n >= 28)
                ob_printf(o, ", sin6_scope_id=%u", (unsigned)rd32(d + 24));
        }
    } else if (fam == 16 && n >= 12) { /* AF_NETLINK */
        if (json)
            ob_printf(o, ",\"pid\":%u,\"groups\":%u", (unsigned)rd32(d + 4),
                      (unsigned)rd32(d + 8));
        else
            ob_printf(o, ", nl_pid=%u, nl_groups=%08x", (unsigned)rd32(d + 4),
                      (unsigned)rd32(d + 8));
    } else if (n > 2) {
        ob_puts(o, json ? ",\"data\":" : ", sa_data=");
        vdec_bytes(o, json, d + 2, n - 2, trunc);
    }
    ob_putc(o, '}');
}

void vdec_wstatus(struct obuf *o, bool json, uint32_t s)
{
    const char *sig;

    if ((s & 0x7f) == 0) {
        ob_printf(o,
                  json ? "{\"exited\":%u}"
                       : "[{WIFEXITED(s) && WEXITSTATUS(s) == %u}]",
                  (unsigned)(s >> 8 & 0xff));
        return;
    }
    if (s == 0xffff) {
        ob_puts(o, json ? "{\"continued\":true}" : "[{WIFCONTINUED(s)}]");
        return;
    }
    if ((s & 0xff) == 0x7f) {
        sig = vsys_signal_name((int)(s >> 8 & 0xff));
        ob_puts(o,
                json ? "{\"stopped\":" : "[{WIFSTOPPED(s) && WSTOPSIG(s) == ");
        if (sig)
            vdec_name(o, json, sig);
        else
            ob_udec(o, s >> 8 & 0xff);
        ob_puts(o, json ? "}" : "}]");
        return;
    }
    sig = vsys_signal_name((int)(s & 0x7f));
    ob_puts(o, json ? "{\"signaled\":" : "[{WIFSIGNALED(s) && WTERMSIG(s) == ");
    if (sig)
        vdec_name(o, json, sig);
    else
        ob_udec(o, s & 0x7f);
    if (s & 0x80)
        ob_puts(o, json ? ",\"core\":true" : " && WCOREDUMP(s)");
    ob_puts(o, json ? "}" : "}]");
}

void vdec_timespec(struct obuf *o, bool json, const uint8_t *d, size_t n)
{
    int64_t sec, nsec;

    if (n >= 16) {
        sec = (int64_t)rd64(d);
        nsec = (int64_t)rd64(d + 8);
    } else {
        sec = (int32_t)rd32(d);
        nsec = (int32_t)rd32(d + 4);
    }
    ob_puts(o, json ? "{\"sec\":" : "{tv_sec=");
    ob_dec(o, sec);
    ob_puts(o, json ? ",\"nsec\":" : ", tv_nsec=");
    ob_dec(o, nsec);
    ob_putc(o, '}');
}

void vdec_open_how(struct obuf *o, bool json, const uint8_t *d)
{
    static const struct vsym resolve[] = {
        {0x01, "RESOLVE_NO_XDEV"},     {0x02, "RESOLVE_NO_MAGICLINKS"},
        {0x04, "RESOLVE_NO_SYMLINKS"}, {0x08, "RESOLVE_BENEATH"},
        {0x10, "RESOLVE_IN_ROOT"},     {0x20, "RESOLVE_CACHED"},
    };

    ob_puts(o, json ? "{\"flags\":\"" : "{flags=");
    ob_open_flags(o, rd64(d), true);
    ob_puts(o, json ? "\",\"mode\":\"" : ", mode=");
    ob_mode(o, rd64(d + 8));
    ob_puts(o, json ? "\",\"resolve\":\"" : ", resolve=");
    ob_flags(o, rd64(d + 16), resolve, VSYS_ARRAY_SIZE(resolve), NULL);
    ob_puts(o, json ? "\"}" : "}");
}

void vdec_fds(struct obuf *o, bool json, const uint8_t *d)
{
    ob_putc(o, '[');
    ob_dec(o, (int32_t)rd32(d));
    ob_puts(o, json ? "," : ", ");
    ob_dec(o, (int32_t)rd32(d + 4));
    ob_putc(o, ']');
}
