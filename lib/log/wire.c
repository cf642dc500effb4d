/* The vigil log wire format: encoding, authentication, record framing and
 * the anti-replay window. Pure functions over caller buffers; no I/O
 * except vlog_key_load and the name lookup in vlog_parse_url. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vigil/hex.h"
#include "vigil/log.h"

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Layout of the 48-byte header (big-endian):
 *   0 magic u32 | 4 version u8 | 5 type u8 | 6 flags u16 | 8 session u64
 *  16 seq u64   | 24 time_ns u64 | 32 first u64 | 40 count u32
 *  44 payload_len u32 */
int vlog_encode(uint8_t *buf, size_t cap, const struct vlog_hdr *h,
                const void *payload, size_t plen,
                const uint8_t key[VLOG_KEY_LEN])
{
    size_t total;
    if (buf == NULL || h == NULL || key == NULL ||
        (plen > 0 && payload == NULL))
        return -EINVAL;
    if (plen > UINT32_MAX ||
        __builtin_add_overflow(plen, (size_t)VLOG_OVERHEAD, &total) ||
        total > cap || total > INT32_MAX)
        return -EMSGSIZE;
    put32(buf, VLOG_MAGIC);
    buf[4] = VLOG_VERSION;
    buf[5] = h->type;
    put16(buf + 6, h->flags);
    put64(buf + 8, h->session);
    put64(buf + 16, h->seq);
    put64(buf + 24, h->time_ns);
    put64(buf + 32, h->first);
    put32(buf + 40, h->count);
    put32(buf + 44, (uint32_t)plen);
    if (plen > 0 && payload != buf + VLOG_HDR_LEN)
        memmove(buf + VLOG_HDR_LEN, payload, plen);
    int err = vlog_seal(buf, VLOG_HDR_LEN + plen, key);
    return err < 0 ? err : (int)total;
}

/* The nonce is the packet's identity: type, session, seq (then zeros).
 * Senders never repeat (session, seq) (a random 64-bit session per START,
 * sequence numbers counting up), so no nonce repeats under one key. */
static void nonce_of(const uint8_t *pkt, uint8_t nonce[24])
{
    memset(nonce, 0, 24);
    memcpy(nonce, pkt + 5, 1);      /* type */
    memcpy(nonce + 1, pkt + 8, 16); /* session, seq */
}

int vlog_seal(uint8_t *pkt, size_t len, const uint8_t key[VLOG_KEY_LEN])
{
    uint8_t nonce[24];
    if (pkt == NULL || key == NULL || len < VLOG_HDR_LEN)
        return -EINVAL;
    nonce_of(pkt, nonce);
    /* AEAD with an empty message: header and payload are additional data,
     * authenticated, not encrypted; the result is the 16-byte tag. */
    uint8_t none[1] = {0}; /* the empty message and its empty ciphertext */
    crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
        none, pkt + len, NULL, none, 0, pkt, len, NULL, nonce, key);
    return 0;
}

int vlog_decode(const uint8_t *pkt, size_t len, struct vlog_hdr *h,
                const uint8_t **payload, const uint8_t key[VLOG_KEY_LEN],
                enum vlog_reject *why)
{
    enum vlog_reject dummy;
    if (why == NULL)
        why = &dummy;
    if (pkt == NULL || h == NULL || key == NULL)
        return -EINVAL;
    if (len < VLOG_OVERHEAD) {
        *why = VLOG_REJ_SHORT;
        return -EBADMSG;
    }
    /* The length field is covered by the tag; check it agrees with the
     * datagram before using it, then verify the tag over what we hold. */
    size_t plen = len - VLOG_OVERHEAD;
    if (get32(pkt + 44) != plen) {
        *why = VLOG_REJ_SHORT;
        return -EBADMSG;
    }
    uint8_t nonce[24];
    nonce_of(pkt, nonce);
    uint8_t none[1] = {0};
    if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
            none, NULL, none, 0, pkt + VLOG_HDR_LEN + plen, pkt,
            VLOG_HDR_LEN + plen, nonce, key) != 0) {
        *why = VLOG_REJ_AUTH;
        return -EPERM;
    }
    if (get32(pkt) != VLOG_MAGIC || pkt[4] != VLOG_VERSION || pkt[5] == 0 ||
        pkt[5] > VLOG_T_FIN) {
        *why = VLOG_REJ_FORMAT;
        return -EPROTO;
    }
    h->type = pkt[5];
    h->flags = get16(pkt + 6);
    h->session = get64(pkt + 8);
    h->seq = get64(pkt + 16);
    h->time_ns = get64(pkt + 24);
    h->first = get64(pkt + 32);
    h->count = get32(pkt + 40);
    h->payload_len = (uint32_t)plen;
    if (payload != NULL)
        *payload = pkt + VLOG_HDR_LEN;
    return 0;
}

/* Fragments: u16 big-endian length (bits 0-13; bit 15: truncated, bit 14:
 * the record goes on in the next packet) then the bytes. */
int vlog_records(const uint8_t *payload, size_t plen, uint32_t count,
                 void (*fn)(const char *frag, size_t len, unsigned flags,
                            void *ctx),
                 void *ctx)
{
    size_t off = 0;
    uint32_t n = 0;
    bool more = false;
    if (payload == NULL && plen > 0)
        return -EINVAL;
    /* First pass validates, so a malformed payload delivers nothing. */
    while (off < plen) {
        if (plen - off < 2 || more)
            return -EPROTO; /* only the last fragment may go on */
        uint16_t w = get16(payload + off);
        size_t rl = w & VLOG_FRAG_MAX;
        more = (w & VLOG_REC_MORE) != 0;
        if (more && (w & VLOG_REC_TRUNC))
            return -EPROTO;
        off += 2;
        if (rl > plen - off)
            return -EPROTO;
        off += rl;
        n++;
    }
    if (n != count || n > INT32_MAX)
        return -EPROTO;
    if (fn == NULL)
        return (int)n;
    for (off = 0; off < plen;) {
        uint16_t w = get16(payload + off);
        size_t rl = w & VLOG_FRAG_MAX;
        fn((const char *)payload + off + 2, rl,
           w & (VLOG_REC_TRUNC | VLOG_REC_MORE), ctx);
        off += 2 + rl;
    }
    return (int)n;
}

void vlog_frag_put(uint8_t *p, size_t len, unsigned flags)
{
    put16(p, (uint16_t)((len & VLOG_FRAG_MAX) |
                        (flags & (VLOG_REC_TRUNC | VLOG_REC_MORE))));
}

void vlog_record_put(uint8_t *p, size_t len, bool trunc)
{
    vlog_frag_put(p, len, trunc ? VLOG_REC_TRUNC : 0);
}

void vlog_frame_put(uint8_t p[VLOG_FRAME_HDR], uint32_t len)
{
    put32(p, len);
}

int vlog_frame_next(const uint8_t *buf, size_t have, const uint8_t **pkt,
                    size_t *len, size_t *used)
{
    if (buf == NULL || pkt == NULL || len == NULL || used == NULL)
        return -EINVAL;
    if (have < VLOG_FRAME_HDR)
        return 0;
    uint32_t fl = get32(buf);
    if (fl < VLOG_OVERHEAD || fl > VLOG_MTU_MAX)
        return -EBADMSG;
    if (have - VLOG_FRAME_HDR < fl)
        return 0;
    *pkt = buf + VLOG_FRAME_HDR;
    *len = fl;
    *used = VLOG_FRAME_HDR + (size_t)fl;
    return 1;
}

int vlog_drops_record(char *buf, size_t cap, uint64_t n, uint64_t total,
                      const char *reason)
{
    int r;
    if (reason != NULL)
        r = snprintf(buf, cap,
                     "{\"type\":\"drops\",\"records\":%llu,\"total\":%llu,"
                     "\"reason\":\"%s\"}",
                     (unsigned long long)n, (unsigned long long)total, reason);
    else
        r = snprintf(buf, cap,
                     "{\"type\":\"drops\",\"records\":%llu,\"total\":%llu}",
                     (unsigned long long)n, (unsigned long long)total);
    return r < 0 || (size_t)r >= cap ? -ENOSPC : r;
}

int vlog_replay_check(struct vlog_replay *w, uint64_t seq)
{
    if (w == NULL)
        return -EINVAL;
    if (!w->any) {
        w->any = true;
        w->top = seq;
        w->bits = 1;
        return 0;
    }
    if (seq > w->top) {
        uint64_t d = seq - w->top;
        w->bits = d >= 64 ? 0 : w->bits << d;
        w->bits |= 1;
        w->top = seq;
        return 0;
    }
    uint64_t d = w->top - seq;
    if (d >= 64)
        return -EALREADY;
    if (w->bits & (1ull << d))
        return -EALREADY;
    w->bits |= 1ull << d;
    return 0;
}

int vlog_key_load(const char *path, uint8_t key[VLOG_KEY_LEN])
{
    uint8_t buf[130];
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    while (got < sizeof buf) {
        ssize_t r = read(fd, buf + got, sizeof buf - got);
        if (r < 0) {
            int e = errno;
            close(fd);
            return -e;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got == VLOG_KEY_LEN) {
        memcpy(key, buf, VLOG_KEY_LEN);
        sodium_memzero(buf, sizeof buf);
        return 0;
    }
    while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == '\r'))
        got--;
    if (got != 2 * VLOG_KEY_LEN)
        return -EINVAL;
    for (size_t i = 0; i < VLOG_KEY_LEN; i++) {
        int hi = vigil_hexval(buf[2 * i]), lo = vigil_hexval(buf[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        key[i] = (uint8_t)(hi << 4 | lo);
    }
    sodium_memzero(buf, sizeof buf);
    return 0;
}

int vlog_parse_url(const char *url, bool *tcp, struct sockaddr_storage *ss,
                   unsigned *sslen)
{
    char host[256];
    const char *rest;
    if (url == NULL || tcp == NULL || ss == NULL || sslen == NULL)
        return -EINVAL;
    if (!strncmp(url, "udp://", 6)) {
        *tcp = false;
        rest = url + 6;
    } else if (!strncmp(url, "tcp://", 6)) {
        *tcp = true;
        rest = url + 6;
    } else {
        *tcp = false; /* bare HOST:PORT means UDP */
        rest = url;
    }
    const char *colon = strrchr(rest, ':');
    if (colon == NULL || colon == rest || colon[1] == '\0')
        return -EINVAL;
    const char *h = rest;
    size_t hl = (size_t)(colon - rest);
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl == 0 || hl >= sizeof host)
        return -EINVAL;
    memcpy(host, h, hl);
    host[hl] = '\0';
    char *end;
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (errno || *end != '\0' || port > 65535)
        return -EINVAL;
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = *tcp ? SOCK_STREAM : SOCK_DGRAM;
    if (getaddrinfo(host, NULL, &hints, &ai) != 0 || ai == NULL)
        return -EHOSTUNREACH;
    if (ai->ai_addrlen > sizeof *ss) {
        freeaddrinfo(ai);
        return -EINVAL;
    }
    memset(ss, 0, sizeof *ss);
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *sslen = (unsigned)ai->ai_addrlen;
    freeaddrinfo(ai);
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
    else if (ss->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
    else
        return -EAFNOSUPPORT;
    return 0;
}

bool vlog_same_host(const struct sockaddr_storage *a,
                    const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    if (a->ss_family == AF_INET6)
        return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                       &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
    return true;
}
