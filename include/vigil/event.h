/* Events: what the consumer makes of raw records, and what every output
 * (JSON Lines, strace-like text, the network transport) starts from.
 * The schema of the JSON form is documented in docs/events.md.
 */
#ifndef VIGIL_EVENT_H
#define VIGIL_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/syscalls.h"

enum vigil_sc_state {
    VIGIL_SC_DONE = 0,       /* entry and return both seen */
    VIGIL_SC_NORETURN = 1,   /* exit/exit_group: the thread ended */
    VIGIL_SC_UNFINISHED = 2, /* no return seen: the thread died or tracing
                                stopped while it was blocked */
};

/* One taken user-mode branch (--callers): from the branch instruction's
 * address to its target. */
struct vigil_branch {
    uint64_t from, to;
};

/* Which code made a call (--callers, docs/callers.md). Two halves fill it:
 * the plugin's branch history and stack walk (chain, branches) and the
 * consumer's view of the process's memory map (caller, origin). */
enum vigil_origin_kind {
    VIGIL_ORIGIN_NONE = 0, /* file-backed code, unchanged: nothing to say */
    VIGIL_ORIGIN_INJECTED, /* code another process wrote, or anonymous
                              executable memory it did not make itself */
    VIGIL_ORIGIN_SELF_GENERATED, /* code the process wrote itself (a JIT) */
};

struct vigil_callers {
    unsigned nchain;       /* return addresses, innermost first */
    const uint64_t *chain; /* borrowed: valid while the event is */
    bool chain_trunc;      /* the walk stopped at unreadable memory */
    unsigned nbranch;      /* oldest first */
    const struct vigil_branch *branches; /* borrowed */
    /* The consumer lost track of this thread's earlier records: branches
     * are only the newest, a chain it could not rebuild is empty. */
    bool partial;
    /* When not NULL: chain's and branches' JSON arrays, already made (the
     * consumer keeps each branch's text from when it arrived). */
    const char *chain_json, *branches_json;
    size_t chain_json_len, branches_json_len;
};

/* Who wrote the code a call came from, when it was not the process's own
 * files (docs/callers.md). */
struct vigil_evidence {
    const char *kind; /* "process_vm_writev", "ptrace", "proc-mem",
                         "anon-exec", "self-mprotect", "self-mmap" */
    uint64_t addr;    /* the address written or mapped */
    int32_t pid;      /* the writer's thread group; 0 when none is known */
    char comm[17];
    const char *call; /* the call that wrote, e.g. "process_vm_writev" */
    bool via_branch;  /* addr is a branch's source, not a stack frame */
};

/* The consumer's view of a call's code (--callers): the module holding the
 * caller frame, and whether that code is the process's own. */
struct vigil_origin {
    const char *module; /* file path, "[anon]", "[vdso]", "[stack]"; NULL:
                           no mapping holds the address (map not known) */
    uint64_t offset;    /* in the file, or from the start of the region */
    uint64_t addr;      /* the frame the caller was taken from */
    bool map_partial;   /* the map the plugin read was incomplete */
    enum vigil_origin_kind kind;
    struct vigil_evidence evidence; /* kind != VIGIL_ORIGIN_NONE */
};

struct vigil_capture {
    uint8_t argi;
    uint8_t kind; /* enum vsys_cap_kind */
    bool at_exit;
    bool fault; /* the address could not be read */
    bool trunc; /* longer than the capture limit */
    uint16_t len;
    const uint8_t *data; /* borrowed: valid while the event is */
};

/* One system call of one guest thread. */
struct vigil_syscall {
    uint64_t ts_enter_ns, ts_exit_ns; /* host monotonic; exit 0 if none */
    uint32_t vcpu;                    /* where it entered */
    int32_t tid, tgid, ppid;
    char comm[17]; /* NUL-terminated */
    bool compat;   /* i386 ABI */
    uint64_t nr;
    uint64_t args[6];
    uint64_t ip;   /* user address of the system call instruction */
    int64_t ret;   /* valid when state == VIGIL_SC_DONE */
    bool injected; /* ret is vigil's (--inject): the kernel never ran it */
    bool hidden;   /* vigil ran it on the host (--hide) */
    enum vigil_sc_state state;
    const struct vigil_callers *callers; /* NULL unless --callers */
    const struct vigil_origin *origin;   /* NULL unless --callers; borrowed */
    unsigned ncaps;
    struct vigil_capture caps[2 * VSYS_MAX_CAPS];
};

/* Render `ev` as one JSON object (no newline) into buf. Returns the length
 * written, or -ENOSPC when it did not fit (buf then holds nothing useful).
 * The output is NUL-terminated, so it needs length + 1 bytes; nothing is
 * ever written past buf[len - 1]. -EINVAL for a NULL ev or buf. */
int vigil_syscall_json(const struct vigil_syscall *ev, char *buf, size_t len);

/* Render `ev` like one line of `strace -f` (no newline), e.g.
 * `[pid   42] openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3`. */
int vigil_syscall_text(const struct vigil_syscall *ev, char *buf, size_t len);

#endif
