/* What the tracer's files (tracer.c: entries; tracer-trans.c: what is
 * hooked, decided at translation; tracer-return.c: returns to user mode)
 * share. Private to them. */
#ifndef VIGIL_PLUGIN_TRACER_INT_H
#define VIGIL_PLUGIN_TRACER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "pending.h"
#include "qemu-api.h"
#include "vcpu.h"
#include "vigil/rawrec.h"
#include "vigil/ring.h"

enum insn_kind {
    K_SYSCALL = 1,    /* 0f 05, 64-bit ABI */
    K_INT80 = 2,      /* cd 80, i386 ABI */
    K_SYSENTER = 3,   /* 0f 34, i386 ABI */
    K_SYSRET = 4,     /* 48 0f 07: sysretq, to 64-bit code */
    K_IRET = 5,       /* 48 cf */
    K_SYSEXIT = 6,    /* [48] 0f 35 */
    K_SYSRETL = 7,    /* 0f 07: sysretl, to 32-bit code */
    K_VMCALL = 8,     /* 0f 01 c1: vigil's hypercall from user mode */
    K_CR3_WRITE = 9,  /* [41] 0f 22 d8+r: mov to cr3, in the kernel */
    K_TLB_FLUSH = 10, /* other TLB invalidations in the kernel (xlate.h) */
};

/* The kernel's restart codes (never returned to user mode; ptrace shows
 * them, and so does strace). */
#define ERESTARTSYS           512
#define ERESTART_RESTARTBLOCK 516

struct tracer {
    struct vring_map *ring;
    bool tracing;   /* record calls (else: hypercalls only) */
    bool hide;      /* --hide */
    int hide_execs; /* without a trace: calls in flight --hide follows */
    bool inject;    /* --inject rules */
    bool callers;   /* --callers: branch history and stack walks */
    /* What the callbacks may do: write registers (and set the PC) only
     * when something acts, because QEMU syncs more around such callbacks. */
    enum qemu_plugin_cb_flags entry_flags, return_flags;
    uint64_t nr_restart_syscall; /* 64-bit ABI */
    int64_t nr_execve, nr_execveat;
    unsigned nrings;
    uint32_t str_max; /* for the room of a recovered exec path */
    struct vcpu vcpus[VRING_MAX_VCPUS];
    uint64_t bad_task_notes; /* how many BAD_TASK notes were sent */
};
extern struct tracer tracer;

/* A plugin-side condition for the consumer (enum vraw_note_code). */
void tracer_note(unsigned vcpu, uint32_t code, uint64_t arg);
/* The return record of a call; @x_flags adds to the ABI flag. Returns
 * NULL when the ring is full (counted there). */
struct vraw_exit *tracer_exit_record(unsigned vcpu, uint32_t room,
                                     const struct pending_call *p, int64_t ret,
                                     uint64_t ip, uint16_t x_flags);

/* An entry callback's data: the instruction's address at translation, its
 * kind, and the call number when the translation shows it (see
 * known_number()), plus one; 0: read rax. */
#define ENTRY_IP_BITS 48
#define ENTRY_NR_BITS 11
#define ENTRY_NR_MAX  ((1u << ENTRY_NR_BITS) - 2)

/* The callback of every system call instruction; udata as above. */
void tracer_on_entry(unsigned int vcpu, void *udata);
/* The callback of every return-to-user instruction; udata is its kind. */
void tracer_on_return(unsigned int vcpu, void *udata);

/* The translation callback: hooks what the tracer needs in each block. */
void tracer_on_tb_trans(struct qemu_plugin_tb *tb, void *udata);

#endif
