/* Hidden calls answered on the vCPU's thread (see hide-fast.h).
 *
 * A call handed to vigil's executor costs two thread wake-ups on the host,
 * tens of microseconds on a busy one, for calls the guest kernel answers
 * in two to four. The calls here never block and change nothing vigil
 * keeps about the descriptor, so a copy of the host socket in QEMU's
 * process answers them as the executor would: the same call on the same
 * socket (whatever network namespace the calling thread is in).
 *
 * Ordering. A copy keeps its socket open: it must never outlive the
 * hidden descriptor it stands for, nor stand for the next socket given
 * that number. So every call that can end or replace a hidden descriptor
 * (close, dup2/dup3 onto it, exec, the process's end) forgets the copies
 * here before it is posted, under the lock, and bumps the process's
 * generation; a copy asked for earlier carries the older generation and
 * is closed when it arrives. The fast calls run under the same lock, so a
 * close on another vCPU waits for them and never closes a copy in use
 * (nor lets its number be reused under them). The lock is held only for
 * calls that do not block.
 *
 * A new process (fork) has a table of its own: it asks for copies of its
 * own. Copies are asked for only by the calls answered here, so a process
 * that never makes them costs nothing. */
#include "hide-fast.h"

#include <errno.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hide/exec.h"
#include "hide/share.h"

#define FAST_PROCS 64
#define FAST_FDS   64 /* copies held at once, in QEMU's descriptor table */

static struct {
    int sock; /* -1: off */
    struct vhide_area *area;
    pthread_mutex_t mu;
    uint64_t gens;     /* the last generation given out */
    uint64_t received; /* copies read, against area->shared */
    struct {
        int32_t tgid; /* 0: free */
        uint64_t gen;
    } proc[FAST_PROCS];
    struct {
        int32_t tgid, fd; /* tgid 0: free */
        int copy;
    } e[FAST_FDS];
} fast = {.sock = -1, .mu = PTHREAD_MUTEX_INITIALIZER};

void hfast_setup(struct vhide_area *area, const char *path)
{
    fast.area = area;
    if (path[0] != '\0') {
        int s = hshare_connect(path);
        fast.sock = s >= 0 ? s : -1;
    }
}

bool hfast_call(int64_t nr, const uint64_t args[6])
{
    if (fast.sock < 0)
        return false;
    switch (nr) {
    case SYS_getsockopt:
    case SYS_getsockname:
    case SYS_getpeername:
        return true;
    case SYS_ioctl:
        return args[1] == FIONREAD;
    case SYS_setsockopt:
        /* Not the timeouts: the executor keeps them, to wait by them. */
        return hide_option_allowed((int64_t)args[1], (int64_t)args[2]) &&
               !(args[1] == SOL_SOCKET &&
                 (args[2] == SO_RCVTIMEO_OLD || args[2] == SO_SNDTIMEO_OLD ||
                  args[2] == SO_RCVTIMEO_NEW || args[2] == SO_SNDTIMEO_NEW));
    case SYS_sendto:
    case SYS_recvfrom:
        /* Only what cannot wait: the executor knows O_NONBLOCK. */
        return (args[3] & MSG_DONTWAIT) != 0;
    }
    return false;
}

static int proc_of(int32_t tgid)
{
    for (int i = 0; i < FAST_PROCS; i++)
        if (fast.proc[i].tgid == tgid)
            return i;
    return -1;
}

/* The copy arrived from the executor: kept when it is still of the
 * generation it was asked for, and there is room. Under the lock. */
static void keep(const struct hshare_msg *m, int copy)
{
    int p = proc_of(m->tgid);
    if (p < 0 || fast.proc[p].gen != m->gen) {
        close(copy);
        return;
    }
    int room = -1;
    for (int i = 0; i < FAST_FDS; i++) {
        if (fast.e[i].tgid == m->tgid && fast.e[i].fd == m->fd) {
            close(copy); /* asked for twice: the first one stays */
            return;
        }
        if (fast.e[i].tgid == 0 && room < 0)
            room = i;
    }
    if (room < 0) {
        close(copy);
        return;
    }
    fast.e[room].tgid = m->tgid;
    fast.e[room].fd = m->fd;
    fast.e[room].copy = copy;
}

/* Read the copies the executor sent since the last look. Under the lock. */
static void take_copies(void)
{
    uint64_t sent = __atomic_load_n(&fast.area->shared, __ATOMIC_ACQUIRE);
    while (fast.received < sent) {
        struct hshare_msg m;
        int copy = hshare_recv(fast.sock, &m);
        if (copy < 0)
            break;
        __atomic_store_n(&fast.received, fast.received + 1, __ATOMIC_RELAXED);
        keep(&m, copy);
    }
    /* One lost on the way (no room for it here) is not waited for. */
    if (fast.received < sent)
        __atomic_store_n(&fast.received, sent, __ATOMIC_RELAXED);
}

/* The process's generation, with a table entry made for it (0: no room,
 * and nothing is asked for). Under the lock. */
static uint64_t generation(int32_t tgid)
{
    int p = proc_of(tgid);
    if (p < 0 && (p = proc_of(0)) >= 0) {
        fast.proc[p].tgid = tgid;
        fast.proc[p].gen = ++fast.gens;
    }
    return p < 0 ? 0 : fast.proc[p].gen;
}

static int64_t run(int copy, const struct vhide_slot *s)
{
    long x[6];
    const struct vhide_shape *sh = vhide_shape(s->op);
    for (int i = 0; i < 6; i++)
        x[i] = (long)s->args[i];
    x[0] = copy;
    /* Pointers are offsets into the slot, as for the executor. */
    for (int k = 0; k < VHIDE_PTRS; k++) {
        int ai = sh->ptr[k].argi;
        if (ai >= 0)
            x[ai] =
                s->args[ai] < 0 ? 0 : (long)(uintptr_t)(s->data + s->args[ai]);
    }
    if (s->op == SYS_sendto)
        x[3] |= MSG_NOSIGNAL; /* EPIPE without SIGPIPE, for QEMU too */
    long r = s->op == SYS_ioctl
                 ? ioctl(copy, FIONREAD, (int *)x[2])
                 : syscall(s->op, x[0], x[1], x[2], x[3], x[4], x[5]);
    return r < 0 ? -errno : r;
}

bool hfast_run(int32_t tgid, struct vhide_slot *s, uint64_t *gen)
{
    bool done = false;
    pthread_mutex_lock(&fast.mu);
    take_copies();
    for (int i = 0; i < FAST_FDS && !done; i++)
        if (fast.e[i].tgid == tgid && fast.e[i].fd == (int32_t)s->args[0]) {
            s->result = run(fast.e[i].copy, s);
            done = true;
        }
    *gen = done ? 0 : generation(tgid);
    pthread_mutex_unlock(&fast.mu);
    return done;
}

void hfast_forget(int32_t tgid, int64_t fd, bool gone)
{
    if (fast.sock < 0)
        return;
    pthread_mutex_lock(&fast.mu);
    int p = proc_of(tgid);
    if (p >= 0) {
        fast.proc[p].gen = ++fast.gens;
        if (gone)
            fast.proc[p].tgid = 0;
    }
    for (int i = 0; i < FAST_FDS; i++)
        if (fast.e[i].tgid == tgid && (fd < 0 || fast.e[i].fd == (int32_t)fd)) {
            close(fast.e[i].copy);
            fast.e[i].tgid = 0;
        }
    pthread_mutex_unlock(&fast.mu);
}

void hfast_drain(void)
{
    if (fast.sock < 0 ||
        __atomic_load_n(&fast.area->shared, __ATOMIC_ACQUIRE) ==
            __atomic_load_n(&fast.received, __ATOMIC_RELAXED))
        return;
    pthread_mutex_lock(&fast.mu);
    take_copies();
    pthread_mutex_unlock(&fast.mu);
}
