/* The executor of hidden socket calls (see run-hide.h, vigil/hide.h and
 * docs/hide.md).
 *
 * One thread, in the network namespace --hide-netns names (setns affects
 * only the calling thread), runs the calls the plugin posts against host
 * sockets. Every host socket is non-blocking; whether the guest process
 * set O_NONBLOCK is kept in its table, and a blocking call that would block
 * is kept aside and tried again when its socket is ready, while the guest
 * thread waits in the guest kernel. A call whose thread stopped looking
 * for its answer (it was killed) is dropped.
 */
#include "run-hide.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "vigil/hide.h"
#include "vigil/ring.h"

#define PROCS      64
#define IDLE_SPIN  (2 * 1000 * 1000ull) /* busy-poll this long after work */
#define ABANDON_NS (3 * 1000 * 1000 * 1000ull)

struct hfd {
    int host; /* -1: free */
    bool nonblock, cloexec;
};

struct proc {
    int32_t tgid; /* 0: free */
    struct hfd fd[VHIDE_FDS];
};

struct run_hide {
    struct vhide_area *area;
    char netns[256];
    pthread_t thread;
    int stop;
    int err; /* the thread could not start: -errno */
    bool started;
    struct proc procs[PROCS];
    bool waiting[VHIDE_SLOTS]; /* posted, blocked on its socket */
    uint64_t calls, waits, abandoned, events;
};

static uint64_t now_ns(void)
{
    return cli_now_ns(CLOCK_MONOTONIC);
}

static struct proc *proc_find(struct run_hide *h, int32_t tgid)
{
    for (int i = 0; i < PROCS; i++)
        if (h->procs[i].tgid == tgid)
            return &h->procs[i];
    return NULL;
}

static struct proc *proc_new(struct run_hide *h, int32_t tgid)
{
    struct proc *p = proc_find(h, 0);
    if (p == NULL)
        return NULL;
    p->tgid = tgid;
    for (int i = 0; i < VHIDE_FDS; i++)
        p->fd[i].host = -1;
    return p;
}

static void proc_close(struct proc *p, bool only_cloexec)
{
    for (int i = 0; i < VHIDE_FDS; i++)
        if (p->fd[i].host >= 0 && (!only_cloexec || p->fd[i].cloexec)) {
            close(p->fd[i].host);
            p->fd[i].host = -1;
        }
    if (!only_cloexec)
        p->tgid = 0;
}

/* The table of @tgid; a child's first call copies its parent's (what fork
 * does to descriptors). */
static struct proc *proc_of(struct run_hide *h, int32_t tgid, int32_t ppid,
                            bool create)
{
    struct proc *p = proc_find(h, tgid);
    if (p != NULL || !create)
        return p;
    struct proc *parent = proc_find(h, ppid);
    p = proc_new(h, tgid);
    if (p == NULL || parent == NULL)
        return p;
    for (int i = 0; i < VHIDE_FDS; i++)
        if (parent->fd[i].host >= 0) {
            p->fd[i] = parent->fd[i];
            p->fd[i].host = fcntl(parent->fd[i].host, F_DUPFD_CLOEXEC, 3);
        }
    return p;
}

static struct hfd *hfd_of(struct proc *p, int64_t fd)
{
    int64_t i = (int64_t)(int32_t)fd - VHIDE_FD_BASE;
    if (p == NULL || i < 0 || i >= VHIDE_FDS || p->fd[i].host < 0)
        return NULL;
    return &p->fd[i];
}

/* The lowest free hidden number from @from up; -1 when full. */
static int64_t hfd_alloc(struct proc *p, int64_t from)
{
    int64_t i = from > VHIDE_FD_BASE ? from - VHIDE_FD_BASE : 0;
    for (; i < VHIDE_FDS; i++)
        if (p->fd[i].host < 0)
            return i;
    return -1;
}

static int64_t hfd_install(struct proc *p, int64_t i, int host, bool nonblock,
                           bool cloexec)
{
    if (p->fd[i].host >= 0)
        close(p->fd[i].host);
    p->fd[i] = (struct hfd){host, nonblock, cloexec};
    return VHIDE_FD_BASE + i;
}

/* A new descriptor for the guest from host descriptor @host. */
static int64_t new_fd(struct proc *p, int host, bool nonblock, bool cloexec,
                      int64_t from)
{
    int64_t i = hfd_alloc(p, from);
    if (i < 0) {
        close(host);
        return -EMFILE;
    }
    fcntl(host, F_SETFL, fcntl(host, F_GETFL) | O_NONBLOCK);
    return hfd_install(p, i, host, nonblock, cloexec);
}

static int64_t neg(long r)
{
    return r < 0 ? -errno : r;
}

/* Whether a call that could not proceed should wait for its socket: it
 * would block, and the guest did not ask for non-blocking. */
static bool must_wait(const struct hfd *f, int64_t r)
{
    return r == -EAGAIN && !f->nonblock;
}

static bool ready(int fd, short ev)
{
    struct pollfd p = {.fd = fd, .events = ev};
    return poll(&p, 1, 0) > 0;
}

/* Run the call in slot @s; false when it must wait (then it is tried
 * again once its socket is ready). */
static bool run_call(struct run_hide *h, struct vhide_slot *s, bool again)
{
    const struct vhide_shape *sh = vhide_shape(s->op);
    struct proc *p = proc_of(h, s->tgid, s->ppid, true);
    int64_t *a = s->args, r;
    long x[6];
    if (sh == NULL || p == NULL) {
        s->result = sh == NULL ? -ENOSYS : -EMFILE;
        return true;
    }
    struct hfd *f = NULL;
    if (sh->fd_args & 1) {
        f = hfd_of(p, a[0]);
        if (f == NULL) {
            s->result = -EBADF;
            return true;
        }
    }
    for (int i = 0; i < 6; i++)
        x[i] = (long)a[i];
    if (f != NULL)
        x[0] = f->host;
    for (int k = 0; k < VHIDE_PTRS; k++) {
        int ai = sh->ptr[k].argi;
        if (ai >= 0)
            x[ai] = a[ai] < 0 || a[ai] >= (int64_t)VHIDE_DATA
                        ? 0
                        : (long)(uintptr_t)(s->data + a[ai]);
    }
    switch (s->op) {
    case 41: { /* socket */
        bool nb = (a[1] & SOCK_NONBLOCK) != 0, ce = (a[1] & SOCK_CLOEXEC) != 0;
        int fd = socket((int)a[0], (int)(a[1] | SOCK_NONBLOCK | SOCK_CLOEXEC),
                        (int)a[2]);
        s->result = fd < 0 ? -errno : new_fd(p, fd, nb, ce, 0);
        return true;
    }
    case 3: /* close */
        close(f->host);
        f->host = -1;
        s->result = 0;
        return true;
    case 32:    /* dup */
    case 33:    /* dup2 */
    case 292: { /* dup3 */
        int fd = fcntl(f->host, F_DUPFD_CLOEXEC, 3);
        if (fd < 0) {
            s->result = -errno;
            return true;
        }
        if (s->op == 32) {
            s->result = new_fd(p, fd, f->nonblock, false, 0);
            return true;
        }
        int64_t target = (int64_t)(int32_t)a[1] - VHIDE_FD_BASE;
        if (target < 0 || target >= VHIDE_FDS ||
            (s->op == 292 && (a[1] == a[0] || (a[2] & ~O_CLOEXEC)))) {
            close(fd);
            s->result = -EINVAL;
            return true;
        }
        if (a[1] == a[0]) { /* dup2 onto itself */
            close(fd);
            s->result = a[1];
            return true;
        }
        s->result = hfd_install(p, target, fd, f->nonblock,
                                s->op == 292 && (a[2] & O_CLOEXEC));
        return true;
    }
    case 72: /* fcntl */
        switch (a[1]) {
        case F_GETFL:
            s->result = O_RDWR | (f->nonblock ? O_NONBLOCK : 0);
            return true;
        case F_SETFL:
            f->nonblock = (a[2] & O_NONBLOCK) != 0;
            s->result = 0;
            return true;
        case F_GETFD:
            s->result = f->cloexec ? FD_CLOEXEC : 0;
            return true;
        case F_SETFD:
            f->cloexec = (a[2] & FD_CLOEXEC) != 0;
            s->result = 0;
            return true;
        case F_DUPFD:
        case F_DUPFD_CLOEXEC: {
            int fd = fcntl(f->host, F_DUPFD_CLOEXEC, 3);
            s->result = fd < 0 ? -errno
                               : new_fd(p, fd, f->nonblock,
                                        a[1] == F_DUPFD_CLOEXEC, a[2]);
            return true;
        }
        }
        s->result = -EINVAL;
        return true;
    case 16: /* ioctl: FIONREAD only */
        s->result = a[1] == FIONREAD
                        ? neg(ioctl(f->host, FIONREAD, (int *)x[2]))
                        : -ENOTTY;
        return true;
    case 42: /* connect */
        if (!again) {
            r = neg(connect(f->host, (void *)x[1], (socklen_t)x[2]));
            if (r != -EINPROGRESS || f->nonblock) {
                s->result = r;
                return true;
            }
        }
        if (!ready(f->host, POLLOUT))
            return false;
        int e = 0;
        socklen_t el = sizeof e;
        getsockopt(f->host, SOL_SOCKET, SO_ERROR, &e, &el);
        s->result = -e;
        return true;
    case 43:    /* accept */
    case 288: { /* accept4 */
        int flags = s->op == 288 ? (int)a[3] : 0;
        int fd = accept4(f->host, (void *)x[1], (socklen_t *)x[2],
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        r = fd < 0 ? -errno : fd;
        if (must_wait(f, r))
            return false;
        s->result = r < 0 ? r
                          : new_fd(p, fd, (flags & SOCK_NONBLOCK) != 0,
                                   (flags & SOCK_CLOEXEC) != 0, 0);
        return true;
    }
    }
    /* The rest run as they are, on the host socket. */
    if (s->op == 44 || s->op == 45)
        x[3] |= MSG_DONTWAIT;
    r = neg(syscall(s->op, x[0], x[1], x[2], x[3], x[4], x[5]));
    if (must_wait(f, r))
        return false;
    s->result = r;
    return true;
}

static void handle_event(struct run_hide *h, struct vhide_slot *s)
{
    struct proc *p = proc_find(h, s->tgid);
    h->events++;
    if (p != NULL)
        proc_close(p, s->op == VHIDE_OP_EXEC);
    __atomic_store_n(&s->state, VHIDE_FREE, __ATOMIC_RELEASE);
}

/* One pass over the slots; whether anything was done. */
static bool pass(struct run_hide *h)
{
    bool worked = false;
    uint64_t now = now_ns();
    for (int i = 0; i < VHIDE_SLOTS; i++) {
        struct vhide_slot *s = &h->area->slot[i];
        if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != VHIDE_POSTED) {
            h->waiting[i] = false;
            continue;
        }
        if (s->op < 0) {
            handle_event(h, s);
            worked = true;
            continue;
        }
        bool again = h->waiting[i];
        if (again &&
            now - __atomic_load_n(&s->seen_ns, __ATOMIC_ACQUIRE) > ABANDON_NS) {
            /* Its thread stopped waiting (killed): nobody reads this. */
            h->abandoned++;
            s->result = -EINTR;
            h->waiting[i] = false;
            __atomic_store_n(&s->state, VHIDE_DONE, __ATOMIC_RELEASE);
            continue;
        }
        if (!again)
            h->calls++;
        if (!run_call(h, s, again)) {
            if (!again)
                h->waits++;
            h->waiting[i] = true;
            continue;
        }
        h->waiting[i] = false;
        worked = true;
        __atomic_store_n(&s->state, VHIDE_DONE, __ATOMIC_RELEASE);
    }
    return worked;
}

static void *hide_main(void *arg)
{
    struct run_hide *h = arg;
    if (h->netns[0] != '\0') {
        int fd = open(h->netns, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
            __atomic_store_n(&h->err, -errno, __ATOMIC_RELEASE);
            if (fd >= 0)
                close(fd);
            return NULL;
        }
        close(fd);
    }
    __atomic_store_n(&h->err, 1, __ATOMIC_RELEASE); /* running */
    uint64_t last_work = now_ns();
    while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE)) {
        if (pass(h)) {
            last_work = now_ns();
            continue;
        }
        /* Quick answers for a while after work; then sleep a little. */
        if (now_ns() - last_work < IDLE_SPIN) {
            __builtin_ia32_pause();
            continue;
        }
        struct timespec ts = {0, 100 * 1000};
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < PROCS; i++)
        if (h->procs[i].tgid != 0)
            proc_close(&h->procs[i], false);
    return NULL;
}

int run_hide_start(struct run_hide **out, struct vring_map *ring,
                   const char *netns)
{
    struct run_hide *h = calloc(1, sizeof *h);
    if (h == NULL)
        return -1;
    h->area = vring_hide(ring);
    if (netns != NULL) {
        int n = strchr(netns, '/')
                    ? snprintf(h->netns, sizeof h->netns, "%s", netns)
                    : snprintf(h->netns, sizeof h->netns, "/var/run/netns/%s",
                               netns);
        if (n >= (int)sizeof h->netns) {
            cli_error("--hide-netns: name too long");
            free(h);
            return -1;
        }
    }
    if (pthread_create(&h->thread, NULL, hide_main, h) != 0) {
        cli_error("--hide: cannot start the executor thread");
        free(h);
        return -1;
    }
    h->started = true;
    int e;
    while ((e = __atomic_load_n(&h->err, __ATOMIC_ACQUIRE)) == 0) {
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (e < 0) {
        cli_error("--hide-netns %s: %s", h->netns, strerror(-e));
        pthread_join(h->thread, NULL);
        free(h);
        return -1;
    }
    *out = h;
    return 0;
}

void run_hide_stop(struct run_hide *h, bool verbose)
{
    if (h == NULL)
        return;
    __atomic_store_n(&h->stop, 1, __ATOMIC_RELEASE);
    pthread_join(h->thread, NULL);
    if (verbose || h->abandoned)
        fprintf(stderr,
                "vigil: hidden calls: %llu run on the host (%llu waited for "
                "their socket, %llu abandoned by a thread that died), %llu "
                "process events\n",
                (unsigned long long)h->calls, (unsigned long long)h->waits,
                (unsigned long long)h->abandoned,
                (unsigned long long)h->events);
    free(h);
}
