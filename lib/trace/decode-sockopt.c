/* getsockopt/setsockopt: the level, the option's name and its value, as
 * strace 6.1 shows them (checked against its output on the host: which
 * options it reads as an int, which as bytes, how it shows a value shorter
 * than its type). SOL_IP's, SOL_IPV6's and SOL_UDP's names are in
 * sockopt-ip.c; other levels show the option as a number, docs/strace.md. */
#include "trace/decode.h"
#include "vigil/syscalls.h"

#define SOL_SOCKET_ 1
#define SOL_TCP_    6

static const struct vsym sol_names[] = {
    {0, "SOL_IP"},    {1, "SOL_SOCKET"},   {6, "SOL_TCP"},
    {17, "SOL_UDP"},  {41, "SOL_IPV6"},    {58, "SOL_ICMPV6"},
    {255, "SOL_RAW"}, {263, "SOL_PACKET"}, {270, "SOL_NETLINK"},
};

/* asm-generic/socket.h, x86-64 */
static const char *const so_names[] = {
    [1] = "SO_DEBUG",
    [2] = "SO_REUSEADDR",
    [3] = "SO_TYPE",
    [4] = "SO_ERROR",
    [5] = "SO_DONTROUTE",
    [6] = "SO_BROADCAST",
    [7] = "SO_SNDBUF",
    [8] = "SO_RCVBUF",
    [9] = "SO_KEEPALIVE",
    [10] = "SO_OOBINLINE",
    [11] = "SO_NO_CHECK",
    [12] = "SO_PRIORITY",
    [13] = "SO_LINGER",
    [14] = "SO_BSDCOMPAT",
    [15] = "SO_REUSEPORT",
    [16] = "SO_PASSCRED",
    [17] = "SO_PEERCRED",
    [18] = "SO_RCVLOWAT",
    [19] = "SO_SNDLOWAT",
    [20] = "SO_RCVTIMEO_OLD",
    [21] = "SO_SNDTIMEO_OLD",
    [22] = "SO_SECURITY_AUTHENTICATION",
    [23] = "SO_SECURITY_ENCRYPTION_TRANSPORT",
    [24] = "SO_SECURITY_ENCRYPTION_NETWORK",
    [25] = "SO_BINDTODEVICE",
    [26] = "SO_ATTACH_FILTER",
    [27] = "SO_DETACH_FILTER",
    [28] = "SO_PEERNAME",
    [29] = "SO_TIMESTAMP_OLD",
    [30] = "SO_ACCEPTCONN",
    [31] = "SO_PEERSEC",
    [32] = "SO_SNDBUFFORCE",
    [33] = "SO_RCVBUFFORCE",
    [34] = "SO_PASSSEC",
    [35] = "SO_TIMESTAMPNS_OLD",
    [36] = "SO_MARK",
    [37] = "SO_TIMESTAMPING_OLD",
    [38] = "SO_PROTOCOL",
    [39] = "SO_DOMAIN",
    [40] = "SO_RXQ_OVFL",
    [41] = "SO_WIFI_STATUS",
    [42] = "SO_PEEK_OFF",
    [43] = "SO_NOFCS",
    [44] = "SO_LOCK_FILTER",
    [45] = "SO_SELECT_ERR_QUEUE",
    [46] = "SO_BUSY_POLL",
    [47] = "SO_MAX_PACING_RATE",
    [48] = "SO_BPF_EXTENSIONS",
    [49] = "SO_INCOMING_CPU",
    [50] = "SO_ATTACH_BPF",
    [51] = "SO_ATTACH_REUSEPORT_CBPF",
    [52] = "SO_ATTACH_REUSEPORT_EBPF",
    [53] = "SO_CNX_ADVICE",
    [55] = "SO_MEMINFO",
    [56] = "SO_INCOMING_NAPI_ID",
    [57] = "SO_COOKIE",
    [59] = "SO_PEERGROUPS",
    [60] = "SO_ZEROCOPY",
    [61] = "SO_TXTIME",
    [62] = "SO_BINDTOIFINDEX",
    [63] = "SO_TIMESTAMP_NEW",
    [64] = "SO_TIMESTAMPNS_NEW",
    [65] = "SO_TIMESTAMPING_NEW",
    [66] = "SO_RCVTIMEO_NEW",
    [67] = "SO_SNDTIMEO_NEW",
    [68] = "SO_DETACH_REUSEPORT_BPF",
    [69] = "SO_PREFER_BUSY_POLL",
    [70] = "SO_BUSY_POLL_BUDGET",
    [71] = "SO_NETNS_COOKIE",
    [72] = "SO_BUF_LOCK",
    [73] = "SO_RESERVE_MEM",
    [74] = "SO_TXREHASH",
    [75] = "SO_RCVMARK",
};

/* linux/tcp.h */
static const char *const tcp_names[] = {
    [1] = "TCP_NODELAY",
    [2] = "TCP_MAXSEG",
    [3] = "TCP_CORK",
    [4] = "TCP_KEEPIDLE",
    [5] = "TCP_KEEPINTVL",
    [6] = "TCP_KEEPCNT",
    [7] = "TCP_SYNCNT",
    [8] = "TCP_LINGER2",
    [9] = "TCP_DEFER_ACCEPT",
    [10] = "TCP_WINDOW_CLAMP",
    [11] = "TCP_INFO",
    [12] = "TCP_QUICKACK",
    [13] = "TCP_CONGESTION",
    [14] = "TCP_MD5SIG",
    [15] = "TCP_COOKIE_TRANSACTIONS",
    [16] = "TCP_THIN_LINEAR_TIMEOUTS",
    [17] = "TCP_THIN_DUPACK",
    [18] = "TCP_USER_TIMEOUT",
    [19] = "TCP_REPAIR",
    [20] = "TCP_REPAIR_QUEUE",
    [21] = "TCP_QUEUE_SEQ",
    [22] = "TCP_REPAIR_OPTIONS",
    [23] = "TCP_FASTOPEN",
    [24] = "TCP_TIMESTAMP",
    [25] = "TCP_NOTSENT_LOWAT",
    [26] = "TCP_CC_INFO",
    [27] = "TCP_SAVE_SYN",
    [28] = "TCP_SAVED_SYN",
    [29] = "TCP_REPAIR_WINDOW",
    [30] = "TCP_FASTOPEN_CONNECT",
    [31] = "TCP_ULP",
    [32] = "TCP_MD5SIG_EXT",
    [33] = "TCP_FASTOPEN_KEY",
    [34] = "TCP_FASTOPEN_NO_COOKIE",
    [35] = "TCP_ZEROCOPY_RECEIVE",
    [36] = "TCP_INQ",
    [37] = "TCP_TX_DELAY",
};

/* The SOL_SOCKET options strace reads as an int only when the value has
 * at least 4 bytes (else: the address for setsockopt, every byte in hex
 * for getsockopt); the others show as an int only at exactly 4 bytes. */
static const uint64_t so_int_bits =
    1ull << 1 | 1ull << 2 | 1ull << 5 | 1ull << 6 | 1ull << 7 | 1ull << 8 |
    1ull << 9 | 1ull << 10 | 1ull << 11 | 1ull << 12 | 1ull << 14 | 1ull << 15 |
    1ull << 16 | 1ull << 18 | 1ull << 19 | 1ull << 27 | 1ull << 29 |
    1ull << 30 | 1ull << 32 | 1ull << 33 | 1ull << 34 | 1ull << 35 |
    1ull << 36 | 1ull << 37 | 1ull << 40 | 1ull << 41 | 1ull << 42 |
    1ull << 43 | 1ull << 44 | 1ull << 45 | 1ull << 46 | 1ull << 49 |
    1ull << 53 | 1ull << 56 | 1ull << 60 | 1ull << 63;
/* the same, from 64 on */
static const uint64_t so_int_bits_hi = 1ull << (64 - 64) | 1ull << (65 - 64) |
                                       1ull << (68 - 64) | 1ull << (69 - 64) |
                                       1ull << (70 - 64) | 1ull << (73 - 64) |
                                       1ull << (74 - 64) | 1ull << (75 - 64);

static bool so_is_int(uint64_t name)
{
    if (name < 64)
        return (so_int_bits >> name) & 1;
    return name < 128 && ((so_int_bits_hi >> (name - 64)) & 1);
}

const char *vdec_sol_name(uint64_t level)
{
    return vsym_find((uint32_t)level, sol_names, VSYS_ARRAY_SIZE(sol_names));
}

void vdec_sol(struct obuf *o, bool json, uint64_t level)
{
    const char *s = vdec_sol_name(level);

    if (s)
        vdec_name(o, json, s);
    else if (json)
        ob_dec(o, (int32_t)level);
    else
        ob_printf(o, "%#x /* SOL_?? */", (unsigned)level);
}

void vdec_sockopt_name(struct obuf *o, bool json, uint64_t level, uint64_t name,
                       bool get)
{
    const char *s = NULL, *unk = NULL;
    uint32_t v = (uint32_t)name;

    if ((uint32_t)level == SOL_SOCKET_) {
        s = v < VSYS_ARRAY_SIZE(so_names) ? so_names[v] : NULL;
        unk = "SO_???";
    } else if ((uint32_t)level == SOL_TCP_) {
        s = v < VSYS_ARRAY_SIZE(tcp_names) ? tcp_names[v] : NULL;
        unk = "TCP_???";
    } else {
        s = vdec_ipopt_name((uint32_t)level, v, get, &unk);
    }
    if (s)
        vdec_name(o, json, s);
    else if (json || !unk)
        ob_dec(o, (int32_t)v);
    else
        ob_printf(o, "%#x /* %s */", (unsigned)v, unk);
}

/* A structure of 4-byte fields, as strace shows one the kernel wrote in
 * part: the whole fields, then the rest of the bytes in hex. */
static void put_fields(struct obuf *o, bool json, const char *const *names,
                       size_t nf, const uint8_t *d, size_t n)
{
    ob_putc(o, '{');
    for (size_t k = 0; k < nf && 4 * k < n; k++) {
        size_t left = n - 4 * k;

        if (k)
            ob_puts(o, json ? "," : ", ");
        ob_printf(o, json ? "\"%s\":" : "%s=", names[k]);
        if (left >= 4)
            ob_dec(o, (int32_t)rd32(d + 4 * k));
        else
            vdec_bytes_as(o, json, d + 4 * k, left, false, true);
    }
    ob_putc(o, '}');
}

static void put_int(struct obuf *o, bool json, const uint8_t *d)
{
    if (!json)
        ob_putc(o, '[');
    ob_dec(o, (int32_t)rd32(d));
    if (!json)
        ob_putc(o, ']');
}

static const char *const linger_f[] = {"l_onoff", "l_linger"};
static const char *const ucred_f[] = {"pid", "uid", "gid"};

static bool sockopt_get(struct obuf *o, bool json, uint32_t name,
                        const uint8_t *d, size_t n, bool trunc)
{
    if (n == 0)
        return false;
    switch (name) {
    case 13: /* SO_LINGER */
        put_fields(o, json, linger_f, 2, d, n);
        return true;
    case 17: /* SO_PEERCRED */
        put_fields(o, json, ucred_f, 3, d, n);
        return true;
    case 26: /* SO_GET_FILTER: sock_filter array, not decoded */
        return false;
    case 4: /* SO_ERROR */
        if (n >= 4 && !json) {
            const char *e = vsys_errno_name((int32_t)rd32(d));
            if ((int32_t)rd32(d) > 0 && e) {
                ob_printf(o, "[%s]", e);
                return true;
            }
        }
        break;
    default:
        break;
    }
    if (name == 4 || so_is_int(name)) {
        if (n >= 4)
            put_int(o, json, d);
        else
            vdec_bytes_as(o, json, d, n, false, true);
        return true;
    }
    if (n == 4 && !trunc)
        put_int(o, json, d);
    else
        vdec_bytes(o, json, d, n, trunc);
    return true;
}

bool vdec_sockopt(struct obuf *o, bool json, uint64_t level, uint64_t name,
                  bool get, int64_t len, const uint8_t *d, size_t n, bool trunc)
{
    uint32_t v = (uint32_t)name;
    bool sol = (uint32_t)level == SOL_SOCKET_;

    if (get)
        return sol ? sockopt_get(o, json, v, d, n, trunc)
                   : sockopt_get(o, json, 0, d, n, trunc);
    if ((int32_t)len < 0)
        return false;
    if (sol && v == 13) { /* SO_LINGER */
        if (len < 8 || n < 8)
            return false;
        put_fields(o, json, linger_f, 2, d, 8);
        return true;
    }
    if (sol && (v == 26 || v == 51)) /* a sock_fprog: not decoded */
        return false;
    if ((uint32_t)level == 0 && (v == 35 || v == 36)) /* IP_*_MEMBERSHIP */
        return len >= 8 && vdec_ip_mreq(o, json, d, n);
    if (sol && so_is_int(v)) {
        if (len < 4 || n < 4)
            return false;
        put_int(o, json, d);
        return true;
    }
    if (len == 4 && n == 4)
        put_int(o, json, d);
    else
        vdec_bytes(o, json, d, n, trunc);
    return true;
}
