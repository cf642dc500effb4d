/* Synthetic system call events for the origin verdict's unit tests
 * (test-origin.c, test-origin-mem.c), and the verdict at one address. */
#ifndef VIGIL_TESTS_ORIGIN_EV_H
#define VIGIL_TESTS_ORIGIN_EV_H

#include <stdint.h>
#include <string.h>

#include "trace/origin.h"
#include "trace/vmmap.h"
#include "vigil/syscalls.h"

/* A finished call @name of process @tgid (its main thread) at @ip. */
static inline struct vigil_syscall event(const char *name, int32_t tgid,
                                         const char *comm, uint64_t ip)
{
    struct vigil_syscall ev;
    memset(&ev, 0, sizeof ev);
    ev.nr = (uint64_t)vsys_number(name);
    ev.tgid = ev.tid = tgid;
    strncpy(ev.comm, comm, 16);
    ev.ip = ip;
    ev.state = VIGIL_SC_DONE;
    return ev;
}

/* Call @ev's path argument @argi as the plugin captures it (without its
 * NUL). */
static inline void path_capture(struct vigil_syscall *ev, unsigned argi,
                                const char *path)
{
    ev->ncaps = 1;
    ev->caps[0] = (struct vigil_capture){.argi = (uint8_t)argi,
                                         .kind = VSYS_CAP_STR,
                                         .at_exit = false,
                                         .fault = false,
                                         .trunc = false,
                                         .len = (uint16_t)strlen(path),
                                         .data = (const uint8_t *)path};
}

/* The verdict on a call of @tgid at @ip: its kind, or -1 for none. */
static inline int kind_at(struct vorigin *o, const struct vmmap *m,
                          int32_t tgid, uint64_t ip, struct vigil_origin *org)
{
    struct vigil_syscall ev = event("getpid", tgid, "victim", ip);
    return vorigin_resolve(o, m, &ev, org) ? (int)org->kind : -1;
}

#endif
