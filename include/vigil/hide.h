/* Hidden socket calls (docs/hide.md): what the plugin and vigil's executor
 * exchange in the channel file (ring.h) so that a protected process's
 * socket calls run on the host instead of in the guest kernel.
 *
 * A slot carries one call of one guest thread: the plugin copies the
 * call's inputs from guest memory into the slot (pointer arguments become
 * offsets into the slot's data), posts it, and waits; the executor runs the
 * call against the process's host sockets and posts the result and the
 * outputs; the plugin writes those into guest memory and completes the
 * call. Hidden descriptors are numbers the guest kernel never hands out:
 * from VHIDE_FD_BASE up.
 */
#ifndef VIGIL_HIDE_H
#define VIGIL_HIDE_H

#include <stdbool.h>
#include <stdint.h>

#define VHIDE_SLOTS   32
#define VHIDE_DATA    (64u << 10) /* bytes of inputs or outputs per call */
#define VHIDE_FD_BASE (1 << 30)   /* above any RLIMIT_NOFILE a guest gets */
#define VHIDE_FDS     1024        /* hidden descriptors per process */

/* vhide_slot.state: FREE -> POSTED (plugin) -> DONE (executor) -> FREE
 * (plugin, once the guest has the result). */
enum { VHIDE_FREE = 0, VHIDE_POSTED = 1, VHIDE_DONE = 2, VHIDE_CLAIMED = 3 };

/* vhide_slot.op beyond system call numbers: process events. */
enum {
    VHIDE_OP_EXIT = -1,    /* the process ended: close its descriptors */
    VHIDE_OP_EXEC = -2,    /* the process exec'd: close the FD_CLOEXEC ones */
    VHIDE_OP_FORK = -3,    /* a child (args[0]) copies its parent's table */
    VHIDE_OP_EPCLOSE = -4, /* the guest closed epoll instance args[0] */
};

struct vhide_slot {
    uint32_t state;   /* release/acquire; a futex word (lib/hide/bell.c) */
    int32_t op;       /* an x86-64 system call number, or VHIDE_OP_* */
    uint32_t waiter;  /* a vCPU sleeps on state until it leaves POSTED */
    uint32_t blocked; /* the executor: the call waits for its socket */
    int32_t tgid, tid, ppid;
    /* Signal handlers that interrupted the thread's wait, counted from bit
     * 1 up (plugin); bit 0: the last one's handler has SA_RESTART (or its
     * flags are unknown). The executor then ends a call that would wait
     * with EINTR, as Linux does, or lets it go on. */
    uint32_t intr;
    uint64_t seq;
    int64_t args[6];    /* as the guest gave them; pointers as data offsets */
    uint32_t in_len;    /* input bytes in data */
    uint32_t out_len;   /* output bytes in data, from the executor */
    int64_t result;     /* the guest's rax */
    uint64_t seen_ns;   /* the plugin's last look: a waiter still wants it */
    uint64_t posted_ns; /* when posted (plugin), for the counters below */
    uint64_t done_ns;   /* when answered (executor) */
    /* Plugin, on a call the vCPU could answer itself had it a copy of the
     * socket (plugin/hide-fast.c): once the call is run, send a copy of
     * args[0]'s host socket, tagged with this generation; 0: none. */
    uint64_t share_gen;
    uint8_t data[VHIDE_DATA];
};

/* Where a hidden call's time goes, summed by the plugin (atomic adds) and
 * printed by vigil with VIGIL_HIDE_PROF=1 (docs/hide.md). Only then: the
 * adds and clock reads stay off the hidden call's path otherwise. */
#define VHIDE_PROF_BUCKETS 12
struct vhide_prof {
    uint64_t on;         /* vigil: VIGIL_HIDE_PROF is set, count */
    uint64_t calls;      /* answers delivered */
    uint64_t spun;       /* ... seen while the vCPU spun */
    uint64_t slept;      /* ... seen after the vCPU slept on the slot */
    uint64_t parked;     /* waits in the guest kernel */
    uint64_t post_ns;    /* guest call to posted: marshalling the inputs */
    uint64_t answer_ns;  /* posted to the executor's answer */
    uint64_t seen_ns;    /* the answer to the vCPU seeing it */
    uint64_t deliver_ns; /* the outputs into guest memory */
    /* Calls by their time from the guest's call to the delivered answer,
     * parks included: below 2^(k+1) us in bucket k, the last one open. */
    uint64_t hist[VHIDE_PROF_BUCKETS];
};

struct vhide_area {
    /* The doorbell: bumped after each post; the executor, when it has
     * nothing to do, sleeps on it (a futex word of the shared mapping),
     * and a post wakes it only when it says it sleeps. */
    uint32_t bell;
    uint32_t exec_sleeping;
    uint8_t pad[56]; /* the bell alone in its cache line */
    struct vhide_prof prof;
    /* Copies of host sockets for the plugin (lib/hide/share.h): the unix
     * socket they travel on (executor; empty: none), and how many were
     * sent, so that the plugin reads them only when there are some. */
    char share_path[112];
    uint64_t shared;
    uint64_t fast_calls; /* calls a vCPU answered on a copy (plugin) */
    struct vhide_slot slot[VHIDE_SLOTS];
};

/* A message of sendmsg and recvmsg (readv and writev travel as these, with
 * neither name nor control; sendmmsg and recvmmsg as one after the other):
 * this header, then the name, the data and the control bytes, each padded
 * to 8. The lengths give the layout: what is sent, or the room to receive
 * into, and they stay as posted; the executor answers in the rest. The
 * call's args[1] is the first block's offset. */
struct vhide_msg {
    uint32_t name_len, data_len, control_len;
    int32_t flags;        /* out: msg_flags */
    uint32_t len;         /* out: bytes sent or received */
    uint32_t name_out;    /* out: the address's whole length */
    uint32_t control_out; /* out: control bytes received */
    uint32_t reserved;
};

/* Where the parts of the message block at @off of a slot's @data lie
 * (offsets into @data); false when the block is misaligned or does not
 * fit. The plugin and the executor walk messages by it. */
struct vhide_msg_at {
    uint32_t name, data, control, end;
};
bool vhide_msg_at(const uint8_t *data, uint64_t off, struct vhide_msg_at *at);

/* How a hidden call's arguments travel: which are descriptors, which are
 * pointers (and how much they carry which way). The plugin marshals by
 * it, the executor unmarshals by it: one table (lib/hide/shape.c). */
enum vhide_dir { VHIDE_IN = 1, VHIDE_OUT = 2, VHIDE_INOUT = 3 };
enum vhide_len {
    VHIDE_LEN_ARG,     /* the byte count in argument len_arg */
    VHIDE_LEN_FIXED,   /* fixed bytes */
    VHIDE_LEN_SOCKLEN, /* the socklen_t that argument len_arg points to */
};
struct vhide_ptr {
    int8_t argi; /* -1: none */
    uint8_t dir;
    uint8_t len_kind;
    int8_t len_arg;
    uint16_t fixed;
};
#define VHIDE_PTRS 3
struct vhide_shape {
    const char *name;
    uint8_t nargs;
    uint8_t fd_args;           /* bit i: argument i is a descriptor */
    uint8_t new_fd;            /* the result is a new descriptor */
    uint8_t result_bounds_out; /* outputs of kind LEN_ARG hold result bytes */
    struct vhide_ptr ptr[VHIDE_PTRS];
    uint8_t waits; /* readiness: marshalled by hand (hide-wait.c) */
};

/* The shape of 64-bit call @nr when it is one vigil hides; NULL else. */
const struct vhide_shape *vhide_shape(int64_t nr);

#endif
