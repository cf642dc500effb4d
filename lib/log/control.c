/* The sender's side of the control protocol: authentic, fresh, not
 * replayed START/STOP/HEARTBEAT packets from logd begin and end sessions.
 * The control port is reachable by anyone who can route to it, so what it
 * costs is bounded: packets beyond the rate limit are dropped unread
 * (counted), and every check runs before any state changes. */
#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <sys/socket.h>

#include "sender-int.h"
#include "vigil/clock.h"

static struct vlog_replay *ctl_window(struct vlog_sender *s, uint64_t session)
{
    struct ctl_window *lru = &s->ctlw[0];
    for (int i = 0; i < SENDER_CTL_WINDOWS; i++) {
        if (s->ctlw[i].used && s->ctlw[i].session == session) {
            s->ctlw[i].used = ++s->ctl_stamp;
            return &s->ctlw[i].w;
        }
        if (s->ctlw[i].used < lru->used)
            lru = &s->ctlw[i];
    }
    memset(lru, 0, sizeof *lru);
    lru->session = session;
    lru->used = ++s->ctl_stamp;
    return &lru->w;
}

static bool filter_ok(const uint8_t *p, size_t n)
{
    if (n >= SENDER_FILTER_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(p[i] == ',' || p[i] == '_' || (p[i] >= '0' && p[i] <= '9') ||
              (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')))
            return false;
    return true;
}

static void start_session(struct vlog_sender *s, const struct vlog_hdr *h,
                          const uint8_t *pl)
{
    /* A START from another control session (a restarted logd, or a
     * second one-shot START) ends ours and begins a new one, so a
     * receiver always sees a session from its first record. */
    if (s->started && h->session != s->ctl_owner)
        sender_stop_session(s);
    memcpy(s->filter, pl, h->payload_len);
    s->filter[h->payload_len] = '\0';
    s->ctl_owner = h->session;
    if (s->started)
        return;
    s->started = true;
    randombytes_buf(&s->session, sizeof s->session);
    s->seq = 0;
    s->rec_next = 0;
    s->cont_off = 0;
    pthread_mutex_lock(&s->lock);
    s->st.started = true;
    s->st.session = s->session;
    s->st.sessions++;
    s->st.session_records = 0;
    pthread_mutex_unlock(&s->lock);
}

/* Whether a decoded control packet may act. */
static bool ctl_valid(struct vlog_sender *s, const struct vlog_hdr *h,
                      const uint8_t *pl)
{
    if (h->type != VLOG_T_START && h->type != VLOG_T_STOP &&
        h->type != VLOG_T_HEARTBEAT)
        return false;
    uint64_t now = vigil_now_ns(CLOCK_REALTIME);
    uint64_t age = now > h->time_ns ? now - h->time_ns : h->time_ns - now;
    if (age > VLOG_CTL_MAX_AGE_NS)
        return false;
    if (h->type == VLOG_T_START && !filter_ok(pl, h->payload_len))
        return false;
    if (h->type != VLOG_T_START && h->payload_len != 0)
        return false;
    return vlog_replay_check(ctl_window(s, h->session), h->seq) == 0;
}

static void handle_ctl(struct vlog_sender *s, const uint8_t *pkt, size_t len)
{
    struct vlog_hdr h;
    const uint8_t *pl;
    bool ok = vlog_decode(pkt, len, &h, &pl, s->key, NULL) == 0 &&
              ctl_valid(s, &h, pl);
    if (ok) {
        s->last_ctl_ns = vigil_now_ns(CLOCK_MONOTONIC);
        if (h.type == VLOG_T_START)
            start_session(s, &h, pl);
        else if (h.type == VLOG_T_STOP)
            sender_stop_session(s);
    }
    pthread_mutex_lock(&s->lock);
    if (ok)
        s->st.ctl_ok++;
    else
        s->st.ctl_rejected++;
    pthread_mutex_unlock(&s->lock);
}

/* The bucket of src: found, or the least recently used one, refilled. */
static struct ctl_bucket *bucket_of(struct vlog_sender *s,
                                    const struct sockaddr_storage *src,
                                    uint64_t now)
{
    struct ctl_bucket *lru = &s->buckets[0];
    for (int i = 0; i < SENDER_CTL_SOURCES; i++) {
        struct ctl_bucket *b = &s->buckets[i];
        if (b->used && vlog_same_host(&b->src, src)) {
            b->used = ++s->bucket_stamp;
            return b;
        }
        if (b->used < lru->used)
            lru = b;
    }
    lru->src = *src;
    lru->tokens = s->ctl_rate;
    lru->refill_ns = now;
    lru->used = ++s->bucket_stamp;
    return lru;
}

/* Take one token of src's bucket; false when it is empty. The burst is
 * one second's worth. */
static bool ctl_token(struct vlog_sender *s, const struct sockaddr_storage *src)
{
    uint64_t now = vigil_now_ns(CLOCK_MONOTONIC);
    struct ctl_bucket *b = bucket_of(s, src, now);
    b->tokens += (double)(now - b->refill_ns) * s->ctl_rate / 1e9;
    if (b->tokens > s->ctl_rate)
        b->tokens = s->ctl_rate;
    b->refill_ns = now;
    if (b->tokens < 1)
        return false;
    b->tokens -= 1;
    return true;
}

void sender_poll_ctl(struct vlog_sender *s)
{
    uint8_t buf[2048];
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage src;
        socklen_t sl = sizeof src;
        memset(&src, 0, sizeof src);
        ssize_t r =
            recvfrom(s->ctl_fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC,
                     (struct sockaddr *)&src, &sl);
        if (r < 0)
            break;
        if (!ctl_token(s, &src)) {
            pthread_mutex_lock(&s->lock);
            s->st.ctl_limited++;
            pthread_mutex_unlock(&s->lock);
            continue;
        }
        if ((size_t)r > sizeof buf) {
            pthread_mutex_lock(&s->lock);
            s->st.ctl_rejected++;
            pthread_mutex_unlock(&s->lock);
            continue;
        }
        handle_ctl(s, buf, (size_t)r);
    }
    if (s->started && s->hb_missed > 0 &&
        vigil_now_ns(CLOCK_MONOTONIC) - s->last_ctl_ns >
            (uint64_t)s->hb_ms * s->hb_missed * 1000000ull)
        sender_stop_session(s);
}
