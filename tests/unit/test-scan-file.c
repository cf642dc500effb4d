/* How `vigil scan` hands an object's bytes to the matcher
 * (cli/scan-file.c): regular files in pieces of any size, pipes with and
 * without a declared size, empty files, files that grow, and files that
 * shrink while being fed, which end as "changed" after the bytes that were
 * there.  The CLI source is built in: it is not in libvigil. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../cli/scan-file.c"
#include "check.h"

struct sink {
    uint8_t *data;
    size_t len, cap, calls, max_piece;
    int trunc_fd; /* >= 0: truncate it to trunc_to at the first call */
    off_t trunc_to;
    size_t stop_after; /* calls; 0: never */
};

static int collect(void *opaque, const uint8_t *p, size_t n)
{
    struct sink *s = opaque;
    if (s->calls++ == 0 && s->trunc_fd >= 0 &&
        ftruncate(s->trunc_fd, s->trunc_to) < 0)
        abort();
    if (n > s->max_piece)
        s->max_piece = n;
    if (s->len + n > s->cap) {
        s->cap = (s->len + n) * 2;
        if ((s->data = realloc(s->data, s->cap)) == NULL)
            abort();
    }
    memcpy(s->data + s->len, p, n); /* touches every byte */
    s->len += n;
    return s->stop_after && s->calls == s->stop_after;
}

static void sink_init(struct sink *s)
{
    memset(s, 0, sizeof *s);
    s->trunc_fd = -1;
}

static uint8_t *pattern(size_t n)
{
    uint8_t *b = malloc(n);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        b[i] = (uint8_t)(x >> 16);
    }
    return b;
}

static int make_file(char *path, const uint8_t *b, size_t n)
{
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, b, n) != (ssize_t)n)
        abort();
    close(fd);
    return open(path, O_RDONLY);
}

/* Map and feed a file of @n bytes with pieces of @feed: the same bytes. */
static void whole(size_t n, size_t feed)
{
    char path[] = "/tmp/test-scan-file.XXXXXX";
    uint8_t *b = pattern(n), *buf = malloc(feed);
    int fd = make_file(path, b, n);
    struct sink s;
    uint64_t got;
    sink_init(&s);
    int r = scan_file_feed(fd, n, buf, feed, collect, &s, &got);
    CHECK(r == 0 && got == n && s.len == n && !memcmp(s.data, b, n) &&
              s.max_piece <= feed,
          "%zu bytes fed in pieces of %zu: r %d, got %llu, same bytes", n, feed,
          r, (unsigned long long)got);
    close(fd);
    unlink(path);
    free(s.data), free(b), free(buf);
}

static void empty_and_grown(void)
{
    char path[] = "/tmp/test-scan-file.XXXXXX";
    uint8_t *b = pattern(100000), buf[4096];
    int fd = make_file(path, b, 100000);
    struct sink s;
    uint64_t got;
    sink_init(&s);
    int r = scan_file_feed(fd, 0, buf, sizeof buf, collect, &s, &got);
    CHECK(r == 0 && got == 0 && s.calls == 0, "declared empty: nothing fed");
    /* Declared 70000 bytes, it has 100000 (it grew after the stat). */
    lseek(fd, 0, SEEK_SET);
    r = scan_file_feed(fd, 70000, buf, sizeof buf, collect, &s, &got);
    CHECK(r == 0 && got == 70000 && s.len == 70000 && !memcmp(s.data, b, 70000),
          "grown file: the declared 70000 bytes only");
    close(fd);
    free(s.data);
    sink_init(&s);
    s.stop_after = 3;
    fd = open(path, O_RDONLY);
    r = scan_file_feed(fd, 100000, buf, sizeof buf, collect, &s, &got);
    CHECK(r == 1 && s.calls == 3 && got == 3 * sizeof buf,
          "the callback stops it after 3 pieces (r %d)", r);
    close(fd);
    unlink(path);
    free(s.data), free(b);
}

/* Pipes, with or without a declared size. */
static void pipes(void)
{
    uint8_t *b = pattern(50000), buf[1000];
    for (int i = 0; i < 3; i++) {
        uint64_t declared = i == 0 ? UINT64_MAX : i == 1 ? 30000 : 60000;
        int p[2];
        if (pipe(p) < 0)
            abort();
        pid_t pid = fork();
        if (pid == 0) {
            close(p[0]);
            _exit(write(p[1], b, 50000) != 50000);
        }
        close(p[1]);
        struct sink s;
        uint64_t got;
        sink_init(&s);
        int r =
            scan_file_feed(p[0], declared, buf, sizeof buf, collect, &s, &got);
        size_t want = i == 1 ? 30000 : 50000;
        CHECK(r == (i == 2 ? -ESTALE : 0) && got == want && s.len == want &&
                  !memcmp(s.data, b, want),
              "pipe, declared %s: %zu bytes, r %d",
              i == 0   ? "unknown"
              : i == 1 ? "30000"
                       : "60000 (short)",
              want, r);
        close(p[0]);
        waitpid(pid, NULL, 0);
        free(s.data);
    }
    free(b);
}

/* The file shrinks to @to bytes after the first piece was fed. */
static void shrinks(size_t n, size_t feed, off_t to)
{
    char path[] = "/tmp/test-scan-file.XXXXXX";
    uint8_t *b = pattern(n), *buf = malloc(feed);
    int fd = make_file(path, b, n);
    struct sink s;
    uint64_t got;
    sink_init(&s);
    s.trunc_fd = open(path, O_RDWR);
    s.trunc_to = to;
    int r = scan_file_feed(fd, n, buf, feed, collect, &s, &got);
    uint64_t want = (uint64_t)to > feed ? (uint64_t)to : feed;
    CHECK(r == -ESTALE && got == want && s.len == want &&
              !memcmp(s.data, b, want),
          "%zu bytes truncated to %lld after the first piece of %zu: "
          "changed (r %d) after %llu bytes, the file's",
          n, (long long)to, feed, r, (unsigned long long)got);
    close(s.trunc_fd);
    close(fd);
    unlink(path);
    free(s.data), free(b), free(buf);
}

int main(void)
{
    whole(1, 4096);
    whole(4096 * 64, 4096);
    whole(4096 * 200 + 123, 5000);
    whole(4096 * 200 + 123, 1);
    whole(4096 * 200 + 123, 4096 * 1000);
    whole((size_t)3 << 20, 1 << 20);
    empty_and_grown();
    pipes();
    shrinks(4096 * 300, 4096 * 2, 100000);
    shrinks(4096 * 300, 4096 * 16, 4096 * 100 + 7);
    shrinks(4096 * 300, 4096, 0);
    shrinks((size_t)3 << 20, 65536, 100000);
    return failures != 0;
}
