/* logd's SQLite store reading its backlog back (cli/logd-backlog.c and
 * the writer's chunk check and row building, cli/logd-dbq-writer.c): the
 * file is logd's own, but a damaged byte in it must cost records, never
 * a read out of bounds or a record counted twice or not at all.
 *
 * The input: [nrec u32][damage u8][where u8][fail u8][how u8][chunk bytes].
 * The chunk bytes go into the backlog as one frame said to hold nrec
 * records; a non-zero damage is XORed into the frame's header byte
 * where (modulo the header's size); fail picks the row the database
 * refuses (0xff: none), how whether SQLite also rolled the transaction
 * back. The database is a stand-in that reads every byte of every row it
 * is given.
 * After the chunk is committed: stored + failed == nrec. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../cli/logd-backlog.c"
#include "../cli/logd-dbq-writer.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

uint64_t cli_now_ns(clockid_t clk)
{
    (void)clk;
    return 0;
}

/* The database stand-in. */
struct logd_db {
    bool in_txn;
    size_t rows_seen;
};
static uint8_t fail_row, fail_how;
static volatile uint8_t sink;

static void touch(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sink ^= (uint8_t)p[i];
}

int logd_db_begin(struct logd_db *db)
{
    db->in_txn = true;
    return 0;
}

bool logd_db_in_txn(struct logd_db *db)
{
    return db->in_txn;
}

int logd_db_commit(struct logd_db *db)
{
    db->in_txn = false;
    return 0;
}

static bool within(const struct logd_db_row *r, const char *f, int32_t len)
{
    return f == NULL || (f >= r->rec && len >= 0 &&
                         (size_t)(f - r->rec) + (size_t)len <= r->len);
}

int logd_db_insert_rows(struct logd_db *db, const struct logd_db_row *rows,
                        size_t n, size_t *done)
{
    for (size_t i = 0; i < n; i++) {
        const struct logd_db_row *r = &rows[i];
        touch(r->session, strlen(r->session));
        /* The chunk is larger than any input: a field past its record
         * would still be in the buffer, so say where fields must lie. */
        if (!within(r, r->f.type, r->f.type_len) ||
            !within(r, r->f.name, r->f.name_len) || r->rec[r->len] != 0)
            abort();
        touch(r->rec, r->len);
        if (db->rows_seen++ == fail_row) {
            *done = i;
            if (fail_how & 1) {
                db->in_txn = false;
                return -ECANCELED;
            }
            return -EIO;
        }
    }
    return 0;
}

int logd_db_session(struct logd_db *db, const char *hex, const char *source,
                    uint64_t started)
{
    (void)db;
    (void)started;
    touch(hex, strlen(hex));
    touch(source, strlen(source));
    return 0;
}

struct chunk *logd_dbq_get_free(struct logd_dbq *q, size_t slack)
{
    (void)slack;
    struct chunk *c = pop(&q->free);
    if (c != NULL)
        c->used = c->nrec = c->nlost = 0;
    return c;
}

static struct logd_backlog *bl;
static struct chunk *chunk;
static struct logd_db_row *rows;
static struct ent **ents;
static char path[] = "/tmp/fuzz-logd-backlog.XXXXXX";

static void fini(void)
{
    logd_backlog_close(bl); /* removes the file */
}

static void init(void)
{
    int fd = mkstemp(path);
    uint64_t stale;
    char err[256];
    if (fd < 0)
        abort();
    close(fd);
    unlink(path);
    if (logd_backlog_open(&bl, path, UINT64_MAX, &stale, err, sizeof err) < 0)
        abort();
    chunk = malloc(CHUNK_BYTES);
    rows = calloc(MAX_ENTS, sizeof *rows);
    ents = calloc(MAX_ENTS, sizeof *ents);
    if (chunk == NULL || rows == NULL || ents == NULL)
        abort();
    atexit(fini);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (bl == NULL)
        init();
    if (size < 8 || size - 8 > CHUNK_CAP)
        return 0;
    uint32_t nrec;
    memcpy(&nrec, data, 4);
    uint8_t damage = data[4], where = data[5];
    fail_row = data[6];
    fail_how = data[7];
    if (logd_backlog_push(bl, data + 8, (uint32_t)(size - 8), nrec) != 0)
        return 0; /* e.g. an empty frame: never pushed by logd either */
    if (damage != 0) {
        off_t at = (off_t)(bl->frames[bl->head].off +
                           where % sizeof(struct frame_hdr));
        uint8_t b;
        if (pread(bl->fd, &b, 1, at) != 1)
            abort();
        b ^= damage;
        if (pwrite(bl->fd, &b, 1, at) != 1)
            abort();
    }

    struct logd_db db = {0};
    struct logd_dbq q = {.db = &db, .bl = bl, .rows = rows, .ents = ents};
    pthread_mutex_init(&q.mu, NULL);
    push(&q.free, chunk);
    struct list txn = {0};
    struct chunk *c;
    int got = from_backlog(&q, &txn, &c);
    if (got == 1)
        write_chunk(&q, c, &txn);
    commit(&q, &txn);
    if (logd_backlog_waiting(bl))
        abort(); /* the frame was taken, read or not */
    if (q.stored + q.failed != nrec)
        abort(); /* each record counted once, stored or failed */
    if (got != 1 && q.stored != 0)
        abort();
    pthread_mutex_destroy(&q.mu);
    return 0;
}
