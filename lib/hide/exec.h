/* One hidden call, run on the host (exec.c): the executor's loop
 * (cli/run-hide.c) hands each posted slot here until it is done. */
#ifndef VIGIL_LIB_HIDE_EXEC_H
#define VIGIL_LIB_HIDE_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "hide/table.h"
#include "vigil/hide.h"

/* A call kept aside until its socket is ready. */
struct hide_pending {
    bool waiting;
    uint64_t since;     /* first tried, monotonic ns */
    uint64_t deadline;  /* poll's timeout; UINT64_MAX: none */
    uint32_t intr_seen; /* vhide_slot.intr's count, as last handled */
};

struct hide_counts {
    uint64_t calls, waits, refused, interrupted;
};

/* Run the call in slot @s (op, arguments, data as vigil/hide.h says) for
 * its process in @tb: true when s->result and the outputs are set, false
 * when it must wait for its socket (then it is run again, with
 * @w->waiting set, until done). */
bool hide_run_call(struct hide_table *tb, struct vhide_slot *s,
                   struct hide_pending *w, uint64_t now, struct hide_counts *n);

/* A signal handler interrupted the wait of the call in @s, which would
 * still wait (@restart: the handler has SA_RESTART): whether the call now
 * ends with EINTR, as Linux ends it (poll and epoll_wait always; a socket
 * call without SA_RESTART, or with a timeout set for its direction), or
 * goes on (restarted, as Linux restarts it). */
bool hide_interrupts(struct hide_table *tb, const struct vhide_slot *s,
                     bool restart);

/* Whether the guest may set socket option @name at @level on a host
 * socket: the ordinary ones a service sets (docs/hide.md); the others are
 * refused with EPERM. */
bool hide_option_allowed(int64_t level, int64_t name);

#endif
