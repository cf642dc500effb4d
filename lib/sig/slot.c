/* Atomic database replacement.  A mutex guards the pointer: taking a
 * reference and publishing a new database are both rare (once per stream,
 * once per update), so a lock is simpler than hazard pointers and cannot
 * hand out a database that is being freed. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "sig/sig-int.h"

struct vsig_slot {
    pthread_mutex_t lock;
    struct vsig_db *db;
};

int vsig_slot_new(struct vsig_slot **out, struct vsig_db *db)
{
    struct vsig_slot *s = calloc(1, sizeof *s);

    if (s == NULL)
        return -ENOMEM;
    int r = pthread_mutex_init(&s->lock, NULL);
    if (r != 0) {
        free(s);
        return -r;
    }
    s->db = db ? vsig_db_ref(db) : NULL;
    *out = s;
    return 0;
}

struct vsig_db *vsig_slot_get(struct vsig_slot *s)
{
    struct vsig_db *db;

    pthread_mutex_lock(&s->lock);
    db = s->db ? vsig_db_ref(s->db) : NULL;
    pthread_mutex_unlock(&s->lock);
    return db;
}

void vsig_slot_set(struct vsig_slot *s, struct vsig_db *db)
{
    struct vsig_db *old;

    if (db)
        vsig_db_ref(db);
    pthread_mutex_lock(&s->lock);
    old = s->db;
    s->db = db;
    pthread_mutex_unlock(&s->lock);
    vsig_db_unref(old);
}

void vsig_slot_free(struct vsig_slot *s)
{
    if (s == NULL)
        return;
    vsig_db_unref(s->db);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
