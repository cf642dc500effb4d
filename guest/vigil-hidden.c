/* A guest service for the communication-hiding tests (tests/test-hide.sh):
 *
 *   vigil-hidden tcp IP PORT MESSAGE   connect, send, receive the echo
 *   vigil-hidden udp IP PORT MESSAGE   sendto, recvfrom the echo
 *   vigil-hidden suite IP PORT         every socket call a service makes,
 *                                      one "ok NAME" or "FAIL NAME: why"
 *                                      line each, against tests/echo.py
 *   vigil-hidden bench IP PORT N       nanoseconds per call (bench/hide)
 *   vigil-hidden hold IP PORT          connect, say "holding", wait for
 *                                      the server (until killed)
 *   vigil-hidden sniff SECONDS         count the packets a packet socket
 *                                      (AF_PACKET, every protocol, every
 *                                      interface) receives meanwhile
 *
 * While its sockets are open it looks for them where the guest would show
 * them: /proc/net/{tcp,udp}, /proc/self/fd. With vigil --hide the sockets
 * are vigil's, on the host, and the guest shows nothing of them. The suite
 * runs unchanged on the host too (the binary is static): the host kernel's
 * answers are what vigil's must match.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vigil-hidden/hidden.h"

/* Lines of @path after its header: sockets the guest kernel knows. */
int proc_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[512];
    int n = -1;
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        n++;
    fclose(f);
    return n;
}

/* Entries of /proc/self/fd that are sockets. */
int socket_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;
    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        char path[300], target[256];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t l = readlink(path, target, sizeof target - 1);
        if (l > 0) {
            target[l] = '\0';
            n += strncmp(target, "socket:", 7) == 0;
        }
    }
    closedir(d);
    return n;
}

static int echo_once(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    bool tcp = !strcmp(argv[1], "tcp");
    if (argc != 5)
        return 2;
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)atoi(argv[3]))};
    inet_pton(AF_INET, argv[2], &to.sin_addr);
    int fd = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
    if (fd < 0) {
        printf("socket: %s\n", strerror(errno));
        return 1;
    }
    printf("fd %s\n",
           fd >= HIDDEN_BASE ? "above the guest's range" : "a guest one");
    const char *msg = argv[4];
    size_t len = strlen(msg);
    char buf[512];
    ssize_t n;
    if (tcp) {
        if (connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
            printf("connect: %s\n", strerror(errno));
            return 1;
        }
        if (send(fd, msg, len, 0) != (ssize_t)len) {
            printf("send: %s\n", strerror(errno));
            return 1;
        }
    } else if (sendto(fd, msg, len, 0, (struct sockaddr *)&to, sizeof to) !=
               (ssize_t)len) {
        printf("sendto: %s\n", strerror(errno));
        return 1;
    }
    printf("guest sees: /proc/net/tcp %d, /proc/net/udp %d, socket fds %d\n",
           proc_lines("/proc/net/tcp"), proc_lines("/proc/net/udp"),
           socket_fds());
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    n = tcp ? recv(fd, buf, sizeof buf - 1, 0)
            : recvfrom(fd, buf, sizeof buf - 1, 0, (struct sockaddr *)&from,
                       &fl);
    if (n < 0) {
        printf("recv: %s\n", strerror(errno));
        return 1;
    }
    buf[n] = '\0';
    printf("echo: %s\n", buf);
    close(fd);
    return strcmp(buf, msg) == 0 ? 0 : 1;
}

static int hold(const char *ip, int port)
{
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, ip, &to.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
        printf("hold: %s\n", strerror(errno));
        return 1;
    }
    printf("holding\n");
    fflush(stdout);
    char c;
    return read(fd, &c, 1) < 0;
}

/* What a packet capture inside the guest sees: any packet of a connection
 * the guest kernel carried, even to a port nothing listens on (its SYN and
 * the RST), is counted. */
static int sniff(int seconds)
{
    int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    if (fd < 0) {
        printf("sniff: socket: %s\n", strerror(errno));
        return 1;
    }
    printf("sniffing\n");
    fflush(stdout);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned long packets = 0;
    char buf[2048];
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        long left = (t0.tv_sec + seconds - t.tv_sec) * 1000 +
                    (t0.tv_nsec - t.tv_nsec) / 1000000;
        if (left <= 0)
            break;
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, (int)left) > 0 && recv(fd, buf, sizeof buf, 0) >= 0)
            packets++;
    }
    printf("sniffed %lu packets\n", packets);
    close(fd);
    return 0;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Per call, in the guest's clock: socket+close, a 64-byte UDP sendto, a
 * getsockopt (a call with no traffic), and a TCP round trip through an
 * echo server when one answers at IP:PORT. */
static int bench(const char *ip, int port, int n)
{
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port)};
    char buf[64] = {0};
    inet_pton(AF_INET, ip, &to.sin_addr);
    uint64_t t0 = now_ns();
    for (int i = 0; i < n; i++)
        close(socket(AF_INET, SOCK_DGRAM, 0));
    uint64_t t1 = now_ns();
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    for (int i = 0; i < n; i++)
        sendto(u, buf, sizeof buf, 0, (struct sockaddr *)&to, sizeof to);
    uint64_t t2 = now_ns();
    int v;
    socklen_t vl = sizeof v;
    for (int i = 0; i < n; i++)
        getsockopt(u, SOL_SOCKET, SO_RCVBUF, &v, &vl);
    uint64_t t3 = now_ns();
    close(u);
    printf("socket+close_ns %llu\nsendto_ns %llu\ngetsockopt_ns %llu\n",
           (unsigned long long)((t1 - t0) / (uint64_t)n),
           (unsigned long long)((t2 - t1) / (uint64_t)n),
           (unsigned long long)((t3 - t2) / (uint64_t)n));
    int fd = tcp_to_server();
    if (fd >= 0) {
        to.sin_port = server.sin_port;
        uint64_t t4 = now_ns();
        for (int i = 0; i < n / 10; i++)
            if (write(fd, buf, sizeof buf) != sizeof buf ||
                read_all(fd, buf, sizeof buf) != NULL)
                break;
        printf("tcp_rtt_ns %llu\n",
               (unsigned long long)((now_ns() - t4) / (uint64_t)(n / 10)));
        close(fd);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && (!strcmp(argv[1], "tcp") || !strcmp(argv[1], "udp")))
        return echo_once(argc, argv);
    if (argc == 4 && !strcmp(argv[1], "suite"))
        return suite("/proc/self/exe", argv[2], atoi(argv[3]));
    if (argc == 5 && !strcmp(argv[1], "bench") && atoi(argv[4]) >= 10) {
        server = (struct sockaddr_in){
            .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
        inet_pton(AF_INET, argv[2], &server.sin_addr);
        return bench(argv[2], atoi(argv[3]), atoi(argv[4]));
    }
    if (argc == 4 && !strcmp(argv[1], "hold"))
        return hold(argv[2], atoi(argv[3]));
    if (argc == 3 && !strcmp(argv[1], "sniff"))
        return sniff(atoi(argv[2]));
    if (argc == 4 && !strcmp(argv[1], "after-exec"))
        return after_exec(atoi(argv[2]), atoi(argv[3]));
    fprintf(stderr, "usage: vigil-hidden tcp|udp IP PORT MESSAGE\n"
                    "       vigil-hidden suite IP PORT\n");
    return 2;
}
