/* libFuzzer target for lib/update's parsers, which read what a guest or
 * the network sends: bundles (vupd_parse, then vupd_verify against a fixed
 * key), minisign signature and key text, trusted comments, and datagrams
 * (decoded, re-encoded, and fed to a receiver). The first byte selects the
 * parser.
 *
 * Run: make fuzz && build/fuzz/fuzz-update -max_total_time=60 \
 *          fuzz/corpus/update */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/update.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t which = data[0];
    data++;
    size--;
    char err[256];
    static struct vupd_bundle b;
    /* A key whose id matches the corpus' signatures, so that verification
     * runs past the key lookup. */
    static const struct vupd_key key = {
        .id = {0x55, 0xa7, 0x86, 0x1a, 0x36, 0x05, 0xee, 0xc0}};
    switch (which % 5) {
    case 0: {
        size_t k;
        if (vupd_parse(data, size, 1 << 20, &b, err, sizeof err) == VUPD_OK) {
            if (b.h.payload_len + b.sig_len != size)
                abort();
            for (uint32_t i = 0; i < b.h.nentries; i++)
                if (b.entries[i].data < data ||
                    b.entries[i].data + b.entries[i].len >
                        data + b.h.payload_len ||
                    !vupd_name_ok(b.entries[i].name))
                    abort();
            vupd_verify(&b, &key, 1, &k, err, sizeof err);
        }
        break;
    }
    case 1: {
        struct vupd_sig s;
        if (vupd_sig_parse((const char *)data, size, &s, err, sizeof err) ==
            0) {
            struct vupd_claim c;
            size_t k;
            if (strlen(s.comment) > VUPD_COMMENT_MAX)
                abort();
            vupd_check_sig(&s, &key, 1, &c, &k, err, sizeof err);
        }
        break;
    }
    case 2: {
        struct vupd_key k;
        vupd_key_parse((const char *)data, size, &k, err, sizeof err);
        break;
    }
    case 3: {
        char *c = malloc(size + 1);
        if (c == NULL)
            return 0;
        memcpy(c, data, size);
        c[size] = '\0';
        struct vupd_claim cl;
        if (vupd_claim_parse(c, &cl) == 0 && cl.db_id[0] == '\0')
            abort();
        free(c);
        break;
    }
    case 4: {
        static struct vupd_pkt p, q;
        static uint8_t again[VUPD_DGRAM_MAX], reply[VUPD_DGRAM_MAX];
        if (vupd_pkt_decode(data, size, &p) == 0) {
            size_t n = vupd_pkt_encode(&p, again, sizeof again);
            /* What decodes encodes back to the same datagram. */
            if (n != size || memcmp(again, data, size) != 0 ||
                vupd_pkt_decode(again, n, &q) != 0)
                abort();
        }
        static struct vupd_rx *rx;
        static uint64_t now = 1;
        if (rx == NULL && vupd_rx_new(&rx, &key, 1, NULL) < 0)
            abort();
        struct vupd_rx_done done;
        size_t rlen;
        const uint8_t src[7] = {4, 1, 2, 10, 0, 0, 1};
        now += 1000;
        if (vupd_rx_packet(rx, src, sizeof src, now, data, size, reply, &rlen,
                           &done))
            vupd_rx_finished(rx, done.update_id, VUPD_BAD_BODY, 0, reply);
        if (rlen > VUPD_DGRAM_MAX ||
            (rlen && vupd_pkt_decode(reply, rlen, &q) != 0))
            abort();
        break;
    }
    }
    return 0;
}
