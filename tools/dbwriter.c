/* vigil-dbwriter: logd's SQLite writer alone, single-threaded, for
 * measuring what it costs per record without the receiving loop, the
 * sender and the queue beside it (docs/protocol.md, "The SQLite writer").
 *
 *   vigil-dbwriter DIR [RECORDS [PIDS [NAMES [TS_CYCLE]]]]
 *
 * Writes RECORDS (default 1,000,000) records of bench/logs' shape (about
 * 200 bytes, vigil-logsend's synthetic syscall events) into DIR/events.db
 * (which must not exist yet) through logd's own store code (logd-db.c, its
 * checkpoints' thread included), in chunks of 1,000 rows and transactions
 * of 50,000 as logd's writer does. PIDS and NAMES: how many distinct pids
 * and call names (default 7 and 4, cycling, as bench/logs sends; more than
 * that: drawn at random, as a busier guest would). ts grows, as a
 * tracer's does; TS_CYCLE N > 0 cycles it through N values instead (as
 * vigil-logsend's records once did: the ts index's keys then land in the
 * middle of its b-tree). Prints the calling
 * thread's CPU time per record (making the records excluded), its page
 * faults and its context switches. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "../cli/cli.h"
#include "../cli/logd-db.h"

#define CHUNK 1000
#define TXN   50000
#define REC   400

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("vigil-dbwriter: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static double thread_cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Record @i at time @t, as vigil-logsend makes them (tools/logsend.c),
 * padded to about 200 bytes. */
static int make_record(char *buf, uint64_t i, uint64_t t, unsigned pid,
                       unsigned name)
{
    int n = snprintf(buf, REC,
                     "{\"type\":\"syscall\",\"ts\":%llu,\"ts_exit\":%llu,"
                     "\"vcpu\":0,\"pid\":%u,\"tid\":%u,\"ppid\":1,"
                     "\"comm\":\"synth\",\"abi\":\"x86_64\",\"nr\":%u,"
                     "\"name\":\"call%u\",\"args\":[%llu,0,0],\"decoded\":[\"",
                     (unsigned long long)(1000000 + t * 1000),
                     (unsigned long long)(1000000 + t * 1000 + 500), pid, pid,
                     name, name, (unsigned long long)i);
    static const char tail[] = "\"],\"ret\":0,\"state\":\"done\","
                               "\"ip\":\"0x401000\"}";
    while (n < 200 - (int)sizeof tail)
        buf[n++] = 'x';
    memcpy(buf + n, tail, sizeof tail);
    return n + (int)sizeof tail - 1;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 6) {
        fputs("usage: vigil-dbwriter DIR [RECORDS [PIDS [NAMES [TS_CYCLE]]]]\n",
              stderr);
        return 2;
    }
    const char *dir = argv[1];
    uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
    unsigned npid = argc > 3 ? (unsigned)atoi(argv[3]) : 7;
    unsigned nname = argc > 4 ? (unsigned)atoi(argv[4]) : 4;
    uint64_t ts_cycle = argc > 5 ? strtoull(argv[5], NULL, 10) : 0;
    if (n == 0 || npid == 0 || nname == 0) {
        cli_error("RECORDS, PIDS and NAMES must be positive");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/events.db", dir);
    struct stat st;
    if (stat(path, &st) == 0) {
        cli_error("%s exists: give a new directory", path);
        return 1;
    }
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        cli_error("%s: %s", dir, strerror(errno));
        return 1;
    }
    static char recs[CHUNK][REC];
    static struct logd_db_row rows[CHUNK];
    struct logd_db *db;
    if (logd_db_open(&db, dir) < 0)
        return 1;
    struct rusage r0, r1;
    getrusage(RUSAGE_THREAD, &r0);
    double t0 = thread_cpu(), making = 0;
    int rc = logd_db_begin(db) ||
             logd_db_session(db, "0123456789abcdef", "127.0.0.1", 1);
    uint64_t rnd = 88172645463325252ull, in_txn = 0;
    for (uint64_t i = 0; i < n && rc == 0; i += CHUNK) {
        double m0 = thread_cpu();
        size_t k = n - i < CHUNK ? (size_t)(n - i) : CHUNK;
        for (size_t j = 0; j < k; j++) {
            uint64_t at = i + j;
            rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17;
            unsigned pid =
                npid <= 7 ? (unsigned)(at % npid) : (unsigned)(rnd % npid);
            unsigned name = nname <= 4 ? (unsigned)(at % nname)
                                       : (unsigned)((rnd >> 32) % nname);
            int len = make_record(recs[j], at, ts_cycle ? at % ts_cycle : at,
                                  100 + pid, name);
            rows[j] = (struct logd_db_row){.session = "0123456789abcdef",
                                           .recno = at,
                                           .rec = recs[j],
                                           .len = (size_t)len};
            logd_fields_find(recs[j], (size_t)len, &rows[j].f);
        }
        making += thread_cpu() - m0;
        size_t done;
        rc = logd_db_insert_rows(db, rows, k, &done);
        in_txn += k;
        if (rc == 0 && in_txn >= TXN) {
            rc = logd_db_commit(db) || logd_db_begin(db);
            in_txn = 0;
        }
    }
    if (rc == 0)
        rc = logd_db_commit(db);
    double t1 = thread_cpu();
    getrusage(RUSAGE_THREAD, &r1);
    logd_db_close(db);
    if (rc != 0) {
        cli_error("%s: an insert or a commit failed", path);
        return 1;
    }
    printf("%llu records, %u pids, %u names: %.3f us/record (making the "
           "records, %.3f, excluded); page faults %ld, context switches "
           "%ld voluntary, %ld involuntary\n",
           (unsigned long long)n, npid, nname,
           (t1 - t0 - making) / (double)n * 1e6, making / (double)n * 1e6,
           r1.ru_minflt - r0.ru_minflt, r1.ru_nvcsw - r0.ru_nvcsw,
           r1.ru_nivcsw - r0.ru_nivcsw);
    return 0;
}
