/* libFuzzer target for the log wire decoder (lib/log/wire.c).
 *
 * The first input byte picks the mode (its value modulo 3):
 *   0: the rest is a datagram as it arrives: vlog_decode must reject it
 *      (a random tag never verifies) without reading out of bounds;
 *   1: the rest is header + payload, signed here with the fixed key so
 *      the checks behind authentication run: header fields, the record
 *      framing (vlog_records with the count the header claims) and the
 *      replay window fed with the header's sequence number;
 *   2: the rest is a TCP byte stream: vlog_frame_next cuts it into frames
 *      (each within the stream and within the length limits) and each
 *      frame goes to vlog_decode.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t key[VLOG_KEY_LEN] = {
    1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};

struct sum {
    size_t n, bytes;
};

static void visit(const char *rec, size_t len, unsigned flags, void *ctx)
{
    struct sum *s = ctx;
    volatile char c = len ? rec[0] ^ rec[len - 1] : 0;
    (void)c;
    if ((flags & ~(VLOG_REC_TRUNC | VLOG_REC_MORE)) != 0 || len > VLOG_FRAG_MAX)
        abort();
    s->n++;
    s->bytes += len;
}

static struct vlog_replay window;

static void stream(const uint8_t *data, size_t size)
{
    size_t off = 0;
    for (;;) {
        const uint8_t *pkt;
        size_t len, used;
        int r = vlog_frame_next(data + off, size - off, &pkt, &len, &used);
        if (r <= 0)
            return;
        if (len < VLOG_OVERHEAD || len > VLOG_MTU_MAX || used != 4 + len ||
            pkt != data + off + 4 || used > size - off)
            abort();
        struct vlog_hdr h;
        const uint8_t *pl;
        if (vlog_decode(pkt, len, &h, &pl, key, NULL) == 0)
            abort(); /* unsigned frames never verify */
        off += used;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4 * VLOG_MTU_MAX)
        return 0;
    uint8_t mode = data[0] % 3;
    data++;
    size--;
    struct vlog_hdr h;
    const uint8_t *pl;
    enum vlog_reject why;
    if (mode == 2) {
        stream(data, size);
        return 0;
    }
    if (size > VLOG_MTU_MAX)
        return 0;
    if (mode == 0) {
        uint8_t *copy = malloc(size ? size : 1);
        if (copy == NULL)
            return 0;
        memcpy(copy, data, size);
        if (vlog_decode(copy, size, &h, &pl, key, &why) == 0)
            abort(); /* a forged tag verified */
        free(copy);
        return 0;
    }
    if (size < VLOG_HDR_LEN)
        return 0;
    /* Sign what the fuzzer gave, keeping its header bytes as they are:
     * only the length field must agree, as it would for a real sender. */
    size_t plen = size - VLOG_HDR_LEN;
    uint8_t *pkt = malloc(size + VLOG_TAG_LEN);
    if (pkt == NULL)
        return 0;
    memcpy(pkt, data, size);
    pkt[44] = (uint8_t)(plen >> 24);
    pkt[45] = (uint8_t)(plen >> 16);
    pkt[46] = (uint8_t)(plen >> 8);
    pkt[47] = (uint8_t)plen;
    /* Signed directly: vlog_encode would write a valid magic and version
     * over the fuzzer's bytes. */
    vlog_seal(pkt, size, key);
    int err = vlog_decode(pkt, size + VLOG_TAG_LEN, &h, &pl, key, &why);
    if (err == 0) {
        if (h.payload_len != plen)
            abort();
        struct sum s = {0};
        int n = vlog_records(pl, h.payload_len, h.count, visit, &s);
        if (n >= 0 && ((size_t)n != s.n || s.bytes > plen))
            abort();
        vlog_replay_check(&window, h.seq);
    } else if (why == VLOG_REJ_AUTH) {
        abort(); /* we signed it */
    }
    free(pkt);
    return 0;
}
