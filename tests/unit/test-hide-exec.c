/* lib/hide/exec.c, the executor of hidden calls, on slots a hostile or
 * broken plugin could post: a slot names the call and its arguments, and
 * only offsets into the slot's data may reach the host kernel as
 * pointers. Each case here was a way to make vigil's own memory the
 * call's buffer. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "hide/exec.h"

static struct hide_table tb;
static struct vhide_slot s;

static int64_t run(int op, const int64_t args[6])
{
    struct hide_pending w = {0};
    struct hide_counts n = {0};
    memset(&s, 0, sizeof s);
    s.op = op;
    s.tgid = 100;
    memcpy(s.args, args, sizeof s.args);
    for (int tries = 0; tries < 3; tries++, w.waiting = true)
        if (hide_run_call(&tb, &s, &w, 1000000000ull, &n))
            return s.result;
    return -EAGAIN;
}

int main(void)
{
    hide_table_init(&tb);
    int pp[2];
    if (pipe(pp) < 0)
        return 2;

    /* Calls the plugin never posts whose arguments are pointers: run
     * as they were, the host kernel would read and write vigil's memory
     * at addresses the slot chose. */
    struct pollfd pfd = {.fd = pp[1], .events = POLLOUT};
    struct timespec zero = {0, 0};
    int64_t a[6] = {(int64_t)(uintptr_t)&pfd, 1, (int64_t)(uintptr_t)&zero, 0,
                    8};
    int64_t r = run(SYS_ppoll, a);
    CHECK(r == -ENOSYS && pfd.revents == 0,
          "ppoll on vigil's own memory is refused (%lld, revents %#x)",
          (long long)r, pfd.revents);
    struct epoll_ev {
        uint32_t events;
        uint64_t data;
    } __attribute__((packed)) evs[4];
    memset(evs, 0xaa, sizeof evs);
    int64_t b[6] = {0, (int64_t)(uintptr_t)evs, 4, 0};
    r = run(SYS_epoll_pwait, b);
    CHECK(r == -ENOSYS && ((unsigned char *)evs)[0] == 0xaa,
          "epoll_pwait into vigil's own memory is refused (%lld)",
          (long long)r);
    r = run(SYS_epoll_pwait2, b);
    CHECK(r == -ENOSYS, "epoll_pwait2 is refused (%lld)", (long long)r);
    for (int op = 0; op < 500; op++) {
        const struct vhide_shape *sh = vhide_shape(op);
        if (sh == NULL || op == SYS_socket)
            continue;
        /* A descriptor-less call the executor does not know is never run
         * as it is. */
        int64_t c[6] = {(int64_t)(uintptr_t)&pfd, 1, 0, 0, 0, 0};
        pfd.revents = 0;
        run(op, c);
        CHECK(pfd.revents == 0, "%s leaves vigil's memory alone", sh->name);
    }

    /* A message block beyond the data (found by fuzz-hide). */
    int64_t d[6] = {VHIDE_FD_BASE, INT64_MAX - 3, 0};
    run(SYS_socket, (int64_t[6]){2, 2, 0});
    r = run(SYS_sendmsg, d);
    CHECK(r == -EINVAL || r == -EBADF, "a message block out of range: %lld",
          (long long)r);

    for (int i = 0; i < HIDE_PROCS; i++)
        if (tb.procs[i].tgid != 0)
            hide_proc_close(&tb.procs[i], false);
    printf("%s (%d failures)\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
