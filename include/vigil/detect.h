/* Attributing disk detections to guest calls: which traced calls were
 * writing when a detection's data arrived.  Detections (JSON lines from the
 * disk filter) wait here while the trace shows the calls that were in
 * flight at their request_ts, until the trace has moved 3 s past it (30 s
 * of host time at most); they then leave with a "writers" list naming
 * every such call (or without one: writer unknown, such as writeback by the
 * kernel, or a thread the trace does not select).
 *
 * Every line handed to the emit callback is printable ASCII: strings are
 * written byte by byte with \u00XX for every byte outside 0x20..0x7e (the
 * trace's own JSON escaping, docs/events.md), so a guest's comm that is
 * not UTF-8 is kept, and nothing reaches a terminal raw.
 *
 * Not thread-safe: one thread adds, offers and flushes.
 */
#ifndef VIGIL_DETECT_H
#define VIGIL_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/event.h"

struct vdet;

typedef void (*vdet_emit_fn)(void *ctx, const char *line, size_t n);

int vdet_new(struct vdet **out, vdet_emit_fn emit, void *ctx);
/* Free @d, dropping what still waits (flush with @all first). */
void vdet_free(struct vdet *d);

/* A detection line arrived at host time @now_ns.  Lines that are not JSON
 * objects with an integer request_ts pass straight through (escaped). */
void vdet_add(struct vdet *d, const char *line, size_t n, uint64_t now_ns);

/* A traced call completed (or was ended unfinished). */
void vdet_offer(struct vdet *d, const struct vigil_syscall *ev);

/* Emit the detections whose wait is over (the trace moved past them, or
 * their host deadline passed); with @all, every one. */
void vdet_flush(struct vdet *d, uint64_t now_ns, bool all);

#endif
