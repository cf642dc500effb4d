/* The origin verdict's /proc/PID/mem routes (every way to write through
 * it or to name the victim), forged stacks, and the order, reuse and room
 * of what is followed: synthetic events over a synthetic victim (see
 * test-origin.c for the other routes). */
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
        if (s[i].path != NULL)
            path_capture(&ev, s[i].argi, s[i].path);
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
    test_mem_routes();
    test_forged_stack();
    test_mem_edges();
    test_kernel_file();
    return failures != 0;
}
