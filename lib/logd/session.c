/* logd's session layer (session.h). */
#include "session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SESSIONS_DEFAULT 1024
#define IDLE_NS_DEFAULT      (60ull * 1000000000ull)
/* A finished session keeps its output this long for datagrams that were
 * reordered behind its FIN. */
#define FIN_LINGER_NS (2ull * 1000000000ull)
/* A closed session is forgotten (its slot reused) only when none of its
 * packets could pass the freshness check any more: its replay window is
 * then no longer needed. */
#define FORGET_NS (2 * VLOG_CTL_MAX_AGE_NS)

const char *const logd_reason_names[LOGD_REJ_N] = {
    [LOGD_REJ_SHORT] = "short",         [LOGD_REJ_FORGED] = "forged",
    [LOGD_REJ_MALFORMED] = "malformed", [LOGD_REJ_REPLAYED] = "replayed",
    [LOGD_REJ_STALE] = "stale",         [LOGD_REJ_FOREIGN] = "foreign",
    [LOGD_REJ_FULL] = "full",
};

struct logd_sessions {
    uint8_t key[VLOG_KEY_LEN];
    size_t max;
    uint64_t idle_ns;
    struct logd_sink sink;
    struct logd_session **sess;
    size_t n;
    struct logd_totals tot;
    /* delivery context: the packet's session, seq and flags, the number
     * of its next fragment's record, whether that fragment is its first */
    struct logd_session *cur;
    uint64_t cur_rec, cur_seq;
    bool cur_head, cur_cont;
};

int logd_sessions_new(struct logd_sessions **out,
                      const struct logd_sessions_opts *o)
{
    if (out == NULL || o == NULL || o->key == NULL || o->sink.record == NULL)
        return -EINVAL;
    struct logd_sessions *t = calloc(1, sizeof *t);
    if (t == NULL)
        return -ENOMEM;
    memcpy(t->key, o->key, VLOG_KEY_LEN);
    t->max = o->max_sessions ? o->max_sessions : MAX_SESSIONS_DEFAULT;
    t->idle_ns = o->idle_ns ? o->idle_ns : IDLE_NS_DEFAULT;
    t->sink = o->sink;
    t->sess = calloc(t->max, sizeof *t->sess);
    if (t->sess == NULL) {
        free(t);
        return -ENOMEM;
    }
    *out = t;
    return 0;
}

static void close_session(struct logd_sessions *t, struct logd_session *s)
{
    if (!s->closed && t->sink.close != NULL)
        t->sink.close(t->sink.ctx, s);
    s->closed = true;
    /* A record still in pieces now is lost (counted: never received). */
    free(s->part);
    s->part = NULL;
    s->part_on = false;
}

static void forget(struct logd_sessions *t, struct logd_session *s)
{
    close_session(t, s);
    if (t->sink.forget != NULL)
        t->sink.forget(t->sink.ctx, s);
    free(s);
}

void logd_sessions_free(struct logd_sessions *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++)
        forget(t, t->sess[i]);
    free(t->sess);
    memset(t->key, 0, sizeof t->key);
    free(t);
}

static void addr_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
    const void *a =
        ss->ss_family == AF_INET
            ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
            : (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
    if ((ss->ss_family != AF_INET && ss->ss_family != AF_INET6) ||
        inet_ntop(ss->ss_family, a, buf, (socklen_t)len) == NULL)
        snprintf(buf, len, "?");
}

static struct logd_session *find(struct logd_sessions *t, uint64_t id)
{
    for (size_t i = t->n; i-- > 0;)
        if (t->sess[i]->id == id)
            return t->sess[i];
    return NULL;
}

/* Make room for one more session: forget the closed session seen longest
 * ago, if it is old enough. */
static bool make_room(struct logd_sessions *t, uint64_t now)
{
    if (t->n < t->max)
        return true;
    size_t best = t->n;
    for (size_t i = 0; i < t->n; i++) {
        struct logd_session *s = t->sess[i];
        if (s->closed && now - s->last_seen_ns > FORGET_NS &&
            (best == t->n || s->last_seen_ns < t->sess[best]->last_seen_ns))
            best = i;
    }
    if (best == t->n)
        return false;
    forget(t, t->sess[best]);
    memmove(t->sess + best, t->sess + best + 1,
            (t->n - best - 1) * sizeof *t->sess);
    t->n--;
    t->tot.forgotten++;
    return true;
}

static struct logd_session *new_session(struct logd_sessions *t, uint64_t id,
                                        const struct sockaddr_storage *src,
                                        uint64_t now)
{
    if (!make_room(t, now))
        return NULL;
    struct logd_session *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->id = id;
    s->src = *src;
    addr_text(src, s->src_text, sizeof s->src_text);
    snprintf(s->hex, sizeof s->hex, "%016" PRIx64, id);
    s->created_ns = s->last_seen_ns = s->last_report_ns = now;
    t->sess[t->n++] = s;
    if (t->sink.open != NULL)
        t->sink.open(t->sink.ctx, s);
    return s;
}

static void complete(struct logd_sessions *t, struct logd_session *s,
                     uint64_t recno, const char *rec, size_t len, bool trunc)
{
    char tmp[160];
    if (trunc) {
        /* A cut JSON object is not JSON: write what it was instead. */
        int n = snprintf(tmp, sizeof tmp,
                         "{\"type\":\"truncated\",\"rec\":%" PRIu64
                         ",\"bytes\":%zu}",
                         recno, len);
        rec = tmp;
        len = (size_t)n;
        s->truncated++;
    }
    s->received++;
    t->sink.record(t->sink.ctx, s, recno, rec, len);
}

/* Keep the first fragments of record recno, due to go on in packet
 * next_seq. False (and nothing kept) when it would pass VLOG_REC_MAX or
 * memory is short: the record is then lost, and counted so. */
static bool part_add(struct logd_session *s, uint64_t recno, uint64_t next_seq,
                     const char *frag, size_t len)
{
    size_t have = s->part_on ? s->part_len : 0;
    s->part_on = false;
    if (len > VLOG_REC_MAX - have)
        return false;
    if (s->part == NULL && (s->part = malloc(VLOG_REC_MAX)) == NULL)
        return false;
    memcpy(s->part + have, frag, len);
    s->part_len = have + len;
    s->part_rec = recno;
    s->part_seq = next_seq;
    s->part_on = true;
    return true;
}

/* One fragment of the packet being delivered. A record's pieces are
 * joined only when each came in the packet right after the one before
 * (seq + 1, authenticated): a record with a piece missing is never
 * delivered, it stays counted as lost. */
static void deliver(const char *frag, size_t len, unsigned flags, void *ctx)
{
    struct logd_sessions *t = ctx;
    struct logd_session *s = t->cur;
    uint64_t recno = t->cur_rec++;
    bool cont = t->cur_head && t->cur_cont;
    t->cur_head = false;
    if (cont) {
        bool ours =
            s->part_on && s->part_rec == recno && s->part_seq == t->cur_seq;
        if (!ours)
            return; /* its beginning was lost: so is the record */
        if (flags & VLOG_REC_MORE) {
            part_add(s, recno, t->cur_seq + 1, frag, len);
            return;
        }
        if (!part_add(s, recno, 0, frag, len))
            return;
        s->part_on = false;
        s->split++;
        complete(t, s, recno, (const char *)s->part, s->part_len,
                 (flags & VLOG_REC_TRUNC) != 0);
        return;
    }
    if (flags & VLOG_REC_MORE) {
        s->part_on = false; /* a record that never got its end: lost */
        part_add(s, recno, t->cur_seq + 1, frag, len);
        return;
    }
    complete(t, s, recno, frag, len, (flags & VLOG_REC_TRUNC) != 0);
}

static int reject(struct logd_sessions *t, enum logd_reason why)
{
    t->tot.rejected[why]++;
    return (int)why + 1;
}

/* The checks that need no session. */
static int check_packet(struct logd_sessions *t, const uint8_t *pkt, size_t len,
                        struct vlog_hdr *h, const uint8_t **pl)
{
    enum vlog_reject why = VLOG_REJ_FORMAT;
    if (vlog_decode(pkt, len, h, pl, t->key, &why) < 0)
        return reject(t, why == VLOG_REJ_SHORT  ? LOGD_REJ_SHORT
                         : why == VLOG_REJ_AUTH ? LOGD_REJ_FORGED
                                                : LOGD_REJ_MALFORMED);
    uint64_t end;
    if ((h->type != VLOG_T_DATA && h->type != VLOG_T_FIN) ||
        (h->type == VLOG_T_DATA &&
         vlog_records(*pl, h->payload_len, h->count, NULL, NULL) < 0) ||
        (h->type == VLOG_T_FIN && h->count != 0) ||
        (h->type == VLOG_T_DATA && (h->flags & VLOG_F_CONT) && h->count == 0) ||
        __builtin_add_overflow(h->first, (uint64_t)h->count, &end))
        return reject(t, LOGD_REJ_MALFORMED);
    return 0;
}

/* The first record a DATA packet can hold whole: a continuation's record
 * began in the packet before (for a logd that joined mid-session, at the
 * logd before it). */
static uint64_t first_whole(const struct vlog_hdr *h)
{
    return h->first + ((h->flags & VLOG_F_CONT) ? 1 : 0);
}

int logd_sessions_packet(struct logd_sessions *t, const uint8_t *pkt,
                         size_t len, const struct sockaddr_storage *src,
                         uint64_t now, uint64_t real)
{
    struct vlog_hdr h;
    const uint8_t *pl;
    t->tot.packets++;
    int r = check_packet(t, pkt, len, &h, &pl);
    if (r != 0)
        return r;
    struct logd_session *s = find(t, h.session);
    if (s != NULL && !vlog_same_host(&s->src, src))
        return reject(t, LOGD_REJ_FOREIGN);
    if (s == NULL) {
        /* A session nobody has seen: only from a fresh packet, so that a
         * capture replayed to a restarted logd is not taken as new. A FIN
         * ends a session an earlier logd had: nothing to do. */
        uint64_t age = real > h.time_ns ? real - h.time_ns : h.time_ns - real;
        if (age > VLOG_CTL_MAX_AGE_NS)
            return reject(t, LOGD_REJ_STALE);
        if (h.type == VLOG_T_FIN)
            return 0;
        s = new_session(t, h.session, src, now);
        if (s == NULL)
            return reject(t, LOGD_REJ_FULL);
        s->base = first_whole(&h);
    }
    if (vlog_replay_check(&s->w, h.seq) < 0)
        return reject(t, LOGD_REJ_REPLAYED);
    s->last_seen_ns = now;
    uint64_t end = h.first + h.count;
    if (end > s->expected_end)
        s->expected_end = end;
    if (h.type == VLOG_T_FIN) {
        s->fin = true;
        return 0;
    }
    if (first_whole(&h) < s->base)
        s->base = first_whole(&h); /* reordered: an earlier packet came later */
    s->last_pkt_ns = now;
    if (s->first_pkt_ns == 0)
        s->first_pkt_ns = now;
    s->record_bytes += h.payload_len - 2ull * h.count;
    s->closed = false; /* the sink reopens its output */
    /* The continuation of the record in pieces was due in an earlier
     * packet than this one: it was lost (or comes too late to use). */
    if (s->part_on && h.seq > s->part_seq)
        s->part_on = false;
    t->cur = s;
    t->cur_rec = h.first;
    t->cur_seq = h.seq;
    t->cur_head = true;
    t->cur_cont = (h.flags & VLOG_F_CONT) != 0;
    vlog_records(pl, h.payload_len, h.count, deliver, t);
    s->bytes += len;
    return 0;
}

void logd_sessions_reject(struct logd_sessions *t, enum logd_reason why)
{
    t->tot.packets++;
    reject(t, why);
}

void logd_sessions_tick(struct logd_sessions *t, uint64_t now)
{
    for (size_t i = 0; i < t->n; i++) {
        struct logd_session *s = t->sess[i];
        uint64_t quiet = now - s->last_seen_ns;
        if (!s->closed &&
            ((s->fin && quiet > FIN_LINGER_NS) || quiet > t->idle_ns))
            close_session(t, s);
    }
}

size_t logd_sessions_count(const struct logd_sessions *t)
{
    return t->n;
}

struct logd_session *logd_sessions_at(struct logd_sessions *t, size_t i)
{
    return i < t->n ? t->sess[i] : NULL;
}

void logd_sessions_totals(const struct logd_sessions *t, struct logd_totals *o)
{
    *o = t->tot;
}
