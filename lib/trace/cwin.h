/* --callers records made whole again (docs/callers.md).
 *
 * The plugin writes a VRAW_CALLERS record's chain and branches only when
 * they changed since the record before it of the same thread history in
 * the same ring (vigil/rawrec.h): a thread calling in a loop has the same
 * chain and most of the same branches call after call, and the ring
 * traffic of whole records was a large part of what --callers cost. This
 * keeps, per (history slot, ring), the chain and the last N branches, and
 * gives back each record as the plugin's whole record would have been. */
#ifndef VIGIL_TRACE_CWIN_H
#define VIGIL_TRACE_CWIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/rawrec.h"

/* Set on a record made whole without what came before it (the consumer
 * held no window for it, or one that does not continue into it): its
 * branches are only those it carried; a chain it did not carry is empty
 * and marked truncated. Never written by the plugin. */
#define CWIN_PARTIAL (1u << 15)
/* Set on a record made whole that carries its chain's and branches' JSON
 * arrays after its branches (cwin_text()). */
#define CWIN_TEXT (1u << 14)

struct cwin_text {
    uint32_t chain_len, branches_len; /* then the chain's, the branches' */
};

struct cwin_json {
    const char *chain, *branches; /* within the record */
    size_t chain_len, branches_len;
};
/* A CWIN_TEXT record's JSON: false for one without. */
bool cwin_text(const uint8_t *rec, struct cwin_json *out);

struct cwins;

/* Windows of @nbranch branches (the plugin's N). NULL when out of memory. */
struct cwins *cwins_new(unsigned nbranch);
void cwins_free(struct cwins *w);

/* Record @r, whose size was checked to hold what it says, in full: a new
 * allocation the caller frees, of *size bytes, the flags without
 * VRAW_CALLERS_DELTA and VRAW_CALLERS_SAME_CHAIN (maybe with
 * CWIN_PARTIAL, CWIN_TEXT). NULL when out of memory. Call for every record of
 * every ring, in each ring's order: a skipped one makes the next ones partial.
 */
uint8_t *cwins_apply(struct cwins *w, const struct vraw_callers *r,
                     size_t *size);

#endif
