/* Unit tests of records split across packets (wire version 2) at logd's
 * session layer (lib/logd/session.c): a record whose pieces all came, in
 * consecutive packets, is delivered whole; a record with a piece lost,
 * reordered or claimed by the wrong packet is never delivered (not even
 * cut) and is counted lost; payloads breaking the fragment rules are
 * rejected as malformed. Packets are real, authenticated ones. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "logd/session.h"
#include "vigil/log.h"

#define SEC  1000000000ull
#define NREC 32

static const uint8_t key[VLOG_KEY_LEN] = {9};
static const uint64_t now = 1000 * SEC, real = 1800000000 * SEC;

/* What the sink got: record number -> bytes (NULL: not delivered). */
static char *got[NREC];
static int delivered;
static uint64_t session = 5;

static void s_record(void *c, struct logd_session *s, uint64_t n, const char *r,
                     size_t l)
{
    (void)c, (void)s;
    delivered++;
    if (n < NREC && got[n] == NULL) {
        got[n] = malloc(l + 1);
        memcpy(got[n], r, l);
        got[n][l] = '\0';
    }
}

/* Record n's text: long enough to be split in three. */
static const char *rec_text(uint64_t n)
{
    static char buf[NREC][64];
    snprintf(buf[n], sizeof buf[n], "{\"rec\":%02llu,\"pad\":\"%s\"}",
             (unsigned long long)n, "abcdefghijklmnopqrstuvwxyz");
    return buf[n];
}

struct frag {
    uint64_t rec;
    size_t off, len; /* piece of rec_text(rec); len 0: to its end */
    unsigned flags;  /* VLOG_REC_MORE, VLOG_REC_TRUNC */
};

/* One DATA packet of session 5 holding the fragments fr[0..n). */
static int data(struct logd_sessions *t, uint64_t seq, uint16_t flags,
                const struct frag *fr, unsigned n)
{
    uint8_t pl[1024], pkt[2048];
    size_t plen = 0;
    for (unsigned i = 0; i < n; i++) {
        const char *r = rec_text(fr[i].rec);
        size_t len = fr[i].len ? fr[i].len : strlen(r) - fr[i].off;
        vlog_frag_put(pl + plen, len, fr[i].flags);
        memcpy(pl + plen + 2, r + fr[i].off, len);
        plen += 2 + len;
    }
    struct vlog_hdr h = {
        .type = VLOG_T_DATA,
        .flags = flags,
        .session = session,
        .seq = seq,
        .time_ns = real,
        .first = n ? fr[0].rec : 0,
        .count = n,
    };
    int len = vlog_encode(pkt, sizeof pkt, &h, pl, plen, key);
    struct sockaddr_storage src;
    memset(&src, 0, sizeof src);
    struct sockaddr_in *in = (struct sockaddr_in *)&src;
    in->sin_family = AF_INET;
    inet_pton(AF_INET, "10.0.0.5", &in->sin_addr);
    return logd_sessions_packet(t, pkt, (size_t)len, &src, now, real);
}

static bool whole(uint64_t n)
{
    return got[n] != NULL && strcmp(got[n], rec_text(n)) == 0;
}

#define MORE VLOG_REC_MORE
#define CONT VLOG_F_CONT

int main(void)
{
    struct logd_sessions_opts o = {
        .key = key,
        .max_sessions = 4,
        .idle_ns = 10 * SEC,
        .sink = {NULL, s_record, NULL, NULL, NULL},
    };
    struct logd_sessions *t;
    CHECK(logd_sessions_new(&t, &o) == 0, "new");

    /* 0 whole; 1 in two packets; 2 whole. */
    const struct frag p0[] = {{0, 0, 0, 0}, {1, 0, 10, MORE}};
    const struct frag p1[] = {{1, 10, 0, 0}, {2, 0, 0, 0}};
    CHECK(data(t, 0, 0, p0, 2) == 0 && data(t, 1, CONT, p1, 2) == 0,
          "a record in two packets: accepted");
    CHECK(whole(0) && whole(1) && whole(2), "delivered whole, in its place");

    /* 4 begins in seq 2; seq 3 (its end, and 5) is lost; 6 comes. */
    const struct frag p2[] = {{3, 0, 0, 0}, {4, 0, 7, MORE}};
    const struct frag p4[] = {{6, 0, 0, 0}};
    CHECK(data(t, 2, 0, p2, 2) == 0 && data(t, 4, 0, p4, 1) == 0,
          "the packet after a lost continuation: accepted");
    CHECK(got[4] == NULL && whole(3) && whole(6),
          "second half lost: the record is not delivered, not even cut");

    /* 7's beginning (seq 5) lost: its end alone is dropped. */
    const struct frag p6[] = {{7, 12, 0, 0}, {8, 0, 0, 0}};
    CHECK(data(t, 6, CONT, p6, 2) == 0, "a continuation without its start");
    CHECK(got[7] == NULL && whole(8), "first half lost: not delivered");

    /* Reordered: 9's end (seq 8) arrives before its start (seq 7). */
    const struct frag p8[] = {{9, 5, 0, 0}};
    const struct frag p7[] = {{9, 0, 5, MORE}};
    CHECK(data(t, 8, CONT, p8, 1) == 0 && data(t, 7, 0, p7, 1) == 0,
          "a split record's packets reordered: accepted");
    CHECK(got[9] == NULL, "reordered halves are not joined");

    /* 10 in three packets. */
    const struct frag p9[] = {{10, 0, 6, MORE}};
    const struct frag p10[] = {{10, 6, 6, MORE}};
    const struct frag p11[] = {{10, 12, 0, 0}};
    CHECK(data(t, 9, 0, p9, 1) == 0 && data(t, 10, CONT, p10, 1) == 0 &&
              data(t, 11, CONT, p11, 1) == 0,
          "a record in three packets: accepted");
    CHECK(whole(10), "three pieces delivered whole");

    /* The next packet claims a different record continues: 11's start is
     * not glued to 12's end. */
    const struct frag p12[] = {{11, 0, 8, MORE}};
    const struct frag p13[] = {{12, 8, 0, 0}};
    CHECK(data(t, 12, 0, p12, 1) == 0 && data(t, 13, CONT, p13, 1) == 0,
          "a continuation of another record: accepted");
    CHECK(got[11] == NULL && got[12] == NULL,
          "pieces of two records not joined");

    /* The fragment rules. */
    const struct frag bad1[] = {{13, 0, 4, MORE}, {14, 0, 0, 0}};
    const struct frag bad2[] = {{13, 0, 4, MORE | VLOG_REC_TRUNC}};
    CHECK(data(t, 14, 0, bad1, 2) == LOGD_REJ_MALFORMED + 1,
          "a record going on before the payload's end: malformed");
    CHECK(data(t, 15, 0, bad2, 1) == LOGD_REJ_MALFORMED + 1,
          "going on and cut at once: malformed");
    CHECK(data(t, 16, CONT, NULL, 0) == LOGD_REJ_MALFORMED + 1,
          "a continuation flag on an empty payload: malformed");

    /* FIN: 13 records numbered (0..12); lost = 13 - received. */
    struct logd_session *s = logd_sessions_at(t, 0);
    CHECK(s->received == 7 && delivered == 7,
          "received counts whole records only (%llu, %d)",
          (unsigned long long)s->received, delivered);
    CHECK(logd_session_lost(s) == 6, "lost: 4, 5, 7, 9, 11, 12 (%llu)",
          (unsigned long long)logd_session_lost(s));
    CHECK(s->split == 2, "split records counted (%llu)",
          (unsigned long long)s->split);

    /* A logd that joins a session mid-way, at a continuation: that record
     * began at the logd before, so its first whole record is the next. */
    session = 6;
    const struct frag j0[] = {{20, 9, 0, 0}, {21, 0, 0, 0}};
    CHECK(data(t, 40, CONT, j0, 2) == 0, "joined at a continuation");
    s = logd_sessions_at(t, 1);
    CHECK(s != NULL && s->base == 21 && s->received == 1 &&
              logd_session_lost(s) == 21,
          "first = 21, lost = the 21 records before it (0..20)");
    logd_sessions_free(t);
    for (int i = 0; i < NREC; i++)
        free(got[i]);
    return failures != 0;
}
