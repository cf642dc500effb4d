/* libFuzzer target: the disk filter's request path (lib/diskscan: scan a
 * request with the disk bytes around it, decide, apply) on any sequence
 * of writes and write-zeroes against a small database and an in-memory
 * disk, as nbd/filter.c drives it.
 *
 * Invariant asserted after every request: no match of a signature whose
 * policy is deny or zero is on the disk (scanned whole, at adjacent
 * offsets).  The disk starts as zeros, which hold none.  Alert signatures
 * may be anywhere.  (What the filter cannot see, a signature split over
 * blocks that are not adjacent on the disk, is outside this model: the
 * in-memory disk is the object scanned.)
 *
 * Input: [policy byte: 2 bits per signature: alert, deny, zero, deny]
 * then records [kind][offset][length][length bytes when kind is even];
 * kind odd: write-zeroes.
 *
 * Run: make build/fuzz/fuzz-filter &&
 *      build/fuzz/fuzz-filter fuzz/corpus/filter */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diskscan/scan.h"
#include "diskscan/verdict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DISK     512
#define MAX_HITS 8 /* small: requests with more are refused, exercised too */

/* Short signatures, so that random writes build them: plain, a bounded
 * gap, an alternation, a trailing run of zeros, and one byte class. */
static const char db_text[] = "S0:0:*:41424344\n"
                              "S1:0:*:57{0-6}5859\n"
                              "S2:0:*:4b(4c|4d4d)4e\n"
                              "S3:0:*:5a5a00000000\n";

static struct vsig_db *db;
static unsigned policy_bits;

static enum nbd_policy policy_of(void *opaque, const char *name)
{
    (void)opaque;
    unsigned i = (unsigned)(name[1] - '0') & 3;
    static const enum nbd_policy map[4] = {NBD_POLICY_ALERT, NBD_POLICY_DENY,
                                           NBD_POLICY_ZERO, NBD_POLICY_DENY};
    return map[(policy_bits >> (2 * i)) & 3];
}

/* One request against @disk, as the filter handles it. */
static void request(struct ds_scanner *sc, uint8_t *disk, uint64_t off,
                    uint64_t len, const uint8_t *bytes)
{
    static struct ds_hit hits[MAX_HITS], rehits[MAX_HITS];
    size_t ctx = ds_scanner_context(sc);
    size_t nb = off < ctx ? (size_t)off : ctx;
    size_t na = DISK - (off + len) < ctx ? DISK - (off + len) : ctx;
    struct ds_request rq = {.off = off,
                            .len = len,
                            .data = bytes,
                            .before = disk + off - nb,
                            .nbefore = nb,
                            .after = disk + off + len,
                            .nafter = na,
                            .context = ctx};
    struct ds_result res = {.hits = hits, .max_hits = MAX_HITS};
    struct ds_result again = {.hits = rehits, .max_hits = MAX_HITS};
    struct ds_verdict v;
    if (ds_scan(sc, &rq, policy_of, NULL, &res) < 0)
        abort();
    ds_decide(&res, &v);
    if (ds_apply(sc, &rq, policy_of, NULL, &res, &again, &v) < 0)
        abort();
    if (v.deny)
        return;
    if (bytes)
        memcpy(disk + off, v.copy ? v.copy : bytes, len);
    else
        memset(disk + off, 0, len);
    free(v.copy);
}

static void check_disk(struct ds_scanner *sc, const uint8_t *disk)
{
    static struct ds_hit hits[1];
    struct ds_request rq = {.off = 0, .len = DISK, .data = disk};
    struct ds_result res = {.hits = hits, .max_hits = 0};
    if (ds_scan(sc, &rq, policy_of, NULL, &res) < 0)
        abort();
    if (ds_seen(&res, NBD_POLICY_DENY) || ds_seen(&res, NBD_POLICY_ZERO)) {
        fprintf(stderr, "a deny or zero signature is on the disk\n");
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!db &&
        vsig_db_load(&db, "f.ndb", db_text, sizeof(db_text) - 1, NULL) < 0)
        abort();
    if (size < 1)
        return 0;
    struct ds_scanner *sc;
    if (ds_scanner_new(&sc) < 0 || ds_scanner_set_db(sc, db) < 0)
        abort();
    uint8_t disk[DISK];
    memset(disk, 0, sizeof(disk));
    policy_bits = data[0];
    size_t i = 1;
    while (i + 3 <= size) {
        uint8_t kind = data[i];
        uint64_t off = data[i + 1] * 2u % DISK, len = data[i + 2] % 64;
        i += 3;
        if (off + len > DISK)
            len = DISK - off;
        const uint8_t *bytes = NULL;
        if (!(kind & 1)) {
            if (i + len > size)
                len = size - i;
            bytes = data + i;
            i += len;
        }
        request(sc, disk, off, len, bytes);
        check_disk(sc, disk);
    }
    ds_scanner_free(sc);
    return 0;
}
