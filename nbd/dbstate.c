/* The database in force and its reloads: see dbstate.h. */
#include "dbstate.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nbdkit-filter.h>
#include <vigil/replace.h>
#include <vigil/sigdb.h>

#include "record.h"

/* A new database is noticed within WATCH_MS even when the guest writes
 * nothing, so that it is in force by the time the next write comes. */
#define WATCH_MS 100

static struct {
    struct dbstate_opts o;
    struct vsig_slot *slot;
    size_t signatures; /* of the database in force */
    /* The trigger as last seen; lock guards these and the reloader. */
    pthread_mutex_t lock;
    bool exists;
    struct timespec mtime;
    dev_t dev; /* an update swaps in another directory: */
    ino_t ino; /* its mtime alone may be the same */
    pthread_t reloader;
    bool reloading, reloader_joinable;
    pthread_t watcher;
    bool watching;
    int stop;
} dbs = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void diag_cb(void *opaque, const struct vsig_diag *d)
{
    (void)opaque;
    if (d->severity == VSIG_DIAG_NOTE)
        nbdkit_debug("%s:%lu: %s", d->file, d->line, d->msg);
    else
        record_warn("%s:%lu: %s", d->file, d->line, d->msg);
}

static int load(struct vsig_db **out, size_t *nsig, char *err, size_t errlen)
{
    struct sigdb_opts so = {.partial = dbs.o.partial,
                            .diag = diag_cb,
                            .diag_opaque = NULL,
                            .cvd_key = dbs.o.cvd_key};
    struct sigdb_report rep = {0, 0};
    int r = sigdb_load(out, (const char *const *)dbs.o.paths, dbs.o.npaths, &so,
                       &rep, err, errlen);
    if (r == -EINVAL && rep.rejected && !dbs.o.partial)
        snprintf(err + strlen(err), errlen - strlen(err),
                 " (vigil-partial-db=true accepts it)");
    *nsig = rep.signatures;
    return r;
}

/* Say which database is in force: "loaded TARGET" (where the reload path
 * points, "-" when it is no link), so that vigil can tell an update's
 * sender once every filter scans with it. */
static void write_status(void)
{
    if (!dbs.o.status_path || !dbs.o.reload_path)
        return;
    char target[4096] = "-", line[4200];
    ssize_t n = readlink(dbs.o.reload_path, target, sizeof(target) - 1);
    if (n > 0)
        target[n] = '\0';
    else
        snprintf(target, sizeof(target), "-");
    int len = snprintf(line, sizeof(line), "loaded %s\n", target);
    /* Not written: the old status stays, and vigil reports the update as
     * not yet loaded by this disk's filter (cli/run-update.c). */
    (void)vigil_replace_file(dbs.o.status_path, line, (size_t)len, 0600);
}

/* Whether the trigger differs from when it was last seen (and note it). */
static bool trigger_changed_locked(void)
{
    struct stat st;
    bool exists = stat(dbs.o.reload_path, &st) == 0;
    bool same = exists == dbs.exists &&
                (!exists || (st.st_mtim.tv_sec == dbs.mtime.tv_sec &&
                             st.st_mtim.tv_nsec == dbs.mtime.tv_nsec &&
                             st.st_dev == dbs.dev && st.st_ino == dbs.ino));
    dbs.exists = exists;
    if (exists) {
        dbs.mtime = st.st_mtim;
        dbs.dev = st.st_dev;
        dbs.ino = st.st_ino;
    }
    return !same && exists;
}

int dbstate_init(const struct dbstate_opts *o)
{
    struct vsig_db *db;
    char err[512] = "";
    dbs.o = *o;
    if (load(&db, &dbs.signatures, err, sizeof(err)) < 0) {
        nbdkit_error("vigil-db: %s", err);
        return -1;
    }
    int r = vsig_slot_new(&dbs.slot, db);
    vsig_db_unref(db);
    if (r < 0) {
        nbdkit_error("vsig_slot_new: %s", strerror(-r));
        return -1;
    }
    if (dbs.o.reload_path) {
        trigger_changed_locked();
        write_status();
    }
    return 0;
}

/* Build the new database with no lock held: writes go on meanwhile with
 * the old one, and the swap is one pointer store inside the slot. */
static void *reload_main(void *arg)
{
    (void)arg;
    struct vsig_db *db = NULL;
    size_t n = 0;
    char err[512] = "";
    if (load(&db, &n, err, sizeof(err)) < 0) {
        record_warn("database reload failed; keeping the current database: "
                    "%s",
                    err);
    } else {
        vsig_slot_set(dbs.slot, db);
        vsig_db_unref(db);
        fprintf(stderr, "vigil-filter: database reloaded: %zu signatures\n", n);
        if (n < dbs.signatures / 2)
            record_warn("the reloaded database has %zu signatures, fewer "
                        "than half of the %zu before",
                        n, dbs.signatures);
        dbs.signatures = n;
        write_status();
    }
    pthread_mutex_lock(&dbs.lock);
    dbs.reloading = false;
    pthread_mutex_unlock(&dbs.lock);
    return NULL;
}

static void check_locked(void)
{
    if (!dbs.o.reload_path || dbs.reloading || !trigger_changed_locked())
        return;
    if (dbs.reloader_joinable)
        pthread_join(dbs.reloader, NULL); /* finished: reloading was false */
    dbs.reloader_joinable = false;
    dbs.reloading = true;
    if (pthread_create(&dbs.reloader, NULL, reload_main, NULL) != 0) {
        dbs.reloading = false;
        record_warn("cannot start a database reload; keeping the current "
                    "database");
        return;
    }
    dbs.reloader_joinable = true;
}

void dbstate_check(void)
{
    /* Another thread checking is as good: do not queue behind it. */
    if (!dbs.o.reload_path || pthread_mutex_trylock(&dbs.lock) != 0)
        return;
    check_locked();
    pthread_mutex_unlock(&dbs.lock);
}

static void *watch_main(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&dbs.stop, __ATOMIC_ACQUIRE)) {
        struct timespec ts = {0, WATCH_MS * 1000000L};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&dbs.lock);
        check_locked();
        pthread_mutex_unlock(&dbs.lock);
    }
    return NULL;
}

void dbstate_watch(void)
{
    if (dbs.o.reload_path &&
        pthread_create(&dbs.watcher, NULL, watch_main, NULL) == 0)
        dbs.watching = true;
}

struct vsig_db *dbstate_get(void)
{
    return vsig_slot_get(dbs.slot);
}

void dbstate_stop(void)
{
    if (!dbs.watching)
        return;
    __atomic_store_n(&dbs.stop, 1, __ATOMIC_RELEASE);
    pthread_join(dbs.watcher, NULL);
    dbs.watching = false;
}

void dbstate_free(void)
{
    if (dbs.reloader_joinable)
        pthread_join(dbs.reloader, NULL);
    dbs.reloader_joinable = false;
    vsig_slot_free(dbs.slot);
    dbs.slot = NULL;
}
