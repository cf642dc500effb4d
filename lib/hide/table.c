/* The executor's descriptor tables (see table.h). */
#include "hide/table.h"

#include <fcntl.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <unistd.h>

static void proc_reset(struct hproc *p, int32_t tgid)
{
    p->tgid = tgid;
    for (int i = 0; i < VHIDE_FDS; i++)
        p->fd[i] = (struct hfd){.host = -1};
    for (int i = 0; i < HIDE_EPOLLS; i++)
        p->ep[i].epfd = -1;
}

void hide_table_init(struct hide_table *tb)
{
    for (int i = 0; i < HIDE_PROCS; i++)
        proc_reset(&tb->procs[i], 0);
}

static struct hproc *find(struct hide_table *tb, int32_t tgid)
{
    for (int i = 0; i < HIDE_PROCS; i++)
        if (tb->procs[i].tgid == tgid)
            return &tb->procs[i];
    return NULL;
}

struct hproc *hide_proc(struct hide_table *tb, int32_t tgid, int32_t ppid,
                        bool create)
{
    struct hproc *p = find(tb, tgid);
    if (p != NULL || !create || tgid <= 0)
        return p;
    if ((p = find(tb, 0)) == NULL)
        return NULL;
    proc_reset(p, tgid);
    /* A child's first call: fork gave it its parent's descriptors, the same
     * open sockets under the same numbers. */
    struct hproc *parent = ppid > 0 ? find(tb, ppid) : NULL;
    if (parent == NULL)
        return p;
    for (int i = 0; i < VHIDE_FDS; i++)
        if (parent->fd[i].host >= 0) {
            p->fd[i] = parent->fd[i];
            p->fd[i].host = fcntl(parent->fd[i].host, F_DUPFD_CLOEXEC, 3);
        }
    for (int i = 0; i < HIDE_EPOLLS; i++)
        if (parent->ep[i].epfd >= 0) {
            p->ep[i].epfd = parent->ep[i].epfd;
            p->ep[i].host = fcntl(parent->ep[i].host, F_DUPFD_CLOEXEC, 3);
        }
    return p;
}

void hide_proc_close(struct hproc *p, bool only_cloexec)
{
    for (int i = 0; i < VHIDE_FDS; i++)
        if (p->fd[i].host >= 0 && (!only_cloexec || p->fd[i].cloexec)) {
            close(p->fd[i].host);
            p->fd[i].host = -1;
        }
    /* vigil does not know whether the guest's epoll instance survives an
     * exec; the plugin forgets it too, so both sides agree. */
    for (int i = 0; i < HIDE_EPOLLS; i++)
        if (p->ep[i].epfd >= 0) {
            close(p->ep[i].host);
            p->ep[i].epfd = -1;
        }
    if (!only_cloexec)
        p->tgid = 0;
}

struct hfd *hide_hfd(struct hproc *p, int64_t fd)
{
    int64_t i = (int64_t)(int32_t)fd - VHIDE_FD_BASE;
    if (p == NULL || i < 0 || i >= VHIDE_FDS || p->fd[i].host < 0)
        return NULL;
    return &p->fd[i];
}

int64_t hide_put_fd(struct hproc *p, int64_t fd, int host, bool nonblock,
                    bool cloexec)
{
    int64_t i = fd - VHIDE_FD_BASE;
    if (p->fd[i].host >= 0)
        close(p->fd[i].host);
    p->fd[i] =
        (struct hfd){.host = host, .nonblock = nonblock, .cloexec = cloexec};
    return fd;
}

int64_t hide_new_fd(struct hproc *p, int host, bool nonblock, bool cloexec,
                    int64_t from)
{
    int64_t i = from > VHIDE_FD_BASE ? from - VHIDE_FD_BASE : 0;
    while (i < VHIDE_FDS && p->fd[i].host >= 0)
        i++;
    if (i >= VHIDE_FDS) {
        close(host);
        return -24; /* EMFILE */
    }
    fcntl(host, F_SETFL, fcntl(host, F_GETFL) | O_NONBLOCK);
    return hide_put_fd(p, VHIDE_FD_BASE + i, host, nonblock, cloexec);
}

int hide_epoll(struct hproc *p, int32_t epfd, bool create)
{
    int free_at = -1;
    for (int i = 0; i < HIDE_EPOLLS; i++) {
        if (p->ep[i].epfd == epfd)
            return p->ep[i].host;
        if (p->ep[i].epfd < 0 && free_at < 0)
            free_at = i;
    }
    if (!create || free_at < 0)
        return -1;
    int host = epoll_create1(EPOLL_CLOEXEC);
    if (host < 0)
        return -1;
    p->ep[free_at].epfd = epfd;
    p->ep[free_at].host = host;
    return host;
}

void hide_epoll_close(struct hproc *p, int32_t epfd)
{
    for (int i = 0; i < HIDE_EPOLLS; i++)
        if (p->ep[i].epfd == epfd) {
            close(p->ep[i].host);
            p->ep[i].epfd = -1;
        }
}
