/* logd's spill directory (logd-store.h): records the database could not
 * take, as JSON Lines, bounded in bytes, replayed file by file. Files are
 * DIR/spill-N.jsonl, N rising; one line per record:
 *   {"host":"H","session":"S","rec":N,"received_ns":N,"event":{...}}
 * Thread-safe: the receiving thread appends when the queue is full while
 * the store's thread appends failed batches and replays. */
#ifndef VIGIL_CLI_LOGD_SPILL_H
#define VIGIL_CLI_LOGD_SPILL_H

#include <stddef.h>
#include <stdint.h>

#include "logd-store.h"

struct logd_spill;

/* Open DIR (created when missing); files left by an earlier run count
 * against @max and are replayed first. 0 or -1 with why in err. */
int logd_spill_open(struct logd_spill **out, const char *dir, uint64_t max,
                    char *err, size_t errlen);
void logd_spill_close(struct logd_spill *sp);
/* Append recs[0..n); returns how many were written. The rest did not fit
 * (the directory is full) or failed to write: the caller counts them
 * lost; the first such failure of a streak is printed. */
size_t logd_spill_append(struct logd_spill *sp, struct store_rec *const *recs,
                         size_t n);
/* The oldest file to replay, its path in @path: 1, or 0 when there is
 * none. The file being appended to is closed first when it is the last. */
int logd_spill_take(struct logd_spill *sp, char *path, size_t cap);
/* The records of a spill file, each malloc'd, in a malloc'd array. Lines
 * that do not parse (a file cut by a crash) are counted in @bad. */
int logd_spill_read(const char *path, struct store_rec ***out, size_t *n,
                    size_t *bad);
/* A file taken is wholly in the database: remove it. */
void logd_spill_done(struct logd_spill *sp, const char *path);
uint64_t logd_spill_bytes(struct logd_spill *sp);

#endif
