/* vigil-logsend --raw and --raw-sink: plain datagrams with no log format,
 * to measure what the link and the socket carry without vigil's work. */
#include <errno.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vigil/clock.h"
#include "vigil/log.h"

#include "logsend.h"

int do_raw(const char *url, uint64_t count, uint64_t mtu, bool gso)
{
    struct sockaddr_storage ss;
    unsigned sl;
    int fd = udp_to(url, &ss, &sl);
    if (fd < 0)
        return 1;
    int sb = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof sb);
    enum { B = 64 };
    static uint8_t bufs[B][VLOG_MTU_MAX];
    struct mmsghdr mm[B];
    struct iovec iov[B];
    memset(mm, 0, sizeof mm);
    memset(bufs, 'r', sizeof bufs);
    for (int i = 0; i < B; i++) {
        iov[i].iov_base = bufs[i];
        iov[i].iov_len = (size_t)mtu;
        mm[i].msg_hdr.msg_iov = &iov[i];
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    uint64_t sent = 0, t0 = vigil_now_ns(CLOCK_MONOTONIC);
    unsigned per_send = gso ? (unsigned)(65000 / mtu) : B;
    if (per_send > B)
        per_send = B;
    while (sent < count) {
        unsigned n =
            count - sent < per_send ? (unsigned)(count - sent) : per_send;
        /* --gso: 44 datagrams to a send (64 KiB), cut by the kernel, as
         * vigil's sender sends full datagrams. */
        long r;
        if (gso) {
            r = vlog_send_segmented(fd, iov, n, (uint16_t)mtu);
            r = r < 0 ? r : (long)n;
        } else {
            r = sendmmsg(fd, mm, n, 0);
            r = r < 0 ? -errno : r;
        }
        if (r < 0) {
            if (r == -EINTR || r == -ECONNREFUSED)
                continue;
            cli_error("%s: %s", gso ? "sendmsg (UDP_SEGMENT)" : "sendmmsg",
                      strerror(-r));
            break;
        }
        sent += (uint64_t)r;
    }
    double secs = (double)(vigil_now_ns(CLOCK_MONOTONIC) - t0) / 1e9;
    close(fd);
    printf("{\"datagrams\":%llu,\"bytes\":%llu,\"seconds\":%.3f}\n",
           (unsigned long long)sent, (unsigned long long)(sent * mtu), secs);
    return 0;
}

/* Count datagrams until `idle_ms` pass without one (after the first). */
int do_raw_sink(const char *url, uint64_t idle_ms, uint64_t max_s)
{
    bool tcp;
    struct sockaddr_storage ss;
    unsigned sl;
    if (vlog_parse_url(url, &tcp, &ss, &sl) < 0 || tcp) {
        cli_error("--raw-sink: expected udp://ADDR:PORT");
        return EXIT_USAGE;
    }
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int rb = 64 << 20;
    if (fd < 0 ||
        (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof rb) < 0 &&
         setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof rb) < 0) ||
        bind(fd, (struct sockaddr *)&ss, sl) < 0) {
        cli_error("%s: %s", url, strerror(errno));
        return 1;
    }
    /* As logd: runs cut from one send (--raw --gso) arrive whole. */
    int one = 1;
    (void)setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one);
    fprintf(stderr, "vigil-logsend: sink ready\n");
    enum { B = 64 };
    static uint8_t sbufs[B][65536];
    static union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctrl[B];
    struct mmsghdr mm[B];
    struct iovec iov[B];
    uint64_t pkts = 0, bytes = 0, first = 0, last = 0;
    uint64_t deadline = vigil_now_ns(CLOCK_MONOTONIC) + max_s * 1000000000ull;
    for (;;) {
        uint64_t now = vigil_now_ns(CLOCK_MONOTONIC);
        if (now > deadline || (pkts > 0 && now - last > idle_ms * 1000000ull))
            break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        memset(mm, 0, sizeof mm);
        for (int i = 0; i < B; i++) {
            iov[i].iov_base = sbufs[i];
            iov[i].iov_len = sizeof sbufs[i];
            mm[i].msg_hdr.msg_iov = &iov[i];
            mm[i].msg_hdr.msg_iovlen = 1;
            mm[i].msg_hdr.msg_control = ctrl[i].buf;
            mm[i].msg_hdr.msg_controllen = sizeof ctrl[i].buf;
        }
        int n = recvmmsg(fd, mm, B, MSG_DONTWAIT, NULL);
        if (n <= 0)
            continue;
        last = vigil_now_ns(CLOCK_MONOTONIC);
        if (pkts == 0)
            first = last;
        for (int i = 0; i < n; i++) {
            size_t seg = vlog_recv_segment_size(&mm[i].msg_hdr);
            bytes += mm[i].msg_len;
            pkts += seg > 0 ? (mm[i].msg_len + seg - 1) / seg : 1;
        }
    }
    close(fd);
    printf("{\"datagrams\":%llu,\"bytes\":%llu,\"seconds\":%.3f}\n",
           (unsigned long long)pkts, (unsigned long long)bytes,
           (double)(last - first) / 1e9);
    return 0;
}
