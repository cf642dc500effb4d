/* Build a vigil profile from a kernel image: pick the symbols, per-CPU
 * offsets and struct members vigil needs, validate them against the ELF
 * section table, and record them in the JSON model (profile-json.c). */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "profile/internal.h"
#include "profile/model.h"

enum {
    OPT = 0,
    ESSENTIAL = 1,
};

/* What a symbol must point into, to catch a wrong kallsyms decoding. */
enum where {
    ANY,
    TEXT,   /* an executable section */
    DATA,   /* an allocated section with file bytes */
    PERCPU, /* an offset inside the per-CPU template */
};

struct sym_spec {
    const char *name;
    int need;
    enum where where;
};

static const struct sym_spec sym_specs[] = {
    {"_text", ESSENTIAL, TEXT},
    {"_stext", OPT, TEXT},
    {"_etext", OPT, ANY},
    {"_sdata", OPT, ANY},
    {"_edata", OPT, ANY},
    {"_end", OPT, ANY},
    {"entry_SYSCALL_64", ESSENTIAL, TEXT},
    {"entry_SYSCALL_compat", OPT, TEXT},
    {"entry_INT80_compat", OPT, TEXT},
    {"entry_SYSENTER_compat", OPT, TEXT},
    {"asm_int80_emulation", OPT, TEXT},
    {"do_int80_emulation", OPT, TEXT},
    {"do_int80_syscall_32", OPT, TEXT},
    {"do_fast_syscall_32", OPT, TEXT},
    {"do_syscall_64", OPT, TEXT},
    {"arch_do_signal_or_restart", OPT, TEXT},
    {"do_group_exit", OPT, TEXT},
    {"acct_process", OPT, TEXT},
    {"__switch_to", OPT, TEXT},
    /* called by __set_task_comm once a thread's new name is in place */
    {"perf_event_comm", OPT, TEXT},
    {"x64_sys_call", OPT, TEXT},
    {"ia32_sys_call", OPT, TEXT},
    {"sys_call_table", OPT, DATA},
    {"ia32_sys_call_table", OPT, DATA},
    {"init_task", ESSENTIAL, DATA},
    {"init_mm", OPT, DATA},
    /* /proc/PID/mem's file operations: a write's file told by the kernel's
     * struct file, not its path (--callers, plugin/fdmem.c) */
    {"proc_mem_operations", OPT, DATA},
    {"linux_banner", ESSENTIAL, DATA},
    {"__per_cpu_offset", ESSENTIAL, DATA},
    {"__per_cpu_start", OPT, ANY},
    {"__per_cpu_end", OPT, ANY},
    {"current_task", OPT, PERCPU},
    {"pcpu_hot", OPT, PERCPU},
    {"cpu_number", OPT, PERCPU},
    {"cpu_current_top_of_stack", OPT, PERCPU},
    {"page_offset_base", OPT, ANY},
    {"phys_base", OPT, ANY},
    {"init_top_pgt", OPT, ANY},
};

struct member_spec {
    const char *type;
    const char *path;
    int need;
};

static const struct member_spec member_specs[] = {
    {"task_struct", "pid", ESSENTIAL},
    {"task_struct", "tgid", ESSENTIAL},
    {"task_struct", "comm", ESSENTIAL},
    {"task_struct", "flags", OPT},
    {"task_struct", "__state", OPT},
    {"task_struct", "exit_state", OPT},
    {"task_struct", "mm", ESSENTIAL},
    {"task_struct", "active_mm", OPT},
    {"task_struct", "real_parent", ESSENTIAL},
    {"task_struct", "parent", ESSENTIAL},
    {"task_struct", "group_leader", ESSENTIAL},
    {"task_struct", "tasks", ESSENTIAL},
    {"task_struct", "thread_group", OPT},
    {"task_struct", "thread_node", OPT},
    {"task_struct", "signal", ESSENTIAL},
    {"task_struct", "sighand", OPT},
    {"task_struct", "files", ESSENTIAL},
    {"task_struct", "fs", OPT},
    {"task_struct", "cred", ESSENTIAL},
    {"task_struct", "real_cred", OPT},
    {"task_struct", "stack", OPT},
    {"signal_struct", "thread_head", OPT},
    {"signal_struct", "nr_threads", OPT},
    {"cred", "uid", OPT},
    {"cred", "gid", OPT},
    {"cred", "euid", OPT},
    {"cred", "egid", OPT},
    {"cred", "fsuid", OPT},
    {"mm_struct", "mmap", OPT},
    {"mm_struct", "mm_mt", OPT},
    {"mm_struct", "pgd", ESSENTIAL},
    {"mm_struct", "exe_file", ESSENTIAL},
    {"mm_struct", "start_code", ESSENTIAL},
    {"mm_struct", "end_code", ESSENTIAL},
    {"mm_struct", "start_data", OPT},
    {"mm_struct", "end_data", OPT},
    {"mm_struct", "start_brk", OPT},
    {"mm_struct", "brk", OPT},
    {"mm_struct", "start_stack", ESSENTIAL},
    {"mm_struct", "arg_start", ESSENTIAL},
    {"mm_struct", "arg_end", ESSENTIAL},
    {"mm_struct", "env_start", OPT},
    {"mm_struct", "env_end", OPT},
    {"mm_struct", "map_count", OPT},
    {"mm_struct", "context.vdso", OPT},
    {"mm_struct", "owner", OPT}, /* CONFIG_MEMCG */
    {"maple_tree", "ma_root", OPT},
    {"maple_tree", "ma_flags", OPT},
    /* The maple tree's nodes (6.1 on): a process's memory map for
     * --callers (plugin/vma.c). */
    {"maple_node", "slot", OPT},
    {"maple_range_64", "pivot", OPT},
    {"maple_range_64", "slot", OPT},
    {"maple_arange_64", "pivot", OPT},
    {"maple_arange_64", "slot", OPT},
    {"vm_area_struct", "vm_start", ESSENTIAL},
    {"vm_area_struct", "vm_end", ESSENTIAL},
    {"vm_area_struct", "vm_mm", OPT},
    {"vm_area_struct", "vm_next", OPT},
    {"vm_area_struct", "vm_flags", ESSENTIAL},
    {"vm_area_struct", "vm_pgoff", ESSENTIAL},
    {"vm_area_struct", "vm_file", ESSENTIAL},
    /* set once a private mapping has pages of its own (copy-on-write):
     * --callers' modified file code (plugin/vma.c) */
    {"vm_area_struct", "anon_vma", OPT},
    {"file", "f_path", ESSENTIAL},
    {"file", "f_op", OPT},
    {"file", "f_inode", ESSENTIAL},
    {"file", "f_flags", OPT},
    {"file", "f_mode", OPT},
    {"file", "f_pos", OPT},
    {"file", "private_data", OPT},
    {"path", "mnt", ESSENTIAL},
    {"path", "dentry", ESSENTIAL},
    {"dentry", "d_parent", ESSENTIAL},
    {"dentry", "d_name", ESSENTIAL},
    {"dentry", "d_inode", OPT},
    {"dentry", "d_iname", OPT},
    {"qstr", "hash", OPT},
    {"qstr", "len", ESSENTIAL},
    {"qstr", "name", ESSENTIAL},
    {"inode", "i_mode", OPT},
    {"inode", "i_ino", OPT},
    {"vfsmount", "mnt_root", OPT},
    {"mount", "mnt_parent", OPT},
    {"mount", "mnt_mountpoint", OPT},
    {"mount", "mnt", OPT},
    {"files_struct", "fdt", ESSENTIAL},
    {"files_struct", "fdtab", OPT},
    {"files_struct", "fd_array", OPT},
    {"fdtable", "max_fds", ESSENTIAL},
    {"fdtable", "fd", ESSENTIAL},
    {"socket", "state", OPT},
    {"socket", "type", ESSENTIAL},
    {"socket", "file", ESSENTIAL},
    {"socket", "sk", ESSENTIAL},
    {"sock", "__sk_common", ESSENTIAL},
    {"sock", "__sk_common.skc_daddr", ESSENTIAL},
    {"sock", "__sk_common.skc_rcv_saddr", ESSENTIAL},
    {"sock", "__sk_common.skc_dport", ESSENTIAL},
    {"sock", "__sk_common.skc_num", ESSENTIAL},
    {"sock", "__sk_common.skc_family", ESSENTIAL},
    {"sock", "sk_type", OPT},
    {"sock", "sk_protocol", OPT},
    {"sock_common", "skc_daddr", OPT},
    {"sock_common", "skc_rcv_saddr", OPT},
    {"sock_common", "skc_dport", OPT},
    {"sock_common", "skc_num", OPT},
    {"sock_common", "skc_family", OPT},
    {"sock_common", "skc_v6_daddr", OPT},
    {"sock_common", "skc_v6_rcv_saddr", OPT},
    {"pt_regs", "r15", ESSENTIAL},
    {"pt_regs", "r14", ESSENTIAL},
    {"pt_regs", "r13", ESSENTIAL},
    {"pt_regs", "r12", ESSENTIAL},
    {"pt_regs", "bp", ESSENTIAL},
    {"pt_regs", "bx", ESSENTIAL},
    {"pt_regs", "r11", ESSENTIAL},
    {"pt_regs", "r10", ESSENTIAL},
    {"pt_regs", "r9", ESSENTIAL},
    {"pt_regs", "r8", ESSENTIAL},
    {"pt_regs", "ax", ESSENTIAL},
    {"pt_regs", "cx", ESSENTIAL},
    {"pt_regs", "dx", ESSENTIAL},
    {"pt_regs", "si", ESSENTIAL},
    {"pt_regs", "di", ESSENTIAL},
    {"pt_regs", "orig_ax", ESSENTIAL},
    {"pt_regs", "ip", ESSENTIAL},
    {"pt_regs", "cs", ESSENTIAL},
    {"pt_regs", "flags", ESSENTIAL},
    {"pt_regs", "sp", ESSENTIAL},
    {"pt_regs", "ss", ESSENTIAL},
    {"pcpu_hot", "current_task", OPT},
    {"pcpu_hot", "cpu_number", OPT},
    {"pcpu_hot", "top_of_stack", OPT},
    /* The signal frame a 64-bit handler starts on: where a call's result
     * and registers are when a signal arrives on its way back; the
     * handler's flags (SA_RESTART) in the kernel. */
    {"rt_sigframe", "uc.uc_mcontext", OPT},
    {"sighand_struct", "action", OPT},
    {"k_sigaction", "sa.sa_flags", OPT},
    {"sigcontext_64", "ip", OPT},
    {"sigcontext_64", "sp", OPT},
    {"sigcontext_64", "ax", OPT},
    {"sigcontext_64", "cx", OPT},
    {"sigcontext_64", "di", OPT},
    {"sigcontext_64", "si", OPT},
    {"sigcontext_64", "dx", OPT},
    {"sigcontext_64", "r11", OPT},
    {"sigcontext_64", "r10", OPT},
};

/* Per-CPU variables: a symbol of their own (up to 6.1), or a member of
 * struct pcpu_hot (6.2 to 6.14). */
struct percpu_spec {
    const char *name;
    const char *symbol;
    const char *hot_member;
    int need;
};

static const struct percpu_spec percpu_specs[] = {
    {"current_task", "current_task", "current_task", ESSENTIAL},
    {"cpu_number", "cpu_number", "cpu_number", OPT},
    {"top_of_stack", "cpu_current_top_of_stack", "top_of_stack", OPT},
};

/* At least one of each pair must exist. */
static const char *const member_alternatives[][3] = {
    {"task_struct", "thread_group", "thread_node"},
    {"mm_struct", "mmap", "mm_mt"},
};

struct builder {
    struct vprof_kimage *img;
    const struct vprof_btf *btf;
    const struct vprof_ksyms *ks;
    json_t *root;
    json_t *notes;
    struct vprof_diag *d;
};

static int nomem(struct builder *b)
{
    return vprof_fail(b->d, ENOMEM, "out of memory");
}

static int note(struct builder *b, const char *fmt, ...) VPROF_PRINTF(2, 3);
static int note(struct builder *b, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (json_array_append_new(b->notes, json_string(buf)) < 0)
        return nomem(b);
    return 0;
}

static json_t *hex(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "0x%" PRIx64, v);
    return json_string(buf);
}

static int check_where(struct builder *b, const struct vprof_ksym *s,
                       enum where w)
{
    uint64_t addr, size;
    switch (w) {
    case ANY:
        return 0;
    case PERCPU:
        if (vprof_kimage_section(b->img, ".data..percpu", &addr, &size) < 0 ||
            s->addr < size)
            return 0;
        break;
    case TEXT:
        if (vprof_kimage_va_exec(b->img, s->addr))
            return 0;
        break;
    case DATA:
        if (vprof_kimage_va_data(b->img, s->addr))
            return 0;
        break;
    }
    return vprof_fail(b->d, EINVAL,
                      "kallsyms decoding disagrees with the ELF sections: "
                      "%s at 0x%" PRIx64 " is not in %s",
                      s->name, s->addr,
                      w == TEXT   ? "an executable section"
                      : w == DATA ? "a section with data"
                                  : "the per-CPU area");
}

static int add_symbols(struct builder *b, json_t *syms)
{
    for (size_t i = 0; i < sizeof sym_specs / sizeof sym_specs[0]; i++) {
        const struct sym_spec *sp = &sym_specs[i];
        struct vprof_ksym s;
        json_t *v;
        if (vprof_ksyms_lookup(b->ks, sp->name, &s) == 0) {
            int rc = check_where(b, &s, sp->where);
            if (rc < 0)
                return rc;
            v = hex(s.addr);
        } else if (sp->need == ESSENTIAL) {
            return vprof_fail(b->d, ENOENT,
                              "essential symbol %s is not in kallsyms",
                              sp->name);
        } else {
            int rc = note(b, "symbol %s: not in this kernel", sp->name);
            if (rc < 0)
                return rc;
            v = json_null();
        }
        if (json_object_set_new(syms, sp->name, v) < 0)
            return nomem(b);
    }
    if (json_is_null(json_object_get(syms, "sys_call_table")) &&
        json_is_null(json_object_get(syms, "x64_sys_call")))
        return vprof_fail(b->d, ENOENT,
                          "neither sys_call_table nor x64_sys_call is in "
                          "kallsyms: no way to map syscall numbers");
    return 0;
}

/* Members of one struct, specs [first, end). */
static int add_struct(struct builder *b, json_t *structs, size_t first,
                      size_t end)
{
    const char *type = member_specs[first].type;
    uint64_t size;
    struct vprof_diag why;
    /* A type's members are one run of the table: a second run would
     * replace the first. */
    if (json_object_get(structs, type) != NULL)
        return vprof_fail(b->d, EINVAL,
                          "internal: the members of %s are not together in "
                          "member_specs",
                          type);
    if (vprof_btf_struct_size(b->btf, type, &size, &why) < 0) {
        for (size_t i = first; i < end; i++)
            if (member_specs[i].need == ESSENTIAL)
                return vprof_fail(b->d, ENOENT, "%s", why.msg);
        int rc = note(b, "struct %s: not in this kernel", type);
        if (rc < 0)
            return rc;
        return json_object_set_new(structs, type, json_null()) < 0 ? nomem(b)
                                                                   : 0;
    }
    json_t *st = json_object(), *members = json_object();
    if (st == NULL || members == NULL ||
        json_object_set_new(st, "size", json_integer((json_int_t)size)) < 0 ||
        json_object_set_new(st, "members", members) < 0 ||
        json_object_set_new(structs, type, st) < 0) {
        json_decref(st);
        return nomem(b);
    }
    for (size_t i = first; i < end; i++) {
        const struct member_spec *ms = &member_specs[i];
        struct vprof_btf_member m;
        int rc = vprof_btf_member(b->btf, type, ms->path, &m, &why);
        json_t *v;
        if (rc == -ENOENT && ms->need != ESSENTIAL) {
            rc = note(b, "%s.%s: not in this kernel", type, ms->path);
            if (rc < 0)
                return rc;
            v = json_null();
        } else if (rc < 0) {
            return vprof_fail(b->d, -rc, "%s", why.msg);
        } else {
            v = json_pack("{s:I,s:I}", "offset", (json_int_t)(m.bit_offset / 8),
                          "size", (json_int_t)m.size);
            if (v != NULL && m.bit_size != 0 &&
                (json_object_set_new(
                     v, "bit_offset",
                     json_integer((json_int_t)(m.bit_offset % 8))) < 0 ||
                 json_object_set_new(v, "bit_size", json_integer(m.bit_size)) <
                     0)) {
                json_decref(v);
                v = NULL;
            }
        }
        if (v == NULL || json_object_set_new(members, ms->path, v) < 0)
            return nomem(b);
    }
    return 0;
}

static int add_structs(struct builder *b, json_t *structs)
{
    size_t n = sizeof member_specs / sizeof member_specs[0];
    for (size_t first = 0; first < n;) {
        size_t end = first + 1;
        while (end < n &&
               !strcmp(member_specs[end].type, member_specs[first].type))
            end++;
        int rc = add_struct(b, structs, first, end);
        if (rc < 0)
            return rc;
        first = end;
    }
    for (size_t i = 0;
         i < sizeof member_alternatives / sizeof member_alternatives[0]; i++) {
        const char *const *alt = member_alternatives[i];
        json_t *members =
            json_object_get(json_object_get(structs, alt[0]), "members");
        if (json_is_null(json_object_get(members, alt[1])) &&
            json_is_null(json_object_get(members, alt[2])))
            return vprof_fail(b->d, ENOENT,
                              "struct %s has neither %s nor %s in BTF", alt[0],
                              alt[1], alt[2]);
    }
    return 0;
}

static int add_percpu(struct builder *b, json_t *percpu, json_t *structs)
{
    struct vprof_ksym hot;
    bool have_hot = vprof_ksyms_lookup(b->ks, "pcpu_hot", &hot) == 0;
    json_t *hot_members =
        json_object_get(json_object_get(structs, "pcpu_hot"), "members");
    for (size_t i = 0; i < sizeof percpu_specs / sizeof percpu_specs[0]; i++) {
        const struct percpu_spec *ps = &percpu_specs[i];
        struct vprof_ksym s;
        json_t *m = json_object_get(hot_members, ps->hot_member);
        json_t *v;
        if (vprof_ksyms_lookup(b->ks, ps->symbol, &s) == 0) {
            /* Offsets into the per-CPU area are small; anything else means
             * a kernel whose per-CPU variables are not zero-based. */
            if (s.addr >= ((uint64_t)1 << 32))
                return vprof_fail(b->d, EINVAL,
                                  "%s at 0x%" PRIx64 " is not a per-CPU "
                                  "offset (per-CPU data not zero-based?)",
                                  ps->symbol, s.addr);
            v = json_integer((json_int_t)s.addr);
        } else if (have_hot && hot.addr < ((uint64_t)1 << 32) &&
                   json_is_object(m)) {
            json_int_t off = json_integer_value(json_object_get(m, "offset"));
            v = json_integer((json_int_t)hot.addr + off);
        } else if (ps->need == ESSENTIAL) {
            return vprof_fail(b->d, ENOENT,
                              "cannot locate per-CPU %s: no %s symbol and no "
                              "pcpu_hot.%s",
                              ps->name, ps->symbol, ps->hot_member);
        } else {
            int rc = note(b, "per-CPU %s: not found", ps->name);
            if (rc < 0)
                return rc;
            v = json_null();
        }
        if (v == NULL || json_object_set_new(percpu, ps->name, v) < 0)
            return nomem(b);
    }
    return 0;
}

/* linux_banner is "Linux version <release> (<builder>) <version>\n". */
static int add_kernel(struct builder *b, json_t *kernel, json_t *syms)
{
    static const char prefix[] = "Linux version ";
    const char *addr = json_string_value(json_object_get(syms, "linux_banner"));
    char banner[1024];
    int rc = vprof_kimage_string(b->img, strtoull(addr, NULL, 16), banner,
                                 sizeof banner);
    if (rc < 0 || strncmp(banner, prefix, sizeof prefix - 1) != 0)
        return vprof_fail(b->d, EINVAL,
                          "linux_banner at %s does not hold a \"Linux "
                          "version\" string",
                          addr);
    size_t n = strlen(banner);
    while (n > 0 && (banner[n - 1] == '\n' || banner[n - 1] == ' '))
        banner[--n] = '\0';
    const char *rel = banner + sizeof prefix - 1;
    size_t rlen = strcspn(rel, " ");
    if (rlen == 0)
        return vprof_fail(b->d, EINVAL, "linux_banner has no release");
    size_t vlen;
    vprof_kimage_vmlinux(b->img, &vlen);
    unsigned proto = vprof_kimage_boot_protocol(b->img);
    char pbuf[16];
    snprintf(pbuf, sizeof pbuf, "%u.%02u", proto >> 8, proto & 0xff);
    if (json_object_set_new(kernel, "release", json_stringn(rel, rlen)) < 0 ||
        json_object_set_new(kernel, "banner", json_string(banner)) < 0 ||
        json_object_set_new(kernel, "arch", json_string("x86_64")) < 0 ||
        json_object_set_new(kernel, "compression",
                            json_string(vprof_kimage_compression(b->img))) <
            0 ||
        json_object_set_new(kernel, "boot_protocol",
                            proto != 0 ? json_string(pbuf) : json_null()) < 0 ||
        json_object_set_new(kernel, "vmlinux_size",
                            json_integer((json_int_t)vlen)) < 0)
        return nomem(b);
    return 0;
}

static int add_tables_info(struct builder *b, json_t *ksi, json_t *btfi)
{
    struct vprof_ksyms_layout l;
    vprof_ksyms_layout(b->ks, &l);
    json_t *order = json_array();
    if (order == NULL || json_object_set_new(ksi, "table_order", order) < 0)
        return nomem(b);
    for (size_t i = 0; i < sizeof l.order / sizeof l.order[0] && l.order[i];
         i++)
        if (json_array_append_new(order, json_string(l.order[i])) < 0)
            return nomem(b);
    if (json_object_set_new(
            ksi, "count", json_integer((json_int_t)vprof_ksyms_count(b->ks))) <
            0 ||
        json_object_set_new(ksi, "relative_base", hex(l.relative_base)) < 0 ||
        json_object_set_new(ksi, "absolute_percpu",
                            json_boolean(l.absolute_percpu)) < 0 ||
        json_object_set_new(btfi, "types",
                            json_integer(vprof_btf_type_count(b->btf))) < 0)
        return nomem(b);
    return 0;
}

int vprof_build(struct vprof **out, struct vprof_kimage *img,
                struct vprof_diag *d)
{
    struct builder b = {.img = img, .d = d};
    int rc = vprof_kimage_btf(img, &b.btf, d);
    if (rc < 0)
        return rc;
    rc = vprof_kimage_ksyms(img, &b.ks, d);
    if (rc < 0)
        return rc;
    json_t *kernel = json_object(), *ksi = json_object(), *btfi = json_object();
    json_t *syms = json_object(), *percpu = json_object();
    json_t *structs = json_object();
    b.notes = json_array();
    b.root =
        json_pack("{s:s,s:i,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "format",
                  VIGIL_PROFILE_FORMAT, "version", VIGIL_PROFILE_VERSION,
                  "kernel", kernel, "kallsyms", ksi, "btf", btfi, "symbols",
                  syms, "percpu", percpu, "structs", structs, "notes", b.notes);
    if (b.root == NULL)
        return nomem(&b); /* json_pack consumed the references */
    rc = add_symbols(&b, syms);
    if (rc == 0)
        rc = add_kernel(&b, kernel, syms);
    if (rc == 0)
        rc = add_tables_info(&b, ksi, btfi);
    if (rc == 0)
        rc = add_structs(&b, structs);
    if (rc == 0)
        rc = add_percpu(&b, percpu, structs);
    if (rc == 0)
        rc = vprof_model_validate(b.root, d);
    struct vprof *p = rc == 0 ? malloc(sizeof *p) : NULL;
    if (rc == 0 && p == NULL)
        rc = nomem(&b);
    if (rc < 0) {
        json_decref(b.root);
        return rc;
    }
    p->root = b.root;
    *out = p;
    return 0;
}
