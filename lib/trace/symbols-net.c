/* Symbolic names of the sockets' arguments (families, types, protocols,
 * message flags), as strace shows them; the x86 Linux ABI's values. */
#include "trace/symbols.h"

static const struct vsym families[] = {
    S(0, "AF_UNSPEC"),      S(1, "AF_UNIX"),       S(2, "AF_INET"),
    S(3, "AF_AX25"),        S(4, "AF_IPX"),        S(5, "AF_APPLETALK"),
    S(6, "AF_NETROM"),      S(7, "AF_BRIDGE"),     S(8, "AF_ATMPVC"),
    S(9, "AF_X25"),         S(10, "AF_INET6"),     S(11, "AF_ROSE"),
    S(12, "AF_DECnet"),     S(13, "AF_NETBEUI"),   S(14, "AF_SECURITY"),
    S(15, "AF_KEY"),        S(16, "AF_NETLINK"),   S(17, "AF_PACKET"),
    S(18, "AF_ASH"),        S(19, "AF_ECONET"),    S(20, "AF_ATMSVC"),
    S(21, "AF_RDS"),        S(22, "AF_SNA"),       S(23, "AF_IRDA"),
    S(24, "AF_PPPOX"),      S(25, "AF_WANPIPE"),   S(26, "AF_LLC"),
    S(27, "AF_IB"),         S(28, "AF_MPLS"),      S(29, "AF_CAN"),
    S(30, "AF_TIPC"),       S(31, "AF_BLUETOOTH"), S(32, "AF_IUCV"),
    S(33, "AF_RXRPC"),      S(34, "AF_ISDN"),      S(35, "AF_PHONET"),
    S(36, "AF_IEEE802154"), S(37, "AF_CAIF"),      S(38, "AF_ALG"),
    S(39, "AF_NFC"),        S(40, "AF_VSOCK"),     S(41, "AF_KCM"),
    S(42, "AF_QIPCRTR"),    S(43, "AF_SMC"),       S(44, "AF_XDP"),
    S(45, "AF_MCTP"),
};

const char *vsys_family_name(uint64_t v)
{
    return vsym_find(v, families, VSYS_ARRAY_SIZE(families));
}

static const struct vsym sock_types[] = {
    S(1, "SOCK_STREAM"),  S(2, "SOCK_DGRAM"),     S(3, "SOCK_RAW"),
    S(4, "SOCK_RDM"),     S(5, "SOCK_SEQPACKET"), S(6, "SOCK_DCCP"),
    S(10, "SOCK_PACKET"),
};

static const struct vsym sock_flags[] = {
    S(02000000, "SOCK_CLOEXEC"),
    S(04000, "SOCK_NONBLOCK"),
};

static const struct vsym ipprotos[] = {
    S(0, "IPPROTO_IP"),         S(1, "IPPROTO_ICMP"),
    S(2, "IPPROTO_IGMP"),       S(4, "IPPROTO_IPIP"),
    S(6, "IPPROTO_TCP"),        S(8, "IPPROTO_EGP"),
    S(12, "IPPROTO_PUP"),       S(17, "IPPROTO_UDP"),
    S(22, "IPPROTO_IDP"),       S(29, "IPPROTO_TP"),
    S(33, "IPPROTO_DCCP"),      S(41, "IPPROTO_IPV6"),
    S(46, "IPPROTO_RSVP"),      S(47, "IPPROTO_GRE"),
    S(50, "IPPROTO_ESP"),       S(51, "IPPROTO_AH"),
    S(58, "IPPROTO_ICMPV6"),    S(92, "IPPROTO_MTP"),
    S(94, "IPPROTO_BEETPH"),    S(98, "IPPROTO_ENCAP"),
    S(103, "IPPROTO_PIM"),      S(108, "IPPROTO_COMP"),
    S(115, "IPPROTO_L2TP"),     S(132, "IPPROTO_SCTP"),
    S(136, "IPPROTO_UDPLITE"),  S(137, "IPPROTO_MPLS"),
    S(143, "IPPROTO_ETHERNET"), S(255, "IPPROTO_RAW"),
    S(262, "IPPROTO_MPTCP"),
};

const char *vsys_ipproto_name(uint64_t v)
{
    return vsym_find(v, ipprotos, VSYS_ARRAY_SIZE(ipprotos));
}

/* socket(AF_NETLINK, ..., protocol) */
static const struct vsym netlinks[] = {
    S(0, "NETLINK_ROUTE"),       S(1, "NETLINK_UNUSED"),
    S(2, "NETLINK_USERSOCK"),    S(3, "NETLINK_FIREWALL"),
    S(4, "NETLINK_SOCK_DIAG"),   S(5, "NETLINK_NFLOG"),
    S(6, "NETLINK_XFRM"),        S(7, "NETLINK_SELINUX"),
    S(8, "NETLINK_ISCSI"),       S(9, "NETLINK_AUDIT"),
    S(10, "NETLINK_FIB_LOOKUP"), S(11, "NETLINK_CONNECTOR"),
    S(12, "NETLINK_NETFILTER"),  S(13, "NETLINK_IP6_FW"),
    S(14, "NETLINK_DNRTMSG"),    S(15, "NETLINK_KOBJECT_UEVENT"),
    S(16, "NETLINK_GENERIC"),    S(18, "NETLINK_SCSITRANSPORT"),
    S(19, "NETLINK_ECRYPTFS"),   S(20, "NETLINK_RDMA"),
    S(21, "NETLINK_CRYPTO"),     S(22, "NETLINK_SMC"),
};

const char *vsys_netlink_name(uint64_t v)
{
    return vsym_find(v, netlinks, VSYS_ARRAY_SIZE(netlinks));
}

static const struct vsym msg_flags[] = {
    S(0x1, "MSG_OOB"),
    S(0x2, "MSG_PEEK"),
    S(0x4, "MSG_DONTROUTE"),
    S(0x8, "MSG_CTRUNC"),
    S(0x10, "MSG_PROXY"),
    S(0x20, "MSG_TRUNC"),
    S(0x40, "MSG_DONTWAIT"),
    S(0x80, "MSG_EOR"),
    S(0x100, "MSG_WAITALL"),
    S(0x200, "MSG_FIN"),
    S(0x400, "MSG_SYN"),
    S(0x800, "MSG_CONFIRM"),
    S(0x1000, "MSG_RST"),
    S(0x2000, "MSG_ERRQUEUE"),
    S(0x4000, "MSG_NOSIGNAL"),
    S(0x8000, "MSG_MORE"),
    S(0x10000, "MSG_WAITFORONE"),
    S(0x40000, "MSG_BATCH"),
    S(0x4000000, "MSG_ZEROCOPY"),
    S(0x20000000, "MSG_FASTOPEN"),
    S(0x40000000, "MSG_CMSG_CLOEXEC"),
};

static const struct vsym shut_hows[] = {
    S(0, "SHUT_RD"),
    S(1, "SHUT_WR"),
    S(2, "SHUT_RDWR"),
};

const struct symbolic vsym_net_symbolics[] = {
    {'F', SK_ENUM, SYM_T(families), NULL, 0, NULL, NULL},
    {'T', SK_TYPE_FLAGS, SYM_T(sock_types), SYM_T(sock_flags), NULL, NULL},
    {'K', SK_FLAGS, SYM_T(sock_flags), NULL, 0, NULL, NULL},
    {'y', SK_ENUM, SYM_T(shut_hows), NULL, 0, NULL, NULL},
    {'V', SK_FLAGS, SYM_T(msg_flags), NULL, 0, NULL, NULL},
};
const size_t vsym_net_nsymbolics = VSYS_ARRAY_SIZE(vsym_net_symbolics);
