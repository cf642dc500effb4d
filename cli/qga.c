/* The QEMU guest agent client (qga.h).
 *
 * The agent answers each command with one JSON object on a line.  Until it
 * runs, QEMU keeps what we write in the socket, so a client resynchronises
 * with guest-sync-delimited: a 0xFF byte first flushes whatever partial
 * input the agent holds, and its answer (prefixed by 0xFF) carries the id
 * we chose, which tells our answer from answers to earlier attempts. */
#include "qga.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vigil/clock.h"

/* A guest-exec-status answer holds up to 16 MiB of output, as base64. */
#define QGA_REPLY_MAX (64u << 20)

struct qga {
    int fd;
    char *buf; /* received, not yet parsed */
    size_t len, cap;
    uint32_t last_id;
    char err[256];
};

int qga_connect(struct qga **out, const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path)
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    struct qga *g = calloc(1, sizeof *g);
    if (g == NULL) {
        close(fd);
        return -ENOMEM;
    }
    g->fd = fd;
    g->last_id = (uint32_t)(vigil_now_ns(CLOCK_MONOTONIC) >> 10) & 0x3fffffff;
    *out = g;
    return 0;
}

void qga_close(struct qga *g)
{
    if (g == NULL)
        return;
    close(g->fd);
    free(g->buf);
    free(g);
}

const char *qga_error(const struct qga *g)
{
    return g->err;
}

static uint64_t deadline_after(int timeout_ms)
{
    return vigil_now_ns(CLOCK_MONOTONIC) + (uint64_t)timeout_ms * 1000000u;
}

/* Milliseconds left until @deadline, at least 0. */
static int left_ms(uint64_t deadline)
{
    uint64_t now = vigil_now_ns(CLOCK_MONOTONIC);
    return now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
}

static int wait_fd(int fd, short events, uint64_t deadline)
{
    struct pollfd p = {.fd = fd, .events = events, .revents = 0};
    for (;;) {
        int ms = left_ms(deadline);
        if (ms == 0)
            return -ETIMEDOUT;
        int r = poll(&p, 1, ms);
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return -errno;
    }
}

static int send_all(struct qga *g, const char *s, size_t n, uint64_t deadline)
{
    while (n > 0) {
        ssize_t w = send(g->fd, s, n, MSG_NOSIGNAL);
        if (w > 0) {
            s += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EINTR)
            return -errno;
        int r = wait_fd(g->fd, POLLOUT, deadline);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Read what is there into g->buf, waiting until @deadline for something. */
static int fill(struct qga *g, uint64_t deadline)
{
    int r = wait_fd(g->fd, POLLIN, deadline);
    if (r < 0)
        return r;
    if (g->cap - g->len < 65536) {
        if (g->cap >= QGA_REPLY_MAX)
            return -EMSGSIZE;
        size_t cap = g->cap ? g->cap * 2 : 131072;
        char *nb = realloc(g->buf, cap);
        if (nb == NULL)
            return -ENOMEM;
        g->buf = nb;
        g->cap = cap;
    }
    ssize_t n = recv(g->fd, g->buf + g->len, g->cap - g->len, 0);
    if (n == 0)
        return -EPIPE;
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
    g->len += (size_t)n;
    return 0;
}

/* The next answer, parsed.  What precedes a 0xFF on its line is the rest
 * of an answer we gave up on; lines that are not JSON are skipped. */
static int next_reply(struct qga *g, uint64_t deadline, json_t **out)
{
    for (;;) {
        char *nl = g->len ? memchr(g->buf, '\n', g->len) : NULL;
        if (nl == NULL) {
            int r = fill(g, deadline);
            if (r < 0)
                return r;
            continue;
        }
        size_t n = (size_t)(nl - g->buf);
        const char *start = g->buf;
        const char *ff = memrchr(g->buf, 0xff, n);
        if (ff != NULL)
            start = ff + 1;
        json_t *j = json_loadb(start, n - (size_t)(start - g->buf), 0, NULL);
        g->len -= n + 1;
        memmove(g->buf, nl + 1, g->len);
        if (j != NULL && json_is_object(j)) {
            *out = j;
            return 0;
        }
        json_decref(j);
    }
}

static int send_json(struct qga *g, json_t *req, uint64_t deadline)
{
    char *s = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (s == NULL)
        return -ENOMEM;
    int r = send_all(g, s, strlen(s), deadline);
    if (r == 0)
        r = send_all(g, "\n", 1, deadline);
    free(s);
    return r;
}

/* Run @cmd with @args (stolen; may be NULL): *ret gets its "return". */
static int command(struct qga *g, const char *cmd, json_t *args, int timeout_ms,
                   json_t **ret)
{
    uint64_t deadline = deadline_after(timeout_ms);
    json_t *req = json_pack("{s:s}", "execute", cmd);
    if (req != NULL && args != NULL)
        json_object_set_new(req, "arguments", args);
    else
        json_decref(args);
    int r = send_json(g, req, deadline);
    json_t *rep = NULL;
    if (r == 0)
        r = next_reply(g, deadline, &rep);
    if (r < 0)
        return r;
    json_t *err = json_object_get(rep, "error");
    if (err != NULL) {
        const char *desc = json_string_value(json_object_get(err, "desc"));
        snprintf(g->err, sizeof g->err, "%s", desc ? desc : "error");
        json_decref(rep);
        return -EPROTO;
    }
    *ret = json_incref(json_object_get(rep, "return"));
    json_decref(rep);
    return *ret != NULL ? 0 : -EPROTO;
}

int qga_sync(struct qga *g, int timeout_ms)
{
    uint64_t deadline = deadline_after(timeout_ms);
    uint32_t id = ++g->last_id & 0x3fffffff;
    json_t *req = json_pack("{s:s,s:{s:I}}", "execute", "guest-sync-delimited",
                            "arguments", "id", (json_int_t)id);
    int r = send_all(g, "\xff", 1, deadline);
    if (r == 0)
        r = send_json(g, req, deadline);
    else
        json_decref(req);
    while (r == 0) {
        json_t *rep = NULL;
        r = next_reply(g, deadline, &rep);
        if (r < 0)
            break;
        json_t *v = json_object_get(rep, "return");
        bool ours = json_is_integer(v) && json_integer_value(v) == id;
        json_decref(rep);
        if (ours)
            return 0;
    }
    return r;
}

int qga_exec(struct qga *g, char *const *argv, int timeout_ms, int64_t *pid)
{
    json_t *arg = json_array();
    for (size_t i = 1; arg != NULL && argv[i] != NULL; i++)
        json_array_append_new(arg, json_string(argv[i]));
    json_t *args = json_pack("{s:s,s:o,s:b}", "path", argv[0], "arg", arg,
                             "capture-output", 1);
    if (args == NULL)
        return -ENOMEM;
    json_t *ret = NULL;
    int r = command(g, "guest-exec", args, timeout_ms, &ret);
    if (r < 0)
        return r;
    json_t *p = json_object_get(ret, "pid");
    r = json_is_integer(p) ? 0 : -EPROTO;
    if (r == 0)
        *pid = json_integer_value(p);
    json_decref(ret);
    return r;
}

/* Decode the base64 field @key of @obj into a malloc'd buffer. */
static int decode(json_t *obj, const char *key, unsigned char **out,
                  size_t *len)
{
    const char *s = json_string_value(json_object_get(obj, key));
    *out = NULL;
    *len = 0;
    if (s == NULL || *s == '\0')
        return 0;
    size_t n = strlen(s);
    unsigned char *b = malloc(n / 4 * 3 + 3);
    if (b == NULL)
        return -ENOMEM;
    if (sodium_base642bin(b, n / 4 * 3 + 3, s, n, "\r\n", len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(b);
        return -EPROTO;
    }
    *out = b;
    return 0;
}

int qga_exec_status(struct qga *g, int64_t pid, int timeout_ms,
                    struct qga_status *st)
{
    *st = (struct qga_status){.exitcode = -1, .signal = -1};
    json_t *ret = NULL;
    int r =
        command(g, "guest-exec-status",
                json_pack("{s:I}", "pid", (json_int_t)pid), timeout_ms, &ret);
    if (r < 0)
        return r;
    st->exited = json_is_true(json_object_get(ret, "exited"));
    json_t *v = json_object_get(ret, "exitcode");
    if (json_is_integer(v))
        st->exitcode = (int)json_integer_value(v);
    v = json_object_get(ret, "signal");
    if (json_is_integer(v))
        st->signal = (int)json_integer_value(v);
    st->truncated = json_is_true(json_object_get(ret, "out-truncated")) ||
                    json_is_true(json_object_get(ret, "err-truncated"));
    r = decode(ret, "out-data", &st->out, &st->out_len);
    if (r == 0)
        r = decode(ret, "err-data", &st->err, &st->err_len);
    json_decref(ret);
    if (r < 0)
        qga_status_free(st);
    return r;
}

void qga_status_free(struct qga_status *st)
{
    free(st->out);
    free(st->err);
    st->out = st->err = NULL;
    st->out_len = st->err_len = 0;
}

int qga_shutdown(struct qga *g)
{
    json_t *req = json_pack("{s:s,s:{s:s}}", "execute", "guest-shutdown",
                            "arguments", "mode", "powerdown");
    return send_json(g, req, deadline_after(5000));
}

/* QMP's answer to the command just sent: events in between are skipped. */
static int qmp_answer(struct qga *g, uint64_t deadline)
{
    for (;;) {
        json_t *rep = NULL;
        int r = next_reply(g, deadline, &rep);
        if (r < 0)
            return r;
        bool event = json_object_get(rep, "event") != NULL;
        bool error = json_object_get(rep, "error") != NULL;
        json_decref(rep);
        if (!event)
            return error ? -EPROTO : 0;
    }
}

int qga_qmp_powerdown(const char *path, int timeout_ms)
{
    struct qga *g;
    int r = qga_connect(&g, path);
    if (r < 0)
        return r;
    uint64_t deadline = deadline_after(timeout_ms);
    json_t *greeting = NULL;
    r = next_reply(g, deadline, &greeting);
    json_decref(greeting);
    static const char *const cmds[] = {"qmp_capabilities", "system_powerdown"};
    for (size_t i = 0; i < 2 && r == 0; i++) {
        r = send_json(g, json_pack("{s:s}", "execute", cmds[i]), deadline);
        if (r == 0)
            r = qmp_answer(g, deadline);
    }
    qga_close(g);
    return r;
}
