/* Scanning one disk request together with the bytes around it.
 *
 * The data path of the disk filter is disk -> NBD -> scanner -> policy:
 * this module is the scanner.  A write is scanned with the bytes already
 * on the disk before and after it (read back by the caller, as many as the
 * database's longest match needs), so a signature completed by this write
 * is found whatever order its parts were written in.  Only matches that
 * touch the request's own bytes are reported: the rest were on the disk
 * before and were decided when they were written.
 *
 * No I/O and no locking: the caller owns the stream and the buffers. */
#ifndef VIGIL_DISKSCAN_SCAN_H
#define VIGIL_DISKSCAN_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <vigil/sig.h>

#include "diskscan/policy.h"

/* One request and its surroundings on the disk. */
struct ds_request {
    uint64_t off, len;     /* the request's disk range */
    const uint8_t *data;   /* its bytes; NULL: len zeros (write-zeroes, trim) */
    const uint8_t *before; /* nbefore disk bytes ending at off */
    size_t nbefore;
    const uint8_t *after; /* nafter disk bytes starting at off + len */
    size_t nafter;
    /* The context the surroundings were sized for (span - 1): how many
     * zeros of a long zero range must be scanned at each end. */
    size_t context;
};

struct ds_hit {
    uint64_t off, end; /* disk offsets of the match */
    const char *name;  /* owned by the database scanned with */
    enum nbd_policy policy;
};

/* The matches of one scan.  hits: caller's storage for max_hits. */
struct ds_result {
    struct ds_hit *hits;
    size_t nhits, max_hits;
    size_t unrecorded; /* matches beyond max_hits */
    unsigned seen;     /* bit 1 << policy of every match, recorded or not */
};

typedef enum nbd_policy (*ds_policy_fn)(void *opaque, const char *name);

/* Bytes read around a write when some signature has no bounded span
 * (logical signatures, '*' gaps), and the most read for any database. */
#define DS_CONTEXT_UNBOUNDED 4096u
#define DS_CONTEXT_MAX       (64u << 10)

/* A stream and what it scans with: one per thread scanning at a time. */
struct ds_scanner;

/* Return 0 or -ENOMEM. */
int ds_scanner_new(struct ds_scanner **out);
void ds_scanner_free(struct ds_scanner *sc);

/* Scan with @db from now on (the scanner takes a reference).
 * Return 0 or -errno. */
int ds_scanner_set_db(struct ds_scanner *sc, struct vsig_db *db);
struct vsig_db *ds_scanner_db(const struct ds_scanner *sc);

/* The disk bytes to read on each side of a request for the database in
 * use: its longest match span - 1 (see vsig_db_match_span), at least
 * DS_CONTEXT_UNBOUNDED when a signature is unbounded, at most
 * DS_CONTEXT_MAX. */
size_t ds_scanner_context(const struct ds_scanner *sc);

/*
 * ds_scan: scan @rq and fill @res (cleared first) with the matches that
 * overlap [off, off + len), each with the policy @policy_of gives its
 * signature.  The scanner must have a database.
 * Return 0 or the stream's -errno.
 */
int ds_scan(struct ds_scanner *sc, const struct ds_request *rq,
            ds_policy_fn policy_of, void *opaque, struct ds_result *res);

/* Whether some match of @res had policy @p. */
static inline int ds_seen(const struct ds_result *res, enum nbd_policy p)
{
    return (res->seen >> p) & 1u;
}

#endif
