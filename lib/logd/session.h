/* logd's session layer: authenticated packets in, records of sessions out.
 *
 * A session is its 64-bit id: one replay window, one output, whatever
 * address the packets come from. The first source address an id is seen
 * from owns it; the same id from another address is rejected (a captured
 * packet replayed from elsewhere). The table is bounded: finished and
 * idle sessions give back their output (files) and, once too old for any
 * of their packets to pass the freshness check, their slot.
 *
 * No I/O here: records go to a sink, time comes from the caller. */
#ifndef VIGIL_LOGD_SESSION_H
#define VIGIL_LOGD_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "vigil/log.h"

/* Why a packet was not used. One table (logd_reason_names) names them for
 * every report. */
enum logd_reason {
    LOGD_REJ_SHORT,     /* shorter than a packet, lengths disagree, bad frame */
    LOGD_REJ_FORGED,    /* tag does not verify */
    LOGD_REJ_MALFORMED, /* authentic but malformed */
    LOGD_REJ_REPLAYED,  /* (session, seq) seen or below the window */
    LOGD_REJ_STALE,     /* a new session from an old packet */
    LOGD_REJ_FOREIGN,   /* a session id already owned by another address */
    LOGD_REJ_FULL,      /* a new session while the table is full */
    LOGD_REJ_N,
};
extern const char *const logd_reason_names[LOGD_REJ_N];

/* One session. The sink may write unstored and sink_state; the rest is
 * read-only outside session.c. */
struct logd_session {
    uint64_t id;
    char hex[17];
    struct sockaddr_storage src; /* the owner; port ignored */
    char src_text[64];
    struct vlog_replay w;
    uint64_t received, expected_end, truncated;
    /* Lowest record number received: loss counts from record 0, so a
     * logd that joined a running session counts the records before it as
     * lost; `first` in stats.json tells the two apart. */
    uint64_t base;
    uint64_t bytes, record_bytes;
    uint64_t first_pkt_ns, last_pkt_ns; /* data packets, monotonic */
    uint64_t created_ns, last_seen_ns;  /* any accepted packet */
    bool fin;
    bool closed; /* the sink released its output (reopens on a record) */
    uint64_t unstored_file, unstored_db; /* received, not stored */
    /* The record being reassembled: number part_rec, its fragments so far
     * in part (part_len bytes, VLOG_REC_MAX at most), its next fragment
     * due first in packet part_seq. part_on: one is in progress. */
    bool part_on;
    uint8_t *part;
    size_t part_len;
    uint64_t part_rec, part_seq;
    uint64_t split; /* records received in more than one packet */
    uint64_t last_report_ns, last_report_recs, last_report_bytes;
    void *sink_state;
};

struct logd_sink {
    /* A new session. */
    void (*open)(void *ctx, struct logd_session *s);
    /* Record recno of s (a JSON object). */
    void (*record)(void *ctx, struct logd_session *s, uint64_t recno,
                   const char *rec, size_t len);
    /* Release what s holds (files, buffers); records may follow. */
    void (*close)(void *ctx, struct logd_session *s);
    /* s is about to be freed (after close): free sink_state. */
    void (*forget)(void *ctx, struct logd_session *s);
    void *ctx;
};

struct logd_sessions_opts {
    const uint8_t *key;  /* VLOG_KEY_LEN bytes */
    size_t max_sessions; /* 0: 1024 */
    uint64_t idle_ns;    /* close the output after this; 0: 60 s */
    struct logd_sink sink;
};

struct logd_sessions;

int logd_sessions_new(struct logd_sessions **out,
                      const struct logd_sessions_opts *o);
/* Closes every session's output and frees. NULL is ignored. */
void logd_sessions_free(struct logd_sessions *t);

/* One packet from src (now: CLOCK_MONOTONIC; real: CLOCK_REALTIME, ns).
 * Returns 0 when it was used, or the logd_reason + 1 of its rejection
 * (counted). */
int logd_sessions_packet(struct logd_sessions *t, const uint8_t *pkt,
                         size_t len, const struct sockaddr_storage *src,
                         uint64_t now, uint64_t real);
/* Count a packet rejected before it could be parsed (a cut datagram, a
 * broken TCP frame). */
void logd_sessions_reject(struct logd_sessions *t, enum logd_reason why);
/* Close finished and idle sessions' outputs; forget old closed ones. */
void logd_sessions_tick(struct logd_sessions *t, uint64_t now);

size_t logd_sessions_count(const struct logd_sessions *t);
struct logd_session *logd_sessions_at(struct logd_sessions *t, size_t i);
/* Totals: packets seen, rejections by reason, sessions forgotten. */
struct logd_totals {
    uint64_t packets;
    uint64_t rejected[LOGD_REJ_N];
    uint64_t forgotten;
};
void logd_sessions_totals(const struct logd_sessions *t, struct logd_totals *o);

static inline uint64_t logd_session_lost(const struct logd_session *s)
{
    return s->expected_end > s->received ? s->expected_end - s->received : 0;
}

#endif
