/* `vigil run --trace`: what the plugin must know of the guest kernel,
 * derived from its profile and written into the ring header (struct
 * vring_config): task_struct offsets, signal frames, hooked functions,
 * memory-map layouts. Everything here is read from the kernel's own BTF
 * and symbols; a part the kernel lacks is left 0 and the plugin does
 * without it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "run-trace-config.h"
#include "vigil/profile.h"
#include "vigil/file.h"

/* A kernel image or a profile, whichever --trace reads. */
#define PROFILE_INPUT_MAX (1u << 30)

int run_trace_profile(const struct run_trace_opts *o, const char *kernel,
                      struct vprof **out)
{
    struct vprof_diag d = {{0}};
    char *buf = NULL;
    size_t len = 0;
    const char *path = o->profile ? o->profile : kernel;
    int err = vigil_read_file(path, PROFILE_INPUT_MAX, (uint8_t **)&buf, &len);
    if (err < 0) {
        cli_error("%s: %s", path, strerror(-err));
        return err;
    }
    if (o->profile != NULL) {
        err = vprof_load_json(out, buf, len, &d);
    } else {
        struct vprof_kimage *img;
        err = vprof_kimage_open(&img, buf, len, 0, &d);
        if (err == 0) {
            err = vprof_build(out, img, &d);
            vprof_kimage_free(img);
        }
    }
    free(buf);
    if (err < 0)
        cli_error("profile of %s: %s", path, d.msg[0] ? d.msg : strerror(-err));
    return err;
}

static int member(const struct vprof *p, const char *path, uint32_t *off)
{
    struct vprof_member m;
    int err = vprof_member(p, "task_struct", path, &m);
    if (err < 0) {
        cli_error("the profile has no task_struct.%s", path);
        return err;
    }
    *off = (uint32_t)m.offset;
    return 0;
}

/* Where the kernel keeps a signal handler's flags; left 0 (hidden calls
 * then restart after a handler) when the kernel's BTF lacks any of it. */
static void sigaction_config(const struct vprof *p, struct vring_config *c)
{
    struct vprof_member sighand, action, flags;
    uint64_t size;
    if (vprof_member(p, "task_struct", "sighand", &sighand) < 0 ||
        vprof_member(p, "sighand_struct", "action", &action) < 0 ||
        vprof_member(p, "k_sigaction", "sa.sa_flags", &flags) < 0 ||
        vprof_struct_size(p, "k_sigaction", &size) < 0 ||
        sighand.offset > 65535 * 4 || action.offset > 65535 || size > 256 ||
        flags.offset + 8 > size || flags.size != 8)
        return;
    c->task_sighand = (uint32_t)sighand.offset;
    c->sighand_action = (uint32_t)action.offset;
    c->k_sigaction_size = (uint16_t)size;
    c->sa_flags = (uint16_t)flags.offset;
}

/* Where a signal handler's frame keeps the interrupted registers; left 0
 * (the plugin then reads no frame) when the kernel's BTF lacks them. */
static void sigframe_config(const struct vprof *p, struct vring_config *c)
{
    static const char *const regs[] = {"ip", "sp", "ax",  "cx", "di",
                                       "si", "dx", "r11", "r10"};
    uint16_t *dst[] = {&c->sc_ip, &c->sc_sp, &c->sc_ax,  &c->sc_cx, &c->sc_di,
                       &c->sc_si, &c->sc_dx, &c->sc_r11, &c->sc_r10};
    struct vprof_member m;
    if (vprof_member(p, "rt_sigframe", "uc.uc_mcontext", &m) < 0 ||
        m.offset > 4096)
        return;
    for (size_t i = 0; i < sizeof regs / sizeof *regs; i++) {
        struct vprof_member r;
        if (vprof_member(p, "sigcontext_64", regs[i], &r) < 0 ||
            r.offset > 1024 || r.size != 8)
            return;
        *dst[i] = (uint16_t)r.offset;
    }
    c->sigframe_ctx = (uint32_t)m.offset;
    sigaction_config(p, c);
}

/* Offset of @type.@path as 16 bits; false when absent or too far. */
static bool off16(const struct vprof *p, const char *type, const char *path,
                  uint16_t *out, uint64_t *size)
{
    struct vprof_member m;
    if (vprof_member(p, type, path, &m) < 0 || m.offset > 65535)
        return false;
    *out = (uint16_t)m.offset;
    if (size != NULL)
        *size = m.size;
    return true;
}

/* Where the plugin finds a process's memory map (--callers); left all 0,
 * and no maps sent, when the kernel's BTF lacks a part of it (a kernel
 * before the maple tree, 6.1). */
static void vma_config(const struct vprof *p, struct vring_vma_config *v)
{
    struct vring_vma_config c = {0};
    struct vprof_member mm, mt, root;
    uint16_t fp, pd, dn, ql, qn, st, br, sb, vd;
    uint64_t node, rp, rs, ap, as;
    bool ok = vprof_member(p, "task_struct", "mm", &mm) == 0 &&
              vprof_member(p, "mm_struct", "mm_mt", &mt) == 0 &&
              vprof_member(p, "maple_tree", "ma_root", &root) == 0 &&
              vprof_struct_size(p, "maple_node", &node) == 0 &&
              off16(p, "mm_struct", "start_stack", &st, NULL) &&
              off16(p, "mm_struct", "start_brk", &sb, NULL) &&
              off16(p, "mm_struct", "brk", &br, NULL) &&
              off16(p, "vm_area_struct", "vm_start", &c.vm_start, NULL) &&
              off16(p, "vm_area_struct", "vm_end", &c.vm_end, NULL) &&
              off16(p, "vm_area_struct", "vm_flags", &c.vm_flags, NULL) &&
              off16(p, "vm_area_struct", "vm_pgoff", &c.vm_pgoff, NULL) &&
              off16(p, "vm_area_struct", "vm_file", &c.vm_file, NULL) &&
              off16(p, "vm_area_struct", "vm_mm", &c.vm_mm, NULL) &&
              off16(p, "file", "f_path", &fp, NULL) &&
              off16(p, "path", "dentry", &pd, NULL) &&
              off16(p, "dentry", "d_parent", &c.d_parent, NULL) &&
              off16(p, "dentry", "d_name", &dn, NULL) &&
              off16(p, "qstr", "len", &ql, NULL) &&
              off16(p, "qstr", "name", &qn, NULL) &&
              off16(p, "maple_range_64", "pivot", &c.r64_pivot, &rp) &&
              off16(p, "maple_range_64", "slot", &c.r64_slot, &rs) &&
              off16(p, "maple_arange_64", "pivot", &c.a64_pivot, &ap) &&
              off16(p, "maple_arange_64", "slot", &c.a64_slot, &as);
    /* A node is read whole: its arrays must lie inside it, with one
     * pivot fewer than slots. */
    if (!ok || node == 0 || node > 1024 || rs / 8 != rp / 8 + 1 ||
        as / 8 != ap / 8 + 1 || rs / 8 > 64 || as / 8 > 64 ||
        c.r64_slot + rs > node || c.r64_pivot + rp > node ||
        c.a64_slot + as > node || c.a64_pivot + ap > node)
        return;
    c.task_mm = (uint32_t)mm.offset;
    c.mm_root = (uint32_t)(mt.offset + root.offset);
    c.mm_start_stack = st;
    c.mm_start_brk = sb;
    c.mm_brk = br;
    c.mm_vdso = off16(p, "mm_struct", "context.vdso", &vd, NULL) ? vd : 0;
    uint16_t av;
    c.vm_anon_vma = off16(p, "vm_area_struct", "anon_vma", &av, NULL) ? av : 0;
    c.file_dentry = (uint16_t)(fp + pd);
    c.d_len = (uint16_t)(dn + ql);
    c.d_name = (uint16_t)(dn + qn);
    c.node_size = (uint16_t)node;
    c.r64_slots = (uint8_t)(rs / 8);
    c.a64_slots = (uint8_t)(as / 8);
    *v = c;
}

/* Where the plugin finds a descriptor's struct file and tells
 * /proc/PID/mem by its f_op (--callers); left all 0, and such writes then
 * known by path only, when the profile lacks a part of it. */
static void fdmem_config(const struct vprof *p, struct vring_fdmem_config *f)
{
    struct vring_fdmem_config c = {0};
    struct vprof_member files, owner;
    if (vprof_symbol(p, "proc_mem_operations", &c.mem_fops) < 0 ||
        vprof_member(p, "task_struct", "files", &files) < 0 ||
        files.offset > UINT32_MAX ||
        !off16(p, "files_struct", "fdt", &c.files_fdt, NULL) ||
        !off16(p, "fdtable", "max_fds", &c.fdt_max_fds, NULL) ||
        !off16(p, "fdtable", "fd", &c.fdt_fd, NULL) ||
        !off16(p, "file", "f_op", &c.file_f_op, NULL) ||
        !off16(p, "file", "private_data", &c.file_private, NULL) ||
        !off16(p, "file", "f_pos", &c.file_pos, NULL) || c.mem_fops == 0 ||
        c.fdt_max_fds > 16 || c.fdt_fd > 16)
        return; /* the plugin reads max_fds and fd in one 24-byte read */
    c.task_files = (uint32_t)files.offset;
    /* The embedded table, read with fdt in one go (at most 1 KiB). */
    uint16_t tab, arr;
    uint64_t arr_size;
    if (off16(p, "files_struct", "fdtab", &tab, NULL) &&
        off16(p, "files_struct", "fd_array", &arr, &arr_size) &&
        arr > c.files_fdt && arr_size >= 8 && arr_size <= 1024 &&
        arr - c.files_fdt + arr_size <= 1024) {
        c.files_fdtab = tab;
        c.files_fd_array = arr;
        c.fd_array_n = (uint16_t)(arr_size / 8);
    }
    if (vprof_member(p, "mm_struct", "owner", &owner) == 0 &&
        owner.offset <= UINT32_MAX)
        c.mm_owner = (uint32_t)owner.offset;
    *f = c;
}

int run_trace_config(const struct vprof *p, const struct run_trace_opts *o,
                     struct vring_config *c)
{
    memset(c, 0, sizeof *c);
    if (vprof_percpu(p, "current_task", &c->current_task_pcpu) < 0) {
        cli_error("the profile has no per-CPU offset of current_task");
        return -ENOENT;
    }
    if (member(p, "pid", &c->task_pid) < 0 ||
        member(p, "tgid", &c->task_tgid) < 0 ||
        member(p, "comm", &c->task_comm) < 0 ||
        member(p, "real_parent", &c->task_real_parent) < 0)
        return -ENOENT;
    c->str_max = o->str_max;
    c->buf_max = o->buf_max;
    c->argv_max = o->argv_max;
    sigframe_config(p, c);
    struct vprof_member ax;
    if (vprof_symbol(p, "init_task", &c->init_task) < 0 ||
        vprof_symbol(p, "arch_do_signal_or_restart", &c->signal_fn) < 0 ||
        vprof_member(p, "pt_regs", "ax", &ax) < 0 || ax.offset > 1024)
        c->init_task = c->signal_fn = 0; /* results then from signal frames */
    else
        c->regs_ax = (uint16_t)ax.offset;
    /* acct_process: do_exit calls it once the thread group is dead, however
     * its last thread ended (exit_group, a signal, or exit alone). */
    if (vprof_symbol(p, "acct_process", &c->group_exit_fn) < 0 &&
        vprof_symbol(p, "do_group_exit", &c->group_exit_fn) < 0)
        c->group_exit_fn = 0;
    if (vprof_symbol(p, "__switch_to", &c->switch_fn) < 0)
        c->switch_fn = 0; /* the plugin then reads the task at every call */
    if (vprof_symbol(p, "perf_event_comm", &c->comm_fn) < 0)
        c->comm_fn = 0; /* renames then guessed from the calls that may */
    if (o->act.flags & VACT_CALLERS) {
        vma_config(p, &c->vma);
        fdmem_config(p, &c->fdmem);
    }
    return 0;
}
