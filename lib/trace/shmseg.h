/* System V shared memory as --callers' origin verdict sees it
 * (docs/callers.md): which processes attached a segment writable (and so
 * could write code into it) and where each process has segments attached.
 * Learnt from shmget, shmat and shmdt; bounded tables that forget their
 * oldest entries. Opaque; one owner (struct vorigin), not thread-safe. */
#ifndef VIGIL_TRACE_SHMSEG_H
#define VIGIL_TRACE_SHMSEG_H

#include <stdbool.h>
#include <stdint.h>

struct vshm;

/* A process that attached a segment writable. */
struct vshm_writer {
    int32_t pid;
    char comm[17];
};

int vshm_new(struct vshm **out);
void vshm_free(struct vshm *s);

/* shmget(..., size, ...) returned @id. */
void vshm_got(struct vshm *s, int32_t id, uint64_t size);

/* shmat(@id, ..., @shmflg) by @tgid (comm @comm, 16 bytes) returned @addr. */
void vshm_attached(struct vshm *s, int32_t tgid, const char *comm, int32_t id,
                   uint64_t addr, uint64_t shmflg);

/* shmdt(@addr) by @tgid succeeded: the attachment goes; *len is its size
 * when shmget was seen, 0 otherwise. */
void vshm_detached(struct vshm *s, int32_t tgid, uint64_t addr, uint64_t *len);

/* @parent forked @child: the child has the parent's attachments. */
void vshm_fork(struct vshm *s, int32_t parent, int32_t child);

/* The group ended or replaced its program: its attachments go (what it
 * could write into segments stays). */
void vshm_forget(struct vshm *s, int32_t tgid);

/* Whether @addr of @tgid, in the shared file mapping [@rstart, @rend) of
 * its map, lies in a segment it attached. If so, *w is the newest other
 * process that attached the segment writable (*other true), else @tgid
 * itself when it did (*other false, w->pid = tgid), else w->pid is 0. */
bool vshm_find(const struct vshm *s, int32_t tgid, uint64_t addr,
               uint64_t rstart, uint64_t rend, struct vshm_writer *w,
               bool *other);

#endif
