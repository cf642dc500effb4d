/* The log sender's lifetime and thread. The producer pushes records into
 * a bounded queue (queue.c) and never blocks; the thread packs and sends
 * them (send.c) once an authentic START arrived on the control socket
 * (control.c), and until STOP or missed heartbeats. */
#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sender-int.h"
#include "vigil/clock.h"

#define CTL_RATE_DEFAULT 50 /* control packets per second */

int vlog_sender_push(struct vlog_sender *s, const char *rec, size_t len)
{
    if (s == NULL || (rec == NULL && len > 0))
        return -EINVAL;
    return vlog_queue_push(&s->queue, rec, len);
}

bool vlog_sender_room(struct vlog_sender *s, size_t len)
{
    return vlog_queue_room(&s->queue, len);
}

static void *sender_main(void *arg)
{
    struct vlog_sender *s = arg;
    uint64_t give_up = 0;
    for (;;) {
        sender_poll_ctl(s);
        if (sender_drain(s, false) > 0)
            continue;
        if (__atomic_load_n(&s->quit, __ATOMIC_ACQUIRE)) {
            if (vlog_queue_empty(&s->queue))
                break;
            /* Not connected at exit: after 2 s the rest is unsent. */
            if (give_up == 0)
                give_up = vigil_now_ns(CLOCK_MONOTONIC) + 2000000000ull;
            else if (vigil_now_ns(CLOCK_MONOTONIC) > give_up)
                s->started = false;
        }
        struct pollfd p = {.fd = s->ctl_fd, .events = POLLIN};
        poll(&p, 1, 1);
    }
    sender_stop_session(s);
    return NULL;
}

static int open_ctl(struct vlog_sender *s, const struct vlog_sender_opts *o)
{
    char url[300];
    struct sockaddr_storage ss;
    unsigned sl;
    bool tcp;
    const char *bind_to = o->ctl_bind ? o->ctl_bind : "0.0.0.0";
    snprintf(url, sizeof url,
             strchr(bind_to, ':') && bind_to[0] != '[' ? "udp://[%s]:%u"
                                                       : "udp://%s:%u",
             bind_to, o->ctl_port);
    int err = vlog_parse_url(url, &tcp, &ss, &sl);
    if (err < 0)
        return err;
    s->ctl_fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s->ctl_fd < 0)
        return -errno;
    if (bind(s->ctl_fd, (struct sockaddr *)&ss, sl) < 0)
        return -errno;
    socklen_t l = sizeof ss;
    if (getsockname(s->ctl_fd, (struct sockaddr *)&ss, &l) < 0)
        return -errno;
    s->ctl_port = ntohs(ss.ss_family == AF_INET
                            ? ((struct sockaddr_in *)&ss)->sin_port
                            : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

static int open_data(struct vlog_sender *s)
{
    if (s->tcp)
        return 0; /* connected when a session starts */
    s->data_fd = socket(s->dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s->data_fd < 0)
        return -errno;
    int buf = 4 << 20;
    setsockopt(s->data_fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    if (connect(s->data_fd, (struct sockaddr *)&s->dst, s->dstlen) < 0)
        return -errno;
    return 0;
}

static void sender_destroy(struct vlog_sender *s)
{
    if (s->ctl_fd >= 0)
        close(s->ctl_fd);
    if (s->data_fd >= 0)
        close(s->data_fd);
    sodium_memzero(s->key, sizeof s->key);
    vlog_queue_fini(&s->queue);
    free(s->dg);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

int vlog_sender_new(struct vlog_sender **out, const struct vlog_sender_opts *o)
{
    if (out == NULL || o == NULL || o->url == NULL || o->key == NULL)
        return -EINVAL;
    if (sodium_init() < 0)
        return -EIO;
    struct vlog_sender *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    s->ctl_fd = s->data_fd = -1;
    pthread_mutex_init(&s->lock, NULL);
    memcpy(s->key, o->key, VLOG_KEY_LEN);
    int err = vlog_parse_url(o->url, &s->tcp, &s->dst, &s->dstlen);
    if (err < 0)
        goto fail;
    s->mtu = o->mtu ? o->mtu : s->tcp ? 16384 : VLOG_MTU_DEFAULT;
    if (s->mtu < VLOG_MTU_MIN || s->mtu > VLOG_MTU_MAX) {
        err = -EINVAL;
        goto fail;
    }
    s->hb_ms = o->hb_ms ? o->hb_ms : 1000;
    s->hb_missed = o->hb_missed;
    s->ctl_rate = o->ctl_rate ? o->ctl_rate : CTL_RATE_DEFAULT;
    err = vlog_queue_init(&s->queue, o->queue_bytes);
    if (err < 0)
        goto fail;
    s->dg = malloc(SENDER_BATCH * (VLOG_FRAME_HDR + (size_t)s->mtu));
    if (s->dg == NULL) {
        err = -ENOMEM;
        goto fail;
    }
    if ((err = open_ctl(s, o)) < 0 || (err = open_data(s)) < 0)
        goto fail;
    err = -pthread_create(&s->thread, NULL, sender_main, s);
    if (err < 0)
        goto fail;
    *out = s;
    return 0;
fail:
    sender_destroy(s);
    return err;
}

uint16_t vlog_sender_ctl_port(const struct vlog_sender *s)
{
    return s ? s->ctl_port : 0;
}

void vlog_sender_stats(struct vlog_sender *s, struct vlog_sender_stats *st)
{
    pthread_mutex_lock(&s->lock);
    *st = s->st;
    pthread_mutex_unlock(&s->lock);
    st->queued = __atomic_load_n(&s->queue.queued, __ATOMIC_RELAXED);
    st->dropped = __atomic_load_n(&s->queue.dropped, __ATOMIC_RELAXED);
}

bool vlog_sender_wait_started(struct vlog_sender *s, unsigned timeout_ms)
{
    for (unsigned t = 0;; t += 10) {
        pthread_mutex_lock(&s->lock);
        bool st = s->st.started;
        pthread_mutex_unlock(&s->lock);
        if (st)
            return true;
        if (t >= timeout_ms)
            return false;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

int vlog_sender_flush(struct vlog_sender *s, unsigned timeout_ms)
{
    for (unsigned t = 0;; t++) {
        vlog_queue_push_drops(&s->queue); /* the last drops are reported */
        if (vlog_queue_empty(&s->queue))
            return 0;
        if (t >= timeout_ms)
            return -ETIMEDOUT;
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

void vlog_sender_free(struct vlog_sender *s)
{
    if (s == NULL)
        return;
    __atomic_store_n(&s->quit, 1, __ATOMIC_RELEASE);
    pthread_join(s->thread, NULL);
    sender_destroy(s);
}
