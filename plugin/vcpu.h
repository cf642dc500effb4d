/* A vCPU as the tracer sees it: register handles, a scratch buffer and the
 * thread identity cache; and the two guest reads everything else is built
 * on. Only the vCPU's own thread touches its struct vcpu. */
#ifndef VIGIL_PLUGIN_VCPU_H
#define VIGIL_PLUGIN_VCPU_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "qemu-api.h"
#include "stamp.h"
#include "vigil/rawrec.h"

#define USER_TOP      0x0000800000000000ull
#define KERNEL_BOTTOM 0xffff800000000000ull
#define PAGE          4096ull

enum reg_id {
    R_RAX,
    R_RBX,
    R_RCX,
    R_RDX,
    R_RSI,
    R_RDI,
    R_RBP,
    R_RSP,
    R_R8,
    R_R9,
    R_R10,
    R_R11,
    R_EFLAGS,
    R_CS,
    R_KGS,
    R_GS,
    R_FS,
    R_CR3,
    R_RIP,
    R_CR4, /* optional: without it, 4-level paging is assumed */
    R_COUNT,
};
extern const char *const vcpu_reg_names[R_COUNT];

/* Who is running, remembered per vCPU. Reading the thread from the guest
 * kernel costs page-table walks and register reads. The kernel's context
 * switch is hooked (ident.c), so the vCPU knows its current task_struct
 * (cur_task) without reading anything; what the cache keeps per task is
 * good for one epoch: calls that can change what a task's entry says
 * (thread creation and exit, exec, renames) start a new epoch. */
#define IDENT_SLOTS 64
struct ident {
    uint64_t cr3, epoch;
    uint64_t mm; /* task->mm once vma.c has read it; 0: not yet */
    struct vraw_task t;
};

struct vcpu {
    struct qemu_plugin_register *reg[R_COUNT];
    struct ident ident[IDENT_SLOTS];
    GByteArray *buf;
    struct stamp clk;  /* record timestamps */
    uint64_t cr3;      /* the address space of the last ident()'s thread */
    struct ident *cur; /* the last ident()'s cache entry; NULL: none */
    /* The running task_struct as the context-switch hook last saw it; 0
     * until the hook can be trusted (ident.c). */
    uint64_t cur_task;
    /* task->files of the thread that last wrote here (fdmem.c), good
     * while the task, its address space and fdmem's generation stay. */
    uint64_t fd_task, fd_cr3, fd_gen, fd_files;
    bool cr3_written; /* since the last ident(): check the address space */
    bool cr3_own;     /* ... written by the running task, not by a switch */
    bool ready;
};

/* The scratch buffer emptied: it has no clear function and no terminator,
 * so this is all g_byte_array_set_size(buf, 0) does, without its calls
 * (a register read is on every traced call's path). */
static inline void buf_reset(struct vcpu *v)
{
    v->buf->len = 0;
}

static inline uint64_t reg(struct vcpu *v, enum reg_id r)
{
    uint64_t val = 0;
    buf_reset(v);
    if (qemu_plugin_read_register(v->reg[r], v->buf))
        memcpy(&val, v->buf->data, v->buf->len < sizeof val ? v->buf->len : 8);
    return val;
}

/* Only from a callback registered with write access (QEMU refuses the
 * write otherwise). Never rip: QEMU aborts; see control.c. */
static inline bool set_reg(struct vcpu *v, enum reg_id r, uint64_t val)
{
    buf_reset(v);
    g_byte_array_append(v->buf, (const guint8 *)&val, sizeof val);
    return qemu_plugin_write_register(v->reg[r], v->buf);
}

static inline bool mem(struct vcpu *v, uint64_t addr, void *dst, size_t len)
{
    if (!qemu_plugin_read_memory_vaddr(addr, v->buf, len))
        return false;
    memcpy(dst, v->buf->data, len);
    return true;
}

#endif
