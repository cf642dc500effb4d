/* QMP over a unix socket, one command session per call. */
#include "qmp.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vigil/clock.h"

/* Replies longer than this are not something set_link produces. */
#define QMP_LINE_MAX 65536

struct qmp {
    int fd;
    int64_t deadline_ms;
    char buf[QMP_LINE_MAX];
    size_t len;
};

static int64_t now_ms(void)
{
    return (int64_t)(vigil_now_ns(CLOCK_MONOTONIC) / 1000000);
}

static int wait_fd(struct qmp *q, short events)
{
    for (;;) {
        int64_t left = q->deadline_ms - now_ms();
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd p = {.fd = q->fd, .events = events};
        int r = poll(&p, 1, (int)left);
        if (r > 0)
            return 0;
        if (r == 0)
            return -ETIMEDOUT;
        if (errno != EINTR)
            return -errno;
    }
}

static int send_all(struct qmp *q, const char *s)
{
    size_t len = strlen(s), off = 0;
    while (off < len) {
        int r = wait_fd(q, POLLOUT);
        if (r < 0)
            return r;
        ssize_t n = send(q->fd, s + off, len - off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -errno;
        }
        off += (size_t)n;
    }
    return 0;
}

/* Read one line (a JSON object) into a new json_t. */
static int read_msg(struct qmp *q, json_t **out)
{
    for (;;) {
        char *nl = memchr(q->buf, '\n', q->len);
        if (nl) {
            size_t n = (size_t)(nl - q->buf);
            json_t *j = json_loadb(q->buf, n, 0, NULL);
            memmove(q->buf, nl + 1, q->len - n - 1);
            q->len -= n + 1;
            if (!j || !json_is_object(j)) {
                json_decref(j);
                return -EPROTO;
            }
            *out = j;
            return 0;
        }
        if (q->len == sizeof(q->buf))
            return -EPROTO;
        int r = wait_fd(q, POLLIN);
        if (r < 0)
            return r;
        ssize_t n = recv(q->fd, q->buf + q->len, sizeof(q->buf) - q->len, 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -errno;
        }
        if (n == 0)
            return -ECONNRESET;
        q->len += (size_t)n;
    }
}

/* Send @cmd and wait for its "return" or "error", skipping events. */
static int command(struct qmp *q, const char *cmd, char *err, size_t errlen)
{
    int r = send_all(q, cmd);
    if (r < 0)
        return r;
    for (;;) {
        json_t *j;
        r = read_msg(q, &j);
        if (r < 0)
            return r;
        if (json_object_get(j, "return")) {
            json_decref(j);
            return 0;
        }
        json_t *e = json_object_get(j, "error");
        if (e) {
            const char *desc = json_string_value(json_object_get(e, "desc"));
            snprintf(err, errlen, "QMP error: %s", desc ? desc : "?");
            json_decref(j);
            return -EPROTO;
        }
        json_decref(j); /* an asynchronous event */
    }
}

int nbd_qmp_set_link(const char *path, const char *netdev, bool up,
                     int timeout_ms, char *err, size_t errlen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct qmp *q;
    int r;

    snprintf(err, errlen, "ok");
    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "QMP socket path too long");
        return -ENAMETOOLONG;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    q->deadline_ms = now_ms() + timeout_ms;
    q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (q->fd < 0) {
        r = -errno;
        snprintf(err, errlen, "socket: %s", strerror(-r));
        goto free_q;
    }
    if (connect(q->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        r = -errno;
        if (r == -EINPROGRESS || r == -EAGAIN)
            r = wait_fd(q, POLLOUT);
        if (r < 0) {
            snprintf(err, errlen, "connect %s: %s", path, strerror(-r));
            goto close_fd;
        }
    }

    json_t *greeting;
    r = read_msg(q, &greeting);
    if (r < 0) {
        snprintf(err, errlen, "QMP greeting: %s", strerror(-r));
        goto close_fd;
    }
    int is_qmp = json_object_get(greeting, "QMP") != NULL;
    json_decref(greeting);
    if (!is_qmp) {
        r = -EPROTO;
        snprintf(err, errlen, "not a QMP greeting");
        goto close_fd;
    }
    char tmp[256];
    r = command(q, "{\"execute\":\"qmp_capabilities\"}\n", tmp, sizeof(tmp));
    if (r < 0) {
        snprintf(err, errlen, "qmp_capabilities: %s",
                 r == -EPROTO ? tmp : strerror(-r));
        goto close_fd;
    }

    json_t *cmd = json_pack("{s:s, s:{s:s, s:b}}", "execute", "set_link",
                            "arguments", "name", netdev, "up", up);
    char *text = cmd ? json_dumps(cmd, JSON_COMPACT) : NULL;
    json_decref(cmd);
    if (!text) {
        r = -ENOMEM;
        goto close_fd;
    }
    size_t tl = strlen(text);
    char *line = malloc(tl + 2);
    if (!line) {
        free(text);
        r = -ENOMEM;
        goto close_fd;
    }
    memcpy(line, text, tl);
    line[tl] = '\n';
    line[tl + 1] = '\0';
    free(text);
    r = command(q, line, tmp, sizeof(tmp));
    free(line);
    if (r < 0)
        snprintf(err, errlen, "set_link %s: %s", netdev,
                 r == -EPROTO ? tmp : strerror(-r));
close_fd:
    close(q->fd);
free_q:
    free(q);
    return r;
}
