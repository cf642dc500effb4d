/* The caller / origin verdict (lib/trace/origin.c, procmem.c, shmseg.c)
 * over the consumer's memory maps, from synthetic VRAW_VMAS records,
 * synthetic events and synthetic return-address chains and branch
 * histories: what the plugin would send. The /proc/PID/mem routes and
 * forged stacks are in test-origin-mem.c. */
#undef NDEBUG
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace/origin.h"
#include "trace/vmmap.h"
#include "vigil/syscalls.h"

#include "check.h"
#include "origin-ev.h"
#include "vmrec.h"

/* The caller: the syscall instruction's module, or the chain's first frame past
 * the wrappers. */
static void callers_chain(struct vorigin *o, struct vmmap *m)
{
    struct vigil_origin org;
    struct vigil_syscall ev = event("write", 100, "prog", 0x7f0000001234);
    CHECK(vorigin_resolve(o, m, &ev, &org) && org.module != NULL &&
              !strcmp(org.module, LIBC) &&
              org.offset == 0x1234 - 0x1000 + 0x28000 &&
              org.kind == VIGIL_ORIGIN_NONE,
          "without a chain, the caller is the syscall instruction's module "
          "(libc), at its file offset");

    /* libx calls write() through libc: the chain's first frame outside
     * the wrappers is libx's. */
    uint64_t chain[] = {0x7f0000002000, 0x7f0000303010, 0x401010};
    struct vigil_callers cs = {.nchain = 3,
                               .chain = chain,
                               .chain_trunc = false,
                               .nbranch = 0,
                               .branches = NULL};
    ev.callers = &cs;
    CHECK(vorigin_resolve(o, m, &ev, &org) && !strcmp(org.module, LIBX) &&
              org.offset == 0x10 + 3 * 4096 && org.addr == 0x7f0000303010,
          "with a chain, the caller is the library that called libc");
    chain[1] = 0x12345; /* a frame in no mapping */
    CHECK(vorigin_resolve(o, m, &ev, &org) &&
              !strcmp(org.module, "/usr/bin/prog"),
          "frames in no mapping are passed over");
    ev.callers = NULL;

    ev = event("getpid", 101, "other", 0x401000);
    CHECK(!vorigin_resolve(o, m, &ev, &org), "no map, no verdict");
}

/* Anonymous code: injected unless the process itself made it (a JIT). */
static void origin_own_code(struct vorigin *o, struct vmmap *m)
{
    struct vigil_origin org;
    /* Anonymous code the process never made writable and executable. */
    struct vigil_syscall ev = event("getpid", 100, "prog", 0x7f0000200010);
    CHECK(vorigin_resolve(o, m, &ev, &org) && !strcmp(org.module, "[anon]") &&
              org.kind == VIGIL_ORIGIN_INJECTED &&
              !strcmp(org.evidence.kind, "anon-exec"),
          "anonymous code without a history of its own is injected");

    /* A JIT: mmap RW, then mprotect RX, by the process itself. */
    struct vigil_syscall mm = event("mmap", 100, "prog", 0x7f0000001000);
    mm.args[1] = 4096;
    mm.args[2] = 3; /* PROT_READ|PROT_WRITE */
    mm.ret = 0x7f0000200000;
    vorigin_learn(o, &mm);
    struct vigil_syscall mp = event("mprotect", 100, "prog", 0x7f0000001000);
    mp.args[0] = 0x7f0000200000;
    mp.args[1] = 4096;
    mp.args[2] = 5; /* PROT_READ|PROT_EXEC */
    vorigin_learn(o, &mp);
    CHECK(vorigin_resolve(o, m, &ev, &org) &&
              org.kind == VIGIL_ORIGIN_SELF_GENERATED &&
              org.evidence.pid == 100 && !strcmp(org.evidence.call, "mprotect"),
          "code the process wrote and made executable itself is "
          "self-generated");
}

/* Another process writes the code: process_vm_writev, ptrace, /proc/PID/mem. */
static void origin_other_writers(struct vorigin *o, struct vmmap *m)
{
    struct vigil_origin org;
    struct vigil_syscall ev = event("getpid", 100, "prog", 0x7f0000200010);

    /* Another process writes into that page: injected, naming it. */
    struct vigil_syscall pvw =
        event("process_vm_writev", 200, "injector", 0x7f0000001000);
    uint64_t iov[2] = {0x7f0000200000, 64};
    pvw.args[0] = 100;
    pvw.args[4] = 1; /* riovcnt */
    pvw.ret = 64;
    pvw.ncaps = 1;
    pvw.caps[0] = (struct vigil_capture){.argi = 3,
                                         .kind = VSYS_CAP_STRUCT,
                                         .at_exit = false,
                                         .fault = false,
                                         .trunc = false,
                                         .len = sizeof iov,
                                         .data = (const uint8_t *)iov};
    vorigin_learn(o, &pvw);
    CHECK(vorigin_resolve(o, m, &ev, &org) &&
              org.kind == VIGIL_ORIGIN_INJECTED && org.evidence.pid == 200 &&
              !strcmp(org.evidence.comm, "injector") &&
              !strcmp(org.evidence.call, "process_vm_writev"),
          "code another process wrote is injected, naming the writer");
    ev.ip = 0x7f0000200000 + 64;
    CHECK(vorigin_resolve(o, m, &ev, &org) &&
              org.kind == VIGIL_ORIGIN_SELF_GENERATED,
          "... only the bytes it wrote");

    /* ptrace POKETEXT into libc's text (copy-on-write). */
    struct vigil_syscall pk = event("ptrace", 300, "poker", 0x7f0000001000);
    pk.args[0] = 4; /* PTRACE_POKETEXT */
    pk.args[1] = 100;
    pk.args[2] = 0x7f0000005000;
    vorigin_learn(o, &pk);
    ev.ip = 0x7f0000005004;
    CHECK(vorigin_resolve(o, m, &ev, &org) && !strcmp(org.module, LIBC) &&
              org.kind == VIGIL_ORIGIN_INJECTED && org.evidence.pid == 300 &&
              !strcmp(org.evidence.kind, "ptrace"),
          "a file mapping another process poked is injected");
    ev.ip = 0x7f0000001234;
    CHECK(vorigin_resolve(o, m, &ev, &org) && org.kind == VIGIL_ORIGIN_NONE,
          "the rest of libc is not");

    /* /proc/PID/mem: open, lseek, write. */
    struct vigil_syscall op = event("openat", 400, "memw", 0x7f0000001000);
    const char *path = "/proc/100/mem";
    op.ret = 5;
    path_capture(&op, 1, path);
    vorigin_learn(o, &op);
    struct vigil_syscall pw = event("pwrite64", 400, "memw", 0x7f0000001000);
    pw.args[0] = 5;
    pw.args[3] = 0x401800;
    pw.ret = 16;
    vorigin_learn(o, &pw);
    ev.ip = 0x401808;
    CHECK(vorigin_resolve(o, m, &ev, &org) &&
              org.kind == VIGIL_ORIGIN_INJECTED && org.evidence.pid == 400 &&
              !strcmp(org.evidence.kind, "proc-mem"),
          "a pwrite to /proc/PID/mem at the code's address is injection");
}

/* munmap takes the history of the pages it removes, and only theirs. */
static void origin_unmapped(struct vorigin *o, struct vmmap *m)
{
    struct vigil_origin org;
    struct vigil_syscall ev = event("getpid", 100, "prog", 0x7f0000200010);
    struct vigil_syscall mm = event("mmap", 100, "prog", 0x7f0000001000);
    mm.args[1] = 4096;
    mm.ret = 0x7f0000200000;

    /* munmap, then a fresh mapping at the same address that the process
     * never made writable: the old JIT page's history and the other
     * process's write went with the old page. */
    struct vigil_syscall un = event("munmap", 100, "prog", 0x7f0000001000);
    un.args[0] = 0x7f0000200000;
    un.args[1] = 4096;
    vorigin_learn(o, &un);
    mm.args[2] = 5; /* PROT_READ|PROT_EXEC */
    vorigin_learn(o, &mm);
    ev.ip = 0x7f0000200010;
    CHECK(vorigin_resolve(o, m, &ev, &org) &&
              org.kind == VIGIL_ORIGIN_INJECTED &&
              !strcmp(org.evidence.kind, "anon-exec"),
          "after munmap and a new RX-only mapping: no longer self-generated, "
          "no longer the old writer's");

    /* munmap of the middle page of a three-page JIT region keeps the
     * history of the two others. */
    struct rec r3;
    rec_start(&r3, 500);
    rec_add(&r3, 0x10000, 0x11000, 0, 0, RX, NULL);
    rec_add(&r3, 0x12000, 0x13000, 0, 0, RX, NULL);
    CHECK(vmmap_apply(m, (struct vraw_vmas *)r3.b) == 0, "map 500");
    struct vigil_syscall j = event("mmap", 500, "jit", 0x10);
    j.args[1] = 3 * 4096;
    j.args[2] = 7; /* RWX */
    j.ret = 0x10000;
    vorigin_learn(o, &j);
    struct vigil_syscall mu = event("munmap", 500, "jit", 0x10);
    mu.args[0] = 0x11000;
    mu.args[1] = 4096;
    vorigin_learn(o, &mu);
    struct vigil_syscall c1 = event("getpid", 500, "jit", 0x10010);
    struct vigil_syscall c3 = event("getpid", 500, "jit", 0x12010);
    CHECK(vorigin_resolve(o, m, &c1, &org) &&
              org.kind == VIGIL_ORIGIN_SELF_GENERATED &&
              vorigin_resolve(o, m, &c3, &org) &&
              org.kind == VIGIL_ORIGIN_SELF_GENERATED,
          "a hole punched by munmap leaves the pages on both sides their "
          "history");
}

static void test_callers(void)
{
    struct vmmap *m;
    struct vorigin *o;
    struct rec r;
    CHECK(vmmap_new(&m) == 0 && vorigin_new(&o) == 0, "objects");
    proc_map(&r, 100);
    CHECK(vmmap_apply(m, (struct vraw_vmas *)r.b) == 0, "map");
    struct vigil_origin org;
    callers_chain(o, m);
    origin_own_code(o, m);
    origin_other_writers(o, m);
    origin_unmapped(o, m);

    struct vigil_syscall ev = event("getpid", 100, "prog", 0x7f0000200010);
    /* exit_group or execve: what was learnt about the group goes. */
    vorigin_forget(o, 100, false);
    ev.ip = 0x7f0000005004;
    CHECK(vorigin_resolve(o, m, &ev, &org) && org.kind == VIGIL_ORIGIN_NONE,
          "a new program in the group starts clean");
    vorigin_free(o);
    vmmap_free(m);
}

static struct vigil_capture riov(const uint64_t *iov, size_t n, bool fault)
{
    return (struct vigil_capture){.argi = 3,
                                  .kind = VSYS_CAP_STRUCT,
                                  .at_exit = false,
                                  .fault = fault,
                                  .trunc = false,
                                  .len = (uint16_t)(n * 16),
                                  .data = (const uint8_t *)iov};
}

/* Every remote iovec of process_vm_writev, up to the bytes written. */
static void routes_remote_iovecs(struct vorigin *o, struct vmmap *m)
{
    struct vigil_origin org;
    /* Three remote iovecs; the call wrote 8 + 16 + 4 bytes. */
    uint64_t iov[6] = {0x13f00, 8, 0x10000, 16, 0x10100, 16};
    struct vigil_syscall pvw = event("process_vm_writev", 701, "inj", 0x10);
    pvw.args[0] = 700;
    pvw.args[4] = 3;
    pvw.ret = 28;
    pvw.ncaps = 1;
    pvw.caps[0] = riov(iov, 3, false);
    vorigin_learn(o, &pvw);
    CHECK(kind_at(o, m, 700, 0x1000f, &org) == VIGIL_ORIGIN_INJECTED &&
              org.evidence.pid == 701,
          "process_vm_writev: the second remote iovec is another's write");
    CHECK(kind_at(o, m, 700, 0x10103, &org) == VIGIL_ORIGIN_INJECTED &&
              kind_at(o, m, 700, 0x10104, &org) == VIGIL_ORIGIN_SELF_GENERATED,
          "... the third up to the bytes the call wrote, not beyond");
    /* An array whose page ended after its first iovec: only that one. */
    pvw.args[4] = 3;
    pvw.caps[0] = riov(iov + 2, 1, true);
    iov[2] = 0x11000;
    iov[4] = 0x11100;
    pvw.tgid = 702;
    vorigin_learn(o, &pvw);
    CHECK(kind_at(o, m, 700, 0x11000, &org) == VIGIL_ORIGIN_INJECTED &&
              org.evidence.pid == 702 &&
              kind_at(o, m, 700, 0x11100, &org) == VIGIL_ORIGIN_SELF_GENERATED,
          "... a capture cut short by an unreadable page: what was read");
}

/* writev and pwritev on /proc/PID/mem. */
static void routes_proc_mem(struct vorigin *o, struct vmmap *m)
{
    struct vigil_origin org;
    /* /proc/700/mem: writev at the lseek position, pwritev at an offset. */
    const char *path = "/proc/700/mem";
    struct vigil_syscall op = event("openat", 703, "memw", 0x10);
    op.ret = 4;
    path_capture(&op, 1, path);
    vorigin_learn(o, &op);
    struct vigil_syscall ls = event("lseek", 703, "memw", 0x10);
    ls.args[0] = 4;
    ls.ret = 0x12000;
    vorigin_learn(o, &ls);
    struct vigil_syscall wv = event("writev", 703, "memw", 0x10);
    wv.args[0] = 4;
    wv.ret = 32;
    vorigin_learn(o, &wv);
    vorigin_learn(o, &wv); /* the position moved on: 0x12020 */
    CHECK(kind_at(o, m, 700, 0x12030, &org) == VIGIL_ORIGIN_INJECTED &&
              !strcmp(org.evidence.call, "writev") &&
              !strcmp(org.evidence.kind, "proc-mem") &&
              kind_at(o, m, 700, 0x12040, &org) == VIGIL_ORIGIN_SELF_GENERATED,
          "writev to /proc/PID/mem writes at the file position, which moves");
    struct vigil_syscall pv = event("pwritev", 703, "memw", 0x10);
    pv.args[0] = 4;
    pv.args[3] = 0x12800;
    pv.ret = 8;
    vorigin_learn(o, &pv);
    CHECK(kind_at(o, m, 700, 0x12807, &org) == VIGIL_ORIGIN_INJECTED &&
              !strcmp(org.evidence.call, "pwritev"),
          "pwritev to /proc/PID/mem writes at its offset");
}

/* History moves with mremap. */
static void routes_mremap(struct vorigin *o, struct vmmap *m)
{
    struct vigil_origin org;
    /* mremap of the first two pages to 0x20000, keeping one: the other
     * process's write and the process's own grant move with the page. */
    struct vigil_syscall mr = event("mremap", 700, "victim", 0x10);
    mr.args[0] = 0x10000;
    mr.args[1] = 2 * 4096;
    mr.args[2] = 4096;
    mr.ret = 0x20000;
    vorigin_learn(o, &mr);
    CHECK(kind_at(o, m, 700, 0x2000f, &org) == VIGIL_ORIGIN_INJECTED &&
              org.evidence.pid == 701 &&
              kind_at(o, m, 700, 0x20800, &org) == VIGIL_ORIGIN_SELF_GENERATED,
          "mremap: the writes and the grants move with the pages");
    CHECK(kind_at(o, m, 700, 0x2100f, &org) == VIGIL_ORIGIN_INJECTED &&
              !strcmp(org.evidence.kind, "anon-exec"),
          "... only what stayed mapped (the second page was dropped)");
    CHECK(kind_at(o, m, 700, 0x1000f, &org) == VIGIL_ORIGIN_INJECTED &&
              !strcmp(org.evidence.kind, "anon-exec") &&
              kind_at(o, m, 700, 0x12030, &org) == VIGIL_ORIGIN_INJECTED &&
              !strcmp(org.evidence.kind, "proc-mem"),
          "... and leave the old address (the rest of the region keeps its "
          "own)");
}

/* System V shared memory. */
static void routes_shm(struct vorigin *o, struct vmmap *m)
{
    struct vigil_origin org;
    /* System V shared memory: 704 creates and attaches it writable, 700
     * attaches it read-only and executable. */
    struct vigil_syscall sg = event("shmget", 704, "shmw", 0x10);
    sg.args[1] = 4096;
    sg.ret = 65536;
    vorigin_learn(o, &sg);
    struct vigil_syscall sa = event("shmat", 704, "shmw", 0x10);
    sa.args[0] = 65536;
    sa.ret = 0x7f0000000000;
    vorigin_learn(o, &sa);
    CHECK(kind_at(o, m, 700, 0x30010, &org) == VIGIL_ORIGIN_NONE,
          "shm: a file mapping the process did not attach is not judged");
    sa = event("shmat", 700, "victim", 0x10);
    sa.args[0] = 65536;
    sa.args[2] = 010000 | 0100000; /* SHM_RDONLY | SHM_EXEC */
    sa.ret = 0x30000;
    vorigin_learn(o, &sa);
    CHECK(kind_at(o, m, 700, 0x30010, &org) == VIGIL_ORIGIN_INJECTED &&
              org.evidence.pid == 704 && !strcmp(org.evidence.kind, "shm") &&
              !strcmp(org.evidence.call, "shmat"),
          "shm: code in a segment another process attached writable is "
          "injected, naming it");
    /* The attachment is inherited by a forked child. */
    struct vigil_syscall fk = event("fork", 700, "victim", 0x10);
    fk.ret = 706;
    vorigin_learn(o, &fk);
    struct rec r2;
    rec_start(&r2, 706);
    rec_add(&r2, 0x30000, 0x31000, 0, 0xf9, RX, "/SYSV00000000");
    CHECK(vmmap_apply(m, (struct vraw_vmas *)r2.b) == 0, "map 706");
    CHECK(kind_at(o, m, 706, 0x30010, &org) == VIGIL_ORIGIN_INJECTED &&
              org.evidence.pid == 704 && !strcmp(org.evidence.kind, "shm"),
          "... and in a forked child, which inherited the attachment");
    struct vigil_syscall sd = event("shmdt", 700, "victim", 0x10);
    sd.args[0] = 0x30000;
    vorigin_learn(o, &sd);
    CHECK(kind_at(o, m, 700, 0x30010, &org) == VIGIL_ORIGIN_NONE,
          "... shmdt ends it");
    /* A segment only the process itself writes: its own (a JIT's). */
    sg.tgid = 700;
    sg.ret = 65537;
    vorigin_learn(o, &sg);
    sa.args[0] = 65537;
    sa.args[2] = 0100000; /* SHM_EXEC, writable */
    vorigin_learn(o, &sa);
    CHECK(kind_at(o, m, 700, 0x30010, &org) == VIGIL_ORIGIN_SELF_GENERATED &&
              org.evidence.pid == 700,
          "shm: a segment only the process attached writable is "
          "self-generated");
    vorigin_forget(o, 700, false);
    CHECK(kind_at(o, m, 700, 0x30010, &org) == VIGIL_ORIGIN_NONE,
          "... and forgotten with the program");
}

/* A file mapping with copied pages. */
static void routes_modified_file(struct vorigin *o, struct vmmap *m)
{
    struct vigil_origin org;
    /* A file mapping with copied pages (anon_vma). */
    CHECK(kind_at(o, m, 700, 0x40010, &org) == VIGIL_ORIGIN_INJECTED &&
              !strcmp(org.evidence.kind, "modified-file") &&
              org.evidence.pid == 0 && !strcmp(org.module, "/usr/lib/libp.so"),
          "modified file code nothing seen explains is injected, naming no "
          "one");
    struct vigil_syscall pr = event("mprotect", 700, "victim", 0x10);
    pr.args[0] = 0x41000;
    pr.args[1] = 4096;
    pr.args[2] = 3; /* PROT_READ|PROT_WRITE */
    vorigin_learn(o, &pr);
    CHECK(kind_at(o, m, 700, 0x41010, &org) == VIGIL_ORIGIN_INJECTED &&
              !strcmp(org.evidence.kind, "modified-file") &&
              org.evidence.pid == 700 && !strcmp(org.evidence.call, "mprotect"),
          "... written by the process's own PROT_WRITE grant: names it");
    CHECK(kind_at(o, m, 700, 0x40010, &org) == VIGIL_ORIGIN_NONE,
          "... the rest of the mapping: the grant explains the copies");
}

/* The injection routes besides the first remote iovec, pwrite64 and write:
 * every remote iovec, writev / pwritev on /proc/PID/mem, history that
 * moves with mremap, System V shared memory. */
static void test_more_routes(void)
{
    struct vmmap *m;
    struct vorigin *o;
    struct rec r;
    CHECK(vmmap_new(&m) == 0 && vorigin_new(&o) == 0, "objects");
    rec_start(&r, 700);
    rec_add(&r, 0x10000, 0x14000, 0, 0, RX | VRAW_VMA_WRITE, NULL);
    rec_add(&r, 0x20000, 0x22000, 0, 0, RX | VRAW_VMA_WRITE, NULL);
    rec_add(&r, 0x30000, 0x31000, 0, 0xf9, RX, "/SYSV00000000");
    rec_add(&r, 0x40000, 0x42000, 1, 0xfa, RX | VRAW_VMA_ANON_PAGES,
            "/usr/lib/libp.so");
    CHECK(vmmap_apply(m, (struct vraw_vmas *)r.b) == 0, "map 700");
    struct vigil_syscall mm = event("mmap", 700, "victim", 0x10);
    mm.args[1] = 4 * 4096;
    mm.args[2] = 7; /* RWX, its own */
    mm.ret = 0x10000;
    vorigin_learn(o, &mm);

    routes_remote_iovecs(o, m);
    routes_proc_mem(o, m);
    routes_mremap(o, m);
    routes_shm(o, m);
    routes_modified_file(o, m);
    vorigin_free(o);
    vmmap_free(m);
}

int main(void)
{
    test_callers();
    test_more_routes();
    return failures != 0;
}
