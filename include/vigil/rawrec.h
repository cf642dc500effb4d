/* Raw records: what the QEMU plugin copies out of the guest on a vCPU thread
 * and pushes into that vCPU's ring (see ring.h). Raw means undecoded: the
 * consumer pairs entries with exits, names the call and formats arguments.
 *
 * Every record starts with struct vraw_hdr; `size` covers the whole record
 * including captured memory, and is a multiple of 8. Fields are host-endian
 * (plugin and consumer run on the same host). A record that the consumer does
 * not understand is skipped by its size.
 */
#ifndef VIGIL_RAWREC_H
#define VIGIL_RAWREC_H

#include <stdint.h>

enum vraw_type {
    VRAW_SYS_ENTER = 1, /* struct vraw_enter */
    VRAW_SYS_EXIT = 2,  /* struct vraw_exit */
    VRAW_NOTE = 3,      /* struct vraw_note: plugin-side condition */
    /* Reserved for --callers (issue 13), each defined by the code that
     * produces it: */
    VRAW_CALLERS = 4, /* branch history and return addresses of one entry */
    VRAW_VMAS = 5,    /* one process's memory map, read from the guest */
};

/* vraw_hdr.flags */
enum {
    VRAW_F_COMPAT = 1 << 0,   /* 32-bit ABI: int 0x80 or sysenter */
    VRAW_F_SYSENTER = 1 << 1, /* entered by sysenter */
    VRAW_F_NO_TASK = 1 << 2,  /* the task could not be read (see vraw_task) */
    VRAW_F_INJECTED = 1 << 3, /* exit: the result is vigil's (--inject); the
                                 guest kernel never ran the call */
    VRAW_F_HIDDEN = 1 << 4,   /* exit: vigil ran the call on the host
                                 (--hide); the guest kernel never saw it */
};

struct vraw_hdr {
    uint16_t type;
    uint16_t size;
    uint16_t vcpu;
    uint16_t flags;
    uint64_t ts_ns; /* host CLOCK_MONOTONIC */
};

/* The calling thread, read from the guest's task_struct. `task` is the
 * task_struct's guest virtual address: unique among live threads, and what
 * entries and exits are paired by. */
struct vraw_task {
    uint64_t task;
    int32_t tid;  /* task_struct.pid */
    int32_t tgid; /* task_struct.tgid */
    int32_t ppid; /* real_parent->tgid */
    uint32_t reserved;
    char comm[16]; /* not NUL-terminated when 16 bytes long */
};

/* Guest memory captured for one argument, followed by `len` bytes of data
 * and padding to 8 bytes. */
struct vraw_blob {
    uint8_t argi; /* argument index 0..5 */
    uint8_t kind; /* enum vsys_cap_kind (syscalls.h) */
    uint16_t len; /* bytes of data that follow */
    uint32_t flags;
};

/* vraw_blob.flags */
enum {
    VRAW_BLOB_FAULT = 1 << 0, /* (part of) the address was not readable */
    VRAW_BLOB_TRUNC = 1 << 1, /* more data existed than was captured */
    /* An input read at the return because it was not readable at entry:
     * the page was not yet present (demand paging) until the kernel itself
     * touched it. Replaces the entry's faulted capture of the argument. */
    VRAW_BLOB_LATE = 1 << 2,
};

struct vraw_enter {
    struct vraw_hdr h;
    struct vraw_task t;
    uint64_t nr; /* rax at entry */
    uint64_t
        args[6]; /* rdi rsi rdx r10 r8 r9; compat: ebx ecx edx esi edi ebp */
    uint64_t ip; /* user address of the syscall instruction */
    uint64_t sp; /* reserved, 0: not read (each register read costs) */
    uint32_t nblobs;
    uint32_t reserved;
    /* struct vraw_blob entries follow */
};

struct vraw_exit {
    struct vraw_hdr h;
    uint64_t task; /* with tid, pairs with vraw_enter.t */
    uint64_t nr;   /* as recorded at entry */
    int64_t ret;   /* rax on return to user mode */
    uint64_t ip;   /* user address execution resumes at; 0 after sysret (the
                    * entry's ip + 2) */
    uint32_t nblobs;
    int32_t tid; /* the thread's id, as at entry */
    /* struct vraw_blob entries follow */
};

enum vraw_note_code {
    /* The current task read through the profile does not look like a task:
     * the profile does not match the running kernel. arg = task pointer. */
    VRAW_NOTE_BAD_TASK = 1,
    /* The plugin's pending-call table was full: an exit could not be paired
     * with its entry's capture plan. arg = task pointer. */
    VRAW_NOTE_PENDING_FULL = 2,
};

struct vraw_note {
    struct vraw_hdr h;
    uint32_t code;
    uint32_t reserved;
    uint64_t arg;
};

/* --callers (docs/callers.md): which code made the call. Written just
 * BEFORE the call's VRAW_SYS_ENTER, in the same reservation of the same
 * vCPU's ring (both are kept or both dropped), so that the consumer holds
 * it when the entry arrives, whatever it then does with the entry (a call
 * that never returns is reported at once). Followed by
 * `nchain` uint64_t return addresses, innermost first, then `nbranch`
 * (from, to) pairs of uint64_t, oldest first.
 *
 * A thread calling in a loop has mostly the same chain and branches call
 * after call, so a record may say only what changed since the record
 * before it of the same thread history (`slot`) in the same ring: with
 * VRAW_CALLERS_DELTA its branches are the ones taken since (the consumer
 * keeps the last N), with VRAW_CALLERS_SAME_CHAIN its chain (nchain 0 here)
 * is that record's. `total` counts the history's branches since it began
 * (wrapping): a delta's base is total - nbranch, which the consumer checks
 * against what it holds. */
struct vraw_callers {
    struct vraw_hdr h;
    uint64_t task; /* pairs with the next vraw_enter of this vCPU */
    int32_t tid;
    uint16_t nchain;
    uint16_t nbranch;
    uint16_t flags;
    uint16_t slot; /* < VRAW_CALLERS_SLOTS: the plugin's history */
    uint32_t total;
};

/* Thread histories the plugin keeps at once (plugin/branches.c). */
#define VRAW_CALLERS_SLOTS 1024

/* vraw_callers.flags */
enum {
    /* The stack walk stopped at memory it could not read before it had
     * its K return addresses or its byte budget. */
    VRAW_CALLERS_TRUNC = 1 << 0,
    /* The branches extend the previous record's of the slot in this ring. */
    VRAW_CALLERS_DELTA = 1 << 1,
    /* The chain (and its TRUNC) is the previous record's. */
    VRAW_CALLERS_SAME_CHAIN = 1 << 2,
};

/* One process's executable mappings, read from the guest kernel's maple
 * tree (plugin/vma.c) when the map may have changed: on first sight of an
 * address space, and at the return of the calls that change it (execve,
 * mmap, munmap, mprotect, mremap, brk, shmat...). Only executable mappings
 * are sent: they are what code addresses are looked up in. Replaces the
 * previous map of the thread group. */
struct vraw_vmas {
    struct vraw_hdr h;
    int32_t tgid, tid;
    uint64_t mm;                /* the mm_struct's guest address */
    uint64_t start_stack, vdso; /* to name [stack] and [vdso] */
    uint32_t nvmas;
    uint32_t flags; /* VRAW_VMAS_* */
    /* struct vraw_vma entries follow, each followed by its path */
};

/* vraw_vmas.flags */
enum {
    VRAW_VMAS_PARTIAL = 1 << 0, /* the walk met unreadable or inconsistent
                                   memory, or its bound: entries are missing */
    VRAW_VMAS_TRUNC = 1 << 1,   /* more mappings than the record holds */
};

struct vraw_vma {
    uint64_t start, end; /* [start, end) */
    uint64_t pgoff;      /* file offset of start, in 4 KiB pages */
    uint64_t file;       /* the struct file's guest address; 0: anonymous */
    uint32_t flags;      /* VRAW_VMA_* */
    uint16_t path_len;   /* path bytes that follow (no NUL), padded to 8 */
    uint16_t reserved;
};

/* vraw_vma.flags: the kernel's VM_READ, VM_WRITE, VM_EXEC, VM_SHARED and
 * what the plugin adds. */
enum {
    VRAW_VMA_READ = 1 << 0,
    VRAW_VMA_WRITE = 1 << 1,
    VRAW_VMA_EXEC = 1 << 2,
    VRAW_VMA_SHARED = 1 << 3,
    /* A file mapping with pages of its own (vm_area_struct.anon_vma set):
     * written after it was mapped, its copies differ from the file's. */
    VRAW_VMA_ANON_PAGES = 1 << 4,
    VRAW_VMA_PATH_PART = 1 << 8, /* the path could not be read whole */
};

#define VRAW_ALIGN(n) (((n) + 7u) & ~(uint32_t)7u)

#endif
