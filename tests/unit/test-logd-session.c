/* Unit tests of logd's session layer (lib/logd/session.c): ownership by
 * source address, the session cap and forgetting, closing finished and
 * idle sessions, replay, and the counters. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "check.h"
#include "logd/session.h"
#include "vigil/log.h"

#define SEC 1000000000ull

static const uint8_t key[VLOG_KEY_LEN] = {7};
static uint64_t now = 1000 * SEC, real = 1800000000 * SEC;

struct sink {
    int opened, closed, forgotten, records;
};

static void s_open(void *c, struct logd_session *s)
{
    (void)s;
    ((struct sink *)c)->opened++;
}
static void s_record(void *c, struct logd_session *s, uint64_t n, const char *r,
                     size_t l)
{
    (void)s, (void)n, (void)r, (void)l;
    ((struct sink *)c)->records++;
}
static void s_close(void *c, struct logd_session *s)
{
    (void)s;
    ((struct sink *)c)->closed++;
}
static void s_forget(void *c, struct logd_session *s)
{
    (void)s;
    ((struct sink *)c)->forgotten++;
}

static struct sockaddr_storage addr(const char *ip)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    in->sin_family = AF_INET;
    inet_pton(AF_INET, ip, &in->sin_addr);
    return ss;
}

/* DATA of one record (number `first`) or FIN, sent to t from ip. */
static int send_pkt(struct logd_sessions *t, const char *ip, uint8_t type,
                    uint64_t session, uint64_t seq, uint64_t first)
{
    uint8_t pl[64], pkt[256];
    static const char rec[] = "{\"type\":\"syscall\"}";
    vlog_record_put(pl, sizeof rec - 1, false);
    memcpy(pl + 2, rec, sizeof rec - 1);
    struct vlog_hdr h = {
        .type = type,
        .session = session,
        .seq = seq,
        .time_ns = real,
        .first = first,
        .count = type == VLOG_T_DATA ? 1 : 0,
    };
    int n = vlog_encode(pkt, sizeof pkt, &h, pl,
                        type == VLOG_T_DATA ? sizeof rec + 1 : 0, key);
    struct sockaddr_storage src = addr(ip);
    return logd_sessions_packet(t, pkt, (size_t)n, &src, now, real);
}

int main(void)
{
    struct sink k = {0, 0, 0, 0};
    struct logd_sessions_opts o = {
        .key = key,
        .max_sessions = 2,
        .idle_ns = 10 * SEC,
        .sink = {s_open, s_record, s_close, s_forget, &k},
    };
    struct logd_sessions *t;
    CHECK(logd_sessions_new(&t, &o) == 0, "new");
    CHECK(send_pkt(t, "10.0.0.1", VLOG_T_DATA, 1, 0, 0) == 0, "session 1");
    CHECK(send_pkt(t, "10.0.0.2", VLOG_T_DATA, 1, 1, 1) == LOGD_REJ_FOREIGN + 1,
          "session 1 from another address: foreign");
    CHECK(send_pkt(t, "10.0.0.1", VLOG_T_DATA, 1, 0, 0) ==
              LOGD_REJ_REPLAYED + 1,
          "session 1 replayed from its own address: replayed");
    CHECK(send_pkt(t, "10.0.0.1", VLOG_T_DATA, 1, 1, 1) == 0,
          "session 1 goes on");
    CHECK(send_pkt(t, "10.0.0.3", VLOG_T_DATA, 2, 0, 0) == 0, "session 2");
    CHECK(send_pkt(t, "10.0.0.3", VLOG_T_DATA, 3, 0, 0) == LOGD_REJ_FULL + 1,
          "session 3: the table is full");
    CHECK(logd_sessions_at(t, 0)->received == 2 && k.records == 3,
          "records counted and delivered");

    CHECK(send_pkt(t, "10.0.0.3", VLOG_T_FIN, 2, 1, 1) == 0, "FIN of 2");
    now += 3 * SEC;
    logd_sessions_tick(t, now);
    CHECK(k.closed == 1 && logd_sessions_at(t, 1)->closed,
          "a finished session closes its output after the linger");
    now += 8 * SEC;
    logd_sessions_tick(t, now);
    CHECK(k.closed == 2, "an idle session closes too");
    real += 11 * SEC;
    CHECK(send_pkt(t, "10.0.0.3", VLOG_T_DATA, 4, 0, 0) == LOGD_REJ_FULL + 1,
          "closed but recent sessions are not forgotten");
    now += 60 * SEC;
    real += 60 * SEC;
    CHECK(send_pkt(t, "10.0.0.3", VLOG_T_DATA, 4, 0, 0) == 0 &&
              k.forgotten == 1,
          "an old closed session makes room");

    struct logd_totals tot;
    logd_sessions_totals(t, &tot);
    CHECK(tot.packets == 9 && tot.rejected[LOGD_REJ_FOREIGN] == 1 &&
              tot.rejected[LOGD_REJ_REPLAYED] == 1 &&
              tot.rejected[LOGD_REJ_FULL] == 2 && tot.forgotten == 1,
          "totals");
    logd_sessions_free(t);
    CHECK(k.forgotten == 3 && k.opened == 3, "free forgets the rest");
    return failures != 0;
}
