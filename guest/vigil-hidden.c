/* A guest service for the communication-hiding tests (tests/test-hide.sh):
 *
 *   vigil-hidden tcp IP PORT MESSAGE   connect, send, receive the echo
 *   vigil-hidden udp IP PORT MESSAGE   sendto, recvfrom the echo
 *
 * While its socket is open it looks for it where the guest would show it:
 * /proc/net/{tcp,udp}, /proc/self/fd, and prints what it found, then the
 * echo. With vigil --hide the socket is vigil's, on the host, and the
 * guest shows nothing of it. Exits 0 when the echo came back.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Lines of @path after its header: sockets the guest kernel knows. */
static int proc_lines(const char *path)
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
static int socket_fds(void)
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

int main(int argc, char **argv)
{
    if (argc != 5 || (strcmp(argv[1], "tcp") && strcmp(argv[1], "udp"))) {
        fprintf(stderr, "usage: vigil-hidden tcp|udp IP PORT MESSAGE\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    bool tcp = !strcmp(argv[1], "tcp");
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)atoi(argv[3]))};
    inet_pton(AF_INET, argv[2], &to.sin_addr);
    int fd = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
    if (fd < 0) {
        printf("socket: %s\n", strerror(errno));
        return 1;
    }
    printf("fd %s\n",
           fd >= 1 << 30 ? "above the guest's range" : "a guest one");
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
    if (!tcp)
        printf("from port %d (%u bytes of address)\n", ntohs(from.sin_port),
               (unsigned)fl);
    struct sockaddr_in me;
    socklen_t ml = sizeof me;
    if (getsockname(fd, (struct sockaddr *)&me, &ml) == 0)
        printf("local address %s\n", inet_ntoa(me.sin_addr));
    close(fd);
    return strcmp(buf, msg) == 0 ? 0 : 1;
}
