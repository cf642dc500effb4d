/* Waiting for hidden descriptors (see hide-call.h): poll, ppoll, and the
 * epoll calls.
 *
 * A set of hidden descriptors only is the executor's alone: it polls the
 * host sockets and holds the call until one is ready or the timeout
 * passes, as it holds a blocking recv. A set that mixes in descriptors of
 * the guest kernel's own is waited for in rounds, each two steps: the
 * executor says at once which hidden ones are ready; then the instruction
 * becomes the same call for the guest kernel over its own descriptors
 * (poll with the hidden entries masked as -1, which poll skips; epoll_wait
 * on the guest's instance, which holds only guest descriptors), with no
 * wait when the hidden side already has something, else a slice of the
 * timeout. The results are merged when that call returns, and the
 * instruction runs once more to complete the call, or to start the next
 * round. A hidden descriptor is thus noticed within a slice.
 *
 * epoll_ctl of a hidden descriptor goes to the executor, which keeps a
 * host epoll instance for each guest one that has hidden descriptors in
 * it; the guest's instance never sees them.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>

#include "control.h"
#include "guestmem.h"
#include "hide-call.h"
#include "vigil/clock.h"

#define POLL_MAX   1024 /* entries of a poll set vigil looks into */
#define HIDDEN_MAX 256  /* hidden entries of one set */
#define EVENTS_MAX (VHIDE_DATA / 12)
#define WAITS      64
#define EPOLLS     256
#define SLICE_MS   10 /* the guest kernel's part of a round, at most */

enum { W_FREE, W_QUERY, W_ROUND, W_AGAIN, W_DONE };

struct wait {
    uint64_t task; /* 0: free */
    int32_t tid;
    int state;
    uint64_t ip;
    int64_t nr;
    uint64_t deadline; /* monotonic ns; UINT64_MAX: none */
    uint64_t seq;
    int64_t result;
    bool mixed;
    uint32_t nfds, nhid, hready;
    struct {
        uint16_t idx;
        int16_t events, revents;
        int32_t fd;
    } hid[HIDDEN_MAX];
};

static struct {
    struct wait w[WAITS];
    int live; /* records in use: none, and a call entry looks no further */
    uint64_t seq;
    struct {
        int32_t tgid, epfd; /* tgid 0: free */
    } ep[EPOLLS];
} waits;

void hwait_setup(void)
{
    memset(&waits, 0, sizeof waits);
}

/* ---- epoll instances with hidden descriptors ---- */

static int ep_find(int32_t tgid, int32_t epfd)
{
    for (int i = 0; i < EPOLLS; i++)
        if (__atomic_load_n(&waits.ep[i].tgid, __ATOMIC_ACQUIRE) == tgid &&
            waits.ep[i].epfd == epfd)
            return i;
    return -1;
}

static void ep_add(int32_t tgid, int32_t epfd)
{
    if (ep_find(tgid, epfd) >= 0)
        return;
    for (int i = 0; i < EPOLLS; i++) {
        int32_t none = 0;
        if (__atomic_load_n(&waits.ep[i].tgid, __ATOMIC_ACQUIRE) == 0 &&
            __atomic_compare_exchange_n(&waits.ep[i].tgid, &none, -1, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
            waits.ep[i].epfd = epfd;
            __atomic_store_n(&waits.ep[i].tgid, tgid, __ATOMIC_RELEASE);
            return;
        }
    }
}

void hwait_forget(int32_t tgid)
{
    for (int i = 0; i < EPOLLS; i++)
        if (__atomic_load_n(&waits.ep[i].tgid, __ATOMIC_ACQUIRE) == tgid)
            __atomic_store_n(&waits.ep[i].tgid, 0, __ATOMIC_RELEASE);
}

/* ---- the waits in progress, one per thread ---- */

static struct wait *wait_find(const struct vraw_task *t, uint64_t ip)
{
    for (int i = 0; i < WAITS; i++) {
        struct wait *w = &waits.w[i];
        if (__atomic_load_n(&w->task, __ATOMIC_ACQUIRE) == t->task &&
            w->tid == t->tid && (ip == 0 || w->ip == ip))
            return w;
    }
    return NULL;
}

static void wait_free(struct wait *w)
{
    __atomic_store_n(&w->task, 0, __ATOMIC_RELEASE);
    __atomic_fetch_sub(&waits.live, 1, __ATOMIC_ACQ_REL);
}

/* A record for thread @t's new wait: its old one (a thread waits for one
 * call at a time), a free one, or the oldest (a thread that died
 * waiting). */
static struct wait *wait_new(const struct vraw_task *t, uint64_t ip, int64_t nr)
{
    struct wait *w = wait_find(t, 0);
    for (int i = 0; w == NULL && i < WAITS; i++) {
        uint64_t none = 0;
        if (__atomic_compare_exchange_n(&waits.w[i].task, &none, t->task, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
            w = &waits.w[i];
            __atomic_fetch_add(&waits.live, 1, __ATOMIC_ACQ_REL);
        }
    }
    if (w == NULL) {
        w = &waits.w[0];
        for (int i = 1; i < WAITS; i++)
            if (waits.w[i].seq < w->seq)
                w = &waits.w[i];
        __atomic_store_n(&w->task, t->task, __ATOMIC_RELEASE);
    }
    w->tid = t->tid;
    w->ip = ip;
    w->nr = nr;
    w->seq = __atomic_add_fetch(&waits.seq, 1, __ATOMIC_RELAXED);
    w->nhid = w->hready = 0;
    w->mixed = false;
    return w;
}

static uint64_t deadline_ms(int64_t ms)
{
    return ms < 0 ? UINT64_MAX
                  : vigil_now_ns(CLOCK_MONOTONIC) + (uint64_t)ms * 1000000ull;
}

/* A timeout given as a struct timespec at @va (NULL: none). */
static bool deadline_ts(struct vcpu *v, uint64_t va, uint64_t *out)
{
    int64_t ts[2];
    if (va == 0) {
        *out = UINT64_MAX;
        return true;
    }
    if (gm_read(v, va, ts, sizeof ts) != GM_OK || ts[0] < 0 || ts[1] < 0 ||
        ts[1] >= 1000000000)
        return false;
    *out = vigil_now_ns(CLOCK_MONOTONIC) + (uint64_t)ts[0] * 1000000000ull +
           (uint64_t)ts[1];
    return true;
}

/* Milliseconds left, for a call that waits (-1: forever). */
static int64_t left_ms(const struct wait *w)
{
    if (w->deadline == UINT64_MAX)
        return -1;
    uint64_t now = vigil_now_ns(CLOCK_MONOTONIC);
    return now >= w->deadline
               ? 0
               : (int64_t)((w->deadline - now + 999999) / 1000000);
}

static int64_t slice_ms(const struct wait *w)
{
    int64_t left = left_ms(w);
    return left < 0 || left > SLICE_MS ? SLICE_MS : left;
}

/* Ask the executor which hidden descriptors are ready: at once for a
 * mixed set, else waiting as long as the call may. */
static enum hide_state query(const struct vraw_task *t, struct wait *w,
                             const uint64_t args[6], int64_t *result)
{
    int i = hide_claim(t, w->ip, w->nr);
    if (i < 0) {
        wait_free(w);
        *result = -EAGAIN;
        return HIDE_ANSWERED;
    }
    struct vhide_slot *s = hide_slot(i);
    int64_t a[6] = {0};
    if (w->nr == SYS_poll || w->nr == SYS_ppoll) {
        for (uint32_t k = 0; k < w->nhid; k++) {
            int32_t fd = w->hid[k].fd;
            int16_t ev[2] = {w->hid[k].events, 0};
            memcpy(s->data + k * 8, &fd, 4);
            memcpy(s->data + k * 8 + 4, ev, 4);
        }
        a[1] = w->nhid;
        a[2] = w->mixed ? 0 : left_ms(w);
        w->state = W_QUERY;
        hide_publish(i, t, SYS_poll, a, w->nhid * 8);
    } else {
        a[0] = (int64_t)(int32_t)args[0];
        a[2] = (int64_t)(args[2] < EVENTS_MAX ? args[2] : EVENTS_MAX);
        w->state = W_QUERY;
        hide_publish(i, t, SYS_epoll_wait, a, 0);
    }
    return HIDE_POSTED;
}

static enum hide_state fault_in(struct vcpu *v, const struct vraw_task *t,
                                uint64_t ip, uint64_t va, uint64_t len,
                                int64_t *result)
{
    if ((*result = hide_fault(v, t, ip, -1, va, len, true)) == 0)
        return HIDE_WAITING; /* the instruction faults it in, then again */
    return HIDE_ANSWERED;
}

static enum hide_state post_poll(struct vcpu *v, const struct vraw_task *t,
                                 uint64_t ip, int64_t nr,
                                 const uint64_t args[6], int64_t *result)
{
    uint64_t n = args[1];
    uint64_t set[POLL_MAX]; /* struct pollfd: fd, events, revents */
    if (n == 0 || n > POLL_MAX)
        return HIDE_NO;
    enum gm_result r = gm_read(v, args[0], set, (uint32_t)(n * 8));
    if (r == GM_OK)
        r = gm_check(v, args[0], (uint32_t)(n * 8), true);
    if (r == GM_FAULT_IN)
        return fault_in(v, t, ip, args[0], n * 8, result);
    if (r != GM_OK)
        return HIDE_NO; /* the kernel says EFAULT */
    uint32_t nhid = 0, nguest = 0;
    for (uint64_t k = 0; k < n; k++) {
        int32_t fd = (int32_t)set[k];
        nhid += hide_fd((uint64_t)(int64_t)fd);
        nguest += fd >= 0 && !hide_fd((uint64_t)(int64_t)fd);
    }
    if (nhid == 0)
        return HIDE_NO;
    if (nhid > HIDDEN_MAX) {
        *result = -EINVAL;
        return HIDE_ANSWERED;
    }
    uint64_t deadline;
    if (nr == SYS_poll)
        deadline = deadline_ms((int32_t)args[2]);
    else if (!deadline_ts(v, args[2], &deadline)) {
        *result = -EINVAL;
        return HIDE_ANSWERED;
    }
    struct wait *w = wait_new(t, ip, nr);
    w->deadline = deadline;
    w->nfds = (uint32_t)n;
    w->mixed = nguest > 0;
    for (uint64_t k = 0; k < n; k++) {
        int32_t fd = (int32_t)set[k];
        if (!hide_fd((uint64_t)(int64_t)fd))
            continue;
        w->hid[w->nhid].idx = (uint16_t)k;
        w->hid[w->nhid].fd = fd;
        w->hid[w->nhid].events = (int16_t)(set[k] >> 32);
        w->hid[w->nhid].revents = 0;
        w->nhid++;
    }
    return query(t, w, args, result);
}

static enum hide_state post_epoll_wait(struct vcpu *v,
                                       const struct vraw_task *t, uint64_t ip,
                                       int64_t nr, const uint64_t args[6],
                                       int64_t *result)
{
    int32_t maxevents = (int32_t)args[2];
    if (ep_find(t->tgid, (int32_t)args[0]) < 0 || maxevents <= 0)
        return HIDE_NO;
    uint64_t len = (uint64_t)maxevents * 12;
    enum gm_result r = gm_check(
        v, args[1], (uint32_t)(len < EVENTS_MAX * 12 ? len : EVENTS_MAX * 12),
        true);
    if (r == GM_FAULT_IN)
        return fault_in(v, t, ip, args[1], 12, result);
    if (r != GM_OK)
        return HIDE_NO;
    uint64_t deadline;
    if (nr != SYS_epoll_pwait2)
        deadline = deadline_ms((int32_t)args[3]);
    else if (!deadline_ts(v, args[3], &deadline)) {
        *result = -EINVAL;
        return HIDE_ANSWERED;
    }
    struct wait *w = wait_new(t, ip, nr);
    w->deadline = deadline;
    w->mixed = true; /* the guest's instance may hold its own */
    return query(t, w, args, result);
}

static enum hide_state post_epoll_ctl(struct vcpu *v, const struct vraw_task *t,
                                      uint64_t ip, const uint64_t args[6],
                                      int64_t *result)
{
    if (!hide_fd(args[2]))
        return HIDE_NO;
    if (hide_fd(args[0]) || args[0] == args[2]) {
        *result = -EINVAL;
        return HIDE_ANSWERED;
    }
    int i = hide_claim(t, ip, SYS_epoll_ctl);
    if (i < 0) {
        *result = -EAGAIN;
        return HIDE_ANSWERED;
    }
    int64_t a[6] = {(int32_t)args[0], (int64_t)args[1], (int32_t)args[2], -1};
    uint32_t in = 0;
    if (args[1] != EPOLL_CTL_DEL) {
        enum gm_result r = gm_read(v, args[3], hide_slot(i)->data, 12);
        if (r != GM_OK) {
            hide_release(i);
            if (r == GM_FAULT_IN)
                return fault_in(v, t, ip, args[3], 12, result);
            *result = -EFAULT;
            return HIDE_ANSWERED;
        }
        a[3] = 0;
        in = 16;
    }
    ep_add(t->tgid, (int32_t)args[0]);
    hide_publish(i, t, SYS_epoll_ctl, a, in);
    return HIDE_POSTED;
}

enum hide_state hwait_post(struct vcpu *v, const struct vraw_task *t,
                           uint64_t ip, int64_t nr, const uint64_t args[6],
                           int64_t *result)
{
    switch (nr) {
    case SYS_poll:
    case SYS_ppoll:
        return post_poll(v, t, ip, nr, args, result);
    case SYS_epoll_wait:
    case SYS_epoll_pwait:
    case SYS_epoll_pwait2:
        return post_epoll_wait(v, t, ip, nr, args, result);
    case SYS_epoll_ctl:
        return post_epoll_ctl(v, t, ip, args, result);
    case SYS_close: {
        /* The guest's epoll instance goes: the executor's twin too. */
        int e = ep_find(t->tgid, (int32_t)args[0]);
        if (e >= 0) {
            __atomic_store_n(&waits.ep[e].tgid, 0, __ATOMIC_RELEASE);
            hide_event(t, VHIDE_OP_EPCLOSE, (int32_t)args[0]);
        }
        return HIDE_NO;
    }
    }
    return HIDE_NO;
}

/* ---- the guest kernel's part of a round ---- */

static struct wait *wait_at(const uint64_t arg[4])
{
    return arg[0] < WAITS ? &waits.w[arg[0]] : NULL;
}

/* The round's outcome @total: the call's result, unless nothing is ready
 * yet and time is left (another round). */
static void round_end(struct wait *w, int64_t total)
{
    w->result = total;
    w->state = total != 0 || vigil_now_ns(CLOCK_MONOTONIC) >= w->deadline
                   ? W_DONE
                   : W_AGAIN;
}

/* After the round's call: the set as the guest gave it, with the hidden
 * entries' answers in it. */
static void poll_done(struct vcpu *v, const uint64_t arg[4], int64_t kret)
{
    struct wait *w = wait_at(arg);
    uint64_t set[POLL_MAX];
    if (w == NULL || w->state != W_ROUND)
        return;
    uint64_t va = arg[1];
    if (gm_read(v, va, set, w->nfds * 8) == GM_OK) {
        for (uint32_t k = 0; k < w->nhid; k++) {
            uint64_t e = (uint64_t)(uint32_t)w->hid[k].fd |
                         (uint64_t)(uint16_t)w->hid[k].events << 32 |
                         (uint64_t)(uint16_t)w->hid[k].revents << 48;
            set[w->hid[k].idx] = e;
        }
        if (gm_write(v, va, set, w->nfds * 8, true) != GM_OK)
            kret = -EFAULT;
    } else {
        kret = -EFAULT;
    }
    round_end(w, kret < 0 ? kret : kret + w->hready);
}

static void epoll_done(struct vcpu *v, const uint64_t arg[4], int64_t kret)
{
    (void)v;
    struct wait *w = wait_at(arg);
    if (w == NULL || w->state != W_ROUND)
        return;
    round_end(w, kret < 0 ? (w->hready ? w->hready : kret) : kret + w->hready);
}

static enum hide_state round_start(struct vcpu *v, const struct vraw_task *t,
                                   struct wait *w, uint64_t nr,
                                   const uint64_t a[4], control_done_fn done,
                                   int64_t *result)
{
    const uint64_t arg[4] = {(uint64_t)(w - waits.w), a[0], 0, 0};
    w->state = W_ROUND;
    if (control_call_again(v, t, w->ip, 2, nr, a, done, arg))
        return HIDE_WAITING;
    /* No way into the guest kernel: the hidden side's answer alone. */
    *result = w->hready;
    wait_free(w);
    return HIDE_ANSWERED;
}

enum hide_state hwait_answer(struct vcpu *v, const struct vraw_task *t,
                             uint64_t ip, int i, const uint64_t args[6],
                             int64_t *result)
{
    struct vhide_slot *s = hide_slot(i);
    int64_t r = s->result;
    int op = s->op;
    if (op == SYS_epoll_ctl) {
        *result = r;
        hide_release(i);
        return HIDE_ANSWERED;
    }
    struct wait *w = wait_find(t, ip);
    if (w == NULL || w->state != W_QUERY) {
        hide_release(i);
        *result = -EINTR;
        return HIDE_ANSWERED;
    }
    if (r < 0) {
        hide_release(i);
        wait_free(w);
        *result = r;
        return HIDE_ANSWERED;
    }
    w->hready = (uint32_t)r;
    if (op == SYS_poll) {
        for (uint32_t k = 0; k < w->nhid; k++)
            memcpy(&w->hid[k].revents, s->data + k * 8 + 6, 2);
        hide_release(i);
        uint64_t set[POLL_MAX];
        if (gm_read(v, args[0], set, w->nfds * 8) != GM_OK) {
            wait_free(w);
            *result = -EFAULT;
            return HIDE_ANSWERED;
        }
        if (!w->mixed) {
            /* The executor's answer is the whole answer. */
            for (uint32_t k = 0; k < w->nfds; k++)
                set[k] &= 0x0000ffffffffffffull;
            for (uint32_t k = 0; k < w->nhid; k++)
                set[w->hid[k].idx] |= (uint64_t)(uint16_t)w->hid[k].revents
                                      << 48;
            *result = gm_write(v, args[0], set, w->nfds * 8, true) == GM_OK
                          ? r
                          : -EFAULT;
            wait_free(w);
            return HIDE_ANSWERED;
        }
        /* Mask the hidden entries (poll skips a negative fd and clears its
         * revents) and let the guest kernel poll its own. */
        for (uint32_t k = 0; k < w->nhid; k++)
            set[w->hid[k].idx] =
                (set[w->hid[k].idx] & ~0xffffffffull) | 0xffffffffull;
        if (gm_write(v, args[0], set, w->nfds * 8, true) != GM_OK) {
            wait_free(w);
            *result = -EFAULT;
            return HIDE_ANSWERED;
        }
        const uint64_t a[4] = {args[0], w->nfds,
                               (uint64_t)(r > 0 ? 0 : slice_ms(w)), 0};
        return round_start(v, t, w, SYS_poll, a, poll_done, result);
    }
    /* epoll: the hidden events first, then what room is left for the
     * guest's own. */
    if (r > 0 &&
        gm_write(v, args[1], s->data, (uint32_t)r * 12, true) != GM_OK) {
        hide_release(i);
        wait_free(w);
        *result = -EFAULT;
        return HIDE_ANSWERED;
    }
    hide_release(i);
    if (r >= (int32_t)args[2]) {
        wait_free(w);
        *result = r;
        return HIDE_ANSWERED;
    }
    const uint64_t a[4] = {args[0], args[1] + (uint64_t)r * 12,
                           args[2] - (uint64_t)r,
                           (uint64_t)(r > 0 ? 0 : slice_ms(w))};
    return round_start(v, t, w, SYS_epoll_wait, a, epoll_done, result);
}

enum hide_state hwait_resume(struct vcpu *v, const struct vraw_task *t,
                             uint64_t ip, const uint64_t args[6],
                             int64_t *result)
{
    (void)v;
    if (__atomic_load_n(&waits.live, __ATOMIC_ACQUIRE) == 0)
        return HIDE_NO;
    struct wait *w = wait_find(t, ip);
    if (w == NULL)
        return HIDE_NO;
    switch (w->state) {
    case W_QUERY:
        return HIDE_POSTED; /* its slot is still with the executor */
    case W_DONE:
        *result = w->result;
        wait_free(w);
        return HIDE_ANSWERED;
    default: /* the next round (W_ROUND: its end was lost) */
        return query(t, w, args, result);
    }
}
