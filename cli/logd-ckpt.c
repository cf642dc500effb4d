/* logd's SQLite checkpoints on a thread of their own (logd-ckpt.h). */
#include "logd-ckpt.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "logd-thread.h"

struct logd_ckpt {
    sqlite3 *db; /* the thread's alone */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake, idle;
    bool kicked, busy, stopping; /* guarded by mu */
};

static void *ckpt_main(void *arg)
{
    struct logd_ckpt *c = arg;
    logd_thread_second("logd-ckpt");
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->kicked && !c->stopping)
            pthread_cond_wait(&c->wake, &c->mu);
        if (c->stopping)
            break;
        c->kicked = false;
        c->busy = true;
        pthread_mutex_unlock(&c->mu);
        /* PASSIVE: copies what no reader still needs and never waits for
         * a lock; what it leaves, the next one copies. A failure (a lock
         * held by an analyst's checkpoint) loses nothing: the pages stay
         * in the WAL until a later checkpoint, or logd's close. */
        (void)sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                        NULL, NULL);
        pthread_mutex_lock(&c->mu);
        c->busy = false;
        pthread_cond_broadcast(&c->idle);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

int logd_ckpt_start(struct logd_ckpt **out, const char *path)
{
    struct logd_ckpt *c = calloc(1, sizeof *c);
    if (c == NULL) {
        cli_error("%s: out of memory", path);
        return -1;
    }
    if (sqlite3_open_v2(path, &c->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK ||
        /* A read opens the connection's view of the WAL: until then it
         * does not know the database is in WAL mode, and a checkpoint
         * does nothing. */
        sqlite3_exec(c->db, "SELECT count(*) FROM sqlite_schema", NULL, NULL,
                     NULL) != SQLITE_OK) {
        cli_error("%s: a connection for checkpoints: %s", path,
                  c->db ? sqlite3_errmsg(c->db) : "no memory");
        sqlite3_close(c->db);
        free(c);
        return -1;
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->wake, NULL);
    pthread_cond_init(&c->idle, NULL);
    int err = pthread_create(&c->thread, NULL, ckpt_main, c);
    if (err != 0) {
        cli_error("%s: cannot start its checkpoints' thread: %s", path,
                  strerror(err));
        pthread_cond_destroy(&c->wake);
        pthread_cond_destroy(&c->idle);
        pthread_mutex_destroy(&c->mu);
        sqlite3_close(c->db);
        free(c);
        return -1;
    }
    *out = c;
    return 0;
}

void logd_ckpt_kick(struct logd_ckpt *c)
{
    pthread_mutex_lock(&c->mu);
    c->kicked = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->mu);
}

void logd_ckpt_wait(struct logd_ckpt *c)
{
    pthread_mutex_lock(&c->mu);
    while (c->busy || (c->kicked && !c->stopping))
        pthread_cond_wait(&c->idle, &c->mu);
    pthread_mutex_unlock(&c->mu);
}

void logd_ckpt_stop(struct logd_ckpt *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    c->stopping = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->wake);
    pthread_cond_destroy(&c->idle);
    pthread_mutex_destroy(&c->mu);
    sqlite3_close(c->db);
    free(c);
}
