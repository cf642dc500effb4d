/* logd's spill directory (cli/logd-spill.c): what goes in comes out the
 * same, a full directory refuses and says how many it kept, and a
 * record's bytes can never make a spill line of their own (a record with
 * a newline replayed as a record of another host or session). The CLI
 * sources are built in: they are not in libvigil. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../cli/logd-rec.c"
#include "../../cli/logd-spill.c"
#include "check.h"

void cli_warn(const char *fmt, ...)
{
    (void)fmt;
}

static struct store_rec *rec(const char *host, const char *session, uint64_t n,
                             const char *json)
{
    return store_rec_new(host, session, n, 1700000000000000000ull + n, json,
                         strlen(json));
}

static void free_all(struct store_rec **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int main(void)
{
    char dir[] = "/tmp/test-logd-spill.XXXXXX", err[256], path[4200];
    if (mkdtemp(dir) == NULL)
        return 1;
    struct logd_spill *sp;
    CHECK(logd_spill_open(&sp, dir, 1000, err, sizeof err) == 0, "open");

    /* A record whose bytes hold a newline and then a whole spill line of
     * another host and session. */
    static const char forged[] =
        "{\"type\":\"syscall\",\"ts\":1}\n{\"host\":\"10.6.6.6\",\"session\":"
        "\"6666666666666666\",\"rec\":7,\"received_ns\":1,\"event\":{}}";
    struct store_rec *in[2] = {
        rec("127.0.0.1", "0123456789abcdef", 0,
            "{\"type\":\"x\",\"a\":\"\\\\\"}"),
        rec("127.0.0.1", "0123456789abcdef", 1, forged),
    };
    CHECK(logd_spill_append(sp, in, 2) == 2, "two records spilled");
    CHECK(logd_spill_take(sp, path, sizeof path) == 1, "a file to replay");
    struct store_rec **out;
    size_t n = 0, bad = 0;
    CHECK(logd_spill_read(path, &out, &n, &bad) == 0, "read back");
    CHECK(n == 2 && bad == 0, "two records, no bad line (got %zu, %zu bad)", n,
          bad);
    bool same = n == 2;
    for (size_t i = 0; i < n && i < 2; i++)
        same = same && strcmp(out[i]->host, "127.0.0.1") == 0 &&
               strcmp(out[i]->session, "0123456789abcdef") == 0 &&
               out[i]->recno == i &&
               out[i]->received_ns == 1700000000000000000ull + i;
    CHECK(same, "each with its own host, session, number and time");
    CHECK(n == 2 && strcmp(out[0]->json, in[0]->json) == 0,
          "an ordinary record comes back byte for byte");
    CHECK(n == 2 && strchr(out[1]->json, '\n') == NULL &&
              strstr(out[1]->json, "10.6.6.6") != NULL,
          "the newline's record comes back whole, as one record");
    free_all(out, n);
    logd_spill_done(sp, path);
    CHECK(logd_spill_bytes(sp) == 0 && access(path, F_OK) != 0,
          "a replayed file is removed");

    /* An empty record is a record too (found by fuzz-logd-store). */
    struct store_rec *empty = rec("127.0.0.1", "0123456789abcdef", 9, "");
    CHECK(logd_spill_append(sp, &empty, 1) == 1 &&
              logd_spill_take(sp, path, sizeof path) == 1 &&
              logd_spill_read(path, &out, &n, &bad) == 0 && n == 1 &&
              bad == 0 && out[0]->len == 0 && out[0]->recno == 9,
          "an empty record comes back");
    if (n == 1)
        free_all(out, n);
    logd_spill_done(sp, path);
    free(empty);

    /* 1000 bytes hold a few lines of ~130 bytes, not 20. */
    struct store_rec *many[20];
    for (int i = 0; i < 20; i++)
        many[i] = rec("127.0.0.1", "0123456789abcdef", (uint64_t)i,
                      "{\"type\":\"syscall\",\"ts\":1}");
    size_t kept = logd_spill_append(sp, many, 20);
    CHECK(kept > 0 && kept < 20 && logd_spill_bytes(sp) <= 1000,
          "a full directory keeps what fits (%zu) within its limit", kept);
    for (int i = 0; i < 20; i++)
        free(many[i]);
    free(in[0]);
    free(in[1]);
    logd_spill_close(sp);
    /* A new spill on the same directory finds what is left. */
    CHECK(logd_spill_open(&sp, dir, 1000, err, sizeof err) == 0 &&
              logd_spill_bytes(sp) > 0 &&
              logd_spill_take(sp, path, sizeof path) == 1,
          "left files are found by the next open");
    logd_spill_close(sp);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return failures != 0;
}
