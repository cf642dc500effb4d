/* libFuzzer target for the executor of hidden calls (lib/hide/exec.c,
 * lib/hide/table.c): whatever a slot holds (the plugin runs inside QEMU,
 * next to a guest that may be hostile), the executor must neither crash,
 * nor read or write outside the slot, nor block. Each input is a sequence
 * of calls of a few processes, run on real host sockets in a network
 * namespace of the fuzzer's own with only a loopback that is down, so that
 * nothing leaves the machine. Needs root (unshare).
 *
 * Input: records of [op index][tgid][ppid][6 x int64 args][2-byte data
 * length][data]; the op index picks from the calls vigil hides and the
 * process events, or is taken raw.
 *
 * Run: make fuzz && build/fuzz/fuzz-hide -max_total_time=60 fuzz/corpus/hide */
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "hide/exec.h"
#include "hide/table.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every call a slot may name, the ones the plugin never posts among them,
 * and the process events. */
static const int ops[] = {
    SYS_read,         SYS_write,      SYS_close,      SYS_poll,
    SYS_ioctl,        SYS_readv,      SYS_writev,     SYS_dup,
    SYS_dup2,         SYS_socket,     SYS_connect,    SYS_accept,
    SYS_sendto,       SYS_recvfrom,   SYS_sendmsg,    SYS_recvmsg,
    SYS_shutdown,     SYS_bind,       SYS_listen,     SYS_getsockname,
    SYS_getpeername,  SYS_setsockopt, SYS_getsockopt, SYS_fcntl,
    SYS_epoll_wait,   SYS_epoll_ctl,  SYS_accept4,    SYS_dup3,
    SYS_recvmmsg,     SYS_sendmmsg,   SYS_ppoll,      SYS_epoll_pwait,
    SYS_epoll_pwait2, VHIDE_OP_EXIT,  VHIDE_OP_EXEC,  VHIDE_OP_EPCLOSE};

static struct hide_table tb;
static struct vhide_slot slot;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (unshare(CLONE_NEWNET) < 0) {
        perror("fuzz-hide: unshare(CLONE_NEWNET) (needs root)");
        exit(1);
    }
    hide_table_init(&tb);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hide_counts n = {0};
    size_t at = 0;
    uint64_t now = 1000000000ull;
    while (at + 3 + 48 + 2 <= size) {
        uint8_t pick = data[at];
        int op = pick < sizeof ops / sizeof *ops ? ops[pick] : (int8_t)pick;
        memset(&slot, 0, offsetof(struct vhide_slot, data));
        slot.op = op;
        slot.tgid = 1 + data[at + 1] % 4;
        slot.ppid = data[at + 2] % 5;
        memcpy(slot.args, data + at + 3, 48);
        uint16_t len;
        memcpy(&len, data + at + 51, 2);
        at += 53;
        if (len > size - at)
            len = (uint16_t)(size - at);
        memset(slot.data, 0, 4096);
        memcpy(slot.data, data + at, len);
        at += len;
        if (op < 0) {
            struct hproc *p = hide_proc(&tb, slot.tgid, slot.ppid, true);
            if (p != NULL && op == VHIDE_OP_EPCLOSE)
                hide_epoll_close(p, (int32_t)slot.args[0]);
            else if (p != NULL)
                hide_proc_close(p, op == VHIDE_OP_EXEC);
            continue;
        }
        /* A call that waits is tried again a few times, then given up. */
        struct hide_pending w = {.since = now};
        for (int tries = 0; tries < 3; tries++, now += 500000000ull) {
            if (hide_run_call(&tb, &slot, &w, now, &n))
                break;
            w.waiting = true;
        }
    }
    for (int i = 0; i < HIDE_PROCS; i++)
        if (tb.procs[i].tgid != 0)
            hide_proc_close(&tb.procs[i], false);
    return 0;
}
