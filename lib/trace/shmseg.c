/* System V shared memory segments for the origin verdict (see shmseg.h).
 * A segment's id is what ties the processes together: the writer's shmat
 * and the victim's name the same id. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace/shmseg.h"

#define SEGS     256 /* segment sizes from shmget */
#define WRITERS  256 /* writable attachments (any process, ever) */
#define ATTACHED 256 /* live attachments */

#define SHM_RDONLY 010000

struct seg {
    int32_t id;
    uint64_t size;
};

struct wr {
    int32_t id;
    struct vshm_writer by;
};

struct att {
    int32_t tgid, id; /* tgid 0: free */
    uint64_t addr;
};

struct vshm {
    struct seg g[SEGS];
    size_t gnext;
    struct wr w[WRITERS];
    size_t nw, wnext;
    struct att a[ATTACHED];
    size_t anext, nlive; /* nlive: attachments in a[] (a fast "none") */
};

int vshm_new(struct vshm **out)
{
    *out = calloc(1, sizeof **out);
    return *out != NULL ? 0 : -ENOMEM;
}

void vshm_free(struct vshm *s)
{
    free(s);
}

static uint64_t size_of(const struct vshm *s, int32_t id)
{
    for (size_t i = 0; i < SEGS; i++)
        if (s->g[i].size != 0 && s->g[i].id == id)
            return s->g[i].size;
    return 0;
}

void vshm_got(struct vshm *s, int32_t id, uint64_t size)
{
    size = (size + 4095) & ~(uint64_t)4095;
    if (size == 0 || size_of(s, id) >= size)
        return; /* shmget of an existing key may pass a smaller size */
    for (size_t i = 0; i < SEGS; i++)
        if (s->g[i].size != 0 && s->g[i].id == id) {
            s->g[i].size = size;
            return;
        }
    s->g[s->gnext] = (struct seg){.id = id, .size = size};
    s->gnext = (s->gnext + 1) % SEGS;
}

/* In a free slot, or over the oldest one. */
static void add_attachment(struct vshm *s, int32_t tgid, int32_t id,
                           uint64_t addr)
{
    size_t k = s->anext;
    for (size_t i = 0; i < ATTACHED; i++)
        if (s->a[i].tgid == 0) {
            k = i;
            break;
        }
    if (s->a[k].tgid == 0)
        s->nlive++;
    s->a[k] = (struct att){.tgid = tgid, .id = id, .addr = addr};
    s->anext = (k + 1) % ATTACHED;
}

void vshm_attached(struct vshm *s, int32_t tgid, const char *comm, int32_t id,
                   uint64_t addr, uint64_t shmflg)
{
    if (tgid <= 0)
        return;
    if (!(shmflg & SHM_RDONLY)) {
        struct wr *w = &s->w[s->wnext];
        *w = (struct wr){.id = id, .by = {.pid = tgid, .comm = {0}}};
        memcpy(w->by.comm, comm, 16);
        s->wnext = (s->wnext + 1) % WRITERS;
        if (s->nw < WRITERS)
            s->nw++;
    }
    add_attachment(s, tgid, id, addr);
}

void vshm_detached(struct vshm *s, int32_t tgid, uint64_t addr, uint64_t *len)
{
    *len = 0;
    for (size_t i = 0; i < ATTACHED; i++)
        if (s->a[i].tgid == tgid && s->a[i].addr == addr) {
            *len = size_of(s, s->a[i].id);
            s->a[i].tgid = 0;
            s->nlive--;
            return;
        }
}

void vshm_fork(struct vshm *s, int32_t parent, int32_t child)
{
    for (size_t i = 0; i < ATTACHED && s->nlive > 0 && child > 0; i++)
        if (s->a[i].tgid == parent && parent != child)
            add_attachment(s, child, s->a[i].id, s->a[i].addr);
}

void vshm_forget(struct vshm *s, int32_t tgid)
{
    for (size_t i = 0; i < ATTACHED && s->nlive > 0; i++)
        if (s->a[i].tgid == tgid) {
            s->a[i].tgid = 0;
            s->nlive--;
        }
}

bool vshm_find(const struct vshm *s, int32_t tgid, uint64_t addr,
               uint64_t rstart, uint64_t rend, struct vshm_writer *w,
               bool *other)
{
    const struct att *a = NULL;
    for (size_t i = 0; i < ATTACHED && s->nlive > 0 && a == NULL; i++) {
        const struct att *t = &s->a[i];
        if (t->tgid != tgid || addr < t->addr)
            continue;
        /* Without shmget's size, the mapping that starts at the
         * attachment is the segment. */
        uint64_t size = size_of(s, t->id);
        uint64_t end = size != 0           ? t->addr + size
                       : rstart == t->addr ? rend
                                           : t->addr;
        if (addr < end)
            a = t;
    }
    if (a == NULL)
        return false;
    memset(w, 0, sizeof *w);
    *other = false;
    for (size_t k = 0; k < s->nw; k++) {
        const struct wr *r = &s->w[(s->wnext + WRITERS - 1 - k) % WRITERS];
        if (r->id != a->id)
            continue;
        if (r->by.pid != tgid) {
            *w = r->by;
            *other = true;
            return true;
        }
        if (w->pid == 0)
            *w = r->by;
    }
    return true;
}
