/* libFuzzer: the guest agent's replies (lib/image/qga-reply.c), which the
 * guest writes.  The input is what the socket delivered: each line that
 * qga_frame cuts from it goes through every parser.  What they accept must
 * be in range, and the error text they leave must be a string without
 * terminal controls. */
#include <stdlib.h>
#include <string.h>

#include "vigil/qga-reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_err(const char *err, size_t len)
{
    const unsigned char *u = (const unsigned char *)err;
    if (memchr(err, '\0', len) == NULL)
        abort();
    for (; *u; u++)
        if (*u < 0x20 || *u == 0x7f || (u[0] == 0xc2 && u[1] < 0xa0))
            abort();
}

static void parse_all(const char *line, size_t n)
{
    char err[64];
    int r = qga_parse_sync(line, n, 42, err, sizeof err);
    check_err(err, sizeof err);
    int64_t pid = 0;
    r = qga_parse_exec(line, n, &pid, err, sizeof err);
    check_err(err, sizeof err);
    if (r == 0 && (pid < 1 || pid > INT32_MAX))
        abort();
    struct qga_status st;
    r = qga_parse_exec_status(line, n, &st, err, sizeof err);
    check_err(err, sizeof err);
    if (r != 0 && (st.out != NULL || st.err != NULL))
        abort();
    if (r == 0 && (st.exitcode < -1 || st.exitcode > 255 || st.signal < -1 ||
                   st.signal > 127 || (st.out == NULL) != (st.out_len == 0) ||
                   (st.err == NULL) != (st.err_len == 0) ||
                   st.out_len > QGA_DATA_MAX || st.err_len > QGA_DATA_MAX))
        abort();
    qga_status_free(&st);
    qga_parse_ack(line, n, err, sizeof err);
    check_err(err, sizeof err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    for (size_t guard = 0; size > 0 && guard < 1024; guard++) {
        const char *line;
        size_t n, used;
        if (qga_frame(buf, size, &line, &n, &used) != 1)
            break;
        if (used == 0 || used > size || line < buf || line + n > buf + used)
            abort();
        parse_all(line, n);
        buf += used;
        size -= used;
    }
    return 0;
}
