/* The caller / origin verdict (lib/trace/origin.c, procmem.c, shmseg.c)
 * over the consumer's memory maps, from synthetic VRAW_VMAS records,
 * synthetic events and synthetic return-address chains and branch
 * histories: what the plugin would send. */
#undef NDEBUG
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace/origin.h"
#include "trace/vmmap.h"
#include "vigil/syscalls.h"

#include "check.h"
#include "vmrec.h"

static struct vigil_syscall event(const char *name, int32_t tgid,
                                  const char *comm, uint64_t ip)
{
    struct vigil_syscall ev;
    memset(&ev, 0, sizeof ev);
    ev.nr = (uint64_t)vsys_number(name);
    ev.tgid = ev.tid = tgid;
    strncpy(ev.comm, comm, 16);
    ev.ip = ip;
    ev.state = VIGIL_SC_DONE;
    return ev;
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

    /* Anonymous code the process never made writable and executable. */
    ev = event("getpid", 100, "prog", 0x7f0000200010);
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
    op.ncaps = 1;
    op.caps[0] = (struct vigil_capture){.argi = 1,
                                        .kind = VSYS_CAP_STR,
                                        .at_exit = false,
                                        .fault = false,
                                        .trunc = false,
                                        .len = (uint16_t)strlen(path),
                                        .data = (const uint8_t *)path};
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

static int kind_at(const struct vorigin *o, const struct vmmap *m, int32_t tgid,
                   uint64_t ip, struct vigil_origin *org)
{
    struct vigil_syscall ev = event("getpid", tgid, "victim", ip);
    return vorigin_resolve(o, m, &ev, org) ? (int)org->kind : -1;
}

/* The injection routes besides the first remote iovec, pwrite64 and write:
 * every remote iovec, writev / pwritev on /proc/PID/mem, history that
 * moves with mremap, System V shared memory. */
static void test_more_routes(void)
{
    struct vmmap *m;
    struct vorigin *o;
    struct rec r;
    struct vigil_origin org;
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

    /* /proc/700/mem: writev at the lseek position, pwritev at an offset. */
    const char *path = "/proc/700/mem";
    struct vigil_syscall op = event("openat", 703, "memw", 0x10);
    op.ret = 4;
    op.ncaps = 1;
    op.caps[0] = (struct vigil_capture){.argi = 1,
                                        .kind = VSYS_CAP_STR,
                                        .at_exit = false,
                                        .fault = false,
                                        .trunc = false,
                                        .len = (uint16_t)strlen(path),
                                        .data = (const uint8_t *)path};
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
    vorigin_free(o);
    vmmap_free(m);
}

/* One call of an injector, for test_mem_routes. */
struct step {
    const char *name;
    int32_t tgid;
    uint64_t a0, a1, a2, a3;
    int64_t ret;
    const char *path; /* captured at argument @argi */
    unsigned argi;
};

static void play(struct vorigin *o, const struct step *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct vigil_syscall ev = event(s[i].name, s[i].tgid, "inj", 0x10);
        ev.args[0] = s[i].a0;
        ev.args[1] = s[i].a1;
        ev.args[2] = s[i].a2;
        ev.args[3] = s[i].a3;
        ev.ret = s[i].ret;
        if (s[i].path != NULL) {
            ev.ncaps = 1;
            ev.caps[0] =
                (struct vigil_capture){.argi = (uint8_t)s[i].argi,
                                       .kind = VSYS_CAP_STR,
                                       .at_exit = false,
                                       .fault = false,
                                       .trunc = false,
                                       .len = (uint16_t)strlen(s[i].path),
                                       .data = (const uint8_t *)s[i].path};
        }
        vorigin_learn(o, &ev);
    }
}

#define AT_CWD ((uint64_t)-100)

static const struct route {
    const char *what;
    uint64_t at;
    int32_t by;
    bool exec_between, flagged;
    struct step s[5];
} mem_routes[] = {
    {"dup2 to another number, the first closed",
     0x50000,
     810,
     false,
     true,
     {{"openat", 810, AT_CWD, 0, 2, 0, 5, "/proc/800/mem", 1},
      {"dup2", 810, 5, 100, 0, 0, 100, NULL, 0},
      {"close", 810, 5, 0, 0, 0, 0, NULL, 0},
      {"lseek", 810, 100, 0x50000, 0, 0, 0x50000, NULL, 0},
      {"write", 810, 100, 0, 16, 0, 16, NULL, 0}}},
    {"fcntl F_DUPFD_CLOEXEC",
     0x50100,
     811,
     false,
     true,
     {{"openat", 811, AT_CWD, 0, 2, 0, 5, "/proc/800/mem", 1},
      {"fcntl", 811, 5, 1030, 10, 0, 10, NULL, 0},
      {"close", 811, 5, 0, 0, 0, 0, NULL, 0},
      {"pwrite64", 811, 10, 0, 16, 0x50100, 16, NULL, 0}}},
    {"the descriptor inherited by a forked child",
     0x50200,
     813,
     false,
     true,
     {{"openat", 812, AT_CWD, 0, 2, 0, 5, "/proc/800/mem", 1},
      {"fork", 812, 0, 0, 0, 0, 813, NULL, 0},
      {"pwrite64", 813, 5, 0, 16, 0x50200, 16, NULL, 0}}},
    {"a path with //, . and .., through task/TID",
     0x50300,
     814,
     false,
     true,
     {{"openat", 814, AT_CWD, 0, 2, 0, 5, "//proc/./800/task/801/../801/mem",
       1},
      {"pwrite64", 814, 5, 0, 16, 0x50300, 16, NULL, 0}}},
    {"/proc/TID/mem of the victim's second thread",
     0x50400,
     815,
     false,
     true,
     {{"openat", 815, AT_CWD, 0, 2, 0, 5, "/proc/801/mem", 1},
      {"pwrite64", 815, 5, 0, 16, 0x50400, 16, NULL, 0}}},
    {"ptrace POKEDATA naming the second thread",
     0x504fc,
     816,
     false,
     true,
     {{"ptrace", 816, 5, 801, 0x50500, 0, 0, NULL, 0}}},
    {"openat relative to an open /proc/PID directory",
     0x50600,
     817,
     false,
     true,
     {{"openat", 817, AT_CWD, 0, 0x200000, 0, 3, "/proc/800", 1},
      {"openat", 817, 3, 0, 2, 0, 4, "mem", 1},
      {"pwrite64", 817, 4, 0, 16, 0x50600, 16, NULL, 0}}},
    {"a read moves the position a write starts at",
     0x50740,
     818,
     false,
     true,
     {{"openat", 818, AT_CWD, 0, 2, 0, 5, "/proc/800/mem", 1},
      {"lseek", 818, 5, 0x50700, 0, 0, 0x50700, NULL, 0},
      {"read", 818, 5, 0, 64, 0, 64, NULL, 0},
      {"write", 818, 5, 0, 16, 0, 16, NULL, 0}}},
    {"open(2), whose path is its first argument",
     0x50800,
     819,
     false,
     true,
     {{"open", 819, 0, 2, 0, 0, 5, "/proc/800/mem", 0},
      {"pwrite64", 819, 5, 0, 16, 0x50800, 16, NULL, 0}}},
    {"openat2",
     0x50900,
     820,
     false,
     true,
     {{"openat2", 820, AT_CWD, 0, 0, 24, 5, "/proc/800/mem", 1},
      {"pwrite64", 820, 5, 0, 16, 0x50900, 16, NULL, 0}}},
    {"through /proc/PID/root",
     0x50a00,
     821,
     false,
     true,
     {{"openat", 821, AT_CWD, 0, 2, 0, 5, "/proc/1/root/proc/800/mem", 1},
      {"pwrite64", 821, 5, 0, 16, 0x50a00, 16, NULL, 0}}},
    {"reopened through /proc/self/fd/N",
     0x51000,
     824,
     false,
     true,
     {{"openat", 824, AT_CWD, 0, 2, 0, 5, "/proc/800/mem", 1},
      {"openat", 824, AT_CWD, 0, 2, 0, 6, "/proc/self/fd/5", 1},
      {"close", 824, 5, 0, 0, 0, 0, NULL, 0},
      {"pwrite64", 824, 6, 0, 16, 0x51000, 16, NULL, 0}}},
    {"another process's descriptor, through /proc/PID/fd/N",
     0x51100,
     826,
     false,
     true,
     {{"openat", 825, AT_CWD, 0, 2, 0, 5, "/proc/800/mem", 1},
      {"openat", 826, AT_CWD, 0, 2, 0, 9, "/proc/825/fd/5", 1},
      {"pwrite64", 826, 9, 0, 16, 0x51100, 16, NULL, 0}}},
    {"mem under a directory descriptor's link",
     0x51200,
     827,
     false,
     true,
     {{"openat", 827, AT_CWD, 0, 0x200000, 0, 3, "/proc/800", 1},
      {"openat", 827, AT_CWD, 0, 2, 0, 4, "/dev/fd/3/mem", 1},
      {"pwrite64", 827, 4, 0, 16, 0x51200, 16, NULL, 0}}},
    {"... and .. after such a link",
     0x51300,
     828,
     false,
     true,
     {{"openat", 828, AT_CWD, 0, 0x200000, 0, 3, "/proc/800", 1},
      {"openat", 828, AT_CWD, 0, 2, 0, 7, "/proc/self/fd/3/../800/mem", 1},
      {"pwrite64", 828, 7, 0, 16, 0x51300, 16, NULL, 0}}},
    {"relative to a working directory in /proc/PID (chdir)",
     0x51400,
     829,
     false,
     true,
     {{"chdir", 829, 0, 0, 0, 0, 0, "/proc/800/task/801", 0},
      {"open", 829, 0, 2, 0, 0, 5, "../../mem", 0},
      {"pwrite64", 829, 5, 0, 16, 0x51400, 16, NULL, 0}}},
    {"... set by fchdir, inherited by fork",
     0x51500,
     832,
     false,
     true,
     {{"openat", 831, AT_CWD, 0, 0x200000, 0, 3, "/proc/800", 1},
      {"fchdir", 831, 3, 0, 0, 0, 0, NULL, 0},
      {"fork", 831, 0, 0, 0, 0, 832, NULL, 0},
      {"openat", 832, AT_CWD, 0, 2, 0, 4, "./mem", 1},
      {"pwrite64", 832, 4, 0, 16, 0x51500, 16, NULL, 0}}},
    {"... and not after a chdir elsewhere",
     0x51600,
     833,
     false,
     false,
     {{"chdir", 833, 0, 0, 0, 0, 0, "/proc/800", 0},
      {"chdir", 833, 0, 0, 0, 0, 0, "/tmp", 0},
      {"open", 833, 0, 2, 0, 0, 5, "mem", 0},
      {"pwrite64", 833, 5, 0, 16, 0x51600, 16, NULL, 0}}},
    {"a descriptor kept across the injector's execve",
     0x50b00,
     822,
     true,
     true,
     {{"openat", 822, AT_CWD, 0, 2, 0, 5, "/proc/800/mem", 1},
      {"pwrite64", 822, 5, 0, 16, 0x50b00, 16, NULL, 0}}},
    {"... not one closed on exec",
     0x50c00,
     823,
     true,
     false,
     {{"openat", 823, AT_CWD, 0, 02000002, 0, 5, "/proc/800/mem", 1},
      {"pwrite64", 823, 5, 0, 16, 0x50c00, 16, NULL, 0}}},
};

/* Victim 800: an RWX region of its own at 0x50000 (self-generated until
 * another process writes there), its program at 0x401000, and a second
 * thread 801. */
static void victim(struct vmmap **m, struct vorigin **o)
{
    struct rec r;
    CHECK(vmmap_new(m) == 0 && vorigin_new(o) == 0, "objects");
    rec_start(&r, 800);
    rec_add(&r, 0x50000, 0x58000, 0, 0, RX | VRAW_VMA_WRITE, NULL);
    rec_add(&r, 0x401000, 0x402000, 1, 0xf1, RX, "/usr/bin/prog");
    CHECK(vmmap_apply(*m, (struct vraw_vmas *)r.b) == 0, "map 800");
    struct vigil_syscall mm = event("mmap", 800, "victim", 0x10);
    mm.args[1] = 8 * 4096;
    mm.args[2] = 7;
    mm.ret = 0x50000;
    vorigin_learn(*o, &mm);
    struct vigil_syscall th = event("nanosleep", 800, "victim", 0x10);
    th.tid = 801; /* a second thread of the victim */
    vorigin_learn(*o, &th);
}

/* Ways to write through /proc/PID/mem, or to name the victim, that a
 * tracker of "openat(/proc/N/mem) then write on that fd" misses: each
 * writes 16 bytes at its own place in the victim's own RWX region, which
 * is self-generated unless the write is seen. */
static void test_mem_routes(void)
{
    struct vmmap *m;
    struct vorigin *o;
    struct vigil_origin org;
    victim(&m, &o);
    for (size_t i = 0; i < sizeof mem_routes / sizeof *mem_routes; i++) {
        size_t n = 0;
        while (n < 5 && mem_routes[i].s[n].name != NULL)
            n++;
        if (mem_routes[i].exec_between) { /* the write comes after an execve */
            play(o, mem_routes[i].s, n - 1);
            vorigin_forget(o, mem_routes[i].s[0].tgid, false);
            play(o, mem_routes[i].s + n - 1, 1);
        } else {
            play(o, mem_routes[i].s, n);
        }
        int k = kind_at(o, m, 800, mem_routes[i].at + 8, &org);
        if (mem_routes[i].flagged)
            CHECK(k == VIGIL_ORIGIN_INJECTED &&
                      org.evidence.pid == mem_routes[i].by,
                  "%s: injected, naming %d", mem_routes[i].what,
                  mem_routes[i].by);
        else
            CHECK(k == VIGIL_ORIGIN_SELF_GENERATED, "%s", mem_routes[i].what);
    }
    CHECK(kind_at(o, m, 800, 0x50f00, &org) == VIGIL_ORIGIN_SELF_GENERATED,
          "the region's unwritten rest stays the process's own");

    vorigin_free(o);
    vmmap_free(m);
}

static void test_forged_stack(void)
{
    struct vmmap *m;
    struct vorigin *o;
    struct vigil_origin org;
    victim(&m, &o);
    play(o, mem_routes[0].s, 5); /* 810 writes 16 bytes at 0x50000 */
    /* A forged stack: the call is made from the program's own syscall
     * instruction with its return addresses, but was jumped to from the
     * written code: the branch history shows it. */
    struct vigil_syscall sp = event("getpid", 800, "victim", 0x401100);
    struct vigil_branch br[2] = {{0x401050, 0x401060}, {0x50008, 0x401100}};
    uint64_t fake[1] = {0x401200};
    struct vigil_callers cs = {.nchain = 1,
                               .chain = fake,
                               .chain_trunc = false,
                               .nbranch = 1,
                               .branches = br};
    sp.callers = &cs;
    CHECK(vorigin_resolve(o, m, &sp, &org) && org.kind == VIGIL_ORIGIN_NONE &&
              !strcmp(org.module, "/usr/bin/prog"),
          "stack and syscall instruction in the program: its own");
    cs.nbranch = 2;
    CHECK(vorigin_resolve(o, m, &sp, &org) &&
              org.kind == VIGIL_ORIGIN_INJECTED && org.evidence.pid == 810 &&
              org.evidence.via_branch && org.evidence.addr == 0x50008 &&
              !strcmp(org.module, "/usr/bin/prog"),
          "... jumped to from written code: injected, via the branch");
    br[1].from = 0x50f00;
    CHECK(vorigin_resolve(o, m, &sp, &org) &&
              org.kind == VIGIL_ORIGIN_SELF_GENERATED &&
              org.evidence.via_branch,
          "... from its own generated code: self-generated");
    br[0] = (struct vigil_branch){0x50008, 0x401000};
    br[1] = (struct vigil_branch){0x401050, 0x401100};
    CHECK(vorigin_resolve(o, m, &sp, &org) && org.kind == VIGIL_ORIGIN_NONE,
          "... but written code that ran before and returned to the program, "
          "which then made the call, is not the call's maker");
    vorigin_free(o);
    vmmap_free(m);
}

/* Order, reuse and room. */
static void test_mem_edges(void)
{
    struct vmmap *m;
    struct vorigin *o;
    struct vigil_origin org;
    victim(&m, &o);
    /* A forked child's write that comes before its parent's fork
     * returns (the parent was preempted in the kernel). */
    static const struct step early[] = {
        {"openat", 840, AT_CWD, 0, 2, 0, 5, "/proc/800/mem", 1}};
    play(o, early, 1);
    struct vigil_syscall cw = event("pwrite64", 841, "inj", 0x10);
    cw.ppid = 840;
    cw.args[0] = 5;
    cw.args[3] = 0x50d00;
    cw.ret = 16;
    vorigin_learn(o, &cw);
    static const struct step late[] = {{"fork", 840, 0, 0, 0, 0, 841, NULL, 0}};
    play(o, late, 1);
    CHECK(kind_at(o, m, 800, 0x50d08, &org) == VIGIL_ORIGIN_INJECTED &&
              org.evidence.pid == 841,
          "a child's write seen before its parent's fork: injected, naming "
          "the child");
    /* Thread 802 of the victim exits; its id names a new process that
     * another one pokes: the victim's memory is not the one written. */
    struct vigil_syscall t2 = event("nanosleep", 800, "victim", 0x10);
    t2.tid = 802;
    vorigin_learn(o, &t2);
    t2 = event("exit", 800, "victim", 0x10);
    t2.tid = 802;
    t2.state = VIGIL_SC_NORETURN;
    vorigin_learn(o, &t2);
    static const struct step poke[] = {
        {"ptrace", 842, 5, 802, 0x50e00, 0, 0, NULL, 0}};
    play(o, poke, 1);
    CHECK(kind_at(o, m, 800, 0x50e04, &org) == VIGIL_ORIGIN_SELF_GENERATED,
          "a thread id freed by exit no longer names its old group");
    CHECK(vorigin_unfollowed(o) == 0, "every descriptor so far followed");
    struct step hoard = {"openat", 830, AT_CWD, 0, 2, 0, 0, "/proc/800/mem", 1};
    for (int fd = 3; fd < 1203; fd++) {
        hoard.ret = fd;
        play(o, &hoard, 1);
    }
    CHECK(vorigin_unfollowed(o) > 0 && vorigin_unfollowed(o) < 1200,
          "a process hoarding 1200 of them: the ones past the tables' room "
          "are counted (%llu)",
          (unsigned long long)vorigin_unfollowed(o));
    vorigin_free(o);
    vmmap_free(m);
}

/* A write-family call whose descriptor the plugin found open on another
 * process's memory (VSYS_CAP_FILEMEM, the kernel's struct file): no open
 * of the file was seen (a symbolic link, SCM_RIGHTS, before the trace). */
static struct vigil_syscall filemem_write(const char *name, int32_t tgid,
                                          const struct vsys_filemem *fm,
                                          int64_t ret)
{
    struct vigil_syscall ev = event(name, tgid, "memw", 0x10);
    ev.args[0] = 9;
    ev.ret = ret;
    ev.ncaps = 1;
    ev.caps[0] = (struct vigil_capture){.argi = 0,
                                        .kind = VSYS_CAP_FILEMEM,
                                        .at_exit = false,
                                        .fault = false,
                                        .trunc = false,
                                        .len = sizeof *fm,
                                        .data = (const uint8_t *)fm};
    return ev;
}

static void test_kernel_file(void)
{
    struct vmmap *m;
    struct vorigin *o;
    struct vigil_origin org;
    struct rec r;
    victim(&m, &o);
    /* 800's map, read from mm_struct 0xffff888001234000. */
    rec_start(&r, 800)->mm = 0xffff888001234000;
    rec_add(&r, 0x50000, 0x58000, 0, 0, RX | VRAW_VMA_WRITE, NULL);
    CHECK(vmmap_apply(m, (struct vraw_vmas *)r.b) == 0, "map 800 with mm");
    vorigin_use_maps(o, m);
    CHECK(vmmap_owner(m, 0xffff888001234000) == 800 &&
              vmmap_owner(m, 0xffff888009999000) == 0 && vmmap_owner(m, 0) == 0,
          "vmmap_owner: the group whose map came from that mm");

    /* write() at the file's position, the owner read by the plugin. */
    struct vsys_filemem fm = {
        .mm = 0xffff888001234000, .pos = 0x50100, .owner = 800};
    struct vigil_syscall w = filemem_write("write", 850, &fm, 16);
    vorigin_learn(o, &w);
    CHECK(kind_at(o, m, 800, 0x5010f, &org) == VIGIL_ORIGIN_INJECTED &&
              org.evidence.pid == 850 && !strcmp(org.evidence.call, "write") &&
              !strcmp(org.evidence.kind, "proc-mem") &&
              kind_at(o, m, 800, 0x50110, &org) == VIGIL_ORIGIN_SELF_GENERATED,
          "write on a descriptor the kernel says is /proc/800/mem: f_pos");

    /* pwrite64 at its offset, the owner unknown: found by the mm. */
    fm = (struct vsys_filemem){.mm = 0xffff888001234000, .pos = 0};
    w = filemem_write("pwrite64", 851, &fm, 16);
    w.args[3] = 0x50200;
    vorigin_learn(o, &w);
    CHECK(kind_at(o, m, 800, 0x50208, &org) == VIGIL_ORIGIN_INJECTED &&
              org.evidence.pid == 851,
          "pwrite64 at its offset, the target known by its mm_struct");

    /* pwritev2 with offset -1 writes at the file position. */
    fm.pos = 0x50300;
    w = filemem_write("pwritev2", 852, &fm, 16);
    w.args[3] = (uint64_t)-1;
    vorigin_learn(o, &w);
    CHECK(kind_at(o, m, 800, 0x50308, &org) == VIGIL_ORIGIN_INJECTED &&
              org.evidence.pid == 852,
          "pwritev2 at offset -1: the file position");

    /* Nothing learnt: an mm no map has, a failed write, the writer's own
     * memory, a short capture, another call carrying the blob. */
    fm = (struct vsys_filemem){.mm = 0xffff888009999000, .pos = 0x50400};
    w = filemem_write("write", 853, &fm, 16);
    vorigin_learn(o, &w);
    fm.mm = 0xffff888001234000;
    w = filemem_write("write", 853, &fm, -5);
    vorigin_learn(o, &w);
    w = filemem_write("write", 800, &fm, 16);
    vorigin_learn(o, &w);
    w = filemem_write("write", 853, &fm, 16);
    w.caps[0].len = sizeof fm - 1;
    vorigin_learn(o, &w);
    w = filemem_write("read", 853, &fm, 16);
    vorigin_learn(o, &w);
    CHECK(kind_at(o, m, 800, 0x50408, &org) == VIGIL_ORIGIN_SELF_GENERATED,
          "unknown mm, failed call, own memory, bad blob, a read: nothing");

    vorigin_free(o);
    vmmap_free(m);
}

int main(void)
{
    test_callers();
    test_more_routes();
    test_mem_routes();
    test_forged_stack();
    test_mem_edges();
    test_kernel_file();
    return failures != 0;
}
