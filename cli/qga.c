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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vigil/clock.h"

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
        if (g->cap >= QGA_LINE_MAX + 65536)
            return -EMSGSIZE;
        size_t cap = g->cap ? g->cap * 2 : 131072;
        if (cap > QGA_LINE_MAX + 65536)
            cap = QGA_LINE_MAX + 65536;
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

/* The next reply line (qga_frame), handed to @parse with @arg; lines it
 * skips (QGA_SKIP) are dropped and the next is read.  Returns what @parse
 * returned, or -errno when no line came before @deadline. */
typedef int (*parse_fn)(struct qga *g, const char *line, size_t len, void *arg);

static int next_reply(struct qga *g, uint64_t deadline, parse_fn parse,
                      void *arg)
{
    for (;;) {
        const char *line;
        size_t n, used;
        int r = qga_frame(g->buf, g->len, &line, &n, &used);
        if (r < 0)
            return r;
        if (r == 0) {
            r = fill(g, deadline);
            if (r < 0)
                return r;
            continue;
        }
        r = parse(g, line, n, arg);
        g->len -= used;
        memmove(g->buf, g->buf + used, g->len);
        if (r != QGA_SKIP)
            return r;
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

/* Send @cmd with @args (stolen; may be NULL). */
static int send_command(struct qga *g, const char *cmd, json_t *args,
                        uint64_t deadline)
{
    json_t *req = json_pack("{s:s}", "execute", cmd);
    if (req != NULL && args != NULL)
        json_object_set_new(req, "arguments", args);
    else
        json_decref(args);
    return send_json(g, req, deadline);
}

struct sync_arg {
    uint32_t id;
};

/* Anything but our answer is skipped: answers to earlier attempts. */
static int parse_sync(struct qga *g, const char *line, size_t len, void *arg)
{
    const struct sync_arg *a = arg;
    int r = qga_parse_sync(line, len, a->id, g->err, sizeof g->err);
    return r == 0 ? 0 : QGA_SKIP;
}

int qga_sync(struct qga *g, int timeout_ms)
{
    uint64_t deadline = deadline_after(timeout_ms);
    struct sync_arg a = {++g->last_id & 0x3fffffff};
    json_t *args = json_pack("{s:I}", "id", (json_int_t)a.id);
    int r = send_all(g, "\xff", 1, deadline);
    if (r == 0)
        r = send_command(g, "guest-sync-delimited", args, deadline);
    else
        json_decref(args);
    if (r == 0)
        r = next_reply(g, deadline, parse_sync, &a);
    return r;
}

static int parse_exec(struct qga *g, const char *line, size_t len, void *arg)
{
    return qga_parse_exec(line, len, arg, g->err, sizeof g->err);
}

int qga_exec(struct qga *g, char *const *argv, int timeout_ms, int64_t *pid)
{
    uint64_t deadline = deadline_after(timeout_ms);
    json_t *arg = json_array();
    for (size_t i = 1; arg != NULL && argv[i] != NULL; i++)
        json_array_append_new(arg, json_string(argv[i]));
    json_t *args = json_pack("{s:s,s:o,s:b}", "path", argv[0], "arg", arg,
                             "capture-output", 1);
    if (args == NULL)
        return -ENOMEM;
    int r = send_command(g, "guest-exec", args, deadline);
    if (r == 0)
        r = next_reply(g, deadline, parse_exec, pid);
    return r;
}

static int parse_status(struct qga *g, const char *line, size_t len, void *arg)
{
    return qga_parse_exec_status(line, len, arg, g->err, sizeof g->err);
}

int qga_exec_status(struct qga *g, int64_t pid, int timeout_ms,
                    struct qga_status *st)
{
    uint64_t deadline = deadline_after(timeout_ms);
    *st = (struct qga_status){.exitcode = -1, .signal = -1};
    int r = send_command(g, "guest-exec-status",
                         json_pack("{s:I}", "pid", (json_int_t)pid), deadline);
    if (r == 0)
        r = next_reply(g, deadline, parse_status, st);
    return r;
}

int qga_shutdown(struct qga *g)
{
    return send_command(g, "guest-shutdown",
                        json_pack("{s:s}", "mode", "powerdown"),
                        deadline_after(5000));
}

static int parse_ack(struct qga *g, const char *line, size_t len, void *arg)
{
    (void)arg;
    return qga_parse_ack(line, len, g->err, sizeof g->err);
}

/* QMP's greeting: whatever its first line holds. */
static int parse_any(struct qga *g, const char *line, size_t len, void *arg)
{
    (void)g, (void)line, (void)len, (void)arg;
    return 0;
}

int qga_qmp_powerdown(const char *path, int timeout_ms)
{
    struct qga *g;
    int r = qga_connect(&g, path);
    if (r < 0)
        return r;
    uint64_t deadline = deadline_after(timeout_ms);
    r = next_reply(g, deadline, parse_any, NULL);
    static const char *const cmds[] = {"qmp_capabilities", "system_powerdown"};
    for (size_t i = 0; i < 2 && r == 0; i++) {
        r = send_command(g, cmds[i], NULL, deadline);
        if (r == 0)
            r = next_reply(g, deadline, parse_ack, NULL);
    }
    qga_close(g);
    return r;
}
