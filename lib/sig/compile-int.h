/* Shared by the compilation modules:
 *   plan.c     signature tokens -> segments (parts) with fixed-path tables
 *   anchor.c   the anchor window of a segment and its length class
 *   group.c    anchors -> prefilter groups (bloom filters, gram tables)
 *   compile.c  the database: phases of vs_compile()
 */
#ifndef VIGIL_SIG_COMPILE_INT_H
#define VIGIL_SIG_COMPILE_INT_H

#include "sig/sig-int.h"

/* Anchor length classes (see VS_CLASSES). */
struct vs_gdef {
    uint8_t A, g, S;
};
VS_HIDDEN extern const struct vs_gdef vs_gdefs[VS_NGROUPS];

#define VS_WIN_MAX 32 /* longest anchor window (gram offsets fit 5 bits) */

/* a + b, VS_INF if either is or on overflow. */
VS_HIDDEN uint32_t vs_sat_add(uint32_t a, uint32_t b);

/* Width range of the item starting at toks[i]; returns its token count. */
VS_HIDDEN uint32_t vs_item_width(const struct vs_tok *toks, uint32_t i,
                                 uint32_t *wmin, uint32_t *wmax);

/* Choose the anchor of @seg among classes >= mingi and derive the spans
 * around it.  Returns the class, or -EINVAL. */
VS_HIDDEN int vs_seg_anchor(const struct vs_store *st, const struct vs_plan *b,
                            struct vs_seg *seg, int mingi, struct vs_err *e);

/* Build the prefilter groups from the segments' anchors; sgrp[si] is the
 * class of segment si. */
VS_HIDDEN int vs_build_groups(struct vsig_db *db, const uint8_t *sgrp);

#endif
