/* vorigin_resolve()'s memo changes no verdict: a random run of calls
 * that teach the tracker (own mappings and grants, other processes'
 * writes, tracers, forgotten groups), of changed maps and of repeated
 * questions, answered with the memo and without it. */
#undef NDEBUG
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/origin.h"
#include "trace/vmmap.h"
#include "vigil/syscalls.h"

#include "check.h"
#include "origin-ev.h"
#include "vmrec.h"

#define STEPS 40000

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static unsigned pick(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

/* Addresses that fall in every kind of region of the maps below, and in
 * none. */
static const uint64_t addrs[] = {
    0x401010,       0x401800,       0x7f0000001234, 0x7f0000005004,
    0x7f0000200010, 0x7f0000200050, 0x7f0000301010, 0x7f0000303008,
    0x7ffff7fc0010, 0x10008,        0x20010,        0x30010,
    0x40010,        0x500000,       0x7f0000400000};
#define NADDR (sizeof addrs / sizeof addrs[0])
static const int32_t groups[] = {100, 200, 300};
static const char *const comms[] = {"prog", "other"};

static void map_of(struct vmmap *m, int32_t tgid, unsigned variant)
{
    struct rec r;
    rec_start(&r, tgid); /* in address order */
    rec_add(&r, 0x10000, 0x14000, 0, 0, RX | VRAW_VMA_WRITE, NULL);
    if (variant & 1)
        rec_add(&r, 0x20000, 0x22000, 0, 0, RX, NULL);
    rec_add(&r, 0x30000, 0x31000, 0, 0xf9, RX, "/SYSV00000000");
    rec_add(&r, 0x40000, 0x42000, 1, 0xfa,
            RX | (variant & 2 ? VRAW_VMA_ANON_PAGES : 0), "/usr/lib/libp.so");
    rec_add(&r, 0x401000, 0x402000, 1, 0xf1, RX, "/usr/bin/prog");
    rec_add(&r, 0x7f0000001000, 0x7f0000100000, 0x28, 0xf2, RX, LIBC);
    rec_add(&r, 0x7f0000200000, 0x7f0000201000, 0, 0, RX | VRAW_VMA_WRITE,
            NULL);
    rec_add(&r, 0x7f0000301000, 0x7f0000302000, 1, 0xf3, RX, LIBX);
    rec_add(&r, 0x7ffff7fc0000, 0x7ffff7fc2000, 0, 0, RX, NULL);
    CHECK_QUIET(vmmap_apply(m, (struct vraw_vmas *)r.b) == 0, "map");
}

static const uint64_t spans[][2] = {
    {0x7f0000200000, 4096}, {0x10000, 0x4000},  {0x20000, 0x2000},
    {0x40000, 0x1000},      {0x401000, 0x1000}, {0x7f0000005000, 64}};

/* One call that teaches the tracker something (or nothing). */
static void teach(struct vorigin *a, struct vorigin *b)
{
    static const char *const own[] = {"mmap", "mprotect", "munmap", "getpid",
                                      "read"};
    int32_t by = groups[pick(3)], to = groups[pick(3)];
    const uint64_t *sp = spans[pick(sizeof spans / sizeof spans[0])];
    struct vigil_syscall ev;
    uint64_t iov[2] = {sp[0], sp[1]};
    switch (pick(6)) {
    case 0: /* another process writes */
        ev = event("process_vm_writev", by, "injector", 0x7f0000001000);
        ev.args[0] = (uint64_t)to;
        ev.args[4] = 1;
        ev.ret = (int64_t)sp[1];
        ev.ncaps = 1;
        ev.caps[0] = (struct vigil_capture){.argi = 3,
                                            .kind = VSYS_CAP_STRUCT,
                                            .len = sizeof iov,
                                            .data = (const uint8_t *)iov};
        break;
    case 1: /* a tracer attaches or pokes */
        ev = event("ptrace", by, "tracer", 0x7f0000001000);
        ev.args[0] = pick(2) ? 16 : 4; /* ATTACH, POKETEXT */
        ev.args[1] = (uint64_t)to;
        ev.args[2] = sp[0];
        break;
    default: { /* the group's own calls */
        const char *name = own[pick(5)];
        ev = event(name, by, comms[pick(2)], 0x7f0000001000);
        ev.args[0] = sp[0];
        ev.args[1] = sp[1];
        ev.args[2] = pick(8); /* prot */
        ev.ret = strcmp(name, "mmap") ? 0 : (int64_t)sp[0];
        break;
    }
    }
    vorigin_learn(a, &ev);
    vorigin_learn(b, &ev);
}

static bool same(bool ra, const struct vigil_origin *x, bool rb,
                 const struct vigil_origin *y)
{
    if (ra != rb)
        return false;
    if (!ra)
        return true;
    return (x->module == NULL) == (y->module == NULL) &&
           (x->module == NULL || !strcmp(x->module, y->module)) &&
           x->offset == y->offset && x->addr == y->addr &&
           x->map_partial == y->map_partial && x->kind == y->kind &&
           (x->kind == VIGIL_ORIGIN_NONE ||
            (!strcmp(x->evidence.kind, y->evidence.kind) &&
             x->evidence.addr == y->evidence.addr &&
             x->evidence.pid == y->evidence.pid &&
             !strcmp(x->evidence.comm, y->evidence.comm) &&
             (x->evidence.call == NULL) == (y->evidence.call == NULL) &&
             (x->evidence.call == NULL ||
              !strcmp(x->evidence.call, y->evidence.call)) &&
             x->evidence.via_branch == y->evidence.via_branch));
}

int main(void)
{
    struct vmmap *m;
    struct vorigin *a, *b;
    CHECK(vmmap_new(&m) == 0 && vorigin_new(&a) == 0 && vorigin_new(&b) == 0,
          "objects");
    vorigin_memo_off(b);
    map_of(m, 100, 0);
    map_of(m, 200, 3);
    unsigned asked = 0, flagged = 0, differ = 0;
    /* A few questions, asked again and again: what the memo keeps. */
    struct vigil_syscall q[8];
    uint64_t chains[8][3];
    struct vigil_branch brs[8][3];
    struct vigil_callers cs[8];
    for (unsigned i = 0; i < 8; i++) {
        q[i] = event("getppid", groups[pick(3)], comms[pick(2)],
                     addrs[pick(NADDR)]);
        cs[i] = (struct vigil_callers){.nchain = pick(4), .nbranch = pick(4)};
        for (unsigned j = 0; j < 3; j++) {
            chains[i][j] = addrs[pick(NADDR)];
            brs[i][j] = (struct vigil_branch){addrs[pick(NADDR)], 0x1000};
        }
        cs[i].chain = chains[i];
        cs[i].branches = brs[i];
        q[i].callers = &cs[i];
    }
    for (unsigned step = 0; step < STEPS; step++) {
        unsigned what = pick(100);
        if (what < 10) {
            teach(a, b);
        } else if (what < 12) {
            map_of(m, groups[pick(3)], pick(4));
        } else if (what < 13) {
            int32_t g = groups[pick(3)];
            bool exited = pick(2);
            vorigin_forget(a, g, exited);
            vorigin_forget(b, g, exited);
            if (exited)
                vmmap_drop(m, g);
        } else {
            struct vigil_syscall *ev = &q[pick(8)];
            if (what < 16) { /* the question changes a little */
                ev->ip = addrs[pick(NADDR)];
                chains[ev - q][pick(3)] = addrs[pick(NADDR)];
                brs[ev - q][pick(3)].from = addrs[pick(NADDR)];
                cs[ev - q].nbranch = pick(4);
                strcpy(ev->comm, comms[pick(2)]);
            }
            struct vigil_origin x, y;
            bool ra = vorigin_resolve(a, m, ev, &x);
            bool rb = vorigin_resolve(b, m, ev, &y);
            asked++;
            flagged += ra && x.kind != VIGIL_ORIGIN_NONE;
            if (!same(ra, &x, rb, &y) && differ++ < 5)
                fprintf(stderr,
                        "step %u: group %d ip %#llx: with the memo %d/%d, "
                        "without %d/%d\n",
                        step, ev->tgid, (unsigned long long)ev->ip, ra,
                        ra ? (int)x.kind : -1, rb, rb ? (int)y.kind : -1);
        }
    }
    CHECK(differ == 0, "the memo changed no verdict");
    /* The run asked about injected code too, not only clean code. */
    CHECK(asked > STEPS / 2 && flagged > asked / 20 &&
              flagged < asked - asked / 20,
          "a mix of verdicts was compared");
    printf("%u questions, %u flagged\n", asked, flagged);
    vorigin_free(a);
    vorigin_free(b);
    vmmap_free(m);
    return failures != 0;
}
