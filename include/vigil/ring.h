/* The shared-memory channel from the QEMU plugin to the vigil process.
 *
 * One file, mapped by both: a header (struct vring_shm) holding what the
 * plugin must know about the guest kernel (struct vring_config), then one
 * single-producer/single-consumer ring per vCPU. A vCPU thread is the only
 * producer of its ring. By default it never blocks: when its ring is full
 * the record is dropped and counted, and the consumer reports the count.
 * With vring_set_full_wait() (--ring-full wait) it waits, bounded, for the
 * consumer to make room instead. The consumer (one thread in vigil) is the
 * only reader of every ring.
 *
 * Records are struct vraw_hdr-prefixed (rawrec.h), 8-byte aligned and never
 * split across the end of the data area: a record that would not fit before
 * the end is preceded by a VRING_PAD record covering the rest.
 */
#ifndef VIGIL_RING_H
#define VIGIL_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/act.h"
#include "vigil/hide.h"

#define VRING_MAGIC      0x31474e4952474956ull /* "VIGRING1" */
#define VRING_VERSION    8
#define VRING_PAD        0xffff /* vraw_hdr.type of padding */
#define VRING_MAX_VCPUS  64
#define VRING_XFER_BYTES (16u << 20) /* the request transfer area */

/* Where a process's memory map is (--callers, plugin/vma.c): member
 * offsets from the profile, all 0 when the kernel's BTF lacks one (the
 * plugin then sends no maps). Offsets in mm_struct and the maple tree's
 * nodes, vm_area_struct, file, dentry. */
struct vring_vma_config {
    uint32_t task_mm;
    uint32_t mm_root; /* mm_mt.ma_root */
    uint32_t mm_start_stack, mm_start_brk, mm_brk, mm_vdso;
    uint16_t vm_start, vm_end, vm_flags, vm_pgoff, vm_file, vm_mm;
    uint16_t file_dentry;             /* f_path.dentry */
    uint16_t d_parent, d_len, d_name; /* d_name.len, d_name.name */
    uint16_t node_size;               /* struct maple_node */
    uint16_t r64_pivot, r64_slot;     /* struct maple_range_64 */
    uint16_t a64_pivot, a64_slot;     /* struct maple_arange_64 */
    uint8_t r64_slots, a64_slots;     /* slots per node of each kind */
    /* vm_area_struct.anon_vma: a private file mapping's copied pages (0:
     * not read, e.g. a profile made before it was asked for) */
    uint16_t vm_anon_vma;
};

/* Where the plugin finds the file a descriptor is open on, to know a
 * write into another process's memory by the kernel's own file rather
 * than by its path (plugin/fdmem.c): task->files->fdt->fd[n], its f_op
 * compared with proc_mem_operations (/proc/PID/mem), then the file's
 * mm_struct (private_data) and position. All 0 when the profile lacks a
 * part of it: writes are then known by path only (lib/trace/procmem.c). */
struct vring_fdmem_config {
    uint64_t mem_fops;   /* link-time address of proc_mem_operations */
    uint32_t task_files; /* task_struct.files */
    uint32_t mm_owner;   /* mm_struct.owner (CONFIG_MEMCG); 0: not read */
    uint16_t files_fdt;  /* files_struct.fdt */
    uint16_t fdt_max_fds, fdt_fd;
    uint16_t file_f_op, file_private, file_pos;
    /* The table embedded in files_struct (fdtab, and its fd_array of
     * fd_array_n entries), which fdt points to until a process needs more
     * descriptors: then fdt and fd[n] come in one read. 0: not used. */
    uint16_t files_fdtab, files_fd_array, fd_array_n;
    uint16_t reserved[3];
};

/* What the plugin needs to find the current thread. Filled by vigil from
 * the kernel profile before QEMU starts. */
struct vring_config {
    uint64_t current_task_pcpu; /* per-CPU offset of the current task ptr */
    uint32_t task_pid;          /* task_struct member offsets */
    uint32_t task_tgid;
    uint32_t task_comm;
    uint32_t task_real_parent;
    uint32_t str_max; /* capture limits (struct vsys_limits) */
    uint32_t buf_max;
    uint32_t argv_max;
    /* The 64-bit signal frame a handler starts on (struct rt_sigframe, at
     * its stack pointer): where the interrupted context is saved, and
     * where in it (struct sigcontext_64) each register is. */
    uint32_t sigframe_ctx;
    uint16_t sc_ip, sc_sp, sc_ax, sc_cx, sc_di, sc_si, sc_dx, sc_r11;
    uint16_t sc_r10, sc_reserved[3];
    /* Link-time addresses (KASLR moves them all by one slide, which the
     * plugin learns from init's parent, init_task), 0 when unknown: the
     * kernel function that delivers signals on the way back to user
     * mode, whose first argument is the thread's struct pt_regs (offset
     * of ax) with a call's result before any signal changes it. */
    uint64_t init_task;
    uint64_t signal_fn;
    uint16_t regs_ax;
    /* Whether a signal's handler restarts an interrupted call: its flags
     * in the kernel (task_struct.sighand -> sighand_struct.action[signo -
     * 1], of k_sigaction_size bytes, whose sa.sa_flags holds SA_RESTART).
     * 0 when the kernel's BTF lacks them: hidden calls then restart as
     * with SA_RESTART. */
    uint16_t reserved16;
    uint32_t task_sighand;
    uint32_t sighand_action;
    uint16_t k_sigaction_size;
    uint16_t sa_flags;
    /* Link-time address of the kernel function every whole process's end
     * passes, 0 when unknown: acct_process, which do_exit calls when the
     * last thread of a thread group ends (by exit_group, a fatal signal or
     * exit alone); else do_group_exit (exit_group and fatal signals). Where
     * a hidden process that made no exit_group call is seen to end. */
    uint64_t group_exit_fn;
    /* Link-time address of __switch_to, 0 when unknown: every context
     * switch calls it with the next task in rsi (plugin/ident.c). */
    uint64_t switch_fn;
    /* Link-time address of perf_event_comm, 0 when unknown: the last step
     * of every rename of a thread (__set_task_comm, whatever asked for it:
     * prctl, a write to /proc/PID/comm by any means, exec), called once the
     * new name is in place (plugin/ident.c). */
    uint64_t comm_fn;
    struct vring_vma_config vma;
    struct vring_fdmem_config fdmem;
};

struct vring_ctl {
    /* Producer and consumer indices on separate cache lines. Both count
     * bytes from the start of time; position = index % size. */
    _Alignas(64) uint64_t head;            /* written by the producer */
    _Alignas(64) uint64_t tail;            /* written by the consumer */
    _Alignas(64) uint64_t dropped_records; /* producer: ring was full */
    uint64_t dropped_bytes;
    uint64_t records;    /* producer: records committed */
    uint64_t full_waits; /* producer: reservations that waited for room */
};

/* A request from the plugin to vigil that takes longer than a vCPU
 * callback may (verifying and applying a signed update): the plugin copies
 * the input into the transfer area after the rings and posts it; vigil
 * answers; the plugin takes the answer to the guest. One at a time. */
enum { VREQ_FREE = 0, VREQ_POSTED = 1, VREQ_DONE = 2 };
#define VREQ_MSG_MAX 256
struct vring_req {
    uint32_t state; /* written with release, read with acquire */
    uint32_t fn;    /* the hypercall function */
    uint64_t seq;
    uint64_t len;           /* input bytes in the transfer area */
    int64_t result;         /* vigil's answer: the guest's rax */
    char msg[VREQ_MSG_MAX]; /* and a line for the guest, NUL-terminated */
};

struct vring_shm {
    uint64_t magic;
    uint32_t version;
    uint32_t nrings;
    uint64_t ring_bytes;  /* data bytes per ring, a power of two */
    uint64_t data_offset; /* from the start of the mapping to ring 0's data */
    uint32_t plugin_attached; /* set by the plugin once it mapped the file */
    uint32_t plugin_nvcpus;
    struct vring_config config;
    struct vact_config act;
    struct vring_req req;
    uint64_t xfer_offset; /* from the start of the mapping */
    uint64_t xfer_bytes;
    uint64_t hide_offset; /* struct vhide_area (vigil/hide.h) */
    uint64_t hide_bytes;
    _Alignas(64) struct vring_ctl ctl[VRING_MAX_VCPUS];
};

/* A mapping of the channel file, from either side. */
struct vring_map;

/* Create `path` with `nrings` rings of `ring_bytes` (power of two >= 4096)
 * and map it. Returns 0 or -errno. */
int vring_create(const char *path, unsigned nrings, size_t ring_bytes,
                 const struct vring_config *cfg, struct vring_map **out);
/* The same in memory that is never written back to a disk (memfd): the
 * producer writes every byte of every ring over and over, and a ring file
 * on a disk filesystem made each of its pages a write-back and a
 * write-protect fault again and again on the vCPU threads. *path gets a
 * name another process of the same user opens it by (/proc/PID/fd/N),
 * valid until vring_close(). Returns 0 or -errno. */
int vring_create_mem(unsigned nrings, size_t ring_bytes,
                     const struct vring_config *cfg, struct vring_map **out,
                     char *path, size_t pathlen);
/* Map an existing channel file (the plugin's side); checks magic, version
 * and sizes. Returns 0 or -errno (-EPROTO for a foreign or corrupt file). */
int vring_open(const char *path, struct vring_map **out);
void vring_close(struct vring_map *m);

struct vring_shm *vring_shm(struct vring_map *m);
unsigned vring_count(const struct vring_map *m);

/* Producer: reserve `max` contiguous bytes in ring `i`; NULL (and the drop
 * counted) when it does not fit. Then vring_commit() with the size actually
 * used (<= max, 8-byte aligned), which publishes the record. */
void *vring_reserve(struct vring_map *m, unsigned i, uint32_t max);
void vring_commit(struct vring_map *m, unsigned i, uint32_t size);
/* Count a record the producer could not even try to write. */
void vring_drop(struct vring_map *m, unsigned i, uint32_t size);
/* Producer: make vring_reserve() wait up to @ms for room in a full ring
 * instead of dropping (0: drop at once, the default). A wait that runs out
 * drops the record, and the ring then drops at once again until the
 * consumer is seen to move: a stalled consumer costs the guest one wait,
 * not one per record. */
void vring_set_full_wait(struct vring_map *m, uint32_t ms);

/* Consumer: the next record of ring `i`, or NULL when it is empty. Padding
 * is skipped. vring_consume() releases it; the pointer is then invalid. */
const void *vring_peek(struct vring_map *m, unsigned i);
/* The transfer area (struct vring_req), either side; its size in *len. */
uint8_t *vring_xfer(struct vring_map *m, size_t *len);
/* The hidden calls' slots, either side. */
struct vhide_area *vring_hide(struct vring_map *m);
void vring_consume(struct vring_map *m, unsigned i);

#endif
