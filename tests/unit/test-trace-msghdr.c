/* sendmsg's and recvmsg's struct msghdr: MSGHDR captures (laid out as
 * vigil/syscalls.h says, built here from their parts as the plugin lays
 * them out) formatted as strace 6.1 showed the same calls on the host
 * (strace -s 32; iovec bytes captured with --bufsize 32), including
 * unreadable parts, truncation, control messages walked past a bad
 * cmsg_len, and malformed captures. */
#undef NDEBUG
#include <stdio.h>
#include <string.h>

#include "vigil/event.h"

#include "check.h"
#include "evcheck.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

struct iov_spec {
    uint64_t base, len;
    const char *data; /* captured bytes */
    uint16_t n;
    uint8_t flags;  /* VSYS_MSG_DATA_* */
    uint16_t claim; /* nonzero: the length the capture claims instead */
};

struct msg_spec {
    uint64_t name;
    int32_t namelen;
    const char *name_data;
    uint16_t name_n;
    uint64_t iov, iovlen;
    unsigned niov; /* iovecs captured */
    struct iov_spec v[3];
    uint64_t ctl, ctllen;
    const char *ctl_data;
    uint16_t ctl_n;
    uint32_t flags;   /* msg_flags */
    uint8_t capflags; /* VSYS_MSG_* */
};

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

/* The capture's bytes for `s`, as plugin/capture-msg.c lays them out. */
static size_t build(uint8_t *out, const struct msg_spec *s)
{
    struct vsys_msgcap cap = {s->name_n, s->ctl_n, (uint8_t)s->niov,
                              s->capflags, 0};
    size_t off = VSYS_MSGHDR_LEN + sizeof cap;

    memset(out, 0, VSYS_MSGHDR_LEN);
    put64(out, s->name);
    memcpy(out + 8, &s->namelen, 4);
    put64(out + 16, s->iov);
    put64(out + 24, s->iovlen);
    put64(out + 32, s->ctl);
    put64(out + 40, s->ctllen);
    memcpy(out + 48, &s->flags, 4);
    memcpy(out + VSYS_MSGHDR_LEN, &cap, sizeof cap);
    if (s->name_n) /* memcpy's source may not be NULL, even for 0 bytes */
        memcpy(out + off, s->name_data, s->name_n);
    off += s->name_n;
    for (unsigned i = 0; i < s->niov; i++) {
        put64(out + off, s->v[i].base);
        put64(out + off + 8, s->v[i].len);
        off += 16;
    }
    for (unsigned i = 0; i < s->niov; i++) {
        struct vsys_msgiov m = {s->v[i].claim ? s->v[i].claim : s->v[i].n,
                                s->v[i].flags, 0};
        memcpy(out + off, &m, sizeof m);
        off += sizeof m;
    }
    for (unsigned i = 0; i < s->niov; i++) {
        if (s->v[i].n)
            memcpy(out + off, s->v[i].data, s->v[i].n);
        off += s->v[i].n;
    }
    if (s->ctl_n)
        memcpy(out + off, s->ctl_data, s->ctl_n);
    return off + s->ctl_n;
}

struct row {
    uint64_t nr; /* 46 sendmsg, 47 recvmsg */
    int64_t ret;
    uint64_t a[3];
    const struct msg_spec *m; /* NULL: no MSGHDR capture */
    bool fault;               /* the msghdr could not be read */
    int32_t in_namelen;       /* recvmsg's entry capture; -1: none */
    const char *text;         /* strace's line */
    const char *json;         /* a fragment of the JSON, or NULL */
};

#define STK 0x7fff7ca98000ull
#define IOV(b, l, lit, f)                                                      \
    {                                                                          \
        (b), (l), (lit), sizeof(lit) - 1, (f), 0                               \
    }
/* struct cmsghdr: cmsg_len (8 bytes), level, type */
#define CMSG(len, lvl, type) len "\0\0\0\0\0\0\0" lvl "\0\0\0" type "\0\0\0"

static const char rights01[] = CMSG("\x18", "\1", "\1") "\0\0\0\0\1\0\0\0";
static const char rights56[] = CMSG("\x18", "\1", "\1") "\5\0\0\0\6\0\0\0";
static const char creds[] =
    CMSG("\x1c", "\1", "\2") "\xd1\x59\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
static const char unk_scm[] = CMSG("\x14", "\1", "\x63") "\1\2\3\4\0\0\0\0";
static const char unk_sol[] =
    "\x14\0\0\0\0\0\0\0\xd2\4\0\0\x63\0\0\0\1\2\3\4\0\0\0\0";
static const char bad_len[] =
    CMSG("\x08", "\1", "\1") "\0\0\0\0\0\0\0\0"
                             "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
static const char two[] = CMSG("\x14", "\1", "\1") "\0\0\0\0\0\0\0\0" CMSG(
    "\xc8", "\1", "\1") "\0\0\0\0\0\0\0\0";
static const char then_short[] =
    CMSG("\x14", "\1", "\1") "\0\0\0\0\0\0\0\0" CMSG("\x04", "\1",
                                                     "\1") "\0\0\0\0\0\0\0\0";
static const char sin53[] = "\2\0\0\x35\x7f\0\0\1\0\0\0\0\0\0\0\0";

#define HELLO IOV(0x5000, 5, "hello", 0)

static const struct msg_spec m_rights = {
    .iov = 0x4000,
    .iovlen = 3,
    .niov = 3,
    .v = {HELLO,
          IOV(0x5010, 43, "0123456789abcdefghijklmnopqrstuv",
              VSYS_MSG_DATA_CUT),
          IOV(0x5006, 5, "world", 0)},
    .ctl = STK,
    .ctllen = 24,
    .ctl_data = rights01,
    .ctl_n = 24};
static const struct msg_spec m_recv_rights = {
    .name = STK + 0x1a0,
    .namelen = 0,
    .iov = 0x4000,
    .iovlen = 2,
    .niov = 2,
    .v = {IOV(0x5000, 4, "hell", 0),
          IOV(0x5100, 64, "o0123456789abcdefghijklmnopqrstu",
              VSYS_MSG_DATA_CUT)},
    .ctl = STK,
    .ctllen = 24,
    .ctl_data = rights56,
    .ctl_n = 24};
static const struct msg_spec m_recv_creds = {
    .name = STK + 0x1a0,
    .iov = 0x4000,
    .iovlen = 2,
    .niov = 2,
    .v = {IOV(0x5000, 4, "hell", 0), IOV(0x5100, 64, "o", 0)},
    .ctl = STK,
    .ctllen = 32,
    .ctl_data = creds,
    .ctl_n = 32};
static const struct msg_spec m_recv_empty = {
    .name = STK + 0x1a0,
    .iov = 0x4000,
    .iovlen = 2,
    .niov = 2,
    .v = {IOV(0x5000, 4, "hell", 0), IOV(0x5100, 64, "", 0)},
    .flags = 0x8 /* MSG_CTRUNC */};
static const struct msg_spec m_plain = {
    .iov = 0x4000, .iovlen = 1, .niov = 1, .v = {HELLO}};
static const struct msg_spec m_bad_iov = {
    .iov = 0x10, .iovlen = 2, .capflags = VSYS_MSG_IOV_FAULT};
static const struct msg_spec m_inet = {.name = 0x6000,
                                       .namelen = 16,
                                       .name_data = sin53,
                                       .name_n = 16,
                                       .iov = 0x4000,
                                       .iovlen = 1,
                                       .niov = 1,
                                       .v = {HELLO}};
static const struct msg_spec m_bad_name = {.name = 0x28,
                                           .namelen = 16,
                                           .capflags = VSYS_MSG_NAME_FAULT,
                                           .iov = 0x4000,
                                           .iovlen = 1,
                                           .niov = 1,
                                           .v = {HELLO}};
static const struct msg_spec m_bad_base = {
    .iov = 0x4000,
    .iovlen = 2,
    .niov = 2,
    .v = {{0x30, 5, "", 0, VSYS_MSG_DATA_FAULT, 0}, HELLO}};
static const struct msg_spec m_unk_scm = {.iov = 0x4000,
                                          .iovlen = 1,
                                          .niov = 1,
                                          .v = {HELLO},
                                          .ctl = STK,
                                          .ctllen = 24,
                                          .ctl_data = unk_scm,
                                          .ctl_n = 24};
static const struct msg_spec m_unk_sol = {.iov = 0x4000,
                                          .iovlen = 1,
                                          .niov = 1,
                                          .v = {HELLO},
                                          .ctl = STK,
                                          .ctllen = 24,
                                          .ctl_data = unk_sol,
                                          .ctl_n = 24};
static const struct msg_spec m_short_ctl = {.iov = 0x4000,
                                            .iovlen = 1,
                                            .niov = 1,
                                            .v = {HELLO},
                                            .ctl = STK + 0x8b0,
                                            .ctllen = 8,
                                            .ctl_data = unk_sol,
                                            .ctl_n = 8};
static const struct msg_spec m_bad_ctl = {.iov = 0x4000,
                                          .iovlen = 1,
                                          .niov = 1,
                                          .v = {HELLO},
                                          .ctl = 0x20,
                                          .ctllen = 24,
                                          .capflags = VSYS_MSG_CTL_FAULT};
static const struct msg_spec m_null_ctl = {
    .iov = 0x4000, .iovlen = 1, .niov = 1, .v = {HELLO}, .ctllen = 24};
static const struct msg_spec m_bad_len = {.iov = 0x4000,
                                          .iovlen = 1,
                                          .niov = 1,
                                          .v = {IOV(0x5000, 4, "hell", 0)},
                                          .ctl = STK + 0x830,
                                          .ctllen = 48,
                                          .ctl_data = bad_len,
                                          .ctl_n = 48};
static const struct msg_spec m_two = {.iov = 0x4000,
                                      .iovlen = 1,
                                      .niov = 1,
                                      .v = {HELLO},
                                      .ctl = STK,
                                      .ctllen = 48,
                                      .ctl_data = two,
                                      .ctl_n = 48};
static const struct msg_spec m_then_short = {.iov = 0x4000,
                                             .iovlen = 1,
                                             .niov = 1,
                                             .v = {IOV(0x5000, 4, "hell", 0)},
                                             .ctl = STK + 0x830,
                                             .ctllen = 48,
                                             .ctl_data = then_short,
                                             .ctl_n = 48};
static const struct msg_spec m_rest = {.iov = 0x4000,
                                       .iovlen = 1,
                                       .niov = 1,
                                       .v = {IOV(0x5000, 4, "hell", 0)},
                                       .ctl = STK + 0x830,
                                       .ctllen = 30,
                                       .ctl_data = then_short,
                                       .ctl_n = 30};
static const struct msg_spec m_no_iov = {.iovlen = 0};
static const struct msg_spec m_empty_iov = {.iov = 0x4000, .iovlen = 0};
static const struct msg_spec m_escapes = {
    .iov = 0x4000,
    .iovlen = 1,
    .niov = 1,
    .v = {IOV(0x5000, 5, "\0\1\n\"x", 0)}};
static const struct msg_spec m_peek = {.iov = 0x4000,
                                       .iovlen = 1,
                                       .niov = 1,
                                       .v = {IOV(0x5000, 8, "hello", 0)},
                                       .flags =
                                           0x40000000 /* MSG_CMSG_CLOEXEC */};
static const struct msg_spec m_trunc = {.iov = 0x4000,
                                        .iovlen = 1,
                                        .niov = 1,
                                        .v = {IOV(0x5000, 4, "hhhh", 0)},
                                        .ctl = STK,
                                        .ctllen = 0,
                                        .flags =
                                            0x28 /* MSG_CTRUNC|MSG_TRUNC */};
/* more iovecs than VSYS_MSG_IOV_MAX: vigil shows the ones captured and
 * "..." (strace shows -s of them) */
static const struct msg_spec m_more = {
    .iov = 0x4000,
    .iovlen = 40,
    .niov = 2,
    .v = {IOV(0x5000, 1, "h", 0), IOV(0x5000, 1, "h", 0)},
    .capflags = VSYS_MSG_IOV_MORE};
/* malformed: an iovec claims more bytes than the capture holds */
static const struct msg_spec m_lying = {.iov = 0x4000,
                                        .iovlen = 1,
                                        .niov = 1,
                                        .v = {{0x5000, 5, "hello", 5, 0, 200}}};

#define IOV_HELLO "msg_iov=[{iov_base=\"hello\", iov_len=5}], msg_iovlen=1"
#define IOV_HELL  "msg_iov=[{iov_base=\"hell\", iov_len=4}], msg_iovlen=1"
#define NONAME    "{msg_name=NULL, msg_namelen=0, "

static const struct row rows[] = {
    {46,
     53,
     {3, 0x7ffd1000, 0x40},
     &m_rights,
     false,
     -1,
     "sendmsg(3, " NONAME "msg_iov=[{iov_base=\"hello\", iov_len=5}, "
     "{iov_base=\"0123456789abcdefghijklmnopqrstuv\"..., iov_len=43}, "
     "{iov_base=\"world\", iov_len=5}], msg_iovlen=3, "
     "msg_control=[{cmsg_len=24, cmsg_level=SOL_SOCKET, "
     "cmsg_type=SCM_RIGHTS, cmsg_data=[0, 1]}], msg_controllen=24, "
     "msg_flags=0}, MSG_DONTWAIT) = 53",
     "\"control\":[{\"len\":24,\"level\":\"SOL_SOCKET\",\"type\":"
     "\"SCM_RIGHTS\",\"data\":[0,1]}],\"controllen\":24,\"flags\":\"0\"}"},
    {47,
     53,
     {4, 0x7ffd1000, 0},
     &m_recv_rights,
     false,
     110,
     "recvmsg(4, {msg_name=0x7fff7ca981a0, msg_namelen=110 => 0, "
     "msg_iov=[{iov_base=\"hell\", iov_len=4}, "
     "{iov_base=\"o0123456789abcdefghijklmnopqrstu\"..., iov_len=64}], "
     "msg_iovlen=2, msg_control=[{cmsg_len=24, cmsg_level=SOL_SOCKET, "
     "cmsg_type=SCM_RIGHTS, cmsg_data=[5, 6]}], msg_controllen=24, "
     "msg_flags=0}, 0) = 53",
     "{\"name\":\"0x7fff7ca981a0\",\"namelen\":{\"in\":110,\"out\":0},"
     "\"iov\":[{\"base\":\"hell\",\"len\":4},{\"base\":"
     "\"o0123456789abcdefghijklmnopqrstu\",\"len\":64}],\"iovlen\":2,"},
    {47,
     5,
     {4, 0x7ffd1000, 0},
     &m_recv_creds,
     false,
     110,
     "recvmsg(4, {msg_name=0x7fff7ca981a0, msg_namelen=110 => 0, "
     "msg_iov=[{iov_base=\"hell\", iov_len=4}, {iov_base=\"o\", "
     "iov_len=64}], msg_iovlen=2, msg_control=[{cmsg_len=28, "
     "cmsg_level=SOL_SOCKET, cmsg_type=SCM_CREDENTIALS, "
     "cmsg_data={pid=22993, uid=0, gid=0}}], msg_controllen=32, "
     "msg_flags=0}, 0) = 5",
     "\"data\":{\"pid\":22993,\"uid\":0,\"gid\":0}"},
    {47,
     4,
     {4, 0x7ffd1000, 0},
     &m_recv_empty,
     false,
     16,
     "recvmsg(4, {msg_name=0x7fff7ca981a0, msg_namelen=16 => 0, "
     "msg_iov=[{iov_base=\"hell\", iov_len=4}, {iov_base=\"\", "
     "iov_len=64}], msg_iovlen=2, msg_controllen=0, "
     "msg_flags=MSG_CTRUNC}, 0) = 4",
     NULL},
    {47,
     -11,
     {4, 0x7ffd1000, 0x40},
     NULL,
     false,
     0,
     "recvmsg(4, {msg_namelen=0}, MSG_DONTWAIT) = -1 EAGAIN (Resource "
     "temporarily unavailable)",
     "\"decoded\":[4,{\"namelen\":{\"in\":0}},\"MSG_DONTWAIT\"]"},
    {46,
     -14,
     {3, 0x8, 0},
     NULL,
     true,
     -1,
     "sendmsg(3, 0x8, 0) = -1 EFAULT (Bad address)",
     "{\"addr\":\"0x8\",\"error\":\"unreadable\"}"},
    {47,
     -14,
     {4, 0, 0x40},
     NULL,
     false,
     -1,
     "recvmsg(4, NULL, MSG_DONTWAIT) = -1 EFAULT (Bad address)",
     NULL},
    {46,
     -14,
     {3, 0x7ffd1000, 0},
     &m_bad_iov,
     false,
     -1,
     "sendmsg(3, " NONAME "msg_iov=0x10, msg_iovlen=2, msg_controllen=0, "
     "msg_flags=0}, 0) = -1 EFAULT (Bad address)",
     NULL},
    {46,
     5,
     {5, 0x7ffd1000, 0},
     &m_inet,
     false,
     -1,
     "sendmsg(5, {msg_name={sa_family=AF_INET, sin_port=htons(53), "
     "sin_addr=inet_addr(\"127.0.0.1\")}, msg_namelen=16, " IOV_HELLO
     ", msg_controllen=0, msg_flags=0}, 0) = 5",
     "{\"name\":{\"family\":\"AF_INET\""},
    {46,
     -14,
     {5, 0x7ffd1000, 0},
     &m_bad_name,
     false,
     -1,
     "sendmsg(5, {msg_name=0x28, msg_namelen=16, " IOV_HELLO
     ", msg_controllen=0, msg_flags=0}, 0) = -1 EFAULT (Bad address)",
     NULL},
    {46,
     -14,
     {3, 0x7ffd1000, 0},
     &m_bad_base,
     false,
     -1,
     "sendmsg(3, " NONAME "msg_iov=[{iov_base=0x30, iov_len=5}, "
     "{iov_base=\"hello\", iov_len=5}], msg_iovlen=2, msg_controllen=0, "
     "msg_flags=0}, 0) = -1 EFAULT (Bad address)",
     "\"iov\":[{\"base\":\"0x30\",\"len\":5},"},
    {46,
     -22,
     {3, 0x7ffd1000, 0},
     &m_unk_scm,
     false,
     -1,
     "sendmsg(3, " NONAME IOV_HELLO ", msg_control=[{cmsg_len=20, "
     "cmsg_level=SOL_SOCKET, cmsg_type=0x63 /* SCM_??? */}], "
     "msg_controllen=24, msg_flags=0}, 0) = -1 EINVAL (Invalid argument)",
     NULL},
    {46,
     5,
     {3, 0x7ffd1000, 0},
     &m_unk_sol,
     false,
     -1,
     "sendmsg(3, " NONAME IOV_HELLO ", msg_control=[{cmsg_len=20, "
     "cmsg_level=0x4d2 /* SOL_??? */, cmsg_type=0x63}], "
     "msg_controllen=24, msg_flags=0}, 0) = 5",
     "\"control\":[{\"len\":20,\"level\":1234,\"type\":99}]"},
    {46,
     5,
     {3, 0x7ffd1000, 0},
     &m_short_ctl,
     false,
     -1,
     "sendmsg(3, " NONAME IOV_HELLO ", msg_control=0x7fff7ca988b0, "
     "msg_controllen=8, msg_flags=0}, 0) = 5",
     NULL},
    {46,
     -14,
     {3, 0x7ffd1000, 0},
     &m_bad_ctl,
     false,
     -1,
     "sendmsg(3, " NONAME IOV_HELLO ", msg_control=0x20, "
     "msg_controllen=24, msg_flags=0}, 0) = -1 EFAULT (Bad address)",
     NULL},
    {46,
     -14,
     {3, 0x7ffd1000, 0},
     &m_null_ctl,
     false,
     -1,
     "sendmsg(3, " NONAME IOV_HELLO ", msg_control=NULL, "
     "msg_controllen=24, msg_flags=0}, 0) = -1 EFAULT (Bad address)",
     NULL},
    {46,
     -22,
     {3, 0x7ffd1000, 0},
     &m_bad_len,
     false,
     -1,
     "sendmsg(3, " NONAME IOV_HELL ", msg_control=[{cmsg_len=8, "
     "cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS}, ... /* 0x7fff7ca98840 "
     "*/], msg_controllen=48, msg_flags=0}, 0) = -1 EINVAL (Invalid "
     "argument)",
     NULL},
    {46,
     -22,
     {3, 0x7ffd1000, 0x4000},
     &m_two,
     false,
     -1,
     "sendmsg(3, " NONAME IOV_HELLO ", msg_control=[{cmsg_len=20, "
     "cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[0]}, "
     "{cmsg_len=200, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, "
     "cmsg_data=[0, 0]}], msg_controllen=48, msg_flags=0}, MSG_NOSIGNAL) = "
     "-1 EINVAL (Invalid argument)",
     NULL},
    {46,
     -22,
     {3, 0x7ffd1000, 0},
     &m_then_short,
     false,
     -1,
     "sendmsg(3, " NONAME IOV_HELL ", msg_control=[{cmsg_len=20, "
     "cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[0]}, "
     "{cmsg_len=4, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS}, ... /* "
     "0x7fff7ca98858 */], msg_controllen=48, msg_flags=0}, 0) = -1 EINVAL "
     "(Invalid argument)",
     NULL},
    {46,
     4,
     {3, 0x7ffd1000, 0},
     &m_rest,
     false,
     -1,
     "sendmsg(3, " NONAME IOV_HELL ", msg_control=[{cmsg_len=20, "
     "cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[0]}, ... /* "
     "0x7fff7ca98848 */], msg_controllen=30, msg_flags=0}, 0) = 4",
     NULL},
    {46,
     0,
     {3, 0x7ffd1000, 0},
     &m_no_iov,
     false,
     -1,
     "sendmsg(3, " NONAME "msg_iov=NULL, msg_iovlen=0, msg_controllen=0, "
     "msg_flags=0}, 0) = 0",
     "\"iov\":null,\"iovlen\":0,\"controllen\":0"},
    {46,
     0,
     {3, 0x7ffd1000, 0},
     &m_empty_iov,
     false,
     -1,
     "sendmsg(3, " NONAME "msg_iov=[], msg_iovlen=0, msg_controllen=0, "
     "msg_flags=0}, 0) = 0",
     NULL},
    {46,
     5,
     {3, 0x7ffd1000, 0},
     &m_escapes,
     false,
     -1,
     "sendmsg(3, " NONAME "msg_iov=[{iov_base=\"\\0\\1\\n\\\"x\", "
     "iov_len=5}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 5",
     NULL},
    {47,
     5,
     {4, 0x7ffd1000, 0x40000002},
     &m_peek,
     false,
     0,
     "recvmsg(4, " NONAME "msg_iov=[{iov_base=\"hello\", iov_len=8}], "
     "msg_iovlen=1, msg_controllen=0, msg_flags=MSG_CMSG_CLOEXEC}, "
     "MSG_PEEK|MSG_CMSG_CLOEXEC) = 5",
     NULL},
    {47,
     4,
     {4, 0x7ffd1000, 0},
     &m_trunc,
     false,
     0,
     "recvmsg(4, " NONAME "msg_iov=[{iov_base=\"hhhh\", iov_len=4}], "
     "msg_iovlen=1, msg_controllen=0, msg_flags=MSG_CTRUNC|MSG_TRUNC}, 0) = "
     "4",
     "\"flags\":\"MSG_CTRUNC|MSG_TRUNC\""},
    {46,
     40,
     {3, 0x7ffd1000, 0},
     &m_more,
     false,
     -1,
     "sendmsg(3, " NONAME "msg_iov=[{iov_base=\"h\", iov_len=1}, "
     "{iov_base=\"h\", iov_len=1}, ...], msg_iovlen=40, msg_controllen=0, "
     "msg_flags=0}, 0) = 40",
     NULL},
    {46,
     5,
     {3, 0x7ffd1000, 0},
     &m_lying,
     false,
     -1,
     "sendmsg(3, 0x7ffd1000, 0) = 5",
     NULL},
    {46,
     5,
     {3, 0x7ffd1000, 0},
     &m_plain,
     false,
     -1,
     "sendmsg(3, " NONAME IOV_HELLO ", msg_controllen=0, msg_flags=0}, 0) "
     "= 5",
     NULL},
};

static void test_rows(void)
{
    static uint8_t blob[8192];

    for (size_t i = 0; i < NROWS(rows); i++) {
        const struct row *r = &rows[i];
        struct vigil_syscall ev;
        uint8_t in[16] = {0};

        row_event(&ev, r->nr, r->ret, r->a, NROWS(r->a));
        if (r->in_namelen >= 0) {
            memcpy(in + 8, &r->in_namelen, 4);
            row_capture(&ev, 1, VSYS_CAP_STRUCT, false, in, sizeof in);
        }
        if (r->m || r->fault) {
            struct vigil_capture *c =
                row_capture(&ev, 1, VSYS_CAP_MSGHDR, r->nr == 47, blob,
                            r->m ? build(blob, r->m) : 0);
            c->fault = r->fault;
        }
        check_event(&ev, i, r->text, r->json);
    }
}

int main(void)
{
    test_rows();
    return failures != 0;
}
