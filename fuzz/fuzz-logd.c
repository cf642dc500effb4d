/* libFuzzer target for logd's packet and session handling
 * (lib/logd/session.c, with the TCP framing of lib/log/wire.c), in
 * process, with a fixed key and a counting sink.
 *
 * The input is a list of operations: [op u8][len u16 big-endian][bytes].
 * op % 4 picks what happens; (op >> 2) % 4 the source address:
 *   0: bytes are a datagram as it arrives (never authentic);
 *   1: bytes are header + payload, signed here (the fuzzer's header with
 *      the length set right and the time moved near now by its first
 *      payload byte), so the checks behind authentication run;
 *   2: time passes (len milliseconds x 100), then the sessions tick;
 *   3: bytes are a TCP stream cut into frames, each signed as in 1.
 * After each operation: every packet is used or rejected for one reason,
 * the sink got exactly the records the sessions count, and the table
 * stays within its bound.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logd/session.h"
#include "vigil/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SESSIONS 4

static const uint8_t key[VLOG_KEY_LEN] = {
    1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};

struct counts {
    uint64_t records, opened, closed, forgotten_records, used;
};

static void on_open(void *ctx, struct logd_session *s)
{
    struct counts *c = ctx;
    c->opened++;
    s->sink_state = c;
}

static void on_record(void *ctx, struct logd_session *s, uint64_t recno,
                      const char *rec, size_t len)
{
    struct counts *c = ctx;
    volatile char x = len ? rec[0] ^ rec[len - 1] : 0;
    (void)x;
    (void)recno;
    if (s->sink_state != c)
        abort(); /* a record for a session never opened */
    c->records++;
}

static void on_close(void *ctx, struct logd_session *s)
{
    struct counts *c = ctx;
    (void)s;
    c->closed++;
}

static void on_forget(void *ctx, struct logd_session *s)
{
    struct counts *c = ctx;
    c->forgotten_records += s->received;
    s->sink_state = NULL;
}

static void source(unsigned k, struct sockaddr_storage *ss)
{
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    memset(ss, 0, sizeof *ss);
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(0x7f000001u + k);
}

/* Sign header + payload as a sender would; returns the packet length. */
static size_t sign(uint8_t *pkt, const uint8_t *in, size_t len, uint64_t real)
{
    if (len < VLOG_HDR_LEN || len > VLOG_MTU_MAX - VLOG_TAG_LEN)
        return 0;
    memcpy(pkt, in, len);
    uint32_t plen = (uint32_t)(len - VLOG_HDR_LEN);
    uint64_t t = real - (uint64_t)(len > VLOG_HDR_LEN ? in[VLOG_HDR_LEN] : 0) *
                            1000000000ull;
    for (int i = 0; i < 8; i++)
        pkt[24 + i] = (uint8_t)(t >> (56 - 8 * i));
    for (int i = 0; i < 4; i++)
        pkt[44 + i] = (uint8_t)(plen >> (24 - 8 * i));
    vlog_seal(pkt, len, key);
    return len + VLOG_TAG_LEN;
}

static void packet(struct logd_sessions *t, struct counts *c, const uint8_t *p,
                   size_t len, const struct sockaddr_storage *src, uint64_t now,
                   uint64_t real)
{
    if (logd_sessions_packet(t, p, len, src, now, real) == 0)
        c->used++;
}

static void stream(struct logd_sessions *t, struct counts *c, const uint8_t *p,
                   size_t len, const struct sockaddr_storage *src, uint64_t now,
                   uint64_t real, uint8_t *pkt)
{
    size_t off = 0;
    for (;;) {
        const uint8_t *f;
        size_t fl, used;
        int r = vlog_frame_next(p + off, len - off, &f, &fl, &used);
        if (r < 0) {
            logd_sessions_reject(t, LOGD_REJ_SHORT);
            return;
        }
        if (r == 0)
            return;
        size_t n = sign(pkt, f, fl - VLOG_TAG_LEN, real);
        if (n > 0)
            packet(t, c, pkt, n, src, now, real);
        off += used;
    }
}

static void check(struct logd_sessions *t, const struct counts *c)
{
    struct logd_totals tot;
    logd_sessions_totals(t, &tot);
    uint64_t rejected = 0, received = 0;
    for (int r = 0; r < LOGD_REJ_N; r++)
        rejected += tot.rejected[r];
    if (tot.packets != c->used + rejected)
        abort(); /* a packet neither used nor rejected */
    size_t n = logd_sessions_count(t);
    if (n > MAX_SESSIONS || c->opened != n + tot.forgotten)
        abort();
    for (size_t i = 0; i < n; i++)
        received += logd_sessions_at(t, i)->received;
    if (received + c->forgotten_records != c->records)
        abort(); /* the sink got other records than the sessions count */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t pkt[VLOG_MTU_MAX];
    struct counts c = {0, 0, 0, 0, 0};
    struct logd_sessions_opts o = {
        .key = key,
        .max_sessions = MAX_SESSIONS,
        .idle_ns = 5000000000ull,
        .sink = {on_open, on_record, on_close, on_forget, &c},
    };
    struct logd_sessions *t;
    if (logd_sessions_new(&t, &o) < 0)
        return 0;
    uint64_t now = 1000000000000ull, real = 1800000000000000000ull;
    size_t off = 0;
    while (size - off >= 3) {
        uint8_t op = data[off];
        size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
        off += 3;
        if (len > size - off)
            len = size - off;
        const uint8_t *p = data + off;
        off += len;
        struct sockaddr_storage src;
        source((op >> 2) % 4, &src);
        size_t n;
        switch (op % 4) {
        case 0:
            packet(t, &c, p, len, &src, now, real);
            break;
        case 1:
            if ((n = sign(pkt, p, len, real)) > 0)
                packet(t, &c, pkt, n, &src, now, real);
            break;
        case 2:
            now += (uint64_t)len * 100000000ull;
            real += (uint64_t)len * 100000000ull;
            logd_sessions_tick(t, now);
            break;
        default:
            stream(t, &c, p, len, &src, now, real, pkt);
        }
        check(t, &c);
    }
    logd_sessions_free(t);
    return 0;
}
