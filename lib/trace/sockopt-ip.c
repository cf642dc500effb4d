/* The option names of the IP levels (SOL_IP, SOL_IPV6, SOL_UDP), as strace
 * 6.1 names them: the tables hold what it printed on the host for every
 * number up to 120, netfilter's getsockopt names apart (the same numbers
 * mean other requests there). */
#include "trace/decode.h"

#define SOL_IP_   0
#define SOL_UDP_  17
#define SOL_IPV6_ 41

/* linux/in.h; 64 and 65 are netfilter's IPT_SO_SET_* (setsockopt) */
static const char *const ip_names[] = {
    [1] = "IP_TOS",
    [2] = "IP_TTL",
    [3] = "IP_HDRINCL",
    [4] = "IP_OPTIONS",
    [5] = "IP_ROUTER_ALERT",
    [6] = "IP_RECVOPTS",
    [7] = "IP_RETOPTS",
    [8] = "IP_PKTINFO",
    [9] = "IP_PKTOPTIONS",
    [10] = "IP_MTU_DISCOVER",
    [11] = "IP_RECVERR",
    [12] = "IP_RECVTTL",
    [13] = "IP_RECVTOS",
    [14] = "IP_MTU",
    [15] = "IP_FREEBIND",
    [16] = "IP_IPSEC_POLICY",
    [17] = "IP_XFRM_POLICY",
    [18] = "IP_PASSSEC",
    [19] = "IP_TRANSPARENT",
    [20] = "IP_ORIGDSTADDR",
    [21] = "IP_MINTTL",
    [22] = "IP_NODEFRAG",
    [23] = "IP_CHECKSUM",
    [24] = "IP_BIND_ADDRESS_NO_PORT",
    [25] = "IP_RECVFRAGSIZE",
    [26] = "IP_RECVERR_RFC4884",
    [32] = "IP_MULTICAST_IF",
    [33] = "IP_MULTICAST_TTL",
    [34] = "IP_MULTICAST_LOOP",
    [35] = "IP_ADD_MEMBERSHIP",
    [36] = "IP_DROP_MEMBERSHIP",
    [37] = "IP_UNBLOCK_SOURCE",
    [38] = "IP_BLOCK_SOURCE",
    [39] = "IP_ADD_SOURCE_MEMBERSHIP",
    [40] = "IP_DROP_SOURCE_MEMBERSHIP",
    [41] = "IP_MSFILTER",
    [42] = "MCAST_JOIN_GROUP",
    [43] = "MCAST_BLOCK_SOURCE",
    [44] = "MCAST_UNBLOCK_SOURCE",
    [45] = "MCAST_LEAVE_GROUP",
    [46] = "MCAST_JOIN_SOURCE_GROUP",
    [47] = "MCAST_LEAVE_SOURCE_GROUP",
    [48] = "MCAST_MSFILTER",
    [49] = "IP_MULTICAST_ALL",
    [50] = "IP_UNICAST_IF",
    [64] = "IPT_SO_SET_REPLACE",
    [65] = "IPT_SO_SET_ADD_COUNTERS",
};

/* linux/in6.h; 64 and 65 are netfilter's IP6T_SO_SET_* (setsockopt) */
static const char *const ipv6_names[] = {
    [1] = "IPV6_ADDRFORM",
    [2] = "IPV6_2292PKTINFO",
    [3] = "IPV6_2292HOPOPTS",
    [4] = "IPV6_2292DSTOPTS",
    [5] = "IPV6_2292RTHDR",
    [6] = "IPV6_2292PKTOPTIONS",
    [7] = "IPV6_CHECKSUM",
    [8] = "IPV6_2292HOPLIMIT",
    [9] = "IPV6_NEXTHOP",
    [10] = "IPV6_AUTHHDR",
    [11] = "IPV6_FLOWINFO",
    [16] = "IPV6_UNICAST_HOPS",
    [17] = "IPV6_MULTICAST_IF",
    [18] = "IPV6_MULTICAST_HOPS",
    [19] = "IPV6_MULTICAST_LOOP",
    [20] = "IPV6_ADD_MEMBERSHIP",
    [21] = "IPV6_DROP_MEMBERSHIP",
    [22] = "IPV6_ROUTER_ALERT",
    [23] = "IPV6_MTU_DISCOVER",
    [24] = "IPV6_MTU",
    [25] = "IPV6_RECVERR",
    [26] = "IPV6_V6ONLY",
    [27] = "IPV6_JOIN_ANYCAST",
    [28] = "IPV6_LEAVE_ANYCAST",
    [29] = "IPV6_MULTICAST_ALL",
    [30] = "IPV6_ROUTER_ALERT_ISOLATE",
    [31] = "IPV6_RECVERR_RFC4884",
    [32] = "IPV6_FLOWLABEL_MGR",
    [33] = "IPV6_FLOWINFO_SEND",
    [34] = "IPV6_IPSEC_POLICY",
    [35] = "IPV6_XFRM_POLICY",
    [36] = "IPV6_HDRINCL",
    [42] = "MCAST_JOIN_GROUP",
    [43] = "MCAST_BLOCK_SOURCE",
    [44] = "MCAST_UNBLOCK_SOURCE",
    [45] = "MCAST_LEAVE_GROUP",
    [46] = "MCAST_JOIN_SOURCE_GROUP",
    [47] = "MCAST_LEAVE_SOURCE_GROUP",
    [48] = "MCAST_MSFILTER",
    [49] = "IPV6_RECVPKTINFO",
    [50] = "IPV6_PKTINFO",
    [51] = "IPV6_RECVHOPLIMIT",
    [52] = "IPV6_HOPLIMIT",
    [53] = "IPV6_RECVHOPOPTS",
    [54] = "IPV6_HOPOPTS",
    [55] = "IPV6_RTHDRDSTOPTS",
    [56] = "IPV6_RECVRTHDR",
    [57] = "IPV6_RTHDR",
    [58] = "IPV6_RECVDSTOPTS",
    [59] = "IPV6_DSTOPTS",
    [60] = "IPV6_RECVPATHMTU",
    [61] = "IPV6_PATHMTU",
    [62] = "IPV6_DONTFRAG",
    [63] = "IPV6_USE_MIN_MTU",
    [64] = "IP6T_SO_SET_REPLACE",
    [65] = "IP6T_SO_SET_ADD_COUNTERS",
    [66] = "IPV6_RECVTCLASS",
    [67] = "IPV6_TCLASS",
    [70] = "IPV6_AUTOFLOWLABEL",
    [72] = "IPV6_ADDR_PREFERENCES",
    [73] = "IPV6_MINHOPCOUNT",
    [74] = "IPV6_ORIGDSTADDR",
    [75] = "IPV6_TRANSPARENT",
    [76] = "IPV6_UNICAST_IF",
    [77] = "IPV6_RECVFRAGSIZE",
    [78] = "IPV6_FREEBIND",
};

/* linux/udp.h */
static const char *const udp_names[] = {
    [1] = "UDP_CORK",           [100] = "UDP_ENCAP",
    [101] = "UDP_NO_CHECK6_TX", [102] = "UDP_NO_CHECK6_RX",
    [103] = "UDP_SEGMENT",      [104] = "UDP_GRO",
};

/* getsockopt's netfilter requests, from 64 */
static const char *const ipt_get[] = {
    "IPT_SO_GET_INFO",
    "IPT_SO_GET_ENTRIES",
    "IPT_SO_GET_REVISION_MATCH",
    "IPT_SO_GET_REVISION_TARGET",
};
static const char *const ip6t_get[] = {
    "IP6T_SO_GET_INFO",           "IP6T_SO_GET_ENTRIES",         NULL, NULL,
    "IP6T_SO_GET_REVISION_MATCH", "IP6T_SO_GET_REVISION_TARGET",
};

static const char *pick(const char *const *t, size_t n, uint32_t v)
{
    return v < n ? t[v] : NULL;
}

const char *vdec_ipopt_name(uint32_t level, uint32_t name, bool get,
                            const char **unk)
{
    switch (level) {
    case SOL_IP_:
        *unk = "IP_???";
        if (get && name >= 64 && name < 68)
            return ipt_get[name - 64];
        if (!get && name >= 66 && name < 68)
            return NULL;
        return pick(ip_names, VSYS_ARRAY_SIZE(ip_names), name);
    case SOL_IPV6_:
        *unk = "IPV6_???";
        if (get && name >= 64 && name < 70 && ip6t_get[name - 64])
            return ip6t_get[name - 64];
        return pick(ipv6_names, VSYS_ARRAY_SIZE(ipv6_names), name);
    case SOL_UDP_:
        *unk = "UDP_???";
        return pick(udp_names, VSYS_ARRAY_SIZE(udp_names), name);
    default:
        *unk = NULL;
        return NULL;
    }
}

/* IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP: struct ip_mreq, the first 8
 * bytes of an ip_mreqn too (strace shows those two fields of either). */
static void put_in4(struct obuf *o, bool json, const char *field,
                    const uint8_t *a)
{
    ob_printf(o,
              json ? "\"%s\":\"%u.%u.%u.%u\"" : "%s=inet_addr(\"%u.%u.%u.%u\")",
              field, a[0], a[1], a[2], a[3]);
}

bool vdec_ip_mreq(struct obuf *o, bool json, const uint8_t *d, size_t n)
{
    if (n < 8)
        return false;
    ob_putc(o, '{');
    put_in4(o, json, "imr_multiaddr", d);
    ob_puts(o, json ? "," : ", ");
    put_in4(o, json, "imr_interface", d + 4);
    ob_putc(o, '}');
    return true;
}
