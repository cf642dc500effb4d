/* logd's helper threads (the SQLite writer, its checkpoints) start here. */
#ifndef VIGIL_CLI_LOGD_THREAD_H
#define VIGIL_CLI_LOGD_THREAD_H

#include <errno.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

/* Name the calling thread (for top -H, and bench/logs, which counts each
 * thread's CPU) and put it second to the receiving thread: on a machine
 * short of CPUs, a datagram the receiving thread is too late for is lost
 * for the JSON Lines files too, a record the database is too late for
 * only for the database (and it waits in the backlog). Linux sets nice per
 * thread; failing leaves it as it was. */
static inline void logd_thread_second(const char *name)
{
    (void)pthread_setname_np(pthread_self(), name);
    errno = 0;
    int nice_now = getpriority(PRIO_PROCESS, (id_t)gettid());
    if (errno == 0)
        (void)setpriority(PRIO_PROCESS, (id_t)gettid(),
                          nice_now + 10 > 19 ? 19 : nice_now + 10);
}

#endif
