/* logd's PostgreSQL store on a record's bytes (an authenticated sender's:
 * any bytes): the indexed fields' finder (cli/logd-fields.c), and a trip
 * through the spill directory (cli/logd-spill.c), which must give back
 * exactly one record with its own key and its bytes (newlines and
 * carriage returns as spaces), whatever the bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../cli/logd-fields.c"
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
