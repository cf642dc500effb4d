/* `vigil logd`'s parts: cmd-logd.c (options, control packets, the main
 * loop), logd-net.c (sockets and framing), logd-out.c (JSON Lines files,
 * rotation and the database: the session layer's sink) and logd-report.c
 * (stderr and stats.json). Sessions themselves are lib/logd/session.c. */
#ifndef VIGIL_CLI_LOGD_H
#define VIGIL_CLI_LOGD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "logd-dbq.h"
#include "logd-store.h"
#include "logd/session.h"

struct logd_net;

struct logd_net_opts {
    unsigned max_conns;    /* TCP connections in all; 0: 64 */
    unsigned max_per_addr; /* TCP connections per source address; 0: 8 */
    unsigned auth_s;       /* seconds to send an authentic packet; 0: 5 */
    unsigned idle_s;       /* seconds without data before closing; 0: 60 */
};

/* Counters of the network layer, for the reports. */
struct logd_net_stats {
    uint64_t conns_refused;   /* no room, none to evict */
    uint64_t conns_evicted;   /* unauthenticated, for a new one */
    uint64_t conns_timed_out; /* no authentic packet in time, or idle */
    uint64_t accept_errors;   /* accept() failed (EMFILE...): paused */
    uint64_t udp_coalesced;   /* receives holding a sender's run (UDP_GRO) */
};

struct logd {
    uint8_t key[VLOG_KEY_LEN];
    const char *outdir;
    uint64_t rotate_bytes;
    unsigned rotate_keep; /* rotated files kept per session; 0: all */
    bool no_db;
    bool discard; /* benchmarks: count and check, write nothing */
    unsigned interval_s;
    const char *filter;
    struct logd_sessions *sessions;
    struct logd_net *net;
    struct logd_dbq *db;      /* SQLite; NULL: --no-db or --store postgresql */
    bool db_full;             /* its queue was ever full (said once) */
    uint64_t db_errors;       /* its failures counted in write_errors */
    struct logd_store *store; /* --store postgresql://... or NULL */
    uint64_t files_removed;   /* by --rotate-keep */
    uint64_t write_errors;    /* failed writes, rotations, opens */
    uint64_t stats_errors;    /* stats.json not written */
};

/* logd-net.c */
int logd_net_new(struct logd_net **out, const struct logd_net_opts *o);
void logd_net_free(struct logd_net *n);
/* Bind a --listen URL. Prints why on failure. */
int logd_net_listen(struct logd_net *n, const char *url);
/* Wait up to timeout_ms and handle what arrived. */
void logd_net_poll(struct logd_net *n, struct logd *d, int timeout_ms);
/* Read what is already queued in the sockets (at exit). */
void logd_net_drain(struct logd_net *n, struct logd *d);
void logd_net_stats(const struct logd_net *n, struct logd_net_stats *st);

/* logd-out.c: the sink of the session layer. */
struct logd_sink logd_out_sink(struct logd *d);
/* Write the buffered lines of every session out. */
void logd_out_flush(struct logd *d);
/* Hand queued records to the database's writer and count what it could not
 * store as unstored (finish: wait until it has written everything, at
 * exit). Every turn of the loop. */
void logd_out_settle(struct logd *d, bool finish);

/* logd-report.c */
void logd_report(struct logd *d, bool final);
void logd_write_stats(struct logd *d);

#endif
