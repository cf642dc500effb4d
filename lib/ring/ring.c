/* Shared-memory SPSC rings between the plugin (producer, one per vCPU
 * thread) and vigil's consumer thread. See include/vigil/ring.h. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vigil/clock.h"
#include "vigil/rawrec.h"
#include "vigil/ring.h"

struct vring_map {
    void *base;
    size_t len;
    int fd; /* a memory-backed ring's own file, kept open; else -1 */
    struct vring_shm *shm;
    uint8_t *data;
    uint64_t size; /* data bytes per ring */
    unsigned n;
    /* Each side keeps its own copy of the other's index and of its own,
     * and touches the shared cache lines only when the copy runs out: a
     * record then costs no cache-line transfer between the vCPU thread and
     * the consumer, which otherwise slows the guest more than the tracing
     * itself. */
    /* Producer side: head after the pad of the current reservation; the
     * consumer's tail as last read. */
    uint64_t res_head[VRING_MAX_VCPUS];
    uint64_t tail_seen[VRING_MAX_VCPUS];
    /* --ring-full wait: how long a full ring waits (0: it drops), and
     * the tail at which a ring's last wait ran out (stalled). */
    uint64_t wait_ns;
    uint64_t stalled_tail[VRING_MAX_VCPUS];
    bool stalled[VRING_MAX_VCPUS];
    /* Consumer side: size of the record vring_peek returned; the
     * producer's head as last read; the consumer's own tail and the value
     * last published to the producer. */
    uint32_t peeked[VRING_MAX_VCPUS];
    uint64_t head_seen[VRING_MAX_VCPUS];
    uint64_t tail[VRING_MAX_VCPUS];
    uint64_t tail_published[VRING_MAX_VCPUS];
};

static size_t header_bytes(void)
{
    size_t h = sizeof(struct vring_shm);
    return (h + 4095) & ~(size_t)4095;
}

static int map_file(int fd, size_t len, struct vring_map **out)
{
    struct vring_map *m = calloc(1, sizeof *m);
    if (m == NULL)
        return -ENOMEM;
    m->base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m->base == MAP_FAILED) {
        int err = -errno;
        free(m);
        return err;
    }
    m->len = len;
    m->shm = m->base;
    m->fd = -1;
    *out = m;
    return 0;
}

static void finish_map(struct vring_map *m)
{
    m->n = m->shm->nrings;
    m->size = m->shm->ring_bytes;
    m->data = (uint8_t *)m->base + m->shm->data_offset;
    for (unsigned i = 0; i < m->n; i++) {
        const struct vring_ctl *c = &m->shm->ctl[i];
        m->res_head[i] = m->head_seen[i] = c->head;
        m->tail_seen[i] = m->tail[i] = m->tail_published[i] = c->tail;
    }
}

/* Consumer: let the producer see the room freed so far. */
static void publish_tail(struct vring_map *m, unsigned i)
{
    if (m->tail[i] != m->tail_published[i]) {
        __atomic_store_n(&m->shm->ctl[i].tail, m->tail[i], __ATOMIC_RELEASE);
        m->tail_published[i] = m->tail[i];
    }
}

static bool sizes_ok(unsigned nrings, size_t ring_bytes)
{
    return nrings != 0 && nrings <= VRING_MAX_VCPUS && ring_bytes >= 4096 &&
           (ring_bytes & (ring_bytes - 1)) == 0 && ring_bytes <= (1ull << 32);
}

/* Size @fd for the rings and map it. */
static int map_new(int fd, unsigned nrings, size_t ring_bytes,
                   struct vring_map **out)
{
    size_t len = header_bytes() + nrings * ring_bytes + VRING_XFER_BYTES +
                 sizeof(struct vhide_area);
    if (ftruncate(fd, (off_t)len) < 0)
        return -errno;
    return map_file(fd, len, out);
}

/* The header of a freshly mapped, zeroed file. */
static void init_header(struct vring_map *m, unsigned nrings, size_t ring_bytes,
                        const struct vring_config *cfg)
{
    struct vring_shm *s = m->shm;
    s->nrings = nrings;
    s->ring_bytes = ring_bytes;
    s->data_offset = header_bytes();
    s->xfer_offset = header_bytes() + nrings * ring_bytes;
    s->xfer_bytes = VRING_XFER_BYTES;
    s->hide_offset = s->xfer_offset + VRING_XFER_BYTES;
    s->hide_bytes = sizeof(struct vhide_area);
    s->version = VRING_VERSION;
    if (cfg != NULL)
        s->config = *cfg;
    /* The magic last: a reader that sees it sees a complete header. */
    __atomic_store_n(&s->magic, VRING_MAGIC, __ATOMIC_RELEASE);
    finish_map(m);
}

int vring_create(const char *path, unsigned nrings, size_t ring_bytes,
                 const struct vring_config *cfg, struct vring_map **out)
{
    if (!sizes_ok(nrings, ring_bytes))
        return -EINVAL;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    struct vring_map *m = NULL;
    int err = map_new(fd, nrings, ring_bytes, &m);
    close(fd);
    if (err < 0) {
        unlink(path);
        return err;
    }
    init_header(m, nrings, ring_bytes, cfg);
    *out = m;
    return 0;
}

int vring_create_mem(unsigned nrings, size_t ring_bytes,
                     const struct vring_config *cfg, struct vring_map **out,
                     char *path, size_t pathlen)
{
    if (!sizes_ok(nrings, ring_bytes))
        return -EINVAL;
    int fd = memfd_create("vigil-ring", MFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct vring_map *m = NULL;
    int err = map_new(fd, nrings, ring_bytes, &m);
    if (err == 0 && (size_t)snprintf(path, pathlen, "/proc/%d/fd/%d",
                                     (int)getpid(), fd) >= pathlen)
        err = -ENAMETOOLONG;
    if (err < 0) {
        if (m != NULL)
            vring_close(m);
        close(fd);
        return err;
    }
    m->fd = fd;
    init_header(m, nrings, ring_bytes, cfg);
    *out = m;
    return 0;
}

int vring_open(const char *path, struct vring_map **out)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    if ((size_t)st.st_size < header_bytes()) {
        close(fd);
        return -EPROTO;
    }
    struct vring_map *m;
    int err = map_file(fd, (size_t)st.st_size, &m);
    close(fd);
    if (err < 0)
        return err;
    struct vring_shm *s = m->shm;
    uint64_t need;
    if (__atomic_load_n(&s->magic, __ATOMIC_ACQUIRE) != VRING_MAGIC ||
        s->version != VRING_VERSION || s->nrings == 0 ||
        s->nrings > VRING_MAX_VCPUS || s->ring_bytes < 4096 ||
        (s->ring_bytes & (s->ring_bytes - 1)) != 0 ||
        s->data_offset != header_bytes() ||
        __builtin_mul_overflow(s->nrings, s->ring_bytes, &need) ||
        need > (uint64_t)st.st_size - header_bytes() ||
        s->xfer_offset != header_bytes() + need ||
        s->xfer_bytes != VRING_XFER_BYTES ||
        s->hide_offset != s->xfer_offset + s->xfer_bytes ||
        s->hide_bytes != sizeof(struct vhide_area) ||
        s->hide_offset + s->hide_bytes > (uint64_t)st.st_size) {
        vring_close(m);
        return -EPROTO;
    }
    finish_map(m);
    *out = m;
    return 0;
}

void vring_close(struct vring_map *m)
{
    if (m == NULL)
        return;
    munmap(m->base, m->len);
    if (m->fd >= 0)
        close(m->fd);
    free(m);
}

struct vring_shm *vring_shm(struct vring_map *m)
{
    return m->shm;
}

unsigned vring_count(const struct vring_map *m)
{
    return m->n;
}

static uint8_t *ring_data(struct vring_map *m, unsigned i)
{
    return m->data + (uint64_t)i * m->size;
}

void vring_drop(struct vring_map *m, unsigned i, uint32_t size)
{
    struct vring_ctl *c = &m->shm->ctl[i];
    /* Only this ring's producer writes these: plain increments suffice,
     * atomics only so that the reader never sees a torn value. */
    __atomic_store_n(&c->dropped_records, c->dropped_records + 1,
                     __ATOMIC_RELAXED);
    __atomic_store_n(&c->dropped_bytes, c->dropped_bytes + size,
                     __ATOMIC_RELAXED);
}

void vring_set_full_wait(struct vring_map *m, uint32_t ms)
{
    m->wait_ns = (uint64_t)ms * 1000000u;
}

/* A full ring under vring_set_full_wait(): wait until the consumer's tail
 * reaches @need, at most wait_ns. The consumer hands room back in eighths
 * of the ring (vring_consume), so a live consumer answers within the time
 * it takes to read one eighth. */
static bool wait_room(struct vring_map *m, unsigned i, uint64_t need)
{
    struct vring_ctl *c = &m->shm->ctl[i];
    if (m->wait_ns == 0 ||
        (m->stalled[i] && m->tail_seen[i] == m->stalled_tail[i]))
        return false;
    m->stalled[i] = false;
    __atomic_store_n(&c->full_waits, c->full_waits + 1, __ATOMIC_RELAXED);
    uint64_t start = vigil_now_ns(CLOCK_MONOTONIC);
    for (unsigned round = 0;; round++) {
        /* A few yields first (the consumer may be about to publish), then
         * short sleeps: a waiting vCPU thread must not take the core the
         * consumer needs. */
        if (round < 16) {
            sched_yield();
        } else {
            struct timespec ts = {0, 50 * 1000};
            nanosleep(&ts, NULL);
        }
        uint64_t tail = __atomic_load_n(&c->tail, __ATOMIC_ACQUIRE);
        m->tail_seen[i] = tail;
        if ((int64_t)(tail - need) >= 0)
            return true;
        if (vigil_now_ns(CLOCK_MONOTONIC) - start >= m->wait_ns) {
            m->stalled[i] = true;
            m->stalled_tail[i] = tail;
            return false;
        }
    }
}

void *vring_reserve(struct vring_map *m, unsigned i, uint32_t max)
{
    struct vring_ctl *c = &m->shm->ctl[i];
    max = VRAW_ALIGN(max);
    if (max < sizeof(struct vraw_hdr) || max > m->size / 4) {
        vring_drop(m, i, max);
        return NULL;
    }
    uint64_t head = c->head;
    uint64_t pos = head & (m->size - 1);
    uint64_t contig = m->size - pos;
    uint64_t skip = contig < max ? contig : 0;
    if (head + skip + max - m->tail_seen[i] > m->size) {
        m->tail_seen[i] = __atomic_load_n(&c->tail, __ATOMIC_ACQUIRE);
        if (head + skip + max - m->tail_seen[i] > m->size &&
            !wait_room(m, i, head + skip + max - m->size)) {
            vring_drop(m, i, max);
            return NULL;
        }
    }
    uint8_t *d = ring_data(m, i);
    if (skip != 0) {
        /* Mark the tail end as padding; the consumer skips to the start.
         * Less than a header's room is padding by definition. */
        if (contig >= sizeof(struct vraw_hdr)) {
            struct vraw_hdr *pad = (struct vraw_hdr *)(d + pos);
            pad->type = VRING_PAD;
            pad->size = 0;
        }
        pos = 0;
    }
    m->res_head[i] = head + skip;
    return d + pos;
}

void vring_commit(struct vring_map *m, unsigned i, uint32_t size)
{
    struct vring_ctl *c = &m->shm->ctl[i];
    __atomic_store_n(&c->records, c->records + 1, __ATOMIC_RELAXED);
    __atomic_store_n(&c->head, m->res_head[i] + VRAW_ALIGN(size),
                     __ATOMIC_RELEASE);
}

uint8_t *vring_xfer(struct vring_map *m, size_t *len)
{
    *len = (size_t)m->shm->xfer_bytes;
    return (uint8_t *)m->base + m->shm->xfer_offset;
}

struct vhide_area *vring_hide(struct vring_map *m)
{
    return (struct vhide_area *)((uint8_t *)m->base + m->shm->hide_offset);
}

const void *vring_peek(struct vring_map *m, unsigned i)
{
    struct vring_ctl *c = &m->shm->ctl[i];
    uint64_t tail = m->tail[i];
    if (tail == m->head_seen[i]) {
        /* Caught up: hand all the room back, then look for more. */
        publish_tail(m, i);
        m->head_seen[i] = __atomic_load_n(&c->head, __ATOMIC_ACQUIRE);
    }
    uint64_t head = m->head_seen[i];
    uint8_t *d = ring_data(m, i);
    while (tail != head) {
        uint64_t pos = tail & (m->size - 1);
        uint64_t contig = m->size - pos;
        const struct vraw_hdr *h = (const struct vraw_hdr *)(d + pos);
        bool pad = contig < sizeof *h || h->type == VRING_PAD;
        if (pad && contig <= head - tail) {
            tail += contig;
            m->tail[i] = tail;
            continue;
        }
        /* Padding that runs past the committed records would carry the
         * tail past the head, and the loop never to end. */
        if (pad || h->size < sizeof *h || h->size > contig ||
            h->size % 8 != 0 || h->size > head - tail) {
            /* Cannot happen with our producer; never read past it. */
            m->tail[i] = head;
            publish_tail(m, i);
            return NULL;
        }
        m->peeked[i] = h->size;
        return h;
    }
    publish_tail(m, i);
    return NULL;
}

void vring_consume(struct vring_map *m, unsigned i)
{
    m->tail[i] += m->peeked[i];
    m->peeked[i] = 0;
    /* Room goes back in eighths of the ring, and whenever the consumer
     * catches up (vring_peek). */
    if (m->tail[i] - m->tail_published[i] >= m->size / 8)
        publish_tail(m, i);
}
