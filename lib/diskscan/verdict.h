/* What happens to one disk request, from every match found in it.
 *
 * decide: any deny match, or more matches than could be recorded, refuses
 * the request (what is not recorded cannot be vouched for); any zero match
 * zeroes; any cut-net match cuts.
 * apply: zeroing writes zeros over the request's own bytes of each zero
 * match (the bytes already on the disk stay: they are not this request's,
 * and without the new part the match is broken), then scans the result
 * again: a match that zeroing did not break (its new bytes were zeros
 * already, or zeroing completed another signature) refuses the request. */
#ifndef VIGIL_DISKSCAN_VERDICT_H
#define VIGIL_DISKSCAN_VERDICT_H

#include <stdbool.h>
#include <stdint.h>

#include "diskscan/scan.h"

struct ds_verdict {
    bool deny, zero, cut;
    bool overflow;    /* denied: more matches than recorded */
    bool unbreakable; /* denied: zeroing left a match */
    bool nomem;       /* denied: no memory for the zeroed copy */
    uint8_t *copy;    /* zero: the bytes to write instead (caller frees) */
};

/* Decide from @res (every match, recorded or not). */
void ds_decide(const struct ds_result *res, struct ds_verdict *v);

/*
 * ds_apply: for a zero verdict, build v->copy from @rq with the request's
 * bytes of every zero match zeroed, and check it with a second scan into
 * @recheck (same scanner and policies as the first); refuse when that is
 * not possible.  Nothing to do for other verdicts.
 * Return 0 or the scan's -errno (the caller refuses the request).
 */
int ds_apply(struct ds_scanner *sc, const struct ds_request *rq,
             ds_policy_fn policy_of, void *opaque, const struct ds_result *res,
             struct ds_result *recheck, struct ds_verdict *v);

/* The part of @h inside [off, off + len): false when none. */
bool ds_hit_within(const struct ds_hit *h, uint64_t off, uint64_t len,
                   uint64_t *zoff, uint64_t *zlen);

#endif
