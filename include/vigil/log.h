/* Log streaming: the vigil wire protocol (docs/protocol.md) and the sender
 * that ships event records to a logging host (`vigil logd`).
 *
 * Every packet, data or control, is
 *     header (48 bytes, big-endian) | payload | tag (16 bytes)
 * where tag is the XChaCha20-Poly1305 (IETF) AEAD tag of an empty message
 * with header and payload as additional data, under a pre-shared 32-byte
 * key and a nonce made of the packet's type, session and sequence number.
 * Decoding checks the tag before it looks at anything else but the
 * length.
 *
 * Nothing here prints or exits; functions return 0 or -errno.
 */
#ifndef VIGIL_LOG_H
#define VIGIL_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VLOG_MAGIC       0x56474c31u /* "VGL1" */
#define VLOG_VERSION     2 /* 2: records may be split across packets */
#define VLOG_HDR_LEN     48
#define VLOG_TAG_LEN     16
#define VLOG_KEY_LEN     32
#define VLOG_OVERHEAD    (VLOG_HDR_LEN + VLOG_TAG_LEN)
#define VLOG_MTU_DEFAULT 1472 /* UDP payload on 1500-byte Ethernet */
#define VLOG_MTU_MIN     256
#define VLOG_MTU_MAX     32768   /* record lengths are 15 bits */
#define VLOG_REC_TRUNC   0x8000u /* fragment length flag: record cut */
#define VLOG_REC_MORE    0x4000u /* fragment length flag: record goes on */
#define VLOG_FRAG_MAX    0x3fffu /* fragment lengths are 14 bits */
/* Largest record sent whole; a longer one is cut to this and flagged
 * (it bounds logd's reassembly buffer of a session). */
#define VLOG_REC_MAX 65535u
/* DATA header flag: the payload's first fragment continues the record
 * whose last fragment (flagged VLOG_REC_MORE) ended packet seq - 1. */
#define VLOG_F_CONT 0x0001u
/* Control messages older or newer than this (wall clock) are rejected. */
#define VLOG_CTL_MAX_AGE_NS (30ull * 1000000000ull)

enum vlog_type {
    VLOG_T_DATA = 1,      /* records from vigil to logd */
    VLOG_T_START = 2,     /* logd -> vigil: begin (payload: filter) */
    VLOG_T_STOP = 3,      /* logd -> vigil: end */
    VLOG_T_HEARTBEAT = 4, /* logd -> vigil: still here */
    VLOG_T_FIN = 5,       /* vigil -> logd: session ends; first = total */
};

/* Decoded header. For DATA, `first` is the session-wide number of the
 * first record and `count` the number of records; FIN carries the total
 * number of records of the session in `first`. */
struct vlog_hdr {
    uint8_t type;
    uint16_t flags;
    uint64_t session;
    uint64_t seq;
    uint64_t time_ns; /* sender's CLOCK_REALTIME */
    uint64_t first;
    uint32_t count;
    uint32_t payload_len;
};

/* Why a packet was rejected; decoders return -errno, these classify it. */
enum vlog_reject {
    VLOG_REJ_SHORT = 1, /* shorter than header + tag, or lengths disagree */
    VLOG_REJ_AUTH,      /* tag does not verify */
    VLOG_REJ_FORMAT,    /* authentic but malformed (magic, version, type) */
    VLOG_REJ_REPLAY,    /* (session, seq) already seen or too old */
    VLOG_REJ_STALE,     /* control message outside the time window */
};

/* Encode one packet into buf (cap bytes). Returns its length or -errno
 * (-EMSGSIZE when it does not fit). */
int vlog_encode(uint8_t *buf, size_t cap, const struct vlog_hdr *h,
                const void *payload, size_t plen,
                const uint8_t key[VLOG_KEY_LEN]);

/* Append the tag to pkt[0..len) (header and payload as they are); pkt
 * needs len + VLOG_TAG_LEN bytes. vlog_encode calls it. */
int vlog_seal(uint8_t *pkt, size_t len, const uint8_t key[VLOG_KEY_LEN]);

/* Authenticate and parse one packet. On success fills *h and points
 * *payload into pkt. Errors: -EBADMSG (short/lengths: VLOG_REJ_SHORT),
 * -EPERM (tag: VLOG_REJ_AUTH), -EPROTO (VLOG_REJ_FORMAT); *why is set
 * when non-NULL. */
int vlog_decode(const uint8_t *pkt, size_t len, struct vlog_hdr *h,
                const uint8_t **payload, const uint8_t key[VLOG_KEY_LEN],
                enum vlog_reject *why);

/* Parse the fragments of a DATA payload: calls fn for each of them
 * (flags: VLOG_REC_TRUNC, VLOG_REC_MORE); returns the number of fragments
 * or -EPROTO when the payload is malformed, holds a different number of
 * fragments than `count`, or flags VLOG_REC_MORE on any but its last
 * fragment (or together with VLOG_REC_TRUNC). A fragment is a whole
 * record unless it continues one (VLOG_F_CONT, first fragment only) or
 * goes on in the next packet (VLOG_REC_MORE, last fragment only). */
int vlog_records(const uint8_t *payload, size_t plen, uint32_t count,
                 void (*fn)(const char *frag, size_t len, unsigned flags,
                            void *ctx),
                 void *ctx);

/* Fragment framing inside a DATA payload: a u16 big-endian length (bits
 * 0-13; bit 15: VLOG_REC_TRUNC, bit 14: VLOG_REC_MORE) then the bytes.
 * Writes the 2-byte prefix of a whole record at p (len <= VLOG_FRAG_MAX). */
void vlog_record_put(uint8_t *p, size_t len, bool trunc);
/* The same with flags (VLOG_REC_TRUNC | VLOG_REC_MORE). */
void vlog_frag_put(uint8_t *p, size_t len, unsigned flags);

/* TCP framing: each packet travels as a u32 big-endian length then the
 * packet. A frame's length is VLOG_OVERHEAD..VLOG_MTU_MAX. */
#define VLOG_FRAME_HDR 4
/* Write the frame prefix of a packet of len bytes at p. */
void vlog_frame_put(uint8_t p[VLOG_FRAME_HDR], uint32_t len);
/* Find the first frame in a stream buffer buf[0..have). Returns 1 and
 * sets *pkt, *len (the packet) and *used (prefix + packet) when a whole
 * frame is there; 0 when more bytes are needed; -EBADMSG when the length
 * is out of range (framing is lost: the stream cannot continue). */
int vlog_frame_next(const uint8_t *buf, size_t have, const uint8_t **pkt,
                    size_t *len, size_t *used);

/* The in-band record that reports n records dropped (total so far) for
 * reason (NULL: none), written into buf (cap bytes, no newline). Returns
 * its length or -ENOSPC. */
int vlog_drops_record(char *buf, size_t cap, uint64_t n, uint64_t total,
                      const char *reason);

/* Sliding anti-replay window over sequence numbers (one per session and
 * direction). vlog_replay_check returns 0 when seq is new and records it,
 * -EALREADY when it was seen or lies below the window. */
struct vlog_replay {
    uint64_t top;  /* highest seq accepted */
    uint64_t bits; /* bit i: top - i seen */
    bool any;
};
int vlog_replay_check(struct vlog_replay *w, uint64_t seq);

/* Read a key file: exactly 32 raw bytes, or 64 hex digits (+ newline). */
int vlog_key_load(const char *path, uint8_t key[VLOG_KEY_LEN]);

/* Send iov[0..n) on the connected UDP socket @fd as one send that the
 * kernel cuts into datagrams of @seg bytes, the last one possibly shorter
 * (UDP segmentation offload, UDP_SEGMENT, Linux 4.18): bytes sent, or
 * -errno with nothing sent (-EINVAL, -EIO, -EMSGSIZE: the kernel or the
 * route will not cut them). */
struct iovec;
long vlog_send_segmented(int fd, struct iovec *iov, unsigned n, uint16_t seg);
/* The other end, on a UDP socket with UDP_GRO set: the size the datagrams
 * of a received run were cut at (each @return bytes, the last possibly
 * fewer), from @m's control data (room for CMSG_SPACE(sizeof(int))), or 0
 * for a datagram received alone. */
struct msghdr;
size_t vlog_recv_segment_size(struct msghdr *m);

/* Parse "udp://HOST:PORT" or "tcp://HOST:PORT" (numeric IPv4/IPv6 or a
 * name) into a socket address. *tcp tells which. */
struct sockaddr_storage;
int vlog_parse_url(const char *url, bool *tcp, struct sockaddr_storage *ss,
                   unsigned *sslen);

/* Whether @a and @b are the same host (the port aside): one source, for
 * sessions, connection limits and rate limits. Addresses of neither
 * family IPv4 nor IPv6 (in-process callers) count as one host. */
bool vlog_same_host(const struct sockaddr_storage *a,
                    const struct sockaddr_storage *b);

/* ---- sender ---- */

struct vlog_sender_opts {
    const char *url;    /* udp://HOST:PORT or tcp://HOST:PORT */
    const uint8_t *key; /* VLOG_KEY_LEN bytes */
    /* Control listen address (numeric). NULL: 0.0.0.0, every IPv4
     * address of the host: logd usually runs on another machine. */
    const char *ctl_bind;
    uint16_t ctl_port;  /* control port; 0: pick one (vlog_sender_ctl_port) */
    unsigned ctl_rate;  /* control packets read per second; 0: 50 */
    unsigned mtu;       /* 0: VLOG_MTU_DEFAULT (UDP), 65000 framing (TCP) */
    unsigned hb_ms;     /* heartbeat interval; 0: 1000 */
    unsigned hb_missed; /* stop after this many missed; 0: never */
    size_t queue_bytes; /* 0: 8 MiB */
};

struct vlog_sender_stats {
    uint64_t session;  /* current (or last) session, 0 before START */
    uint64_t sessions; /* number of sessions started */
    bool started;
    uint64_t queued;          /* records accepted into the queue */
    uint64_t dropped;         /* queue full */
    uint64_t unsent;          /* discarded while not started */
    uint64_t filtered;        /* left out by the START filter */
    uint64_t sent_records;    /* numbered and sent, all sessions */
    uint64_t session_records; /* numbered in the current session */
    uint64_t datagrams;
    uint64_t bytes; /* wire bytes */
    uint64_t send_errors;
    uint64_t truncated; /* records cut to VLOG_REC_MAX */
    uint64_t split;     /* records split across packets */
    uint64_t ctl_ok, ctl_rejected;
    uint64_t ctl_limited; /* control packets over the rate limit, unread */
    uint64_t reconnects;  /* TCP */
    uint64_t gso_sends;   /* UDP: sends of several datagrams at once */
};

struct vlog_sender;

/* Start the sender thread. It listens for control messages and sends
 * nothing until an authentic START arrives. */
int vlog_sender_new(struct vlog_sender **out, const struct vlog_sender_opts *o);
/* Queue one record (a JSON object without newline). Never blocks: returns
 * -ENOBUFS when the queue is full (counted as dropped, reported in-band
 * with a {"type":"drops"} record later) and 0 otherwise. Only one thread
 * may push. */
int vlog_sender_push(struct vlog_sender *s, const char *rec, size_t len);
/* Whether a record of len bytes would fit in the queue now (for producers
 * that prefer to wait, like tests; the tracer never waits). */
bool vlog_sender_room(struct vlog_sender *s, size_t len);
/* Port the control socket is bound to. */
uint16_t vlog_sender_ctl_port(const struct vlog_sender *s);
void vlog_sender_stats(struct vlog_sender *s, struct vlog_sender_stats *st);
/* Wait until started (true) or timeout. */
bool vlog_sender_wait_started(struct vlog_sender *s, unsigned timeout_ms);
/* Wait until the queue is empty (everything sent or discarded). Also
 * queues the drops record for the last drops. Producer thread only. */
int vlog_sender_flush(struct vlog_sender *s, unsigned timeout_ms);
/* Flush, send FIN, stop the thread, free. */
void vlog_sender_free(struct vlog_sender *s);

#endif
