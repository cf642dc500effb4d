/* Unit tests of the log wire format: round trip, authentication,
 * truncation, malformed payloads, the replay window, key files. */
#undef NDEBUG
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/log.h"

#include "check.h"

struct collect {
    int n;
    char last[64];
    bool trunc;
};

static void collect(const char *rec, size_t len, unsigned flags, void *ctx)
{
    struct collect *c = ctx;
    c->n++;
    snprintf(c->last, sizeof c->last, "%.*s", (int)len, rec);
    c->trunc = (flags & VLOG_REC_TRUNC) != 0;
}

static size_t records(uint8_t *pl, const char *const *r, int n)
{
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(r[i]);
        pl[off] = (uint8_t)(l >> 8);
        pl[off + 1] = (uint8_t)l;
        memcpy(pl + off + 2, r[i], l);
        off += 2 + l;
    }
    return off;
}

static void test_roundtrip(const uint8_t *key)
{
    static const char *const r[] = {"{\"a\":1}", "{\"b\":2}", "{}"};
    uint8_t pl[256], pkt[512];
    size_t plen = records(pl, r, 3);
    struct vlog_hdr h = {.type = VLOG_T_DATA,
                         .flags = 0,
                         .session = 0x1122334455667788ull,
                         .seq = 42,
                         .time_ns = 123456789,
                         .first = 1000,
                         .count = 3};
    int n = vlog_encode(pkt, sizeof pkt, &h, pl, plen, key);
    CHECK_QUIET(n == (int)(plen + VLOG_OVERHEAD),
                "n == (int)(plen + VLOG_OVERHEAD)");
    struct vlog_hdr d;
    const uint8_t *p;
    enum vlog_reject why = 0;
    CHECK_QUIET(vlog_decode(pkt, (size_t)n, &d, &p, key, &why) == 0,
                "vlog_decode(pkt, (size_t)n, &d, &p, key, &why) == 0");
    CHECK_QUIET(
        d.type == VLOG_T_DATA && d.session == h.session && d.seq == 42 &&
            d.time_ns == 123456789 && d.first == 1000 && d.count == 3 &&
            d.payload_len == plen,
        "d.type == VLOG_T_DATA && d.session == h.session && d.seq == 42 && "
        "d.time_ns == 123456789 && d.first == 1000 && d.count == 3 && "
        "d.payload_len == plen");
    struct collect c = {0};
    CHECK_QUIET(vlog_records(p, d.payload_len, d.count, collect, &c) == 3,
                "vlog_records(p, d.payload_len, d.count, collect, &c) == 3");
    CHECK_QUIET(c.n == 3 && !strcmp(c.last, "{}") && !c.trunc,
                "c.n == 3 && !strcmp(c.last, \"{}\") && !c.trunc");
    CHECK_QUIET(vlog_records(p, d.payload_len, 2, collect, &c) == -EPROTO,
                "vlog_records(p, d.payload_len, 2, collect, &c) == -EPROTO");
    CHECK_QUIET(c.n == 3,
                "c.n == 3"); /* nothing delivered from a malformed payload */

    /* Wrong key, every flipped byte, every truncation: rejected. */
    uint8_t bad[VLOG_KEY_LEN];
    memcpy(bad, key, sizeof bad);
    bad[31] ^= 1;
    CHECK_QUIET(
        vlog_decode(pkt, (size_t)n, &d, &p, bad, &why) == -EPERM &&
            why == VLOG_REJ_AUTH,
        "vlog_decode(pkt, (size_t)n, &d, &p, bad, &why) == -EPERM && why == "
        "VLOG_REJ_AUTH");
    for (int i = 0; i < n; i++) {
        pkt[i] ^= 0x40;
        int e = vlog_decode(pkt, (size_t)n, &d, &p, key, &why);
        CHECK_QUIET(e == -EPERM || e == -EBADMSG,
                    "e == -EPERM || e == -EBADMSG");
        pkt[i] ^= 0x40;
    }
    for (int l = 0; l < n; l++)
        CHECK_QUIET(vlog_decode(pkt, (size_t)l, &d, &p, key, &why) < 0,
                    "vlog_decode(pkt, (size_t)l, &d, &p, key, &why) < 0");
    CHECK_QUIET(
        vlog_encode(pkt, (size_t)n - 1, &h, pl, plen, key) == -EMSGSIZE,
        "vlog_encode(pkt, (size_t)n - 1, &h, pl, plen, key) == -EMSGSIZE");

    /* Authentic but wrong magic: the tag is checked first, then format. */
    uint8_t raw[VLOG_OVERHEAD];
    h.type = 9;
    CHECK_QUIET(
        vlog_encode(raw, sizeof raw, &h, NULL, 0, key) == VLOG_OVERHEAD,
        "vlog_encode(raw, sizeof raw, &h, NULL, 0, key) == VLOG_OVERHEAD");
    CHECK_QUIET(
        vlog_decode(raw, sizeof raw, &d, &p, key, &why) == -EPROTO &&
            why == VLOG_REJ_FORMAT,
        "vlog_decode(raw, sizeof raw, &d, &p, key, &why) == -EPROTO && why "
        "== VLOG_REJ_FORMAT");

    /* Truncated-record flag. */
    pl[0] |= 0x80;
    c.n = 0;
    CHECK_QUIET(vlog_records(pl, plen, 3, collect, &c) == 3,
                "vlog_records(pl, plen, 3, collect, &c) == 3");
    /* Record length past the end. */
    pl[0] = 0x7f;
    CHECK_QUIET(vlog_records(pl, plen, 3, collect, &c) == -EPROTO,
                "vlog_records(pl, plen, 3, collect, &c) == -EPROTO");
    CHECK_QUIET(vlog_records(pl, 1, 1, NULL, NULL) == -EPROTO,
                "vlog_records(pl, 1, 1, NULL, NULL) == -EPROTO");
    CHECK_QUIET(vlog_records(NULL, 0, 0, NULL, NULL) == 0,
                "vlog_records(NULL, 0, 0, NULL, NULL) == 0");
}

static void test_replay(void)
{
    struct vlog_replay w = {0};
    CHECK_QUIET(vlog_replay_check(&w, 10) == 0,
                "vlog_replay_check(&w, 10) == 0");
    CHECK_QUIET(vlog_replay_check(&w, 10) == -EALREADY,
                "vlog_replay_check(&w, 10) == -EALREADY");
    CHECK_QUIET(vlog_replay_check(&w, 12) == 0,
                "vlog_replay_check(&w, 12) == 0");
    CHECK_QUIET(vlog_replay_check(&w, 11) == 0,
                "vlog_replay_check(&w, 11) == 0"); /* reordered: fine once */
    CHECK_QUIET(vlog_replay_check(&w, 11) == -EALREADY,
                "vlog_replay_check(&w, 11) == -EALREADY");
    CHECK_QUIET(vlog_replay_check(&w, 200) == 0,
                "vlog_replay_check(&w, 200) == 0");
    CHECK_QUIET(
        vlog_replay_check(&w, 137) == 0,
        "vlog_replay_check(&w, 137) == 0"); /* inside the 64-wide window */
    CHECK_QUIET(vlog_replay_check(&w, 136) == -EALREADY,
                "vlog_replay_check(&w, 136) == -EALREADY"); /* below it */
    CHECK_QUIET(vlog_replay_check(&w, 12) == -EALREADY,
                "vlog_replay_check(&w, 12) == -EALREADY");
    CHECK_QUIET(vlog_replay_check(&w, 1000) == 0,
                "vlog_replay_check(&w, 1000) == 0");
    CHECK_QUIET(vlog_replay_check(&w, 999) == 0,
                "vlog_replay_check(&w, 999) == 0");
}

static void test_keys(void)
{
    char path[] = "/tmp/vigil-key-XXXXXX";
    uint8_t k[VLOG_KEY_LEN];
    int fd = mkstemp(path);
    CHECK_QUIET(fd >= 0, "fd >= 0");
    const char hex[] = "000102030405060708090a0b0c0d0e0f"
                       "101112131415161718191A1B1C1D1E1F\n";
    CHECK_QUIET(write(fd, hex, sizeof hex - 1) == (ssize_t)sizeof hex - 1,
                "write(fd, hex, sizeof hex - 1) == (ssize_t)sizeof hex - 1");
    close(fd);
    CHECK_QUIET(vlog_key_load(path, k) == 0 && k[0] == 0 && k[31] == 0x1f,
                "vlog_key_load(path, k) == 0 && k[0] == 0 && k[31] == 0x1f");
    fd = open(path, O_WRONLY | O_TRUNC);
    CHECK_QUIET(write(fd, "short", 5) == 5, "write(fd, \"short\", 5) == 5");
    close(fd);
    CHECK_QUIET(vlog_key_load(path, k) == -EINVAL,
                "vlog_key_load(path, k) == -EINVAL");
    unlink(path);
    CHECK_QUIET(vlog_key_load("/nonexistent/key", k) == -ENOENT,
                "vlog_key_load(\"/nonexistent/key\", k) == -ENOENT");
}

static void test_urls(void)
{
    struct sockaddr_storage ss;
    unsigned sl;
    bool tcp;
    CHECK_QUIET(
        vlog_parse_url("udp://127.0.0.1:5000", &tcp, &ss, &sl) == 0 && !tcp,
        "vlog_parse_url(\"udp://127.0.0.1:5000\", &tcp, &ss, &sl) == 0 && "
        "!tcp");
    CHECK_QUIET(
        vlog_parse_url("tcp://[::1]:5000", &tcp, &ss, &sl) == 0 && tcp,
        "vlog_parse_url(\"tcp://[::1]:5000\", &tcp, &ss, &sl) == 0 && tcp");
    CHECK_QUIET(
        vlog_parse_url("udp://127.0.0.1", &tcp, &ss, &sl) == -EINVAL,
        "vlog_parse_url(\"udp://127.0.0.1\", &tcp, &ss, &sl) == -EINVAL");
    CHECK_QUIET(
        vlog_parse_url("udp://127.0.0.1:70000", &tcp, &ss, &sl) == -EINVAL,
        "vlog_parse_url(\"udp://127.0.0.1:70000\", &tcp, &ss, &sl) == -EINVAL");
    CHECK_QUIET(vlog_parse_url("udp://:1", &tcp, &ss, &sl) == -EINVAL,
                "vlog_parse_url(\"udp://:1\", &tcp, &ss, &sl) == -EINVAL");
}

int main(void)
{
    uint8_t key[VLOG_KEY_LEN];
    for (int i = 0; i < VLOG_KEY_LEN; i++)
        key[i] = (uint8_t)(i * 7 + 3);
    test_roundtrip(key);
    test_replay();
    test_keys();
    test_urls();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("all log wire checks passed\n");
    return 0;
}
