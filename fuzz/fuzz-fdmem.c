/* The plugin's look-up of a write's file (plugin/fdmem.c) follows kernel
 * pointers another vCPU may be changing: task->files->fdt->fd[n]->f_op,
 * then the file's mm_struct and its owner. Here the guest kernel's memory
 * is the input: the first 16 bytes are the task's offset in it and the
 * descriptor, the rest is readable memory at KBASE (a files_struct's own
 * table holds 8 descriptors at +80, its fdtab at +24); everything else
 * faults. A blob comes out only for a file whose f_op is
 * proc_mem_operations, and never beyond the room asked for. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../plugin/fdmem.c"

#define KBASE 0xffff888000000000ull
#define FOPS  0xffffffff82047940ull /* proc_mem_operations, no slide */

static const uint8_t *guest;
static size_t guest_len;
static uint8_t membuf[1024];

bool ident_kernel_slide(uint64_t *slide)
{
    *slide = 0;
    return true;
}

bool qemu_plugin_read_memory_vaddr(uint64_t addr, GByteArray *data, size_t len)
{
    if (len > sizeof membuf || addr < KBASE || len > guest_len ||
        addr - KBASE > guest_len - len)
        return false;
    memcpy(membuf, guest + (addr - KBASE), len);
    data->data = membuf;
    data->len = (guint)len;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool set;
    if (!set) {
        /* Small offsets (6.1's order), so that short inputs reach far. */
        struct vring_config cfg = {.task_tgid = 4};
        cfg.fdmem = (struct vring_fdmem_config){.mem_fops = FOPS,
                                                .task_files = 8,
                                                .mm_owner = 16,
                                                .files_fdt = 16,
                                                .fdt_max_fds = 0,
                                                .fdt_fd = 8,
                                                .file_f_op = 8,
                                                .file_private = 16,
                                                .file_pos = 24,
                                                .files_fdtab = 24,
                                                .files_fd_array = 80,
                                                .fd_array_n = 8};
        fdmem_setup(&cfg, true);
        set = true;
    }
    uint64_t a[2];
    if (size < sizeof a)
        return 0;
    memcpy(a, data, sizeof a);
    guest = data + sizeof a;
    guest_len = size - sizeof a;

    GByteArray buf = {NULL, 0};
    struct vcpu v;
    memset(&v, 0, sizeof v);
    v.buf = &buf;
    uint32_t room = fdmem_room((uint64_t)vsys_number("write"), false);
    if (room == 0 || fdmem_room((uint64_t)vsys_number("read"), false) != 0)
        abort();
    uint8_t *out = malloc(room);
    uint32_t n = fdmem_capture(&v, KBASE + (a[0] & 0xffff), a[1], out);
    if (n != 0) {
        struct vraw_blob b;
        memcpy(&b, out, sizeof b);
        if (n != room || b.kind != VSYS_CAP_FILEMEM || b.argi != 0 ||
            b.len != sizeof(struct vsys_filemem))
            abort();
    }
    free(out);
    return 0;
}
