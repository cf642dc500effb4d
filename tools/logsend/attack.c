/* vigil-logsend --attack and --attack-control: packets logd and a sender
 * must reject (replayed, forged, truncated, stale, malformed), each kind
 * once, so that the tests can count the rejections by reason. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vigil/clock.h"
#include "vigil/log.h"

#include "logsend.h"

static int send_pkt(int fd, const struct vlog_hdr *h, const void *pl,
                    size_t plen, const uint8_t *key, size_t cut)
{
    uint8_t buf[2048];
    int n = vlog_encode(buf, sizeof buf, h, pl, plen, key);
    if (n < 0)
        return n;
    size_t len = cut && cut < (size_t)n ? cut : (size_t)n;
    return send(fd, buf, len, 0) < 0 ? -errno : 0;
}

/* One valid packet, then bad ones: logd must count 1 session with 1
 * record and reject 1 replay, 1 forged, 1 truncated, 1 stale packet and
 * 1 authentic but malformed one. */
int do_attack(const char *url, const uint8_t *key)
{
    struct sockaddr_storage ss;
    unsigned sl;
    int fd = udp_to(url, &ss, &sl);
    if (fd < 0)
        return 1;
    static const char rec[] = "{\"type\":\"syscall\",\"name\":\"attack\"}";
    uint8_t pl[128];
    pl[0] = 0;
    pl[1] = sizeof rec - 1;
    memcpy(pl + 2, rec, sizeof rec - 1);
    size_t plen = 2 + sizeof rec - 1;
    struct vlog_hdr h = {.type = VLOG_T_DATA, .seq = 0, .count = 1};
    randombytes_buf(&h.session, sizeof h.session);
    h.time_ns = vigil_now_ns(CLOCK_REALTIME);
    uint8_t bad[VLOG_KEY_LEN];
    memcpy(bad, key, sizeof bad);
    bad[0] ^= 1;
    uint8_t wire[2048];
    int n = vlog_encode(wire, sizeof wire, &h, pl, plen, key);
    int err = n < 0 ? n : 0;
    if (err == 0 && send(fd, wire, (size_t)n, 0) < 0) /* valid */
        err = -errno;
    if (err == 0 && send(fd, wire, (size_t)n, 0) < 0) /* replay */
        err = -errno;
    h.seq = 1;
    if (err == 0) /* forged: wrong key */
        err = send_pkt(fd, &h, pl, plen, bad, 0);
    h.seq = 2;
    if (err == 0) /* truncated in flight */
        err = send_pkt(fd, &h, pl, plen, key, (size_t)n - 5);
    h.seq = 3;
    h.count = 2; /* authentic, but the payload holds one record */
    if (err == 0)
        err = send_pkt(fd, &h, pl, plen, key, 0);
    struct vlog_hdr old = h;
    randombytes_buf(&old.session, sizeof old.session);
    old.count = 1;
    old.time_ns -= 3600ull * 1000000000ull; /* an hour-old capture */
    if (err == 0)
        err = send_pkt(fd, &old, pl, plen, key, 0);
    close(fd);
    if (err < 0) {
        cli_error("%s: %s", url, strerror(-err));
        return 1;
    }
    printf("{\"sent\":6,\"valid_records\":1}\n");
    return 0;
}

/* Control packets a sender must ignore: garbage, forged, replayed (a valid
 * HEARTBEAT sent twice: the second is rejected), stale, START with a bad
 * filter, and an authentic DATA packet on the control port. */
int do_attack_control(const char *url, const uint8_t *key)
{
    struct sockaddr_storage ss;
    unsigned sl;
    int fd = udp_to(url, &ss, &sl);
    if (fd < 0)
        return 1;
    uint8_t bad[VLOG_KEY_LEN];
    memcpy(bad, key, sizeof bad);
    bad[5] ^= 0x80;
    struct vlog_hdr h = {.type = VLOG_T_HEARTBEAT};
    randombytes_buf(&h.session, sizeof h.session);
    h.time_ns = vigil_now_ns(CLOCK_REALTIME);
    int err = 0;
    if (send(fd, "garbage", 7, 0) < 0)
        err = -errno;
    uint8_t wire[256];
    int n = vlog_encode(wire, sizeof wire, &h, NULL, 0, key);
    if (err == 0 && n > 0 && send(fd, wire, (size_t)n, 0) < 0) /* valid */
        err = -errno;
    if (err == 0 && n > 0 && send(fd, wire, (size_t)n, 0) < 0) /* replay */
        err = -errno;
    h.seq = 1;
    h.type = VLOG_T_START;
    if (err == 0)
        err = send_pkt(fd, &h, NULL, 0, bad, 0); /* forged START */
    h.seq = 2;
    if (err == 0)
        err = send_pkt(fd, &h, "bad filter!", 11, key, 0);
    h.seq = 3;
    h.time_ns -= 3600ull * 1000000000ull;
    if (err == 0)
        err = send_pkt(fd, &h, NULL, 0, key, 0); /* stale START */
    h.seq = 4;
    h.time_ns = vigil_now_ns(CLOCK_REALTIME);
    h.type = VLOG_T_DATA;
    if (err == 0)
        err = send_pkt(fd, &h, NULL, 0, key, 0);
    h.seq = 5;
    h.type = VLOG_T_STOP;
    if (err == 0)
        err = send_pkt(fd, &h, NULL, 0, key, 40); /* truncated STOP */
    close(fd);
    if (err < 0) {
        cli_error("%s: %s", url, strerror(-err));
        return 1;
    }
    printf("{\"sent\":8,\"valid\":1,\"invalid\":7}\n");
    return 0;
}
