/* The consumer: drains the plugin's rings, pairs each system call's entry
 * with its return, and hands out complete events (event.h).
 *
 * Pairing is by task_struct address. Entries and returns of one thread can
 * sit in different vCPUs' rings (a blocked call returns wherever the thread
 * is scheduled next), so records are merged across rings by timestamp, and
 * a return seen before its entry waits briefly for it. A call whose return
 * never comes is handed out as unfinished when its thread enters another
 * call, and at the end.
 *
 * One consumer per channel; not thread-safe (one thread drains).
 */
#ifndef VIGIL_CONSUMER_H
#define VIGIL_CONSUMER_H

#include <stdbool.h>
#include <stdint.h>

#include "vigil/event.h"

struct vring_map;
struct vcons;

typedef void (*vigil_syscall_fn)(const struct vigil_syscall *ev, void *ctx);

/* Which threads to report. Selection happens here, not in the plugin. */
struct vigil_select {
    enum { VIGIL_SEL_ALL, VIGIL_SEL_PID, VIGIL_SEL_COMM, VIGIL_SEL_EXE } kind;
    int32_t pid;         /* VIGIL_SEL_PID: a process (thread group) id */
    char name[256];      /* COMM: task name (<= 15 chars); EXE: a path */
    int follow_children; /* also every process a selected one creates */
};

/* The selection rule for one event of thread group @tgid (named @comm):
 * @exec_matched when the event is a successful execve of exactly
 * @s->name, @tgid_chosen and @ppid_chosen whether the group and its parent
 * are in the caller's chosen set. Returns whether the event is selected;
 * *add says the caller must put @tgid into its chosen set. */
bool vigil_select_event(const struct vigil_select *s, int32_t tgid,
                        const char *comm, bool exec_matched, bool tgid_chosen,
                        bool ppid_chosen, bool *add);

struct vcons_stats {
    uint64_t records;         /* raw records read */
    uint64_t events;          /* events handed out (after selection) */
    uint64_t dropped_records; /* the plugin found a ring full */
    uint64_t dropped_bytes;
    uint64_t ring_waits;     /* --ring-full wait: records that waited */
    uint64_t bad_task;       /* entries whose thread could not be read */
    uint64_t unpaired_exits; /* returns whose entry never came */
    uint64_t pending_full;   /* plugin notes: in-flight table full */
    uint64_t bad_maps;       /* --callers: malformed memory map records */
    uint64_t unfollowed_fds; /* --callers: /proc/PID/mem fds not followed */
};

int vcons_new(struct vcons **out, struct vring_map *ring,
              const struct vigil_select *sel, vigil_syscall_fn fn, void *ctx);
void vcons_free(struct vcons *c);

/* Process whatever the rings hold now; returns the number of records. */
uint64_t vcons_poll(struct vcons *c);
/* After the guest stopped: drain, then hand out every call still open as
 * unfinished. */
void vcons_finish(struct vcons *c);
void vcons_stats(const struct vcons *c, struct vcons_stats *out);

#endif
