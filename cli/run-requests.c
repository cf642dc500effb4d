/* Requests the plugin posts to vigil (see run-requests.h and
 * include/vigil/ring.h, struct vring_req). */
#include "run-requests.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "vigil/ring.h"

#define HCALL_UPDATE 2 /* plugin/hcall-update.h */

struct run_requests {
    struct vring_map *ring;
    struct run_update *update;
    pthread_t thread;
    int stop;
};

static void serve(struct run_requests *r, struct vring_req *q)
{
    size_t cap;
    const uint8_t *data = vring_xfer(r->ring, &cap);
    char msg[VREQ_MSG_MAX];
    int64_t result;
    if (q->fn != HCALL_UPDATE || q->len > cap) {
        result = -ENOSYS;
        snprintf(msg, sizeof msg, "vigil: unknown request %u", q->fn);
    } else if (r->update == NULL) {
        result = -ENOSYS;
        snprintf(msg, sizeof msg,
                 "vigil: this guest takes no updates (vigil run "
                 "--update-key)");
    } else {
        uint64_t version;
        enum vupd_reason why =
            run_update_offer(r->update, RUN_UPDATE_GUEST, data, (size_t)q->len,
                             &version, msg, sizeof msg);
        result = why == VUPD_OK ? (int64_t)version : RUN_UPDATE_REFUSED(why);
    }
    memcpy(q->msg, msg, sizeof q->msg);
    q->result = result;
    __atomic_store_n(&q->state, VREQ_DONE, __ATOMIC_RELEASE);
}

static void *requests_main(void *arg)
{
    struct run_requests *r = arg;
    struct vring_req *q = &vring_shm(r->ring)->req;
    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
        if (__atomic_load_n(&q->state, __ATOMIC_ACQUIRE) == VREQ_POSTED) {
            serve(r, q);
            continue;
        }
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

int run_requests_start(struct run_requests **out, struct vring_map *ring,
                       struct run_update *update)
{
    struct run_requests *r = calloc(1, sizeof *r);
    if (r == NULL)
        return -1;
    r->ring = ring;
    r->update = update;
    if (pthread_create(&r->thread, NULL, requests_main, r) != 0) {
        cli_error("cannot start the request thread");
        free(r);
        return -1;
    }
    *out = r;
    return 0;
}

void run_requests_stop(struct run_requests *r)
{
    if (r == NULL)
        return;
    __atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
    pthread_join(r->thread, NULL);
    free(r);
}
