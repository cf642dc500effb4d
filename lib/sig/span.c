/* The longest run of bytes one match can cover: how much of its
 * surroundings a caller that scans pieces of an object out of order (the
 * disk filter) must read back around each piece. */
#include "sig/sig-int.h"

/* Span of one body signature: its segments and the bounded gaps between
 * them, plus one byte each side for the (B)/(L)/(W) checks at the ends;
 * UINT64_MAX when a gap between segments is unbounded. */
static uint64_t msig_span(const struct vsig_db *db, const struct vs_msig *m)
{
    uint64_t span = 2;
    for (uint32_t i = 0; i < m->nseg; i++) {
        const struct vs_seg *sg = &db->segs[m->seg + i];
        if (i > 0 && sg->gmax == VS_INF)
            return UINT64_MAX;
        span += (uint64_t)sg->pre_max + sg->alen + sg->post_max;
        if (i > 0)
            span += sg->gmax;
    }
    return span;
}

uint64_t vsig_db_match_span(const struct vsig_db *db, int *unbounded)
{
    uint64_t max = 0;
    /* A logical signature combines subsignatures anywhere in the object. */
    *unbounded = db->st.nldbs > 0;
    for (size_t mi = 0; mi < db->st.nmsigs; mi++) {
        const struct vs_msig *m = &db->st.msigs[mi];
        uint64_t s = m->is_sub ? UINT64_MAX : msig_span(db, m);
        if (s == UINT64_MAX)
            *unbounded = 1;
        else if (s > max)
            max = s;
    }
    return max;
}
