/* Copies of hidden host sockets for the plugin (see share.h). */
#include "hide/share.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct hshare {
    int listen, conn;
    char dir[64];
    struct sockaddr_un addr;
};

int hshare_listen(struct hshare **out, char *path, size_t cap)
{
    struct hshare *h = calloc(1, sizeof *h);
    if (h == NULL)
        return -ENOMEM;
    h->listen = h->conn = -1;
    h->addr.sun_family = AF_UNIX;
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(h->dir, sizeof h->dir, "%s/vigil-hide-XXXXXX",
                     tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
    int err = 0;
    /* mkdtemp makes it 0700: only vigil's user can reach the socket. */
    if (n >= (int)sizeof h->dir || mkdtemp(h->dir) == NULL) {
        err = n >= (int)sizeof h->dir ? -ENAMETOOLONG : -errno;
        h->dir[0] = '\0';
        goto fail;
    }
    n = snprintf(h->addr.sun_path, sizeof h->addr.sun_path, "%s/fds", h->dir);
    if (n >= (int)sizeof h->addr.sun_path || (size_t)n >= cap) {
        err = -ENAMETOOLONG;
        goto fail;
    }
    h->listen =
        socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (h->listen < 0 ||
        bind(h->listen, (struct sockaddr *)&h->addr, sizeof h->addr) < 0 ||
        listen(h->listen, 1) < 0) {
        err = -errno;
        goto fail;
    }
    memcpy(path, h->addr.sun_path, (size_t)n + 1);
    *out = h;
    return 0;
fail:
    hshare_free(h);
    return err;
}

/* The plugin's connection, once it is there. */
static bool connected(struct hshare *h)
{
    if (h->conn >= 0)
        return true;
    if (h->listen < 0)
        return false;
    int c = accept4(h->listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0)
        return false;
    struct ucred cr;
    socklen_t l = sizeof cr;
    if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &l) < 0 ||
        cr.uid != geteuid()) {
        close(c);
        return false;
    }
    h->conn = c;
    /* One plugin: nobody else may connect. */
    close(h->listen);
    h->listen = -1;
    unlink(h->addr.sun_path);
    rmdir(h->dir);
    h->dir[0] = '\0';
    return true;
}

bool hshare_send(struct hshare *h, const struct hshare_msg *m, int host)
{
    if (h == NULL || host < 0 || !connected(h))
        return false;
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct hshare_msg copy = *m;
    struct iovec iov = {&copy, sizeof copy};
    struct msghdr mh = {.msg_name = NULL,
                        .msg_namelen = 0,
                        .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf,
                        .msg_flags = 0};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &host, sizeof host);
    return sendmsg(h->conn, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) ==
           (ssize_t)sizeof *m;
}

void hshare_free(struct hshare *h)
{
    if (h == NULL)
        return;
    if (h->listen >= 0)
        close(h->listen);
    if (h->conn >= 0)
        close(h->conn);
    if (h->dir[0] != '\0') {
        unlink(h->addr.sun_path);
        rmdir(h->dir);
    }
    free(h);
}

int hshare_connect(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX, .sun_path = {0}};
    if (strlen(path) >= sizeof a.sun_path)
        return -ENAMETOOLONG;
    memcpy(a.sun_path, path, strlen(path) + 1);
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
        int e = -errno;
        close(s);
        return e;
    }
    return s;
}

int hshare_recv(int sock, struct hshare_msg *m)
{
    for (int tries = 0; tries < 64; tries++) {
        union {
            char buf[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } u;
        struct iovec iov = {m, sizeof *m};
        struct msghdr mh = {.msg_name = NULL,
                            .msg_namelen = 0,
                            .msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = u.buf,
                            .msg_controllen = sizeof u.buf,
                            .msg_flags = 0};
        ssize_t n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0)
            return -1;
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        int fd = -1;
        if (c != NULL && c->cmsg_level == SOL_SOCKET &&
            c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof fd))
            memcpy(&fd, CMSG_DATA(c), sizeof fd);
        if (n == (ssize_t)sizeof *m && fd >= 0)
            return fd;
        if (fd >= 0)
            close(fd);
    }
    return -1;
}
