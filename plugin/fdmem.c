/* A write's file, from the guest kernel (see fdmem.h). The walk is the
 * kernel's own lookup (fs/file.c): task->files->fdt, whose fd array has
 * max_fds entries; each entry a struct file pointer. The file is another
 * process's memory when its f_op is proc_mem_operations, the table of
 * /proc/PID/mem and /proc/PID/task/TID/mem (fs/proc/base.c), whose open
 * keeps the target's mm_struct in private_data.
 *
 * Another vCPU may be changing the table (close, dup2, a table grown):
 * every read is bounded and checked; a stale or unreadable pointer gives
 * no blob, never a crash. A false match would need a freed struct file
 * whose f_op still reads proc_mem_operations: its mm then names the
 * process it was open on. */
#include <string.h>

#include "fdmem.h"
#include "ident.h"
#include "nrset.h"
#include "vigil/rawrec.h"
#include "vigil/syscalls.h"

#define BLOCK_MAX 1024 /* files_struct from fdt to fd_array's end */

static struct {
    bool on;
    struct vring_fdmem_config c;
    uint32_t task_tgid;
    uint32_t fdt_lo, fdt_len; /* one read covers max_fds and fd */
    nrset writes;             /* 64-bit ABI */
    /* Calls after which a vCPU's remembered task->files may be another
     * task's: a task_struct freed and used again (the calls that create
     * tasks, and end them), unshare(CLONE_FILES); every i386 call. */
    nrset renew;
    uint64_t gen;
} fm;

void fdmem_setup(const struct vring_config *cfg, bool on)
{
    const struct vring_fdmem_config *c = &cfg->fdmem;
    fm.c = *c;
    fm.task_tgid = cfg->task_tgid;
    fm.on = on && c->mem_fops != 0 && c->task_files != 0 && c->file_f_op != 0;
    if (!fm.on)
        return;
    uint32_t a = c->fdt_max_fds, b = c->fdt_fd;
    fm.fdt_lo = a < b ? a : b;
    fm.fdt_len = (a < b ? b + 8 : a + 4) - fm.fdt_lo;
    if (c->fd_array_n != 0 &&
        (c->files_fd_array <= c->files_fdt ||
         c->files_fd_array + 8u * c->fd_array_n - c->files_fdt > BLOCK_MAX))
        fm.c.fd_array_n = 0;
    /* sendfile, splice and copy_file_range cannot write there: the file
     * has no splice_write, and the kernel refuses them (-EINVAL). */
    static const char *const names[] = {"write", "pwrite64", "writev",
                                        "pwritev", "pwritev2"};
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        nrset_add(fm.writes, names[i], false);
    static const char *const renew[] = {
        "clone", "clone3", "fork", "vfork", "exit", "exit_group", "unshare"};
    for (unsigned i = 0; i < sizeof renew / sizeof renew[0]; i++)
        nrset_add(fm.renew, renew[i], false);
}

void fdmem_before_call(uint64_t nr, bool compat)
{
    if (fm.on && (compat || nrset_has(fm.renew, nr)))
        __atomic_fetch_add(&fm.gen, 1, __ATOMIC_ACQ_REL);
}

uint32_t fdmem_room(uint64_t nr, bool compat)
{
    if (!fm.on || compat || !nrset_has(fm.writes, nr))
        return 0;
    return VRAW_ALIGN(sizeof(struct vraw_blob) + sizeof(struct vsys_filemem));
}

static bool rd(struct vcpu *v, uint64_t va, void *dst, size_t len)
{
    return va >= KERNEL_BOTTOM && va + len > va && mem(v, va, dst, len);
}

/* task->files, remembered per vCPU: it changes only at execve (a new
 * address space, so a new cr3) and unshare (a new generation). */
static uint64_t files_of(struct vcpu *v, uint64_t task)
{
    uint64_t gen = __atomic_load_n(&fm.gen, __ATOMIC_ACQUIRE);
    if (v->fd_task == task && v->fd_cr3 == v->cr3 && v->fd_gen == gen &&
        v->fd_files != 0)
        return v->fd_files;
    uint64_t files = 0;
    if (!rd(v, task + fm.c.task_files, &files, 8) || files < KERNEL_BOTTOM)
        return 0;
    v->fd_task = task;
    v->fd_cr3 = v->cr3;
    v->fd_gen = gen;
    v->fd_files = files;
    return files;
}

/* The struct file of descriptor @fd of @task; 0 when none or unreadable.
 * A process with fewer than fd_array_n descriptors uses the table inside
 * its files_struct: one read gives fdt and the entry. */
static uint64_t file_of(struct vcpu *v, uint64_t task, uint64_t fd)
{
    const struct vring_fdmem_config *c = &fm.c;
    uint64_t files = files_of(v, task), fdt = 0, arr = 0, file = 0;
    uint32_t max = 0;
    uint8_t b[BLOCK_MAX];
    if (files == 0 || fd > INT32_MAX)
        return 0;
    if (fd < c->fd_array_n) {
        uint32_t at = c->files_fd_array + 8 * (uint32_t)fd - c->files_fdt;
        if (!rd(v, files + c->files_fdt, b, at + 8))
            return 0;
        memcpy(&fdt, b, 8);
        if (fdt == files + c->files_fdtab) {
            memcpy(&file, b + at, 8);
            return file;
        }
    } else if (!rd(v, files + c->files_fdt, &fdt, 8)) {
        return 0;
    }
    if (fm.fdt_len > sizeof b || !rd(v, fdt + fm.fdt_lo, b, fm.fdt_len))
        return 0;
    memcpy(&max, b + c->fdt_max_fds - fm.fdt_lo, 4);
    memcpy(&arr, b + c->fdt_fd - fm.fdt_lo, 8);
    if (fd >= max || !rd(v, arr + 8 * fd, &file, 8))
        return 0;
    return file;
}

uint32_t fdmem_capture(struct vcpu *v, uint64_t task, uint64_t fd, uint8_t *dst)
{
    const struct vring_fdmem_config *c = &fm.c;
    uint64_t slide, fop = 0;
    if (!fm.on || !ident_kernel_slide(&slide))
        return 0;
    uint64_t file = file_of(v, task, fd);
    if (file == 0 || !rd(v, file + c->file_f_op, &fop, 8) ||
        fop != c->mem_fops + slide)
        return 0;
    struct vsys_filemem m = {0};
    if (!rd(v, file + c->file_private, &m.mm, 8) ||
        !rd(v, file + c->file_pos, &m.pos, 8) || m.mm < KERNEL_BOTTOM)
        return 0;
    uint64_t owner = 0;
    if (c->mm_owner != 0 && rd(v, m.mm + c->mm_owner, &owner, 8) &&
        !rd(v, owner + fm.task_tgid, &m.owner, 4))
        m.owner = 0;
    struct vraw_blob *bl = (struct vraw_blob *)dst;
    *bl = (struct vraw_blob){
        .argi = 0, .kind = VSYS_CAP_FILEMEM, .len = sizeof m};
    memcpy(bl + 1, &m, sizeof m);
    return VRAW_ALIGN(sizeof *bl + sizeof m);
}
