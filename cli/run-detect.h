/* vigil run: which guest calls were writing when a disk detection's data
 * arrived.  Detections (JSON lines from the disk filter) wait here until a
 * traced call that moves data towards the disk is seen to span their
 * request_ts, or until the trace has moved 3 s past it (30 s of host time
 * at most); they then leave with a "writers" list (or without one: writer
 * unknown, such as writeback by the kernel, or a thread the trace does not
 * select). */
#ifndef VIGIL_RUN_DETECT_H
#define VIGIL_RUN_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/event.h"

struct run_detect;

typedef void (*run_detect_emit_fn)(void *ctx, const char *line, size_t n);

int run_detect_new(struct run_detect **out, run_detect_emit_fn emit, void *ctx);
/* Free @d, dropping what still waits (flush with @all first). */
void run_detect_free(struct run_detect *d);

/* A detection line arrived at host time @now_ns.  Lines that are not JSON
 * objects with a request_ts pass straight through. */
void run_detect_add(struct run_detect *d, const char *line, size_t n,
                    uint64_t now_ns);

/* A traced call completed (or was ended unfinished). */
void run_detect_offer(struct run_detect *d, const struct vigil_syscall *ev);

/* Emit the detections that have writers, or have waited past their
 * deadline; with @all, every one. */
void run_detect_flush(struct run_detect *d, uint64_t now_ns, bool all);

#endif
