/* The smaller structures: timeval, rlimit, utsname, a getdents64 buffer's
 * record count, a terminal's window size, group lists, and vdec_struct, which
 * picks a decoder by signature. */
#include <string.h>

#include "trace/decode.h"

#define UTS_FIELD 65

bool vdec_timeval(struct obuf *o, bool json, const uint8_t *d, size_t n)
{
    if (n < 16)
        return false;
    ob_puts(o, json ? "{\"sec\":" : "{tv_sec=");
    ob_dec(o, (int64_t)rd64(d));
    ob_puts(o, json ? ",\"usec\":" : ", tv_usec=");
    ob_dec(o, (int64_t)rd64(d + 8));
    ob_putc(o, '}');
    return true;
}

/* strace: RLIM64_INFINITY, multiples of 1024 above it as N*1024. */
static void put_rlim(struct obuf *o, bool json, uint64_t v)
{
    if (v == UINT64_MAX)
        ob_puts(o, json ? "\"RLIM64_INFINITY\"" : "RLIM64_INFINITY");
    else if (!json && v > 1024 && v % 1024 == 0)
        ob_printf(o, "%llu*1024", (unsigned long long)(v / 1024));
    else
        ob_udec(o, v);
}

bool vdec_rlimit(struct obuf *o, bool json, const uint8_t *d, size_t n)
{
    if (n < 16)
        return false;
    ob_puts(o, json ? "{\"rlim_cur\":" : "{rlim_cur=");
    put_rlim(o, json, rd64(d));
    ob_puts(o, json ? ",\"rlim_max\":" : ", rlim_max=");
    put_rlim(o, json, rd64(d + 8));
    ob_putc(o, '}');
    return true;
}

static void put_uts(struct obuf *o, bool json, const uint8_t *f)
{
    const uint8_t *nul = memchr(f, 0, UTS_FIELD);
    size_t len = nul ? (size_t)(nul - f) : UTS_FIELD;

    ob_putc(o, '"');
    if (json)
        ob_jquote(o, f, len);
    else
        ob_cquote(o, f, len);
    ob_putc(o, '"');
}

bool vdec_utsname(struct obuf *o, bool json, const uint8_t *d, size_t n)
{
    static const char *const names[] = {"sysname", "nodename", "release",
                                        "version", "machine",  "domainname"};

    if (n < 2 * UTS_FIELD)
        return false;
    if (!json) {
        ob_puts(o, "{sysname=");
        put_uts(o, false, d);
        ob_puts(o, ", nodename=");
        put_uts(o, false, d + UTS_FIELD);
        ob_puts(o, ", ...}");
        return true;
    }
    ob_putc(o, '{');
    for (size_t i = 0; i < VSYS_ARRAY_SIZE(names) && (i + 1) * UTS_FIELD <= n;
         i++) {
        if (i)
            ob_putc(o, ',');
        ob_printf(o, "\"%s\":", names[i]);
        put_uts(o, true, d + i * UTS_FIELD);
    }
    ob_putc(o, '}');
    return true;
}

bool vdec_dirents(struct obuf *o, bool json, uint64_t addr, const uint8_t *d,
                  size_t n)
{
    uint32_t count;

    if (n < 4)
        return false;
    memcpy(&count, d, 4);
    if (json) {
        ob_puts(o, "{\"addr\":\"");
        ob_hex(o, addr);
        ob_printf(o, "\",\"entries\":%u}", (unsigned)count);
    } else {
        ob_hex(o, addr);
        ob_printf(o, " /* %u entries */", (unsigned)count);
    }
    return true;
}

bool vdec_int(struct obuf *o, bool json, const uint8_t *d, size_t n)
{
    int32_t v;

    (void)json; /* [N] in both forms */
    if (d == NULL || n < 4)
        return false;
    memcpy(&v, d, 4);
    ob_printf(o, "[%d]", (int)v);
    return true;
}

bool vdec_winsize(struct obuf *o, bool json, const uint8_t *d, size_t n)
{
    uint16_t w[4];

    if (n < sizeof(w))
        return false;
    memcpy(w, d, sizeof(w));
    ob_printf(o,
              json ? "{\"ws_row\":%u,\"ws_col\":%u,\"ws_xpixel\":%u,"
                     "\"ws_ypixel\":%u}"
                   : "{ws_row=%u, ws_col=%u, ws_xpixel=%u, ws_ypixel=%u}",
              w[0], w[1], w[2], w[3]);
    return true;
}

bool vdec_gids(struct obuf *o, bool json, const uint8_t *d, size_t n,
               uint64_t count)
{
    if (count > n / 4)
        return false;
    ob_putc(o, '[');
    for (uint64_t i = 0; i < count; i++) {
        if (i)
            ob_puts(o, json ? "," : ", ");
        ob_udec(o, rd32(d + 4 * i));
    }
    ob_putc(o, ']');
    return true;
}

/* struct rusage: strace without -v shows the two times; JSON has every
 * field. */
bool vdec_rusage(struct obuf *o, bool json, const uint8_t *d, size_t n)
{
    static const char *const longs[] = {
        "ru_maxrss", "ru_ixrss",    "ru_idrss",   "ru_isrss",   "ru_minflt",
        "ru_majflt", "ru_nswap",    "ru_inblock", "ru_oublock", "ru_msgsnd",
        "ru_msgrcv", "ru_nsignals", "ru_nvcsw",   "ru_nivcsw"};

    if (n < 32 + 8 * VSYS_ARRAY_SIZE(longs))
        return false;
    ob_puts(o, json ? "{\"ru_utime\":" : "{ru_utime=");
    vdec_timeval(o, json, d, 16);
    ob_puts(o, json ? ",\"ru_stime\":" : ", ru_stime=");
    vdec_timeval(o, json, d + 16, 16);
    if (!json) {
        ob_puts(o, ", ...}");
        return true;
    }
    for (size_t i = 0; i < VSYS_ARRAY_SIZE(longs); i++)
        ob_printf(o, ",\"%s\":%lld", longs[i],
                  (long long)(int64_t)rd64(d + 32 + 8 * i));
    ob_putc(o, '}');
    return true;
}

bool vdec_struct(struct obuf *o, bool json, char sig, uint64_t addr,
                 const uint8_t *d, size_t n)
{
    switch (sig) {
    case '0':
        return vdec_int(o, json, d, n);
    case '1':
        return vdec_stat(o, json, d, n);
    case '2':
        return vdec_statx(o, json, d, n);
    case '3':
        return vdec_timeval(o, json, d, n);
    case '4':
        return vdec_rlimit(o, json, d, n);
    case '5':
        return vdec_utsname(o, json, d, n);
    case '6':
        return vdec_sigset(o, json, d, n);
    case '7':
        return vdec_sigaction(o, json, d, n);
    case '8':
        return vdec_dirents(o, json, addr, d, n);
    case '#':
        return vdec_statfs(o, json, d, n);
    case '%':
        return vdec_utimes(o, json, d, n);
    case '(':
        return vdec_winsize(o, json, d, n);
    case ')':
        return vdec_rusage(o, json, d, n);
    default:
        return false;
    }
}
