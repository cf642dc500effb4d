/* The sender's record queue: one producer (the tracer), one consumer (the
 * sender thread), bounded, never blocking. Records are [u32 len][bytes],
 * wrapping around a power-of-two ring. */
#ifndef VIGIL_LOG_QUEUE_H
#define VIGIL_LOG_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest record accepted; longer ones are cut (and cut again later to
 * the datagram). */
#define VLOG_QUEUE_REC_MAX (UINT16_MAX * 16u)

/* The producer's and the consumer's fields lie on cache lines of their
 * own (the padding, whatever the struct's alignment): a line both write
 * moves between their CPUs at every record. Each side keeps its own copy
 * of the other's position and reads the shared one only when its copy
 * says the queue is full (producer) or empty (consumer). */
struct vlog_queue {
    uint8_t *q;
    uint64_t cap;
    uint8_t *scratch; /* consumer: one record that wraps the end */
    char pad0_[64];
    /* The producer's. */
    uint64_t head;          /* atomic: read by the consumer */
    uint64_t tail_seen;     /* the consumer's tail as last read */
    uint64_t pending_drops; /* not yet reported in-band */
    uint64_t dropped;       /* atomic: read by stats */
    uint64_t queued;        /* atomic: read by stats */
    char pad1_[64];
    /* The consumer's. */
    uint64_t tail; /* atomic: read by the producer */
    char pad2_[64 - sizeof(uint64_t)];
};

/* Room for at least want bytes (0: 8 MiB); 0 or -ENOMEM. */
int vlog_queue_init(struct vlog_queue *q, size_t want);
void vlog_queue_fini(struct vlog_queue *q);

/* Producer: queue one record, after the {"type":"drops"} record for what
 * was dropped before it. -ENOBUFS (counted as dropped) when full. */
int vlog_queue_push(struct vlog_queue *q, const char *rec, size_t len);
/* Producer: queue the drops record if drops are pending and it fits. */
void vlog_queue_push_drops(struct vlog_queue *q);
/* Whether a record of len bytes would fit now (with some slack). */
bool vlog_queue_room(struct vlog_queue *q, size_t len);
/* Whether everything queued has been consumed. */
bool vlog_queue_empty(struct vlog_queue *q);

/* Consumer: the record at position pos (from vlog_queue_begin or the last
 * vlog_queue_next), or NULL at the producer's head as read by begin. */
struct vlog_queue_cursor {
    uint64_t pos, end;
};
void vlog_queue_begin(struct vlog_queue *q, struct vlog_queue_cursor *c);
const char *vlog_queue_peek(struct vlog_queue *q,
                            const struct vlog_queue_cursor *c, uint32_t *len);
void vlog_queue_next(struct vlog_queue *q, struct vlog_queue_cursor *c);
/* Consumer: release everything before the cursor to the producer. */
void vlog_queue_commit(struct vlog_queue *q, const struct vlog_queue_cursor *c);

#endif
