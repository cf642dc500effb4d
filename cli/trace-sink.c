/* The trace's output buffer (trace-sink.h). Events used to be formatted
 * into a line buffer and then copied into stdio's, which wrote 4 KiB at a
 * time (setvbuf without a buffer of its own keeps the file's block size):
 * at a dense --callers stream, the copy and a write per 4 KiB were a third
 * of the consumer's time. Here a line is formatted where it will be
 * written from, and written in 64 KiB pieces (small enough to be still in the
 * cache when the kernel copies them). */
#include "trace-sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FLUSH_AT (64u << 10)

struct trace_sink {
    int fd;
    int err; /* the first write error, -errno */
    size_t line_max;
    size_t len;
    char *buf; /* FLUSH_AT + line_max + 1 */
};

int trace_sink_open(struct trace_sink **out, const char *path, size_t line_max)
{
    struct trace_sink *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    s->line_max = line_max;
    s->buf = malloc(FLUSH_AT + line_max + 1);
    s->fd = path == NULL
                ? STDERR_FILENO
                : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (s->buf == NULL || s->fd < 0) {
        int err = s->buf == NULL ? -ENOMEM : -errno;
        if (s->fd > STDERR_FILENO)
            close(s->fd);
        free(s->buf);
        free(s);
        return err;
    }
    *out = s;
    return 0;
}

void trace_sink_flush(struct trace_sink *s)
{
    size_t off = 0;
    while (off < s->len) {
        ssize_t n = write(s->fd, s->buf + off, s->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            /* A full disk or a closed pipe: the rest is lost, as with
             * stdio; the error is reported at the end. */
            if (s->err == 0)
                s->err = n < 0 ? -errno : -EIO;
            break;
        }
        off += (size_t)n;
    }
    s->len = 0;
}

char *trace_sink_room(struct trace_sink *s)
{
    if (s->len >= FLUSH_AT)
        trace_sink_flush(s);
    return s->buf + s->len;
}

void trace_sink_commit(struct trace_sink *s, size_t n)
{
    if (n > s->line_max)
        n = s->line_max;
    s->buf[s->len + n] = '\n';
    s->len += n + 1;
}

void trace_sink_line(struct trace_sink *s, const char *line, size_t n)
{
    char *d = trace_sink_room(s);
    if (n > s->line_max)
        n = s->line_max;
    memcpy(d, line, n);
    trace_sink_commit(s, n);
}

int trace_sink_close(struct trace_sink *s)
{
    if (s == NULL)
        return 0;
    trace_sink_flush(s);
    int err = s->err;
    if (s->fd > STDERR_FILENO && close(s->fd) < 0 && err == 0)
        err = -errno;
    free(s->buf);
    free(s);
    return err;
}
