/* The executor of hidden socket calls (see run-hide.h, vigil/hide.h and
 * docs/hide.md).
 *
 * One thread, in the network namespace --hide-netns names (setns affects
 * only the calling thread), runs the calls the plugin posts against host
 * sockets (lib/hide/exec.c), with a descriptor table per guest process
 * (lib/hide/table.c). A call that must wait for its socket is tried again on
 * every pass; a call whose thread stopped looking for its answer (it was
 * killed) is dropped.
 */
#include "run-hide.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "hide/bell.h"
#include "hide/exec.h"
#include "hide/share.h"
#include "hide/table.h"
#include "vigil/hide.h"
#include "vigil/ring.h"

/* After work, busy-poll this long: the next call of a thread that makes
 * calls back to back comes within it, and is then seen at once. Longer
 * would take the CPU the vCPUs need on a loaded host; a post after it
 * wakes the executor (lib/hide/bell.c). */
#define IDLE_SPIN  (50 * 1000ull)
#define RETRY_NS   (100 * 1000ull) /* calls wait for their sockets: retry */
#define IDLE_NS    (50 * 1000 * 1000ull)
#define ABANDON_NS (3 * 1000 * 1000 * 1000ull)

struct run_hide {
    struct vhide_area *area;
    char netns[256];
    pthread_t thread;
    int stop;
    int err; /* the thread could not start: -errno */
    struct hide_table table;
    struct hshare *share; /* copies of sockets for the plugin; NULL: none */
    struct hide_pending pending[VHIDE_SLOTS]; /* posted, waiting */
    struct hide_counts n;
    uint64_t abandoned, events;
    uint64_t pickup_ns, run_ns, firsts; /* VIGIL_HIDE_PROF */
};

static uint64_t now_ns(void)
{
    return cli_now_ns(CLOCK_MONOTONIC);
}

static void handle_event(struct run_hide *h, struct vhide_slot *s)
{
    /* A child that exec'd before any hidden call of its own still had its
     * parent's sockets: its table comes into being first. */
    struct hproc *p =
        hide_proc(&h->table, s->tgid, s->ppid, s->op == VHIDE_OP_EXEC);
    h->events++;
    if (p != NULL && s->op == VHIDE_OP_EPCLOSE)
        hide_epoll_close(p, (int32_t)s->args[0]);
    else if (p != NULL)
        hide_proc_close(p, s->op == VHIDE_OP_EXEC);
    __atomic_store_n(&s->state, VHIDE_FREE, __ATOMIC_RELEASE);
}

/* A call that would wait, whose thread a signal handler interrupted
 * since the last look: true when it ends now, with EINTR. */
static bool interrupted(struct run_hide *h, struct vhide_slot *s,
                        struct hide_pending *w)
{
    uint32_t intr = __atomic_load_n(&s->intr, __ATOMIC_ACQUIRE);
    if (intr >> 1 == w->intr_seen)
        return false;
    w->intr_seen = intr >> 1;
    if (!hide_interrupts(&h->table, s, intr & 1))
        return false;
    h->n.interrupted++;
    s->result = -EINTR;
    return true;
}

/* The plugin asked, with slot @s's call, for a copy of its descriptor's
 * host socket (plugin/hide-fast.c): sent before the answer, so that the
 * thread's next such call finds it. */
static void share(struct run_hide *h, const struct vhide_slot *s)
{
    struct hproc *p = hide_proc(&h->table, s->tgid, s->ppid, false);
    const struct hfd *f = p != NULL ? hide_hfd(p, s->args[0]) : NULL;
    const struct hshare_msg m = {s->tgid, (int32_t)s->args[0], s->share_gen};
    if (f != NULL && hshare_send(h->share, &m, f->host))
        __atomic_add_fetch(&h->area->shared, 1, __ATOMIC_RELEASE);
}

/* One pass over the slots, in the order they were posted: a process's
 * exec must close its sockets before its next call looks at them. Whether
 * anything was done. */
static bool pass(struct run_hide *h)
{
    bool worked = false;
    int order[VHIDE_SLOTS], n = 0;
    for (int i = 0; i < VHIDE_SLOTS; i++) {
        struct vhide_slot *s = &h->area->slot[i];
        if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != VHIDE_POSTED) {
            h->pending[i].waiting = false;
            continue;
        }
        int k = n++;
        for (; k > 0 && h->area->slot[order[k - 1]].seq > s->seq; k--)
            order[k] = order[k - 1];
        order[k] = i;
    }
    for (int j = 0; j < n; j++) {
        int i = order[j];
        struct vhide_slot *s = &h->area->slot[i];
        struct hide_pending *w = &h->pending[i];
        if (s->op < 0) {
            handle_event(h, s);
            worked = true;
            continue;
        }
        uint64_t now = now_ns();
        /* Signed: the plugin may have looked after `now` was taken. */
        int64_t age =
            (int64_t)(now - __atomic_load_n(&s->seen_ns, __ATOMIC_ACQUIRE));
        if (w->waiting && age > (int64_t)ABANDON_NS) {
            /* Its thread stopped waiting (killed): nobody reads this. */
            h->abandoned++;
            s->result = -EINTR;
            w->waiting = false;
            hbell_done(s);
            continue;
        }
        bool first = !w->waiting;
        if (first) {
            h->n.calls++;
            w->since = now;
            w->intr_seen = 0;
            h->firsts++;
            h->pickup_ns += now - s->posted_ns;
        }
        bool ran = hide_run_call(&h->table, s, w, now, &h->n);
        if (first)
            h->run_ns += now_ns() - now;
        if (!ran) {
            if (!w->waiting) {
                h->n.waits++;
                hbell_blocked(s);
            }
            w->waiting = true;
            if (!interrupted(h, s, w))
                continue;
        }
        w->waiting = false;
        worked = true;
        if (s->share_gen != 0)
            share(h, s);
        hbell_done(s);
    }
    return worked;
}

/* For the bell: whether a call is posted (and not yet seen waiting). */
static bool posted(void *arg)
{
    struct run_hide *h = arg;
    for (int i = 0; i < VHIDE_SLOTS; i++)
        if (__atomic_load_n(&h->area->slot[i].state, __ATOMIC_SEQ_CST) ==
                VHIDE_POSTED &&
            !h->pending[i].waiting)
            return true;
    return false;
}

static bool any_waiting(const struct run_hide *h)
{
    for (int i = 0; i < VHIDE_SLOTS; i++)
        if (h->pending[i].waiting)
            return true;
    return false;
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
        /* Quick answers for a while after work; then sleep until a post,
         * or a little while calls wait for their sockets. */
        if (now_ns() - last_work < IDLE_SPIN) {
            __builtin_ia32_pause();
            continue;
        }
        hbell_sleep(h->area, any_waiting(h) ? RETRY_NS : IDLE_NS, posted, h);
    }
    for (int i = 0; i < HIDE_PROCS; i++)
        if (h->table.procs[i].tgid != 0)
            hide_proc_close(&h->table.procs[i], false);
    return NULL;
}

int run_hide_start(struct run_hide **out, struct vring_map *ring,
                   const char *netns)
{
    struct run_hide *h = calloc(1, sizeof *h);
    if (h == NULL)
        return -1;
    h->area = vring_hide(ring);
    const char *prof = getenv("VIGIL_HIDE_PROF");
    h->area->prof.on = prof != NULL && *prof != '\0' && *prof != '0';
    hide_table_init(&h->table);
    /* Without it every call goes to this thread: slower, not wrong. */
    if (hshare_listen(&h->share, h->area->share_path,
                      sizeof h->area->share_path) < 0)
        h->share = NULL;
    if (netns != NULL) {
        int n = strchr(netns, '/')
                    ? snprintf(h->netns, sizeof h->netns, "%s", netns)
                    : snprintf(h->netns, sizeof h->netns, "/var/run/netns/%s",
                               netns);
        if (n >= (int)sizeof h->netns) {
            cli_error("--hide-netns: name too long");
            hshare_free(h->share);
            free(h);
            return -1;
        }
    }
    if (pthread_create(&h->thread, NULL, hide_main, h) != 0) {
        cli_error("--hide: cannot start the executor thread");
        hshare_free(h->share);
        free(h);
        return -1;
    }
    int e;
    while ((e = __atomic_load_n(&h->err, __ATOMIC_ACQUIRE)) == 0) {
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (e < 0) {
        cli_error("--hide-netns %s: %s", h->netns, strerror(-e));
        pthread_join(h->thread, NULL);
        hshare_free(h->share);
        free(h);
        return -1;
    }
    *out = h;
    return 0;
}

/* VIGIL_HIDE_PROF=1: where the time of the answered calls went, in mean
 * microseconds per call (docs/hide.md). */
static void print_prof(const struct run_hide *h)
{
    if (!h->area->prof.on)
        return;
    struct vhide_prof p;
    memcpy(&p, &h->area->prof, sizeof p);
    double c = p.calls ? (double)p.calls : 1,
           f = h->firsts ? (double)h->firsts : 1;
    fprintf(stderr,
            "vigil: hidden-call profile: %llu answered (%llu while the vCPU "
            "spun, %llu after it slept on the slot, %llu waits in the guest "
            "kernel); mean us: marshal %.2f, posted to answer %.2f (executor "
            "pickup %.2f, host call %.2f), answer to vCPU %.2f, outputs "
            "%.2f\n",
            (unsigned long long)p.calls, (unsigned long long)p.spun,
            (unsigned long long)p.slept, (unsigned long long)p.parked,
            (double)p.post_ns / c / 1e3, (double)p.answer_ns / c / 1e3,
            (double)h->pickup_ns / f / 1e3, (double)h->run_ns / f / 1e3,
            (double)p.seen_ns / c / 1e3, (double)p.deliver_ns / c / 1e3);
    fprintf(stderr, "vigil: hidden calls by time (us):");
    for (int k = 0; k < VHIDE_PROF_BUCKETS; k++)
        fprintf(stderr, " <%u:%llu", 2u << k, (unsigned long long)p.hist[k]);
    fputc('\n', stderr);
}

void run_hide_stop(struct run_hide *h, bool verbose)
{
    if (h == NULL)
        return;
    __atomic_store_n(&h->stop, 1, __ATOMIC_RELEASE);
    hbell_ring(h->area);
    pthread_join(h->thread, NULL);
    print_prof(h);
    if (verbose || h->abandoned || h->n.refused)
        fprintf(stderr,
                "vigil: hidden calls: %llu run on the host (%llu waited for "
                "their socket, %llu abandoned by a thread that died, %llu "
                "refused socket options, %llu interrupted by a signal), "
                "%llu answered by a vCPU on its copy of the socket, "
                "%llu process events\n",
                (unsigned long long)h->n.calls, (unsigned long long)h->n.waits,
                (unsigned long long)h->abandoned,
                (unsigned long long)h->n.refused,
                (unsigned long long)h->n.interrupted,
                (unsigned long long)__atomic_load_n(&h->area->fast_calls,
                                                    __ATOMIC_RELAXED),
                (unsigned long long)h->events);
    hshare_free(h->share);
    free(h);
}
