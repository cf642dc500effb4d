/* Deciding and applying policies to one disk request: see verdict.h. */
#include "diskscan/verdict.h"

#include <stdlib.h>
#include <string.h>

void ds_decide(const struct ds_result *res, struct ds_verdict *v)
{
    *v = (struct ds_verdict){
        .overflow = res->unrecorded > 0,
        .zero = ds_seen(res, NBD_POLICY_ZERO),
        .cut = ds_seen(res, NBD_POLICY_CUT_NET),
    };
    v->deny = ds_seen(res, NBD_POLICY_DENY) || v->overflow;
}

bool ds_hit_within(const struct ds_hit *h, uint64_t off, uint64_t len,
                   uint64_t *zoff, uint64_t *zlen)
{
    uint64_t a = h->off > off ? h->off : off;
    uint64_t b = h->end < off + len ? h->end : off + len;
    if (b <= a)
        return false;
    *zoff = a;
    *zlen = b - a;
    return true;
}

int ds_apply(struct ds_scanner *sc, const struct ds_request *rq,
             ds_policy_fn policy_of, void *opaque, const struct ds_result *res,
             struct ds_result *recheck, struct ds_verdict *v)
{
    if (v->deny || !v->zero)
        return 0;
    /* Zeros cannot be zeroed: a zero match in write-zeroes or trim stays. */
    if (!rq->data) {
        v->deny = v->unbreakable = true;
        return 0;
    }
    v->copy = malloc(rq->len ? rq->len : 1);
    if (!v->copy) {
        v->deny = v->nomem = true;
        return 0;
    }
    memcpy(v->copy, rq->data, rq->len);
    for (size_t i = 0; i < res->nhits; i++) {
        uint64_t zoff, zlen;
        if (res->hits[i].policy == NBD_POLICY_ZERO &&
            ds_hit_within(&res->hits[i], rq->off, rq->len, &zoff, &zlen))
            memset(v->copy + (zoff - rq->off), 0, zlen);
    }
    struct ds_request again = *rq;
    again.data = v->copy;
    int r = ds_scan(sc, &again, policy_of, opaque, recheck);
    if (r == 0 && (recheck->unrecorded || ds_seen(recheck, NBD_POLICY_DENY) ||
                   ds_seen(recheck, NBD_POLICY_ZERO))) {
        v->deny = v->unbreakable = true;
    }
    if (r < 0 || v->deny) {
        free(v->copy);
        v->copy = NULL;
    }
    return r;
}
