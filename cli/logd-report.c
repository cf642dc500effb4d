/* logd's reports: a line per session on stderr every --interval seconds
 * and at exit, and DIR/stats.json. Both name the rejection reasons from
 * the session layer's one table, logd_reason_names. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "logd.h"

static void report_session(struct logd_session *s, uint64_t now, bool final)
{
    double dt =
        (double)(now - (final ? s->created_ns : s->last_report_ns)) / 1e9;
    uint64_t recs = final ? s->received : s->received - s->last_report_recs;
    uint64_t bytes = final ? s->bytes : s->bytes - s->last_report_bytes;
    char unstored[96] = "";
    if (s->unstored_file + s->unstored_db > 0)
        snprintf(unstored, sizeof unstored,
                 ", NOT STORED %" PRIu64 " in files, %" PRIu64
                 " in the database",
                 s->unstored_file, s->unstored_db);
    fprintf(stderr,
            "vigil logd: session %s from %s: %" PRIu64 " records (%.0f/s, "
            "%.2f MB/s), lost %" PRIu64 "%s%s%s\n",
            s->hex, s->src_text, s->received, dt > 0 ? (double)recs / dt : 0.0,
            dt > 0 ? (double)bytes / dt / 1e6 : 0.0, logd_session_lost(s),
            unstored, s->fin ? ", ended" : "", final ? " (final)" : "");
    s->last_report_ns = now;
    s->last_report_recs = s->received;
    s->last_report_bytes = s->bytes;
}

static void report_store(struct logd *d, bool final)
{
    struct logd_store_stats t;
    logd_store_stats(d->store, &t);
    if (!final && t.spilled + t.lost == 0)
        return;
    fprintf(stderr,
            "vigil logd: store: %" PRIu64 " stored, %" PRIu64
            " spilled, %" PRIu64 " replayed, %" PRIu64 " LOST (%" PRIu64
            " refused by the database), %" PRIu64 " queued, %" PRIu64
            " bytes in the spill, database %s\n",
            t.stored, t.spilled, t.replayed, t.lost, t.rejected, t.queued,
            t.spill_bytes, t.connected ? "up" : "DOWN");
}

static void report_db(struct logd *d, bool final)
{
    struct logd_dbq_stats t;
    logd_dbq_stats(d->db, &t);
    if (!final && t.queue_full + t.failed + t.backlog == 0)
        return;
    fprintf(stderr,
            "vigil logd: database: %" PRIu64 " stored, %" PRIu64
            " NOT STORED (%" PRIu64 " the queue was full, %" PRIu64
            " failed), %" PRIu64 " queued, %" PRIu64
            " of them in the backlog (%" PRIu64 " bytes)\n",
            t.stored, t.queue_full + t.failed, t.queue_full, t.failed, t.queued,
            t.backlog, t.backlog_bytes);
}

void logd_report(struct logd *d, bool final)
{
    uint64_t now = cli_now_ns(CLOCK_MONOTONIC);
    for (size_t i = 0; i < logd_sessions_count(d->sessions); i++) {
        struct logd_session *s = logd_sessions_at(d->sessions, i);
        if (final || s->received != s->last_report_recs)
            report_session(s, now, final);
    }
    struct logd_totals t;
    logd_sessions_totals(d->sessions, &t);
    uint64_t rejected = 0;
    for (int r = 0; r < LOGD_REJ_N; r++)
        rejected += t.rejected[r];
    if (final || rejected > 0) {
        fprintf(stderr,
                "vigil logd: %" PRIu64 " packets; rejected:", t.packets);
        for (int r = 0; r < LOGD_REJ_N; r++)
            fprintf(stderr, "%s %" PRIu64 " %s", r ? "," : "", t.rejected[r],
                    logd_reason_names[r]);
        fputc('\n', stderr);
    }
    struct logd_net_stats ns;
    logd_net_stats(d->net, &ns);
    if (ns.accept_errors + ns.conns_refused + ns.conns_evicted > 0 ||
        d->write_errors > 0)
        fprintf(stderr,
                "vigil logd: connections refused %" PRIu64 ", evicted %" PRIu64
                ", timed out %" PRIu64 ", accept errors %" PRIu64
                "; write errors %" PRIu64 "\n",
                ns.conns_refused, ns.conns_evicted, ns.conns_timed_out,
                ns.accept_errors, d->write_errors);
    if (d->store != NULL)
        report_store(d, final);
    if (d->db != NULL)
        report_db(d, final);
}

static void stats_store(struct logd *d, FILE *f)
{
    struct logd_store_stats t;
    if (d->store == NULL)
        return;
    logd_store_stats(d->store, &t);
    fprintf(f,
            "\"store\":{\"stored\":%" PRIu64 ",\"spilled\":%" PRIu64
            ",\"replayed\":%" PRIu64 ",\"lost\":%" PRIu64
            ",\"rejected\":%" PRIu64 ",\"queued\":%" PRIu64
            ",\"spill_bytes\":%" PRIu64 ",\"reconnects\":%" PRIu64
            ",\"connected\":%s,\"conns_up\":%d},",
            t.stored, t.spilled, t.replayed, t.lost, t.rejected, t.queued,
            t.spill_bytes, t.reconnects, t.connected ? "true" : "false",
            t.conns_up);
}

static void stats_db(struct logd *d, FILE *f)
{
    struct logd_dbq_stats t;
    if (d->db == NULL)
        return;
    logd_dbq_stats(d->db, &t);
    fprintf(f,
            "\"db\":{\"stored\":%" PRIu64 ",\"queue_full\":%" PRIu64
            ",\"failed\":%" PRIu64 ",\"queued\":%" PRIu64
            ",\"commits\":%" PRIu64 ",\"backlog\":%" PRIu64
            ",\"backlog_bytes\":%" PRIu64 ",\"backlogged\":%" PRIu64 "},",
            t.stored, t.queue_full, t.failed, t.queued, t.commits, t.backlog,
            t.backlog_bytes, t.backlogged);
}

static void stats_totals(struct logd *d, FILE *f)
{
    struct logd_totals t;
    struct logd_net_stats ns;
    logd_sessions_totals(d->sessions, &t);
    logd_net_stats(d->net, &ns);
    fputc('{', f);
    stats_store(d, f);
    stats_db(d, f);
    fprintf(f, "\"packets\":%" PRIu64 ",\"rejected\":{", t.packets);
    for (int r = 0; r < LOGD_REJ_N; r++)
        fprintf(f, "%s\"%s\":%" PRIu64, r ? "," : "", logd_reason_names[r],
                t.rejected[r]);
    fprintf(f,
            "},\"connections\":{\"refused\":%" PRIu64 ",\"evicted\":%" PRIu64
            ",\"timed_out\":%" PRIu64 ",\"accept_errors\":%" PRIu64 "},"
            "\"udp_coalesced\":%" PRIu64 ","
            "\"sessions_forgotten\":%" PRIu64 ",\"write_errors\":%" PRIu64
            ",\"stats_errors\":%" PRIu64 ",\"files_removed\":%" PRIu64
            ",\"sessions\":[",
            ns.conns_refused, ns.conns_evicted, ns.conns_timed_out,
            ns.accept_errors, ns.udp_coalesced, t.forgotten, d->write_errors,
            d->stats_errors, d->files_removed);
}

static void stats_session(FILE *f, const struct logd_session *s, bool first)
{
    fprintf(f,
            "%s{\"session\":\"%s\",\"source\":\"%s\",\"records\":%" PRIu64
            ",\"expected\":%" PRIu64 ",\"lost\":%" PRIu64
            ",\"unstored\":{\"files\":%" PRIu64 ",\"db\":%" PRIu64 "}"
            ",\"truncated\":%" PRIu64 ",\"split\":%" PRIu64
            ",\"bytes\":%" PRIu64 ",\"record_bytes\":%" PRIu64
            ",\"seconds\":%.6f,\"first\":%" PRIu64 ",\"ended\":%s}",
            first ? "" : ",", s->hex, s->src_text, s->received, s->expected_end,
            logd_session_lost(s), s->unstored_file, s->unstored_db,
            s->truncated, s->split, s->bytes, s->record_bytes,
            (double)(s->last_pkt_ns - s->first_pkt_ns) / 1e9, s->base,
            s->fin ? "true" : "false");
}

/* Written to a temporary file and renamed, so a reader never sees half of
 * it; when any write fails the old file stays and the failure counts.
 * The temporary file is made anew (a link planted in its place is
 * removed, not followed: it would be truncated, maybe by root). */
void logd_write_stats(struct logd *d)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/stats.json", d->outdir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL) {
        if (fd >= 0)
            close(fd);
        goto fail;
    }
    stats_totals(d, f);
    for (size_t i = 0; i < logd_sessions_count(d->sessions); i++)
        stats_session(f, logd_sessions_at(d->sessions, i), i == 0);
    fprintf(f, "]}\n");
    bool bad = ferror(f) || fflush(f) != 0;
    if (fclose(f) != 0 || bad || rename(tmp, path) < 0)
        goto fail;
    return;
fail:
    if (d->stats_errors++ == 0)
        cli_warn("%s: %s", path, strerror(errno ? errno : EIO));
    unlink(tmp);
}
