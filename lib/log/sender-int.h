/* The sender's parts (sender.c: lifetime and thread; queue.c: the record
 * queue; send.c: packing and sending; control.c: the control protocol)
 * share this state. Not a public header. */
#ifndef VIGIL_LOG_SENDER_INT_H
#define VIGIL_LOG_SENDER_INT_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "queue.h"
#include "vigil/log.h"

#define SENDER_BATCH       64 /* datagrams per sendmmsg / writev */
#define SENDER_CTL_WINDOWS 8
#define SENDER_FILTER_MAX  512
#define SENDER_CTL_SOURCES 16 /* rate-limit buckets, by source address */

struct ctl_window {
    uint64_t session;
    uint64_t used; /* LRU stamp; 0: free */
    struct vlog_replay w;
};

/* A token bucket per control source: a flood from one address cannot
 * crowd out logd's own START from another. */
struct ctl_bucket {
    struct sockaddr_storage src;
    double tokens;
    uint64_t refill_ns;
    uint64_t used; /* LRU stamp; 0: free */
};

struct vlog_sender {
    uint8_t key[VLOG_KEY_LEN];
    bool tcp;
    struct sockaddr_storage dst;
    unsigned dstlen;
    unsigned mtu;
    unsigned hb_ms, hb_missed;
    int ctl_fd, data_fd;
    uint16_t ctl_port;

    struct vlog_queue queue;
    pthread_t thread;
    int quit; /* atomic */

    /* thread state */
    bool started;
    uint64_t session, seq, rec_next;
    /* Bytes of the queue's head record already sent (its number is
     * rec_next - 1); 0: the head record has not begun. A record split at
     * the end of a batch goes on in the next one. */
    size_t cont_off;
    uint64_t hold_ns; /* since when a short queue waits; 0: none */
    uint64_t last_ctl_ns;
    uint64_t ctl_owner; /* control session whose START began ours */
    char filter[SENDER_FILTER_MAX];
    struct ctl_window ctlw[SENDER_CTL_WINDOWS];
    uint64_t ctl_stamp;
    /* control rate limit: ctl_rate packets per second and source */
    unsigned ctl_rate;
    struct ctl_bucket buckets[SENDER_CTL_SOURCES];
    uint64_t bucket_stamp;
    uint8_t *dg; /* SENDER_BATCH buffers of VLOG_FRAME_HDR + mtu bytes */
    size_t dglen[SENDER_BATCH];
    bool no_gso;        /* UDP segmentation offload refused: sendmmsg */
    uint64_t gso_sends; /* sends of several datagrams cut by the kernel */
    uint64_t next_connect_ns, backoff_ns;

    pthread_mutex_t lock; /* protects st */
    struct vlog_sender_stats st;
};

/* send.c */
/* One round: pack queued records and send them. Returns the records
 * consumed plus the packets sent (0: nothing to do, or less than a
 * datagram's worth queued for less than HOLD_NS, unless flush). */
uint64_t sender_drain(struct vlog_sender *s, bool flush);
void sender_stop_session(struct vlog_sender *s);
/* control.c */
void sender_poll_ctl(struct vlog_sender *s);

#endif
