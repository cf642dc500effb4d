/* System call capture on vCPU threads.
 *
 * Entries are caught in user mode, at the system call instruction itself
 * (syscall, int 0x80, sysenter), found in each translation block as it is
 * translated: the arguments are in registers there and no kernel symbol is
 * needed. Returns are caught at the kernel's return-to-user instructions
 * (sysret, iret, sysexit): every way back to user mode passes one of them,
 * including a blocked call finishing on another vCPU, a successful execve and
 * a restarted call. Both sides read the current thread's task_struct through
 * the per-CPU pointer whose offset comes from the kernel profile.
 *
 * Everything here runs on vCPU threads: it reads registers and bounded
 * guest memory, writes one raw record into this vCPU's ring and returns. No
 * locks, no I/O, no allocation after vCPU init.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pending.h"
#include "qemu-api.h"
#include "tracer.h"
#include "vigil/rawrec.h"
#include "vigil/ring.h"
#include "vigil/syscalls.h"

#define USER_TOP      0x0000800000000000ull
#define KERNEL_BOTTOM 0xffff800000000000ull
#define PAGE          4096ull

enum insn_kind {
    K_SYSCALL = 1,  /* 0f 05, 64-bit ABI */
    K_INT80 = 2,    /* cd 80, i386 ABI */
    K_SYSENTER = 3, /* 0f 34, i386 ABI */
    K_SYSRET = 4,   /* 48 0f 07: sysretq, to 64-bit code */
    K_IRET = 5,     /* 48 cf */
    K_SYSEXIT = 6,  /* [48] 0f 35 */
    K_SYSRETL = 7,  /* 0f 07: sysretl, to 32-bit code */
};

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
    R_KGS,
    R_GS,
    R_FS,
    R_CR3,
    R_COUNT,
};
static const char *const reg_names[R_COUNT] = {
    "rax", "rbx", "rcx", "rdx",       "rsi",     "rdi",     "rbp", "rsp",
    "r8",  "r9",  "r10", "k_gs_base", "gs_base", "fs_base", "cr3",
};

/* Who is running, remembered per vCPU. Reading the thread from the guest
 * kernel costs page-table walks; the pair (CR3, FS base) costs two register
 * reads and names a thread of a process, because threads of one process
 * have their own TLS and processes their own page tables. Entries are good
 * for one epoch; calls that can change what a pair names (thread creation
 * and exit, exec, prctl) start a new epoch, and while a vfork child runs on
 * its parent's TLS and page tables the cache is bypassed. */
#define IDENT_SLOTS 64
struct ident {
    uint64_t cr3, fs, epoch;
    struct vraw_task t;
};

struct vcpu {
    struct qemu_plugin_register *reg[R_COUNT];
    struct ident ident[IDENT_SLOTS];
    GByteArray *buf;
    bool ready;
};

static struct tracer {
    struct vring_map *ring;
    struct vring_config cfg;
    unsigned nrings;
    /* One read covering pid, tgid, comm and real_parent. */
    uint32_t blk_off, blk_len;
    struct vcpu vcpus[VRING_MAX_VCPUS];
    uint64_t bad_task_notes; /* how many BAD_TASK notes were sent */
    uint64_t epoch;          /* see struct ident */
    int vforks;              /* vfork-like calls in flight */
    /* Calls that start a new identity epoch, by number: [0] 64-bit ABI,
     * [1] i386. */
    uint8_t new_epoch[2][(VSYS_NR_MAX + 8) / 8];
    int nr_vfork[2], nr_clone[2], nr_clone3[2];
} T;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t reg(struct vcpu *v, enum reg_id r)
{
    uint64_t val = 0;
    g_byte_array_set_size(v->buf, 0);
    int n = qemu_plugin_read_register(v->reg[r], v->buf);
    if (n > 0)
        memcpy(&val, v->buf->data, (size_t)n < sizeof val ? (size_t)n : 8);
    return val;
}

static bool mem(struct vcpu *v, uint64_t addr, void *dst, size_t len)
{
    if (!qemu_plugin_read_memory_vaddr(addr, v->buf, len))
        return false;
    memcpy(dst, v->buf->data, len);
    return true;
}

/* Read up to `max` bytes at addr, page by page, stopping after a NUL when
 * `stop_at_nul`. Returns bytes read; *fault when an unreadable page cut the
 * read short. */
static uint32_t mem_bounded(struct vcpu *v, uint64_t addr, uint8_t *dst,
                            uint32_t max, bool stop_at_nul, bool *fault)
{
    uint32_t got = 0;
    *fault = false;
    while (got < max) {
        uint64_t a = addr + got;
        uint32_t chunk = (uint32_t)(PAGE - (a & (PAGE - 1)));
        if (chunk > max - got)
            chunk = max - got;
        if (a < addr || !mem(v, a, dst + got, chunk)) {
            *fault = true;
            return got;
        }
        if (stop_at_nul) {
            uint8_t *nul = memchr(dst + got, 0, chunk);
            if (nul != NULL)
                return got + (uint32_t)(nul - (dst + got)) + 1;
        }
        got += chunk;
    }
    return got;
}

static void note(unsigned vcpu, uint32_t code, uint64_t arg)
{
    struct vraw_note *n = vring_reserve(T.ring, vcpu, sizeof *n);
    if (n == NULL)
        return;
    n->h.type = VRAW_NOTE;
    n->h.size = sizeof *n;
    n->h.vcpu = (uint16_t)vcpu;
    n->h.flags = 0;
    n->h.ts_ns = now_ns();
    n->code = code;
    n->arg = arg;
    vring_commit(T.ring, vcpu, sizeof *n);
}

static uint64_t current_task(struct vcpu *v)
{
    uint64_t task = 0;
    if (!mem(v, reg(v, R_KGS) + T.cfg.current_task_pcpu, &task, sizeof task))
        return 0;
    return task;
}

/* Fill *t from the task_struct; false if it does not look like a task. */
static bool read_task(struct vcpu *v, uint64_t task, struct vraw_task *t)
{
    uint8_t blk[1024];
    memset(t, 0, sizeof *t);
    t->task = task;
    if (task < KERNEL_BOTTOM || !mem(v, task + T.blk_off, blk, T.blk_len))
        return false;
    const struct vring_config *c = &T.cfg;
    uint64_t parent;
    memcpy(&t->tid, blk + c->task_pid - T.blk_off, 4);
    memcpy(&t->tgid, blk + c->task_tgid - T.blk_off, 4);
    memcpy(t->comm, blk + c->task_comm - T.blk_off, sizeof t->comm);
    memcpy(&parent, blk + c->task_real_parent - T.blk_off, 8);
    if (parent >= KERNEL_BOTTOM)
        mem(v, parent + c->task_tgid, &t->ppid, 4);
    /* A user thread has a positive id and a thread group whose leader's id
     * is not larger than its own. */
    return t->tid > 0 && t->tgid > 0 && t->tgid <= t->tid;
}

/* The running thread, from the cache or the guest kernel. Returns false
 * (with t->task set to what was read) when it does not look like a task. */
static bool ident(struct vcpu *v, struct vraw_task *t)
{
    uint64_t cr3 = reg(v, R_CR3), fs = reg(v, R_FS);
    uint64_t epoch = __atomic_load_n(&T.epoch, __ATOMIC_ACQUIRE);
    struct ident *c =
        &v->ident[((cr3 >> 12) ^ (fs >> 4) ^ (fs >> 16)) & (IDENT_SLOTS - 1)];
    bool cacheable = __atomic_load_n(&T.vforks, __ATOMIC_ACQUIRE) == 0;
    if (cacheable && c->t.task != 0 && c->cr3 == cr3 && c->fs == fs &&
        c->epoch == epoch) {
        *t = c->t;
        return true;
    }
    uint64_t task = current_task(v);
    if (!read_task(v, task, t))
        return false;
    if (cacheable) {
        c->cr3 = cr3;
        c->fs = fs;
        c->epoch = epoch;
        c->t = *t;
    }
    return true;
}

static bool starts_epoch(uint64_t nr, bool compat)
{
    return nr <= VSYS_NR_MAX && (T.new_epoch[compat][nr / 8] >> (nr % 8)) & 1;
}

/* Whether this call creates a child that shares our TLS and page tables
 * until it execs: vfork, or clone/clone3 with CLONE_VM but without
 * CLONE_THREAD. */
static bool vfork_like(struct vcpu *v, uint64_t nr, const uint64_t args[6],
                       bool compat)
{
    uint64_t flags;
    if ((int64_t)nr == T.nr_vfork[compat])
        return true;
    if ((int64_t)nr == T.nr_clone[compat])
        flags = args[0];
    else if ((int64_t)nr != T.nr_clone3[compat] || !mem(v, args[0], &flags, 8))
        return false;
    return (flags & CLONE_VFORK) ||
           ((flags & CLONE_VM) && !(flags & CLONE_THREAD));
}

/* Bytes a capture may take in a record, header included. */
static uint32_t cap_room(const struct vsys_cap *c)
{
    uint32_t n;
    switch (c->kind) {
    case VSYS_CAP_STR:
        n = T.cfg.str_max;
        break;
    case VSYS_CAP_ARGV:
        n = T.cfg.argv_max;
        break;
    case VSYS_CAP_STRUCT:
        n = c->fixed_len;
        break;
    case VSYS_CAP_SOCKADDR:
        n = 128; /* sizeof(struct sockaddr_storage) */
        break;
    default:
        n = T.cfg.buf_max;
        break;
    }
    return VRAW_ALIGN(sizeof(struct vraw_blob) + n);
}

static uint32_t cap_len(struct vcpu *v, const struct vsys_cap *c,
                        const uint64_t args[6], int64_t ret, uint32_t room,
                        bool *trunc)
{
    uint64_t want;
    int32_t ilen;
    switch (c->len_from) {
    case VSYS_LEN_ARG:
        want = args[c->len_arg % 6];
        break;
    case VSYS_LEN_RESULT:
        want = ret > 0 ? (uint64_t)ret : 0;
        break;
    case VSYS_LEN_PTR:
        want = mem(v, args[c->len_arg % 6], &ilen, 4) && ilen > 0
                   ? (uint64_t)ilen
                   : 0;
        break;
    case VSYS_LEN_FIXED:
        want = c->fixed_len;
        break;
    default:
        want = room;
        break;
    }
    *trunc = want > room;
    return want > room ? room : (uint32_t)want;
}

/* Capture an argv-style array: the strings, each NUL-terminated. */
static uint32_t cap_argv(struct vcpu *v, uint64_t addr, bool compat,
                         uint8_t *dst, uint32_t room, bool *fault, bool *trunc)
{
    uint32_t got = 0;
    *fault = *trunc = false;
    for (unsigned i = 0; i < 256; i++) {
        uint64_t p = 0; /* i386 pointers are 4 bytes, little-endian */
        unsigned psize = compat ? 4 : 8;
        if (!mem(v, addr + psize * i, &p, psize)) {
            *fault = true;
            return got;
        }
        if (p == 0)
            return got;
        if (got >= room) {
            *trunc = true;
            return got;
        }
        bool f;
        uint32_t n = mem_bounded(v, p, dst + got, room - got, true, &f);
        got += n;
        if (f) {
            *fault = true;
            return got;
        }
        if (n == 0 || dst[got - 1] != 0) {
            *trunc = true;
            return got;
        }
    }
    *trunc = true;
    return got;
}

/* Append captures after `at`: at entry the inputs, at the return the
 * outputs plus the inputs in `retry` (bit i: caps[i] faulted at entry).
 * Returns the bytes written, counts blobs in *nblobs and sets bit i of
 * *faulted for each capture that hit an unreadable address. */
static uint32_t capture(struct vcpu *v, uint8_t *at, bool at_exit,
                        const struct vsys_cap *caps, unsigned ncaps,
                        const uint64_t args[6], bool compat, int64_t ret,
                        uint8_t retry, uint32_t *nblobs, uint8_t *faulted)
{
    uint32_t used = 0;
    *faulted = 0;
    for (unsigned i = 0; i < ncaps; i++) {
        const struct vsys_cap *c = &caps[i];
        bool late = at_exit && !c->at_exit && (retry & (1u << i));
        if (!late &&
            (c->at_exit != at_exit || (at_exit && c->only_ok && ret < 0)))
            continue;
        struct vraw_blob *b = (struct vraw_blob *)(at + used);
        uint8_t *data = (uint8_t *)(b + 1);
        uint32_t room = cap_room(c) - sizeof *b;
        uint64_t addr = args[c->argi % 6];
        bool fault = false, trunc = false;
        uint32_t n = 0;
        if (addr == 0) {
            continue; /* NULL: nothing to show but the value itself */
        } else if (c->kind == VSYS_CAP_STR) {
            n = mem_bounded(v, addr, data, room, true, &fault);
            trunc = !fault && (n == 0 || data[n - 1] != 0);
        } else if (c->kind == VSYS_CAP_ARGV) {
            n = cap_argv(v, addr, compat, data, room, &fault, &trunc);
        } else {
            uint32_t len = cap_len(v, c, args, ret, room, &trunc);
            n = mem_bounded(v, addr, data, len, false, &fault);
        }
        b->argi = c->argi;
        b->kind = c->kind;
        b->len = (uint16_t)n;
        b->flags = (fault ? VRAW_BLOB_FAULT : 0) |
                   (trunc ? VRAW_BLOB_TRUNC : 0) | (late ? VRAW_BLOB_LATE : 0);
        if (fault)
            *faulted |= (uint8_t)(1u << i);
        used += VRAW_ALIGN(sizeof *b + n);
        (*nblobs)++;
    }
    return used;
}

static void on_entry(unsigned int vcpu, void *udata)
{
    uintptr_t u = (uintptr_t)udata;
    enum insn_kind kind = (enum insn_kind)(u >> 56);
    uint64_t ip = u & ((1ull << 56) - 1);
    if (vcpu >= T.nrings || !T.vcpus[vcpu].ready)
        return;
    struct vcpu *v = &T.vcpus[vcpu];
    bool compat = kind != K_SYSCALL;

    static const enum reg_id abi64[6] = {R_RDI, R_RSI, R_RDX,
                                         R_R10, R_R8,  R_R9};
    static const enum reg_id abi32[6] = {R_RBX, R_RCX, R_RDX,
                                         R_RSI, R_RDI, R_RBP};
    uint64_t args[6] = {0};
    uint64_t nr = reg(v, R_RAX);
    if (compat)
        nr &= 0xffffffff;
    /* Only the registers the call takes: each read costs. Unknown calls
     * get all six. */
    const struct vsys_ent *ent = vsys_lookup(nr, compat);
    unsigned nargs = ent != NULL && ent->name != NULL ? ent->nargs : 6;
    for (unsigned i = 0; i < nargs && i < 6; i++)
        args[i] = compat ? reg(v, abi32[i]) & 0xffffffff : reg(v, abi64[i]);

    struct vsys_cap caps[VSYS_MAX_CAPS];
    unsigned ncaps = vsys_captures(nr, compat, caps);
    uint32_t room = sizeof(struct vraw_enter);
    for (unsigned i = 0; i < ncaps; i++)
        if (!caps[i].at_exit)
            room += cap_room(&caps[i]);

    uint16_t flags = compat ? VRAW_F_COMPAT : 0;
    if (kind == K_SYSENTER)
        flags |= VRAW_F_SYSENTER;
    if (starts_epoch(nr, compat))
        __atomic_fetch_add(&T.epoch, 1, __ATOMIC_ACQ_REL);
    struct vraw_task t;
    if (!ident(v, &t)) {
        flags |= VRAW_F_NO_TASK;
        if (__atomic_fetch_add(&T.bad_task_notes, 1, __ATOMIC_RELAXED) < 16)
            note(vcpu, VRAW_NOTE_BAD_TASK, t.task);
    }
    uint64_t task = t.task;
    struct vraw_enter *e = vring_reserve(T.ring, vcpu, room);
    if (e == NULL)
        return; /* counted as dropped by the ring */
    e->t = t;
    e->h.type = VRAW_SYS_ENTER;
    e->h.vcpu = (uint16_t)vcpu;
    e->h.flags = flags;
    e->h.ts_ns = now_ns();
    e->nr = nr;
    memcpy(e->args, args, sizeof args);
    e->ip = ip;
    e->sp = 0; /* not read: nothing uses it yet */
    e->nblobs = 0;
    e->reserved = 0;
    uint8_t faulted;
    uint32_t size =
        sizeof *e + capture(v, (uint8_t *)(e + 1), false, caps, ncaps, args,
                            compat, 0, 0, &e->nblobs, &faulted);
    e->h.size = (uint16_t)size;
    vring_commit(T.ring, vcpu, size);

    if (task == 0 || (ent != NULL && (ent->flags & VSYS_NORETURN)))
        return;
    bool vfork = vfork_like(v, nr, args, compat);
    if (!pending_put(task, nr, args, compat, faulted, vfork))
        note(vcpu, VRAW_NOTE_PENDING_FULL, task);
    else if (vfork)
        __atomic_fetch_add(&T.vforks, 1, __ATOMIC_ACQ_REL);
}

/* After a successful execve the path's old page is gone, but the kernel
 * copied the path onto the new stack: argc, argv[], NULL, envp[], NULL, then
 * the auxiliary vector, whose AT_EXECFN entry points at it. Append it as a
 * late capture of argument `argi`. */
#define AT_EXECFN 31
static uint32_t exec_path(struct vcpu *v, uint64_t sp, uint8_t argi,
                          uint8_t *at, uint32_t *nblobs)
{
    uint64_t w, p = sp + 8, fn = 0;
    if (!mem(v, sp, &w, 8) || w > 4096)
        return 0;
    p += 8 * (w + 1);                             /* argv and its NULL */
    for (unsigned i = 0; i < 8192; i++, p += 8) { /* envp */
        if (!mem(v, p, &w, 8))
            return 0;
        if (w == 0)
            break;
    }
    p += 8;
    for (unsigned i = 0; i < 64 && fn == 0; i++, p += 16) { /* auxv */
        uint64_t kv[2];
        if (!mem(v, p, kv, sizeof kv) || kv[0] == 0)
            return 0;
        if (kv[0] == AT_EXECFN)
            fn = kv[1];
    }
    struct vraw_blob *b = (struct vraw_blob *)at;
    bool fault;
    uint32_t n =
        mem_bounded(v, fn, (uint8_t *)(b + 1), T.cfg.str_max, true, &fault);
    if (fault || n == 0)
        return 0;
    b->argi = argi;
    b->kind = VSYS_CAP_STR;
    b->len = (uint16_t)n;
    b->flags =
        VRAW_BLOB_LATE | (((uint8_t *)(b + 1))[n - 1] ? VRAW_BLOB_TRUNC : 0);
    (*nblobs)++;
    return VRAW_ALIGN(sizeof *b + n);
}

static void on_return(unsigned int vcpu, void *udata)
{
    enum insn_kind kind = (enum insn_kind)(uintptr_t)udata;
    if (vcpu >= T.nrings || !T.vcpus[vcpu].ready)
        return;
    struct vcpu *v = &T.vcpus[vcpu];
    /* iret also returns to kernel mode. The way to user mode swaps GS
     * first, leaving a user GS base, which is never a kernel address. */
    if (kind == K_IRET && reg(v, R_GS) >= KERNEL_BOTTOM)
        return;
    struct vraw_task t;
    struct pending_call p;
    if (!ident(v, &t) || !pending_take(t.task, &p))
        return; /* an interrupt or fault returning, not a system call */
    uint64_t task = t.task;
    if (p.vfork)
        __atomic_fetch_sub(&T.vforks, 1, __ATOMIC_ACQ_REL);
    uint64_t ip, sp;
    bool user64 = kind == K_SYSRET; /* returning to 64-bit code */
    if (kind == K_IRET) {
        /* The frame: rip, cs, rflags, rsp, ss. */
        uint64_t frame[4] = {0};
        mem(v, reg(v, R_RSP), frame, sizeof frame);
        ip = frame[0];
        sp = frame[3];
        user64 = frame[1] == 0x33; /* __USER_CS */
    } else if (kind == K_SYSRET || kind == K_SYSRETL) {
        ip = reg(v, R_RCX);
        sp = 0; /* read below only when needed: sysret leaves it in rsp */
    } else {
        ip = reg(v, R_RDX); /* sysexit: rip from rdx, rsp from rcx */
        sp = reg(v, R_RCX);
    }

    int64_t ret = (int64_t)reg(v, R_RAX);
    if (p.compat)
        ret = (int32_t)ret;
    struct vsys_cap caps[VSYS_MAX_CAPS];
    unsigned ncaps = vsys_captures(p.nr, p.compat, caps);
    int exec_argi = -1; /* recover the path from the new stack (64-bit) */
    if (p.retry != 0 && ret == 0) {
        /* After a successful exec the old address space is gone. */
        const struct vsys_ent *ent = vsys_lookup(p.nr, p.compat);
        if (ent != NULL && ent->name != NULL &&
            !strncmp(ent->name, "execve", 6)) {
            for (unsigned i = 0; i < ncaps && user64; i++)
                if ((p.retry & (1u << i)) && caps[i].kind == VSYS_CAP_STR)
                    exec_argi = caps[i].argi;
            p.retry = 0;
        }
    }
    uint32_t room = sizeof(struct vraw_exit);
    for (unsigned i = 0; i < ncaps; i++)
        if (caps[i].at_exit || (p.retry & (1u << i)))
            room += cap_room(&caps[i]);
    if (exec_argi >= 0)
        room += VRAW_ALIGN(sizeof(struct vraw_blob) + T.cfg.str_max);
    struct vraw_exit *x = vring_reserve(T.ring, vcpu, room);
    if (x == NULL)
        return;
    x->h.type = VRAW_SYS_EXIT;
    x->h.vcpu = (uint16_t)vcpu;
    x->h.flags = p.compat ? VRAW_F_COMPAT : 0;
    x->h.ts_ns = now_ns();
    x->task = task;
    x->nr = p.nr;
    x->ret = ret;
    x->ip = ip;
    x->nblobs = 0;
    x->reserved = 0;
    uint8_t faulted;
    uint32_t size =
        sizeof *x + capture(v, (uint8_t *)(x + 1), true, caps, ncaps, p.args,
                            p.compat, ret, p.retry, &x->nblobs, &faulted);
    if (exec_argi >= 0 && sp == 0)
        sp = reg(v, R_RSP);
    if (exec_argi >= 0)
        size += exec_path(v, sp, (uint8_t)exec_argi, (uint8_t *)x + size,
                          &x->nblobs);
    x->h.size = (uint16_t)size;
    vring_commit(T.ring, vcpu, size);
}

static enum insn_kind classify(const uint8_t *b, size_t n, uint64_t vaddr)
{
    if (vaddr < USER_TOP) {
        if (n >= 2 && b[0] == 0x0f && b[1] == 0x05)
            return K_SYSCALL;
        if (n >= 2 && b[0] == 0xcd && b[1] == 0x80)
            return K_INT80;
        if (n >= 2 && b[0] == 0x0f && b[1] == 0x34)
            return K_SYSENTER;
        return 0;
    }
    if (vaddr < KERNEL_BOTTOM)
        return 0;
    bool rexw = n >= 1 && b[0] == 0x48;
    if (rexw) {
        b++;
        n--;
        if (n >= 1 && b[0] == 0xcf)
            return K_IRET;
    }
    if (n >= 2 && b[0] == 0x0f && b[1] == 0x07)
        return rexw ? K_SYSRET : K_SYSRETL;
    if (n >= 2 && b[0] == 0x0f && b[1] == 0x35)
        return K_SYSEXIT;
    return 0;
}

static void on_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint8_t b[3];
        size_t len = qemu_plugin_insn_data(insn, b, sizeof b);
        uint64_t vaddr = qemu_plugin_insn_vaddr(insn);
        enum insn_kind k = classify(b, len, vaddr);
        if (k == K_SYSCALL || k == K_INT80 || k == K_SYSENTER)
            qemu_plugin_register_vcpu_insn_exec_cb(
                insn, on_entry, QEMU_PLUGIN_CB_R_REGS,
                (void *)(uintptr_t)(vaddr | (uint64_t)k << 56));
        else if (k != 0)
            qemu_plugin_register_vcpu_insn_exec_cb(
                insn, on_return, QEMU_PLUGIN_CB_R_REGS, (void *)(uintptr_t)k);
    }
}

void tracer_vcpu_init(unsigned int vcpu)
{
    if (T.ring == NULL || vcpu >= T.nrings)
        return;
    struct vcpu *v = &T.vcpus[vcpu];
    GArray *regs = qemu_plugin_get_registers();
    unsigned found = 0;
    for (guint i = 0; i < regs->len; i++) {
        qemu_plugin_reg_descriptor *d =
            &g_array_index(regs, qemu_plugin_reg_descriptor, i);
        for (int r = 0; r < R_COUNT; r++)
            if (v->reg[r] == NULL && !strcmp(d->name, reg_names[r])) {
                v->reg[r] = d->handle;
                found++;
            }
    }
    g_array_free(regs, TRUE);
    v->buf = g_byte_array_sized_new(4096);
    v->ready = found == R_COUNT;
    if (!v->ready) {
        char msg[160];
        int n = snprintf(msg, sizeof msg,
                         "vigil-plugin: vCPU %u lacks register", vcpu);
        for (int r = 0; r < R_COUNT && n < (int)sizeof msg - 16; r++)
            if (v->reg[r] == NULL)
                n += snprintf(msg + n, sizeof msg - n, " %s", reg_names[r]);
        snprintf(msg + n, sizeof msg - n, "\n");
        qemu_plugin_outs(msg);
    }
}

int tracer_install(qemu_plugin_id_t id, struct vring_map *ring, char *err,
                   size_t errlen)
{
    T.ring = ring;
    T.nrings = vring_count(ring);
    T.cfg = vring_shm(ring)->config;
    const struct vring_config *c = &T.cfg;
    uint32_t lo = c->task_pid, hi = c->task_pid + 4;
    uint32_t offs[][2] = {
        {c->task_tgid, 4}, {c->task_comm, 16}, {c->task_real_parent, 8}};
    for (size_t i = 0; i < 3; i++) {
        if (offs[i][0] < lo)
            lo = offs[i][0];
        if (offs[i][0] + offs[i][1] > hi)
            hi = offs[i][0] + offs[i][1];
    }
    if (c->current_task_pcpu == 0 || c->task_comm == 0 || hi - lo > 1024 ||
        c->str_max == 0 || c->str_max > 4096 || c->buf_max > 4096 ||
        c->argv_max > 8192) {
        snprintf(err, errlen, "unusable profile in the ring header");
        return -1;
    }
    T.blk_off = lo;
    T.blk_len = hi - lo;
    static const char *const epoch_calls[] = {
        "exit",  "exit_group", "execve", "execveat", "prctl",
        "clone", "clone3",     "fork",   "vfork",
    };
    for (int compat = 0; compat < 2; compat++) {
        for (size_t i = 0; i < sizeof epoch_calls / sizeof *epoch_calls; i++) {
            int nr = compat ? vsys_number_compat(epoch_calls[i])
                            : vsys_number(epoch_calls[i]);
            if (nr >= 0 && nr <= VSYS_NR_MAX)
                T.new_epoch[compat][nr / 8] |= (uint8_t)(1u << (nr % 8));
        }
        T.nr_vfork[compat] =
            compat ? vsys_number_compat("vfork") : vsys_number("vfork");
        T.nr_clone[compat] =
            compat ? vsys_number_compat("clone") : vsys_number("clone");
        T.nr_clone3[compat] =
            compat ? vsys_number_compat("clone3") : vsys_number("clone3");
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_trans);
    return 0;
}

void tracer_report(char *buf, size_t len)
{
    unsigned ready = 0;
    for (unsigned i = 0; i < T.nrings; i++)
        ready += T.vcpus[i].ready;
    snprintf(buf, len, "%u of %u vCPUs traced", ready, T.nrings);
}
