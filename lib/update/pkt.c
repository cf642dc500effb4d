/* The update datagrams, coded and decoded (see vigil/update.h and
 * docs/updates.md; the receiver is net.c).
 *
 * Datagrams, little-endian, after "VUP1", a type byte and 3 zero bytes:
 *   MANIFEST  cookie[16] id u64 nfrags u32 siglen u16 0 u16
 *             signature text, then nfrags SHA-256 fragment hashes
 *   FRAG      id u64 index u32, then the fragment's bytes
 *   POLL      cookie[16] id u64
 *   ACK       id u64 state u8 reason u8 0 u16 nmissing u32 version u64
 *             nlisted u32, then nlisted u32 missing indexes
 *   COOKIE    cookie[16]
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "vigil/le.h"
#include "vigil/update.h"

#define HDR 8

int vupd_pkt_decode(const uint8_t *b, size_t len, struct vupd_pkt *p)
{
    memset(p, 0, offsetof(struct vupd_pkt, missing));
    if (len < HDR || len > VUPD_DGRAM_MAX || memcmp(b, VUPD_NET_MAGIC, 4) ||
        b[5] || b[6] || b[7])
        return -EINVAL;
    p->type = (enum vupd_pkt_type)b[4];
    const uint8_t *q = b + HDR;
    size_t n = len - HDR;
    switch (p->type) {
    case VUPD_PKT_MANIFEST: {
        if (n < 16 + 8 + 4 + 4)
            return -EINVAL;
        memcpy(p->cookie, q, 16);
        p->update_id = le64(q + 16);
        p->nfrags = le32(q + 24);
        p->sig_len = (size_t)(q[28] | q[29] << 8);
        if (q[30] || q[31] || p->nfrags == 0 || p->nfrags > VUPD_FRAGS_MAX ||
            p->sig_len == 0 || p->sig_len > VUPD_SIG_TEXT_MAX ||
            n != 32 + p->sig_len + (size_t)p->nfrags * 32)
            return -EINVAL;
        p->sig_text = (const char *)q + 32;
        p->hashes = q + 32 + p->sig_len;
        return 0;
    }
    case VUPD_PKT_FRAG:
        if (n < 12 + 1)
            return -EINVAL;
        p->update_id = le64(q);
        p->index = le32(q + 8);
        p->data = q + 12;
        p->len = n - 12;
        return 0;
    case VUPD_PKT_POLL:
        if (n != 24)
            return -EINVAL;
        memcpy(p->cookie, q, 16);
        p->update_id = le64(q + 16);
        return 0;
    case VUPD_PKT_ACK:
        if (n < 28)
            return -EINVAL;
        p->update_id = le64(q);
        p->state = q[8];
        p->reason = q[9];
        p->nmissing = le32(q + 12);
        p->version = le64(q + 16);
        p->nlisted = le32(q + 24);
        if (q[10] || q[11] || p->nlisted > VUPD_ACK_MISSING ||
            p->nlisted > p->nmissing || n != 28 + (size_t)p->nlisted * 4)
            return -EINVAL;
        for (uint32_t i = 0; i < p->nlisted; i++)
            p->missing[i] = le32(q + 28 + 4 * i);
        return 0;
    case VUPD_PKT_COOKIE:
        if (n != 16)
            return -EINVAL;
        memcpy(p->cookie, q, 16);
        return 0;
    }
    return -EINVAL;
}

size_t vupd_pkt_encode(const struct vupd_pkt *p, uint8_t *b, size_t cap)
{
    size_t n;
    switch (p->type) {
    case VUPD_PKT_MANIFEST:
        n = 32 + p->sig_len + (size_t)p->nfrags * 32;
        break;
    case VUPD_PKT_FRAG:
        n = 12 + p->len;
        break;
    case VUPD_PKT_POLL:
        n = 24;
        break;
    case VUPD_PKT_ACK:
        if (p->nlisted > VUPD_ACK_MISSING)
            return 0;
        n = 28 + (size_t)p->nlisted * 4;
        break;
    case VUPD_PKT_COOKIE:
        n = 16;
        break;
    default:
        return 0;
    }
    if (HDR + n > cap || HDR + n > VUPD_DGRAM_MAX ||
        (p->type == VUPD_PKT_MANIFEST && p->sig_len > 0xffff))
        return 0;
    memcpy(b, VUPD_NET_MAGIC, 4);
    b[4] = (uint8_t)p->type;
    b[5] = b[6] = b[7] = 0;
    uint8_t *q = b + HDR;
    switch (p->type) {
    case VUPD_PKT_MANIFEST:
        memcpy(q, p->cookie, 16);
        put_le64(q + 16, p->update_id);
        put_le32(q + 24, p->nfrags);
        q[28] = (uint8_t)p->sig_len;
        q[29] = (uint8_t)(p->sig_len >> 8);
        q[30] = q[31] = 0;
        memcpy(q + 32, p->sig_text, p->sig_len);
        memcpy(q + 32 + p->sig_len, p->hashes, (size_t)p->nfrags * 32);
        break;
    case VUPD_PKT_FRAG:
        put_le64(q, p->update_id);
        put_le32(q + 8, p->index);
        memcpy(q + 12, p->data, p->len);
        break;
    case VUPD_PKT_POLL:
        memcpy(q, p->cookie, 16);
        put_le64(q + 16, p->update_id);
        break;
    case VUPD_PKT_ACK:
        put_le64(q, p->update_id);
        q[8] = p->state;
        q[9] = p->reason;
        q[10] = q[11] = 0;
        put_le32(q + 12, p->nmissing);
        put_le64(q + 16, p->version);
        put_le32(q + 24, p->nlisted);
        for (uint32_t i = 0; i < p->nlisted; i++)
            put_le32(q + 28 + 4 * i, p->missing[i]);
        break;
    case VUPD_PKT_COOKIE:
        memcpy(q, p->cookie, 16);
        break;
    }
    return HDR + n;
}
