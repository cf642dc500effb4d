/* The checkpoints of logd's SQLite database (OUTDIR/events.db) on a thread
 * of their own. A checkpoint copies the pages the WAL holds back into the
 * database: every page written twice more (a read of the WAL, a write of
 * the database). Done by the writer thread, as SQLite does by default
 * after a commit, it cost the writer about a tenth of its time per
 * record; here it runs beside the writer, on a connection of its own
 * (SQLite lets one checkpoint run while another connection writes), and
 * the WAL still starts over from its beginning once a checkpoint has
 * copied all of it (docs/protocol.md, "logd's output"). */
#ifndef VIGIL_CLI_LOGD_CKPT_H
#define VIGIL_CLI_LOGD_CKPT_H

struct logd_ckpt;

/* Open a second connection to @path and start the thread. Prints why on
 * failure; 0 or -1 (the caller then checkpoints as SQLite does by
 * default). */
int logd_ckpt_start(struct logd_ckpt **out, const char *path);
/* The WAL has grown enough: checkpoint soon. Any thread. */
void logd_ckpt_kick(struct logd_ckpt *c);
/* Wait until no checkpoint is under way or asked for (the caller then
 * runs one itself: two at a time, the second would do nothing). */
void logd_ckpt_wait(struct logd_ckpt *c);
/* Stop the thread and close its connection (a checkpoint under way ends
 * first). NULL is ignored. */
void logd_ckpt_stop(struct logd_ckpt *c);

#endif
