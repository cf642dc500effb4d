/* logd's PostgreSQL store on a record's bytes (an authenticated sender's:
 * any bytes): the indexed fields' finder (cli/logd-fields.c), and a trip
 * through the spill directory (cli/logd-spill.c), which must give back
 * exactly one record with its own key and its bytes (newlines and
 * carriage returns as spaces), whatever the bytes; and the binary COPY
 * row (cli/logd-pg-row.c), which must be 11 well-formed fields within
 * logd_pg_row_max, the key and the record's bytes in them (as one JSON
 * string, with no control byte, when the record holds \u0000). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../cli/logd-fields.c"
#include "../cli/logd-pg-row.c"
#include "../cli/logd-rec.c"
#include "../cli/logd-spill.c"

void cli_warn(const char *fmt, ...)
{
    (void)fmt;
}

static struct logd_spill *sp;
static char dir[] = "/tmp/fuzz-logd-store.XXXXXX";

static void fini(void)
{
    logd_spill_close(sp);
    rmdir(dir); /* every file in it was replayed and removed */
}

static void init(void)
{
    char err[256];
    if (mkdtemp(dir) == NULL ||
        logd_spill_open(&sp, dir, UINT64_MAX, err, sizeof err) < 0)
        abort();
    atexit(fini);
}

static uint32_t rd32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return ntohl(v);
}

/* The JSON string at s[0..n) (quotes included) decodes to want[0..wn). */
static void check_json_string(const char *s, size_t n, const uint8_t *want,
                              size_t wn)
{
    if (n < 2 || s[0] != '"' || s[n - 1] != '"')
        abort();
    size_t k = 0;
    for (size_t i = 1; i < n - 1; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"')
            abort();
        if (c == '\\') {
            if (i + 1 >= n - 1)
                abort();
            char e = s[++i];
            if (e == 'u') {
                unsigned v = 0;
                if (i + 4 >= n - 1 || sscanf(s + i + 1, "%4x", &v) != 1)
                    abort();
                c = (unsigned char)v;
                i += 4;
            } else {
                c = (unsigned char)e;
            }
        }
        if (k >= wn || want[k++] != c)
            abort();
    }
    if (k != wn)
        abort();
}

static void check_row(const struct store_rec *r, const uint8_t *data,
                      size_t size)
{
    size_t max = logd_pg_row_max(r);
    char *b = malloc(max);
    if (b == NULL)
        return;
    size_t len = logd_pg_row(b, r, 0x123456789ll);
    if (len > max || len < 2 || b[0] != 0 || b[1] != LOGD_PG_ROW_COLS)
        abort();
    const char *p = b + 2, *end = b + len;
    const char *val[LOGD_PG_ROW_COLS];
    int32_t vlen[LOGD_PG_ROW_COLS];
    for (int i = 0; i < LOGD_PG_ROW_COLS; i++) {
        if (end - p < 4)
            abort();
        vlen[i] = (int32_t)rd32(p);
        p += 4;
        val[i] = p;
        if (vlen[i] < -1 || (vlen[i] > 0 && end - p < vlen[i]))
            abort();
        if (vlen[i] > 0)
            p += vlen[i];
    }
    if (p != end || vlen[0] != 8 || memcmp(val[0], "10.0.0.1", 8) != 0 ||
        vlen[1] != 16 || memcmp(val[1], "0123456789abcdef", 16) != 0 ||
        vlen[2] != 8 || rd32(val[2] + 4) != 42 || vlen[11] != 8 ||
        rd32(val[11]) != 1 || rd32(val[11] + 4) != 0x23456789)
        abort();
    static const int num[] = {4, 5, 6, 9}; /* ts, pid, tid, ret */
    for (int i = 0; i < 4; i++)
        if (vlen[num[i]] != -1 &&
            vlen[num[i]] != (num[i] == 5 || num[i] == 6 ? 4 : 8))
            abort();
    if (vlen[7] > 64 || vlen[8] > 64) /* type and name: logd-fields.c */
        abort();
    if (memmem(data, size, "\\u0000", 6) != NULL)
        check_json_string(val[10], (size_t)vlen[10], data, size);
    else if ((size_t)vlen[10] != size || memcmp(val[10], data, size) != 0)
        abort();
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sp == NULL)
        init();
    struct logd_fields f;
    logd_fields_find((const char *)data, size, &f);
    if (f.type && (f.type < (const char *)data ||
                   f.type + f.type_len > (const char *)data + size))
        abort();
    if (f.name && (f.name < (const char *)data ||
                   f.name + f.name_len > (const char *)data + size))
        abort();

    struct store_rec *r =
        store_rec_new("10.0.0.1", "0123456789abcdef", 42,
                      1700000000123456789ull, (const char *)data, size);
    if (r == NULL)
        return 0;
    check_row(r, data, size);
    if (logd_spill_append(sp, &r, 1) == 1) {
        char path[4200];
        struct store_rec **v = NULL;
        size_t n = 0, bad = 0;
        if (logd_spill_take(sp, path, sizeof path) != 1 ||
            logd_spill_read(path, &v, &n, &bad) != 0 || n != 1 || bad != 0)
            abort();
        if (strcmp(v[0]->host, "10.0.0.1") != 0 ||
            strcmp(v[0]->session, "0123456789abcdef") != 0 ||
            v[0]->recno != 42 || v[0]->received_ns != 1700000000123456789ull ||
            v[0]->len != size)
            abort();
        for (size_t i = 0; i < size; i++) {
            char c = (char)data[i];
            if (v[0]->json[i] != (c == '\n' || c == '\r' ? ' ' : c))
                abort();
        }
        free(v[0]);
        free(v);
        logd_spill_done(sp, path);
    }
    free(r);
    return 0;
}
