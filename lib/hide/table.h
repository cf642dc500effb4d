/* The executor's descriptor tables (table.c): for each hidden guest
 * process, which host socket each of its hidden descriptor numbers is, and
 * which host epoll instance stands for each guest epoll instance that has
 * hidden descriptors in it. Used by the executor's thread only. */
#ifndef VIGIL_LIB_HIDE_TABLE_H
#define VIGIL_LIB_HIDE_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "vigil/hide.h"

#define HIDE_PROCS  64
#define HIDE_EPOLLS 16 /* guest epoll instances with hidden members, each */

struct hfd {
    int host; /* -1: free */
    bool nonblock, cloexec;
    uint64_t rcvtimeo_ns, sndtimeo_ns; /* SO_RCVTIMEO, SO_SNDTIMEO; 0: none */
};

struct hproc {
    int32_t tgid; /* 0: free */
    struct hfd fd[VHIDE_FDS];
    struct {
        int32_t epfd; /* the guest's number; -1: free */
        int host;
    } ep[HIDE_EPOLLS];
};

struct hide_table {
    struct hproc procs[HIDE_PROCS];
};

void hide_table_init(struct hide_table *tb);
/* The table of @tgid; with @create, a new one, which copies its parent's
 * (@ppid) as fork does. NULL when there is none, or no room. */
struct hproc *hide_proc(struct hide_table *tb, int32_t tgid, int32_t ppid,
                        bool create);
/* Close all of @p's host descriptors (@only_cloexec: those exec closes, and
 * the epoll twins) and, for all, forget it. */
void hide_proc_close(struct hproc *p, bool only_cloexec);

/* Hidden descriptor @fd of @p; NULL when it is not open. */
struct hfd *hide_hfd(struct hproc *p, int64_t fd);
/* Give the guest a new number for host descriptor @host (made
 * non-blocking), the lowest free one from @from up; -EMFILE when full
 * (@host is then closed). */
int64_t hide_new_fd(struct hproc *p, int host, bool nonblock, bool cloexec,
                    int64_t from);
/* Put @host at number @fd (closing what was there); @fd must be in range. */
int64_t hide_put_fd(struct hproc *p, int64_t fd, int host, bool nonblock,
                    bool cloexec);

/* The host epoll instance for guest epoll instance @epfd, created with
 * @create; -1 when there is none, or no room. */
int hide_epoll(struct hproc *p, int32_t epfd, bool create);
void hide_epoll_close(struct hproc *p, int32_t epfd);

#endif
