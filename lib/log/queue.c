/* The sender's bounded single-producer single-consumer queue (queue.h).
 * A full queue drops the record and counts it; the count goes out in-band
 * as a {"type":"drops"} record as soon as there is room again, so a reader
 * of the stream knows exactly what is missing. */
#include "queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/log.h"

int vlog_queue_init(struct vlog_queue *q, size_t want)
{
    memset(q, 0, sizeof *q);
    q->cap = 1;
    if (want == 0)
        want = 8u << 20;
    while (q->cap < want && q->cap < (1ull << 32))
        q->cap <<= 1;
    if (q->cap < 2 * (uint64_t)VLOG_QUEUE_REC_MAX + 8)
        q->cap = 4u << 20; /* room for the largest record */
    q->q = malloc(q->cap);
    q->scratch = malloc(VLOG_QUEUE_REC_MAX);
    if (q->q == NULL || q->scratch == NULL) {
        vlog_queue_fini(q);
        return -ENOMEM;
    }
    return 0;
}

void vlog_queue_fini(struct vlog_queue *q)
{
    free(q->q);
    free(q->scratch);
    q->q = q->scratch = NULL;
}

static void copy_in(struct vlog_queue *q, uint64_t pos, const void *src,
                    size_t n)
{
    size_t off = (size_t)(pos & (q->cap - 1));
    size_t first = n < q->cap - off ? n : (size_t)(q->cap - off);
    memcpy(q->q + off, src, first);
    memcpy(q->q, (const uint8_t *)src + first, n - first);
}

static void copy_out(const struct vlog_queue *q, uint64_t pos, void *dst,
                     size_t n)
{
    size_t off = (size_t)(pos & (q->cap - 1));
    size_t first = n < q->cap - off ? n : (size_t)(q->cap - off);
    memcpy(dst, q->q + off, first);
    memcpy((uint8_t *)dst + first, q->q, n - first);
}

/* Producer: whether @need bytes fit, reading the consumer's tail only
 * when the copy of it says they do not. */
static bool fits(struct vlog_queue *q, uint64_t need)
{
    if (q->cap - (q->head - q->tail_seen) >= need)
        return true;
    q->tail_seen = __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE);
    return q->cap - (q->head - q->tail_seen) >= need;
}

/* Producer: a counter only it writes, which others read. */
static void bump(uint64_t *c)
{
    __atomic_store_n(c, *c + 1, __ATOMIC_RELAXED);
}

static bool put(struct vlog_queue *q, const char *rec, uint32_t len)
{
    uint64_t head = q->head;
    if (!fits(q, 4 + (uint64_t)len))
        return false;
    copy_in(q, head, &len, 4);
    copy_in(q, head + 4, rec, len);
    __atomic_store_n(&q->head, head + 4 + len, __ATOMIC_RELEASE);
    return true;
}

void vlog_queue_push_drops(struct vlog_queue *q)
{
    if (q->pending_drops == 0)
        return;
    char d[128];
    int n = vlog_drops_record(d, sizeof d, q->pending_drops,
                              __atomic_load_n(&q->dropped, __ATOMIC_RELAXED),
                              "log queue full");
    if (n > 0 && put(q, d, (uint32_t)n))
        q->pending_drops = 0;
}

int vlog_queue_push(struct vlog_queue *q, const char *rec, size_t len)
{
    if (len > VLOG_QUEUE_REC_MAX)
        len = VLOG_QUEUE_REC_MAX;
    vlog_queue_push_drops(q);
    if (q->pending_drops > 0 || !put(q, rec, (uint32_t)len)) {
        q->pending_drops++;
        bump(&q->dropped);
        return -ENOBUFS;
    }
    bump(&q->queued);
    return 0;
}

bool vlog_queue_room(struct vlog_queue *q, size_t len)
{
    return fits(q, 4 + (uint64_t)len + 256);
}

bool vlog_queue_empty(struct vlog_queue *q)
{
    return __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE) ==
           __atomic_load_n(&q->head, __ATOMIC_ACQUIRE);
}

void vlog_queue_begin(struct vlog_queue *q, struct vlog_queue_cursor *c)
{
    c->pos = q->tail;
    c->end = __atomic_load_n(&q->head, __ATOMIC_ACQUIRE);
}

const char *vlog_queue_peek(struct vlog_queue *q,
                            const struct vlog_queue_cursor *c, uint32_t *len)
{
    if (c->pos == c->end)
        return NULL;
    copy_out(q, c->pos, len, 4);
    size_t off = (size_t)((c->pos + 4) & (q->cap - 1));
    if (off + *len <= q->cap)
        return (const char *)q->q + off;
    copy_out(q, c->pos + 4, q->scratch, *len);
    return (const char *)q->scratch;
}

void vlog_queue_next(struct vlog_queue *q, struct vlog_queue_cursor *c)
{
    uint32_t len;
    copy_out(q, c->pos, &len, 4);
    c->pos += 4 + (uint64_t)len;
}

void vlog_queue_commit(struct vlog_queue *q, const struct vlog_queue_cursor *c)
{
    __atomic_store_n(&q->tail, c->pos, __ATOMIC_RELEASE);
}
