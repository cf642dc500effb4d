/* Which code made a call, and whether that code is the process's own
 * (--callers, docs/callers.md): the caller frame's module from the
 * process's memory map (vmmap.h), and the verdict from what the trace saw
 * other processes write into it and the process do to its own memory.
 * Opaque; one owner (the consumer), not thread-safe. */
#ifndef VIGIL_TRACE_ORIGIN_H
#define VIGIL_TRACE_ORIGIN_H

#include "trace/vmmap.h"
#include "vigil/event.h"

struct vorigin;

int vorigin_new(struct vorigin **out);
void vorigin_free(struct vorigin *o);

/* Learn from one finished call of any process, selected or not: writes
 * into other processes (by any of their thread ids), writes on
 * /proc/PID/mem files (the kernel's struct file, from the plugin's
 * VSYS_CAP_FILEMEM, else the descriptors followed by path, procmem.h),
 * the process's own
 * mappings made writable and executable (and moved by mremap), System V
 * shared memory attached (shmseg.h). */
void vorigin_learn(struct vorigin *o, const struct vigil_syscall *ev);

/* The maps vorigin_learn() may ask which process owns an mm_struct (a
 * write through a descriptor the kernel says is /proc/PID/mem, when the
 * plugin could not read mm_struct.owner); borrowed, may be NULL. */
void vorigin_use_maps(struct vorigin *o, const struct vmmap *maps);

/* The thread group ended (@exited) or replaced its program: what was
 * learnt about its memory goes (writes by it into others stay); at
 * execve its descriptors without close-on-exec and its tracer stay. */
void vorigin_forget(struct vorigin *o, int32_t tgid, bool exited);

/* /proc/PID/mem descriptors not followed (procmem.h: tables full). */
uint64_t vorigin_unfollowed(const struct vorigin *o);

/* Fill @out for @ev from @maps; false when @ev's group has no map. The
 * strings in @out are borrowed from @maps and @o until either changes. */
bool vorigin_resolve(struct vorigin *o, const struct vmmap *maps,
                     const struct vigil_syscall *ev, struct vigil_origin *out);

/* For tests: every verdict worked out afresh (no memo), to compare. */
void vorigin_memo_off(struct vorigin *o);

#endif
