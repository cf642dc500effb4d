/* --callers in the consumer: a VRAW_CALLERS record attaches to the entry
 * that follows it in the same ring (paired, never-returning or not), a
 * record of another thread or a malformed one attaches to nothing, and the
 * JSON shows chain, chain_truncated and branches. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "vigil/consumer.h"
#include "vigil/event.h"
#include "vigil/rawrec.h"
#include "vigil/ring.h"
#include "vigil/syscalls.h"

static char out[8][4096];
static unsigned nout;

static void on_event(const struct vigil_syscall *ev, void *ctx)
{
    (void)ctx;
    if (nout < 8 && vigil_syscall_json(ev, out[nout], sizeof out[0]) < 0)
        strcpy(out[nout], "too long");
    nout++;
}

static uint64_t ts;

static void put_callers(struct vring_map *m, uint64_t task, int32_t tid,
                        uint16_t nchain, uint16_t nbranch, uint16_t lie,
                        uint16_t flags)
{
    uint32_t size = sizeof(struct vraw_callers) + 8u * nchain + 16u * nbranch;
    struct vraw_callers *c = vring_reserve(m, 0, size);
    memset(c, 0, size);
    c->h.type = VRAW_CALLERS;
    c->h.size = (uint16_t)size;
    c->h.ts_ns = ++ts;
    c->task = task;
    c->tid = tid;
    c->nchain = nchain;
    c->nbranch = nbranch + lie; /* more than the record holds */
    c->flags = flags;
    uint64_t *w = (uint64_t *)(c + 1);
    for (unsigned i = 0; i < nchain + 2u * nbranch; i++)
        w[i] = 0x401000 + i;
    vring_commit(m, 0, size);
}

static void put_enter(struct vring_map *m, uint64_t task, int32_t tid,
                      const char *call)
{
    struct vraw_enter *e = vring_reserve(m, 0, sizeof *e);
    memset(e, 0, sizeof *e);
    e->h.type = VRAW_SYS_ENTER;
    e->h.size = sizeof *e;
    e->h.ts_ns = ++ts;
    e->t.task = task;
    e->t.tid = e->t.tgid = tid;
    memcpy(e->t.comm, "prog", 4);
    e->nr = (uint64_t)vsys_number(call);
    vring_commit(m, 0, sizeof *e);
}

static void put_exit(struct vring_map *m, uint64_t task, int32_t tid,
                     const char *call)
{
    struct vraw_exit *x = vring_reserve(m, 0, sizeof *x);
    memset(x, 0, sizeof *x);
    x->h.type = VRAW_SYS_EXIT;
    x->h.size = sizeof *x;
    x->h.ts_ns = ++ts;
    x->task = task;
    x->tid = tid;
    x->nr = (uint64_t)vsys_number(call);
    vring_commit(m, 0, sizeof *x);
}

/* Addresses are written by hand (format-callers.c): the extremes, each
 * digit count, and a buffer too small for a pair (the careful path). */
static void test_addr_format(void)
{
    static const struct vigil_branch br[] = {
        {0, 0xf}, {0x10, 0xffffffffffffffffull}, {0x8000000000000000ull, 1}};
    static const uint64_t chain[] = {0x7fffffffe000ull};
    struct vigil_callers cl = {
        .nchain = 1, .chain = chain, .nbranch = 3, .branches = br};
    struct vigil_syscall ev;
    memset(&ev, 0, sizeof ev);
    ev.nr = (uint64_t)vsys_number("getpid");
    ev.callers = &cl;
    char buf[1024];
    int n = vigil_syscall_json(&ev, buf, sizeof buf);
    CHECK(n > 0 &&
              strstr(buf, "\"chain\":[\"0x7fffffffe000\"],"
                          "\"branches\":[[\"0x0\",\"0xf\"],[\"0x10\","
                          "\"0xffffffffffffffff\"],[\"0x8000000000000000\","
                          "\"0x1\"]]") != NULL,
          "addresses in hex, every width: %s", buf);
    /* Every digit count, against printf. */
    uint64_t x = 0x2545f4914f6cdd1dull;
    unsigned bad = 0;
    for (unsigned i = 0; i < 64 * 64; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint64_t a = x >> (i % 64);
        struct vigil_branch one = {a, ~a};
        struct vigil_callers c1 = {.nbranch = 1, .branches = &one};
        ev.callers = &c1;
        char want[64];
        snprintf(want, sizeof want, "\"branches\":[[\"%#llx\",\"%#llx\"]]",
                 (unsigned long long)a, (unsigned long long)~a);
        if (a == 0) /* printf's # gives plain 0 */
            snprintf(want, sizeof want, "\"branches\":[[\"0x0\",\"%#llx\"]]",
                     (unsigned long long)~a);
        char got[256];
        bad += vigil_syscall_json(&ev, got, sizeof got) < 0 ||
               strstr(got, want) == NULL;
    }
    ev.callers = &cl;
    CHECK(bad == 0,
          "4096 addresses of every width as printf writes them: "
          "%u differ",
          bad);
    /* Every length up to the whole: either all of it or -ENOSPC, never a
     * write past the end (ASan) or a cut line. */
    for (int len = 1; n > 0 && len <= n + 1; len++) {
        char *small = malloc((size_t)len);
        int k = vigil_syscall_json(&ev, small, (size_t)len);
        if (k >= 0 && (k != n || memcmp(small, buf, (size_t)n) != 0))
            CHECK(0, "a %d-byte buffer gave %d bytes", len, k);
        if (k < 0 && len > n)
            CHECK(0, "a %d-byte buffer refused %d bytes", len, n);
        free(small);
    }
}

int main(void)
{
    test_addr_format();
    char dir[] = "/tmp/test-callers.XXXXXX", path[64];
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(path, sizeof path, "%s/ring", dir);
    struct vring_map *m;
    struct vcons *c;
    CHECK(vring_create(path, 1, 1 << 16, NULL, &m) == 0, "create a ring");
    CHECK(vcons_new(&c, m, NULL, on_event, NULL) == 0, "a consumer");

    put_callers(m, 0x1000, 5, 2, 2, 0, VRAW_CALLERS_TRUNC); /* the getpid */
    put_enter(m, 0x1000, 5, "getpid");
    put_exit(m, 0x1000, 5, "getpid");
    put_callers(m, 0x2000, 6, 1, 1, 0, VRAW_CALLERS_TRUNC); /* dropped */
    put_enter(m, 0x3000, 7, "getpid");
    put_exit(m, 0x3000, 7, "getpid");
    put_callers(m, 0x1000, 5, 1, 4, 1, VRAW_CALLERS_TRUNC); /* too short */
    put_enter(m, 0x1000, 5, "getpid");
    put_exit(m, 0x1000, 5, "getpid");
    /* A delta of a thread the consumer holds nothing of: partial, its
     * JSON made from the record (none kept for it). */
    put_callers(m, 0x4000, 8, 1, 2, 0, VRAW_CALLERS_DELTA);
    put_enter(m, 0x4000, 8, "getpid");
    put_exit(m, 0x4000, 8, "getpid");
    put_callers(m, 0x1000, 5, 0, 1, 0, VRAW_CALLERS_TRUNC); /* exit_group */
    put_enter(m, 0x1000, 5, "exit_group");
    vcons_poll(c);
    vcons_finish(c);

    CHECK(nout == 5, "five events (%u)", nout);
    CHECK(strstr(out[0], ",\"chain\":[\"0x401000\",\"0x401001\"],"
                         "\"chain_truncated\":true,\"branches\":[[\"0x401002\","
                         "\"0x401003\"],[\"0x401004\",\"0x401005\"]]") != NULL,
          "chain, chain_truncated and branches, in order: %s", out[0]);
    CHECK(strstr(out[1], "chain") == NULL && strstr(out[1], "branches") == NULL,
          "another thread's record is not attached: %s", out[1]);
    CHECK(strstr(out[2], "chain") == NULL,
          "a record shorter than its counts is not attached: %s", out[2]);
    CHECK(strstr(out[3],
                 ",\"chain\":[\"0x401000\"],\"branches\":[[\"0x401001\","
                 "\"0x401002\"],[\"0x401003\",\"0x401004\"]],"
                 "\"branches_partial\":true") != NULL,
          "a delta the consumer cannot continue: its own chain and branches, "
          "partial: %s",
          out[3]);
    CHECK(strstr(out[4], "\"exit_group\"") != NULL &&
              strstr(out[4],
                     "\"chain\":[],\"chain_truncated\":true,"
                     "\"branches\":[[\"0x401000\",\"0x401001\"]]") != NULL,
          "a call that never returns has its record: %s", out[4]);

    vcons_free(c);
    vring_close(m);
    unlink(path);
    rmdir(dir);
    return failures != 0;
}
