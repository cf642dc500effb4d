/* Which descriptors are open on another process's memory file,
 * /proc/PID/mem (--callers, docs/callers.md): a write through one is a
 * write into that process. Learnt from the calls that open, copy, move and
 * drop descriptors, and from the file positions that reads, writes and
 * lseek leave. Path-based: what the trace cannot see (a symbolic link to
 * the file, a descriptor received over a Unix socket) is not known here;
 * the plugin's reading of the kernel's struct file covers it where the
 * profile allows (origin-learn.c, plugin/fdmem.c).
 * Bounded tables; opaque; one owner (struct vorigin), not thread-safe. */
#ifndef VIGIL_TRACE_PROCMEM_H
#define VIGIL_TRACE_PROCMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "vigil/event.h"

struct vpmem;

/* A write into process @target's memory (@target may name one of its
 * threads: the caller maps it to the thread group). */
struct vpmem_write {
    int32_t target;
    uint64_t start, len;
};

int vpmem_new(struct vpmem **out);
void vpmem_free(struct vpmem *m);

/* Whether vpmem_learn() looks at the calls named @name at all: the
 * origin tracker asks once per call number and leaves the others out. */
bool vpmem_follows(const char *name);

/* Learn from one successful call named @name; true when it wrote through
 * a /proc/PID/mem descriptor, with *w filled. */
bool vpmem_learn(struct vpmem *m, const struct vigil_syscall *ev,
                 const char *name, struct vpmem_write *w);

/* @parent forked @child: the child's descriptors are copies of the
 * parent's, on the same files (and so the same positions). */
void vpmem_fork(struct vpmem *m, int32_t parent, int32_t child);

/* Descriptors not followed because the tables were full. */
uint64_t vpmem_unfollowed(const struct vpmem *m);

/* @tgid replaced its program: its close-on-exec descriptors are gone. */
void vpmem_exec(struct vpmem *m, int32_t tgid);

/* @tgid ended: all its descriptors are gone. */
void vpmem_exit(struct vpmem *m, int32_t tgid);

#endif
