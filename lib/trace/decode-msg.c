/* sendmsg's and recvmsg's struct msghdr as strace 6.1 shows it: the
 * address, each iovec with its bytes, the control messages (SCM_RIGHTS'
 * descriptors, SCM_CREDENTIALS), and as a JSON object. The capture
 * (VSYS_CAP_MSGHDR, laid out in syscalls.h) is guest-controlled: every
 * count in it is checked against the bytes that are really there. */
#include "trace/decode.h"

#define CMSG_HDR 16 /* struct cmsghdr: len (8), level, type */

/* The capture split into its parts. */
struct msgparts {
    const uint8_t *h; /* struct msghdr, 56 bytes */
    struct vsys_msgcap cap;
    const uint8_t *name, *iov, *meta, *data, *ctl;
    size_t ndata;
};

static bool split(struct msgparts *m, const uint8_t *d, size_t n)
{
    size_t off = VSYS_MSGHDR_LEN + sizeof m->cap, need, used = 0;

    if (n < off)
        return false;
    m->h = d;
    memcpy(&m->cap, d + VSYS_MSGHDR_LEN, sizeof m->cap);
    if (m->cap.niov > VSYS_MSG_IOV_MAX)
        return false;
    need = off + m->cap.name_len + m->cap.niov * (16u + 4u);
    if (n < need + m->cap.ctl_len)
        return false;
    m->name = d + off;
    m->iov = m->name + m->cap.name_len;
    m->meta = m->iov + 16u * m->cap.niov;
    m->data = m->meta + 4u * m->cap.niov;
    m->ndata = n - need - m->cap.ctl_len;
    m->ctl = m->data + m->ndata;
    for (unsigned i = 0; i < m->cap.niov; i++) {
        uint16_t len;
        memcpy(&len, m->meta + 4 * i, sizeof len);
        if (len > m->ndata - used)
            return false;
        used += len;
    }
    return true;
}

static void put_key(struct obuf *o, bool json, const char *key, bool first)
{
    if (!first)
        ob_puts(o, json ? "," : ", ");
    if (json)
        ob_printf(o, "\"%s\":", key);
    else
        ob_printf(o, "%s=", key);
}

/* msg_namelen: recvmsg's "in => out" when the kernel changed it. */
static void put_namelen(struct obuf *o, bool json, uint32_t out,
                        const uint8_t *in, size_t n_in)
{
    int32_t before = in && n_in >= 12 ? (int32_t)rd32(in + 8) : 0;

    if (!in || n_in < 12) {
        ob_dec(o, (int32_t)out);
    } else if (json) {
        ob_printf(o, "{\"in\":%d,\"out\":%d}", (int)before, (int)out);
    } else {
        ob_dec(o, before);
        if (before != (int32_t)out)
            ob_printf(o, " => %d", (int)(int32_t)out);
    }
}

/* The iovecs (split checked that their bytes add up). */
static void put_iov(struct obuf *o, bool json, const struct msgparts *m)
{
    uint64_t addr = rd64(m->h + 16);
    size_t used = 0;

    if (addr == 0 || (m->cap.flags & VSYS_MSG_IOV_FAULT) ||
        (m->cap.niov == 0 && rd64(m->h + 24) != 0)) {
        vdec_ptr(o, json, addr);
        return;
    }
    ob_putc(o, '[');
    for (unsigned i = 0; i < m->cap.niov; i++) {
        uint64_t base = rd64(m->iov + 16 * i);
        uint16_t len;
        uint8_t fl = m->meta[4 * i + 2];

        memcpy(&len, m->meta + 4 * i, sizeof len);
        ob_puts(o, i ? (json ? ",{\"base\":" : ", {iov_base=")
                     : (json ? "{\"base\":" : "{iov_base="));
        if (base == 0 || (fl & VSYS_MSG_DATA_FAULT))
            vdec_ptr(o, json, base);
        else
            vdec_bytes(o, json, m->data + used, len, fl & VSYS_MSG_DATA_CUT);
        ob_printf(o, json ? ",\"len\":%llu}" : ", iov_len=%llu}",
                  (unsigned long long)rd64(m->iov + 16 * i + 8));
        used += len;
    }
    if ((m->cap.flags & VSYS_MSG_IOV_MORE) && !json)
        ob_puts(o, m->cap.niov ? ", ..." : "...");
    ob_putc(o, ']');
}

/* One control message's type and data (d: `n` bytes after its header). */
static void put_cmsg_data(struct obuf *o, bool json, uint32_t level,
                          uint32_t type, const uint8_t *d, size_t n)
{
    static const struct vsym scm[] = {
        {1, "SCM_RIGHTS"}, {2, "SCM_CREDENTIALS"}, {3, "SCM_SECURITY"}};
    const char *s =
        level == 1 ? vsym_find(type, scm, VSYS_ARRAY_SIZE(scm)) : NULL;

    put_key(o, json, json ? "type" : "cmsg_type", false);
    if (s)
        vdec_name(o, json, s);
    else if (json)
        ob_dec(o, (int32_t)type);
    else
        ob_printf(o, level == 1 ? "%#x /* SCM_??? */" : "%#x", type);
    if (level == 1 && type == 1 && n >= 4) { /* SCM_RIGHTS: fds */
        put_key(o, json, json ? "data" : "cmsg_data", false);
        ob_putc(o, '[');
        for (size_t k = 0; k + 4 <= n; k += 4)
            ob_printf(o, k ? (json ? ",%d" : ", %d") : "%d",
                      (int)(int32_t)rd32(d + k));
        ob_putc(o, ']');
    } else if (level == 1 && type == 2 && n >= 12) { /* struct ucred */
        put_key(o, json, json ? "data" : "cmsg_data", false);
        ob_printf(o,
                  json ? "{\"pid\":%d,\"uid\":%u,\"gid\":%u}"
                       : "{pid=%d, uid=%u, gid=%u}",
                  (int)(int32_t)rd32(d), rd32(d + 4), rd32(d + 8));
    }
}

/* The control messages in the captured bytes, walked as strace walks
 * them: a cmsg_len below the header stops the walk, bytes left over show
 * as "..." and their address. */
static void put_control(struct obuf *o, bool json, const struct msgparts *m)
{
    uint64_t addr = rd64(m->h + 32), len = rd64(m->h + 40);
    size_t off = 0, rem = m->cap.ctl_len;
    bool first = true;

    if (addr == 0 || (m->cap.flags & VSYS_MSG_CTL_FAULT) || len < CMSG_HDR ||
        m->cap.ctl_len < CMSG_HDR) {
        vdec_ptr(o, json, addr);
        return;
    }
    ob_putc(o, '[');
    while (rem >= CMSG_HDR) {
        const uint8_t *c = m->ctl + off;
        uint64_t clen = rd64(c), l;
        uint32_t level = rd32(c + 8);
        const char *ln = vdec_sol_name(level);

        ob_puts(o, first ? "{" : (json ? ",{" : ", {"));
        first = false;
        put_key(o, json, json ? "len" : "cmsg_len", true);
        ob_udec(o, clen);
        put_key(o, json, json ? "level" : "cmsg_level", false);
        if (ln)
            vdec_name(o, json, ln);
        else if (json)
            ob_dec(o, (int32_t)level);
        else
            ob_printf(o, "%#x /* SOL_??? */", level);
        if (clen < CMSG_HDR) {
            put_cmsg_data(o, json, level, rd32(c + 12), NULL, 0);
            ob_putc(o, '}');
            off += CMSG_HDR;
            rem -= CMSG_HDR;
            break;
        }
        l = clen < rem ? clen : rem;
        put_cmsg_data(o, json, level, rd32(c + 12), c + CMSG_HDR,
                      (size_t)l - CMSG_HDR);
        ob_putc(o, '}');
        l = (l + 7) & ~(uint64_t)7;
        l = l < rem ? l : rem;
        off += (size_t)l;
        rem -= (size_t)l;
    }
    if (rem > 0 && !json) {
        ob_puts(o, ", ... /* ");
        ob_hex(o, addr + off);
        ob_puts(o, " */");
    } else if ((m->cap.flags & VSYS_MSG_CTL_CUT) && !json) {
        ob_puts(o, ", ...");
    }
    ob_putc(o, ']');
}

bool vdec_msghdr(struct obuf *o, bool json, const uint8_t *d, size_t n,
                 const uint8_t *in, size_t n_in)
{
    struct msgparts m;
    uint64_t name;
    uint32_t namelen;

    if (!split(&m, d, n))
        return false;
    name = rd64(m.h);
    namelen = rd32(m.h + 8);
    ob_putc(o, '{');
    put_key(o, json, json ? "name" : "msg_name", true);
    if (name != 0 && m.cap.name_len > 0 && !(m.cap.flags & VSYS_MSG_NAME_FAULT))
        vdec_sockaddr(o, json, m.name, m.cap.name_len, false);
    else
        vdec_ptr(o, json, name);
    put_key(o, json, json ? "namelen" : "msg_namelen", false);
    put_namelen(o, json, namelen, in, n_in);
    put_key(o, json, json ? "iov" : "msg_iov", false);
    put_iov(o, json, &m);
    put_key(o, json, json ? "iovlen" : "msg_iovlen", false);
    ob_udec(o, rd64(m.h + 24));
    if (rd64(m.h + 40) != 0) {
        put_key(o, json, json ? "control" : "msg_control", false);
        put_control(o, json, &m);
    }
    put_key(o, json, json ? "controllen" : "msg_controllen", false);
    ob_udec(o, rd64(m.h + 40));
    put_key(o, json, json ? "flags" : "msg_flags", false);
    if (json)
        ob_putc(o, '"');
    ob_symbolic(o, 'V', rd32(m.h + 48));
    if (json)
        ob_putc(o, '"');
    ob_putc(o, '}');
    return true;
}

bool vdec_msghdr_failed(struct obuf *o, bool json, const uint8_t *in,
                        size_t n_in)
{
    if (n_in < 12)
        return false;
    ob_printf(o, json ? "{\"namelen\":{\"in\":%d}}" : "{msg_namelen=%d}",
              (int)(int32_t)rd32(in + 8));
    return true;
}
