/* The guest agent's replies (lib/image/qga-reply.c) as a hostile guest may
 * write them: lines without an end, larger than any real reply, truncated
 * JSON, fields of the wrong type or out of range, bad base64, deep
 * nesting, and error texts carrying terminal escapes; and the replies a
 * real agent gives. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "vigil/qga-reply.h"

static char err[256];

static int status(const char *line, struct qga_status *st)
{
    return qga_parse_exec_status(line, strlen(line), st, err, sizeof err);
}

static void test_frame(void)
{
    const char *line;
    size_t n, used;
    const char *two = "{\"return\": 1}\n{\"return\": 2}\n";
    int r = qga_frame(two, strlen(two), &line, &n, &used);
    CHECK(r == 1 && n == 13 && used == 14 &&
              memcmp(line, "{\"return\": 1}", n) == 0,
          "frame: the first of two lines");
    r = qga_frame("{\"return\"", 9, &line, &n, &used);
    CHECK(r == 0, "frame: a line without its end waits for more");
    const char *ff = "{\"ret\xff{\"return\": 7}\n";
    r = qga_frame(ff, strlen(ff), &line, &n, &used);
    CHECK(r == 1 && n == 13 && line == ff + 6 && used == strlen(ff),
          "frame: what precedes 0xFF on the line is left out");

    /* A guest that never ends its line: refused at the limit, not kept. */
    char *huge = malloc(QGA_LINE_MAX);
    if (huge == NULL)
        abort();
    memset(huge, 'A', QGA_LINE_MAX);
    r = qga_frame(huge, QGA_LINE_MAX - 1, &line, &n, &used);
    CHECK(r == 0, "frame: below the limit without a newline: wait");
    r = qga_frame(huge, QGA_LINE_MAX, &line, &n, &used);
    CHECK(r == -EMSGSIZE, "frame: %u bytes without a newline: -EMSGSIZE",
          QGA_LINE_MAX);
    free(huge);
}

static void test_sync_exec(void)
{
    const char *ok = "{\"return\": 4242}";
    CHECK(qga_parse_sync(ok, strlen(ok), 4242, err, sizeof err) == 0,
          "sync: our id");
    CHECK(qga_parse_sync(ok, strlen(ok), 17, err, sizeof err) == QGA_SKIP,
          "sync: another id is skipped");
    const char *str = "{\"return\": \"4242\"}";
    CHECK(qga_parse_sync(str, strlen(str), 4242, err, sizeof err) == -EBADMSG,
          "sync: a string id is malformed");
    CHECK(qga_parse_sync("garbage", 7, 1, err, sizeof err) == QGA_SKIP,
          "sync: a line that is not JSON is skipped");
    CHECK(qga_parse_sync("[1]", 3, 1, err, sizeof err) == QGA_SKIP,
          "sync: an array is skipped");

    int64_t pid = 0;
    const char *e = "{\"return\": {\"pid\": 1234}}";
    CHECK(qga_parse_exec(e, strlen(e), &pid, err, sizeof err) == 0 &&
              pid == 1234,
          "exec: pid 1234");
    static const char *const bad[] = {
        "{\"return\": {\"pid\": \"1234\"}}",
        "{\"return\": {\"pid\": -5}}",
        "{\"return\": {\"pid\": 0}}",
        "{\"return\": {\"pid\": 99999999999999}}",
        "{\"return\": {\"pid\": 1.5}}",
        "{\"return\": {}}",
        "{\"return\": 12}",
        "{\"return\": {\"pid\": 1, \"pid\": 2}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int r = qga_parse_exec(bad[i], strlen(bad[i]), &pid, err, sizeof err);
        CHECK(r == -EBADMSG || r == QGA_SKIP, "exec: %s refused (%s)", bad[i],
              err);
    }
    const char *trunc = "{\"return\": {\"pid\": 12";
    CHECK(qga_parse_exec(trunc, strlen(trunc), &pid, err, sizeof err) ==
              QGA_SKIP,
          "exec: truncated JSON is not an answer");
}

/* Whether @s holds a byte that a terminal acts on: C0, DEL, C1 (UTF-8
 * C2 80..C2 9F) or a bidi override (E2 80 AA..AE, E2 81 A6..A9). */
static bool has_control(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    for (; *u; u++)
        if (*u < 0x20 || *u == 0x7f ||
            (u[0] == 0xc2 && u[1] >= 0x80 && u[1] < 0xa0) ||
            (u[0] == 0xe2 && (u[1] == 0x80 || u[1] == 0x81) &&
             ((u[2] >= 0xaa && u[2] <= 0xae) ||
              (u[2] >= 0xa6 && u[2] <= 0xa9))))
            return true;
    return false;
}

static void test_error_desc(void)
{
    /* The text is printed on the user's terminal: no escape reaches it. */
    const char *e =
        "{\"error\": {\"class\": \"GenericError\", \"desc\": "
        "\"no\\u001b]0;pwned\\u0007 \\u009b2J\\r\\nfake\\u202e\\u007f\"}}";
    int64_t pid;
    int r = qga_parse_exec(e, strlen(e), &pid, err, sizeof err);
    CHECK(r == -EPROTO && !has_control(err) &&
              strcmp(err, "no?]0;pwned? ?2J??fake??") == 0,
          "error: desc without control characters (%s)", err);
    /* The agent's own reason quotes the name in UTF-8: kept. */
    const char *q =
        "{\"error\": {\"desc\": \"Failed to execute child "
        "process \\u201cnope\\u201d (No such file or directory)\"}}";
    r = qga_parse_exec(q, strlen(q), &pid, err, sizeof err);
    CHECK(r == -EPROTO && strcmp(err, "Failed to execute child process "
                                      "\xe2\x80\x9cnope\xe2\x80\x9d (No "
                                      "such file or directory)") == 0,
          "error: UTF-8 quotes kept (%s)", err);
    /* Cut where the buffer ends, never inside a character. */
    char cut[5];
    const char *u = "{\"error\": {\"desc\": \"ab\\u201cc\"}}";
    r = qga_parse_ack(u, strlen(u), cut, sizeof cut);
    CHECK(r == -EPROTO && strcmp(cut, "ab") == 0, "error: no half character");
    const char *nodesc = "{\"error\": {\"desc\": 5}}";
    r = qga_parse_ack(nodesc, strlen(nodesc), err, sizeof err);
    CHECK(r == -EPROTO && err[0] != '\0', "error: desc not a string (%s)", err);
    char small[8];
    const char *lng = "{\"error\": {\"desc\": \"a long description\"}}";
    r = qga_parse_ack(lng, strlen(lng), small, sizeof small);
    CHECK(r == -EPROTO && strcmp(small, "a long ") == 0,
          "error: desc cut to the buffer");
}

static void test_status(void)
{
    struct qga_status st;
    int r = status("{\"return\": {\"exited\": true, \"exitcode\": 3, "
                   "\"out-data\": \"aGVsbG8K\", \"err-data\": \"\"}}",
                   &st);
    CHECK(r == 0 && st.exited && st.exitcode == 3 && st.signal == -1 &&
              st.out_len == 6 && memcmp(st.out, "hello\n", 6) == 0 &&
              st.err == NULL && !st.truncated,
          "status: exit 3 with output");
    qga_status_free(&st);
    r = status("{\"return\": {\"exited\": true, \"signal\": 9, "
               "\"out-truncated\": true}}",
               &st);
    CHECK(r == 0 && st.signal == 9 && st.exitcode == -1 && st.truncated,
          "status: killed by 9, output cut");
    qga_status_free(&st);
    r = status("{\"return\": {\"exited\": false}}", &st);
    CHECK(r == 0 && !st.exited, "status: still running");

    static const char *const bad[] = {
        "{\"return\": {\"exited\": 1, \"exitcode\": 0}}",
        "{\"return\": {\"exitcode\": 0}}",
        "{\"return\": {\"exited\": true}}",
        "{\"return\": {\"exited\": true, \"exitcode\": 0, \"signal\": 9}}",
        "{\"return\": {\"exited\": true, \"exitcode\": 256}}",
        "{\"return\": {\"exited\": true, \"exitcode\": -1}}",
        "{\"return\": {\"exited\": true, \"signal\": 2147483647}}",
        "{\"return\": {\"exited\": true, \"signal\": 0}}",
        "{\"return\": {\"exited\": true, \"exitcode\": \"0\"}}",
        "{\"return\": {\"exited\": true, \"exitcode\": 0, "
        "\"out-data\": \"!!!!\"}}",
        "{\"return\": {\"exited\": true, \"exitcode\": 0, "
        "\"out-data\": \"aGVsbG8\"}}",
        "{\"return\": {\"exited\": true, \"exitcode\": 0, \"err-data\": 42}}",
        "{\"return\": {\"exited\": true, \"exitcode\": 0, "
        "\"out-truncated\": \"yes\"}}",
        "{\"return\": [true]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = status(bad[i], &st);
        CHECK(r == -EBADMSG && st.out == NULL && st.err == NULL && *err,
              "status: %s refused (%s)", bad[i], err);
    }
    /* Bad base64 after good: the first stream's buffer is not leaked
     * (ASan) nor left behind. */
    r = status("{\"return\": {\"exited\": true, \"exitcode\": 0, "
               "\"out-data\": \"aGk=\", \"err-data\": \"a*b=\"}}",
               &st);
    CHECK(r == -EBADMSG && st.out == NULL && st.out_len == 0,
          "status: good out-data, bad err-data: nothing kept (%d)", r);
}

/* out-data beyond the agent's own 16 MiB limit is refused before it is
 * decoded; at the limit it is decoded. */
static void test_huge(void)
{
    size_t b64 = QGA_DATA_MAX / 3 * 4 + 8;
    const char *pre = "{\"return\": {\"exited\": true, \"exitcode\": 0, "
                      "\"out-data\": \"";
    size_t plen = strlen(pre);
    char *line = malloc(plen + b64 + 8);
    if (line == NULL)
        abort();
    memcpy(line, pre, plen);
    memset(line + plen, 'A', b64);
    memcpy(line + plen + b64, "\"}}", 4);
    struct qga_status st;
    int r = status(line, &st);
    CHECK(r == -EBADMSG && st.out == NULL, "huge: %zu base64 bytes refused",
          b64);
    size_t ok = QGA_DATA_MAX / 3 * 4;
    memcpy(line + plen + ok, "\"}}", 4);
    r = status(line, &st);
    CHECK(r == 0 && st.out_len == ok / 4 * 3, "huge: %zu bytes at the limit",
          st.out_len);
    qga_status_free(&st);
    free(line);
}

static void test_depth(void)
{
    /* Nested arrays inside the answer, as deep as the line allows. */
    size_t depth = 100000;
    char *s = malloc(2 * depth + 32);
    if (s == NULL)
        abort();
    size_t n = (size_t)sprintf(s, "{\"return\": ");
    memset(s + n, '[', depth);
    memset(s + n + depth, ']', depth);
    n += 2 * depth;
    s[n++] = '}';
    CHECK(qga_parse_ack(s, n, err, sizeof err) == -EBADMSG,
          "depth: %zu levels refused (%s)", depth, err);
    /* Brackets inside strings do not count. */
    n = (size_t)sprintf(s, "{\"return\": {\"pid\": 5, \"x\": \"");
    memset(s + n, '{', 100);
    n += 100;
    n += (size_t)sprintf(s + n, "\\\"\"}}");
    int64_t pid = 0;
    int r = qga_parse_exec(s, n, &pid, err, sizeof err);
    CHECK(r == 0 && pid == 5, "depth: brackets in a string are text (%d)", r);
    free(s);
}

static void test_ack(void)
{
    const char *ev = "{\"event\": \"POWERDOWN\", \"timestamp\": {}}";
    CHECK(qga_parse_ack(ev, strlen(ev), err, sizeof err) == QGA_SKIP,
          "ack: an event is skipped");
    const char *ok = "{\"return\": {}}";
    CHECK(qga_parse_ack(ok, strlen(ok), err, sizeof err) == 0, "ack: return");
    const char *nul = "{\"return\": \"a\\u0000b\"}";
    CHECK(qga_parse_ack(nul, strlen(nul), err, sizeof err) == QGA_SKIP,
          "ack: a NUL inside a string is not JSON here");
    CHECK(qga_parse_ack("", 0, err, sizeof err) == QGA_SKIP,
          "ack: an empty line is skipped");
}

int main(void)
{
    test_frame();
    test_sync_exec();
    test_error_desc();
    test_status();
    test_huge();
    test_depth();
    test_ack();
    return failures != 0;
}
