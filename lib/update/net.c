/* Network delivery of updates: the receiver's reassembly (see
 * vigil/update.h and docs/updates.md; the datagrams are coded in pkt.c).
 *
 * What the receiver spends on a datagram, cheapest first: a fragment costs
 * a lookup among the open updates and one SHA-256 when the update is open;
 * a manifest or poll without a valid cookie costs an HMAC (and, within a
 * budget, a cookie sent back); with one, a token from its source's bucket
 * and from the global one before its single signature check. Nothing an
 * unauthenticated sender does makes the receiver hold memory.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "vigil/update.h"

#define SOURCES  256 /* rate-limit buckets, least recently used replaced */
#define FINISHED 32  /* outcomes remembered for polls */
#define EPOCH_NS (30ull * 1000000000ull) /* a cookie lives 30 to 60 s */
#define SEC      1000000000ull

static const char *const drop_names[VUPD_DROPS] = {
    [VUPD_DROP_MALFORMED] = "malformed",
    [VUPD_DROP_NO_COOKIE] = "no-cookie",
    [VUPD_DROP_RATE] = "rate-limited",
    [VUPD_DROP_MANIFEST] = "manifest-refused",
    [VUPD_DROP_UNKNOWN] = "unknown-update",
    [VUPD_DROP_FRAG_HASH] = "fragment-hash",
    [VUPD_DROP_FRAG_RANGE] = "fragment-range",
    [VUPD_DROP_DUPLICATE] = "duplicate",
    [VUPD_DROP_NO_ROOM] = "no-room",
    [VUPD_DROP_EXPIRED] = "expired",
};

const char *vupd_drop_name(enum vupd_drop d)
{
    return (unsigned)d < VUPD_DROPS ? drop_names[d] : "unknown";
}

struct bucket {
    double tokens;
    uint64_t last_ns;
};

struct source {
    uint8_t key[32];
    size_t keylen;
    uint64_t used_ns;
    struct bucket b;
};

struct update {
    bool open;     /* receiving, or handed out and not yet finished */
    bool complete; /* handed out */
    uint64_t id;
    struct vupd_claim claim;
    uint32_t nfrags, have;
    size_t sig_len;
    uint8_t (*hashes)[32];
    uint8_t *bitmap;
    uint8_t *buf; /* payload, then the signature text */
    size_t size;
    uint64_t last_ns;
};

struct outcome {
    uint64_t id;
    uint8_t state, reason;
    uint64_t version;
};

struct vupd_rx {
    struct vupd_key keys[16];
    size_t nkeys;
    struct vupd_rx_limits lim;
    uint8_t secret[crypto_auth_hmacsha256_KEYBYTES];
    char db_id[VUPD_DBID_MAX + 1];
    uint64_t version;
    struct source src[SOURCES];
    struct bucket global, cookies;
    struct update *up;
    struct outcome done[FINISHED];
    unsigned ndone_next;
    struct vupd_rx_stats st;
    struct vupd_pkt pkt; /* the datagram being handled */
};

int vupd_rx_new(struct vupd_rx **out, const struct vupd_key *keys, size_t nkeys,
                const struct vupd_rx_limits *lim)
{
    if (sodium_init() < 0 || nkeys > 16)
        return -EINVAL;
    struct vupd_rx *rx = calloc(1, sizeof *rx);
    if (rx == NULL)
        return -ENOMEM;
    memcpy(rx->keys, keys, nkeys * sizeof *keys);
    rx->nkeys = nkeys;
    if (lim != NULL)
        rx->lim = *lim;
    struct vupd_rx_limits *l = &rx->lim;
    if (l->max_bundle == 0)
        l->max_bundle = VUPD_DEFAULT_MAX;
    if (l->max_total == 0)
        l->max_total = 2 * l->max_bundle;
    if (l->max_updates == 0)
        l->max_updates = 4;
    if (l->timeout_ns == 0)
        l->timeout_ns = 60 * SEC;
    if (l->source_rate == 0)
        l->source_rate = 10;
    if (l->global_rate == 0)
        l->global_rate = 100;
    if (l->cookie_rate == 0)
        l->cookie_rate = 1000;
    rx->up = calloc(l->max_updates, sizeof *rx->up);
    if (rx->up == NULL) {
        free(rx);
        return -ENOMEM;
    }
    randombytes_buf(rx->secret, sizeof rx->secret);
    *out = rx;
    return 0;
}

static void drop_update(struct vupd_rx *rx, struct update *u)
{
    if (u->open)
        rx->st.held_bytes -= u->size + u->sig_len;
    free(u->hashes);
    free(u->bitmap);
    free(u->buf);
    memset(u, 0, sizeof *u);
}

void vupd_rx_free(struct vupd_rx *rx)
{
    if (rx == NULL)
        return;
    for (unsigned i = 0; i < rx->lim.max_updates; i++)
        drop_update(rx, &rx->up[i]);
    free(rx->up);
    sodium_memzero(rx->secret, sizeof rx->secret);
    free(rx);
}

void vupd_rx_set_version(struct vupd_rx *rx, const char *db_id,
                         uint64_t version)
{
    snprintf(rx->db_id, sizeof rx->db_id, "%s", db_id ? db_id : "");
    rx->version = version;
}

void vupd_rx_stats(const struct vupd_rx *rx, struct vupd_rx_stats *out)
{
    *out = rx->st;
}

/* A token from @b, refilled at @rate a second up to twice that. */
static bool take_token(struct bucket *b, unsigned rate, uint64_t now)
{
    double cap = 2.0 * rate;
    if (b->last_ns == 0) {
        b->tokens = cap;
    } else if (now > b->last_ns) {
        b->tokens += (double)(now - b->last_ns) / SEC * rate;
        if (b->tokens > cap)
            b->tokens = cap;
    }
    b->last_ns = now;
    if (b->tokens < 1.0)
        return false;
    b->tokens -= 1.0;
    return true;
}

static void make_cookie(const struct vupd_rx *rx, const uint8_t *src,
                        size_t srclen, uint64_t epoch, uint8_t out[16])
{
    uint8_t msg[40], mac[crypto_auth_hmacsha256_BYTES];
    memcpy(msg, src, srclen);
    for (int i = 0; i < 8; i++)
        msg[srclen + (size_t)i] = (uint8_t)(epoch >> (8 * i));
    crypto_auth_hmacsha256(mac, msg, srclen + 8, rx->secret);
    memcpy(out, mac, 16);
}

static bool cookie_ok(const struct vupd_rx *rx, const uint8_t *src,
                      size_t srclen, uint64_t now, const uint8_t c[16])
{
    uint64_t epoch = now / EPOCH_NS;
    uint8_t want[16];
    make_cookie(rx, src, srclen, epoch, want);
    if (sodium_memcmp(want, c, 16) == 0)
        return true;
    if (epoch == 0)
        return false;
    make_cookie(rx, src, srclen, epoch - 1, want); /* issued just before */
    return sodium_memcmp(want, c, 16) == 0;
}

static struct source *source_of(struct vupd_rx *rx, const uint8_t *src,
                                size_t srclen, uint64_t now)
{
    struct source *oldest = &rx->src[0];
    for (unsigned i = 0; i < SOURCES; i++) {
        struct source *s = &rx->src[i];
        if (s->keylen == srclen && !memcmp(s->key, src, srclen)) {
            s->used_ns = now;
            return s;
        }
        if (s->used_ns < oldest->used_ns)
            oldest = s;
    }
    memset(oldest, 0, sizeof *oldest);
    memcpy(oldest->key, src, srclen);
    oldest->keylen = srclen;
    oldest->used_ns = now;
    return oldest;
}

static struct update *find(struct vupd_rx *rx, uint64_t id)
{
    for (unsigned i = 0; i < rx->lim.max_updates; i++)
        if (rx->up[i].open && rx->up[i].id == id)
            return &rx->up[i];
    return NULL;
}

static const struct outcome *finished(const struct vupd_rx *rx, uint64_t id)
{
    for (unsigned i = 0; i < FINISHED; i++)
        if (rx->done[i].state != 0 && rx->done[i].id == id)
            return &rx->done[i];
    return NULL;
}

static size_t ack(const struct vupd_rx *rx, uint64_t id, uint8_t *out)
{
    struct vupd_pkt p = {.type = VUPD_PKT_ACK, .update_id = id};
    const struct update *u = NULL;
    for (unsigned i = 0; i < rx->lim.max_updates; i++)
        if (rx->up[i].open && rx->up[i].id == id)
            u = &rx->up[i];
    const struct outcome *o = finished(rx, id);
    if (u != NULL) {
        p.state = VUPD_ACK_RECEIVING;
        p.version = u->claim.version;
        p.nmissing = u->nfrags - u->have;
        for (uint32_t i = 0; i < u->nfrags && p.nlisted < VUPD_ACK_MISSING; i++)
            if (!(u->bitmap[i / 8] & (1u << (i % 8))))
                p.missing[p.nlisted++] = i;
    } else if (o != NULL) {
        p.state = o->state;
        p.reason = o->reason;
        p.version = o->version;
    } else {
        p.state = VUPD_ACK_UNKNOWN;
    }
    return vupd_pkt_encode(&p, out, VUPD_DGRAM_MAX);
}

static void remember(struct vupd_rx *rx, uint64_t id, uint8_t state,
                     uint8_t reason, uint64_t version)
{
    struct outcome *o = &rx->done[rx->ndone_next++ % FINISHED];
    o->id = id;
    o->state = state;
    o->reason = reason;
    o->version = version;
}

/* Not remembered: a forged manifest must not decide what the genuine one
 * with the same id is told. */
static size_t refuse(struct vupd_rx *rx, uint64_t id, enum vupd_reason r,
                     uint8_t *reply)
{
    rx->st.drops[VUPD_DROP_MANIFEST]++;
    rx->st.manifest_reasons[r]++;
    struct vupd_pkt a = {.type = VUPD_PKT_ACK,
                         .update_id = id,
                         .state = VUPD_ACK_REFUSED,
                         .reason = (uint8_t)r};
    return vupd_pkt_encode(&a, reply, VUPD_DGRAM_MAX);
}

/* An authenticated manifest, within the rate limits: open its update. */
static size_t manifest(struct vupd_rx *rx, const struct vupd_pkt *p,
                       uint64_t now, uint8_t *reply)
{
    struct vupd_sig sig;
    struct vupd_claim c;
    size_t k;
    char err[160];
    if (vupd_sig_parse(p->sig_text, p->sig_len, &sig, err, sizeof err) < 0)
        return refuse(rx, p->update_id, VUPD_SIG_MALFORMED, reply);
    enum vupd_reason r =
        vupd_check_sig(&sig, rx->keys, rx->nkeys, &c, &k, err, sizeof err);
    if (r != VUPD_OK)
        return refuse(rx, p->update_id, r, reply);
    uint8_t fh[32];
    crypto_hash_sha256(fh, p->hashes, (size_t)p->nfrags * 32);
    if (c.frag == 0 || (c.size + c.frag - 1) / c.frag != p->nfrags ||
        sodium_memcmp(fh, c.fraghash, 32) != 0)
        return refuse(rx, p->update_id, VUPD_COMMENT, reply);
    if (rx->db_id[0] != '\0' && strcmp(rx->db_id, c.db_id) != 0)
        return refuse(rx, p->update_id, VUPD_WRONG_DB, reply);
    if (c.version <= rx->version)
        return refuse(rx, p->update_id, VUPD_ROLLBACK, reply);
    if (c.size > rx->lim.max_bundle)
        return refuse(rx, p->update_id, VUPD_OVERSIZE, reply);
    struct update *u = NULL;
    for (unsigned i = 0; i < rx->lim.max_updates && u == NULL; i++)
        if (!rx->up[i].open)
            u = &rx->up[i];
    if (u == NULL ||
        rx->st.held_bytes + c.size + p->sig_len > rx->lim.max_total) {
        rx->st.drops[VUPD_DROP_NO_ROOM]++;
        struct vupd_pkt b = {.type = VUPD_PKT_ACK,
                             .update_id = p->update_id,
                             .state = VUPD_ACK_BUSY};
        return vupd_pkt_encode(&b, reply, VUPD_DGRAM_MAX);
    }
    u->hashes = malloc((size_t)p->nfrags * 32);
    u->bitmap = calloc((p->nfrags + 7) / 8, 1);
    u->buf = malloc((size_t)c.size + p->sig_len);
    if (u->hashes == NULL || u->bitmap == NULL || u->buf == NULL) {
        drop_update(rx, u);
        rx->st.drops[VUPD_DROP_NO_ROOM]++;
        return 0;
    }
    memcpy(u->hashes, p->hashes, (size_t)p->nfrags * 32);
    memcpy(u->buf + c.size, p->sig_text, p->sig_len);
    u->open = true;
    u->id = p->update_id;
    u->claim = c;
    u->nfrags = p->nfrags;
    u->size = (size_t)c.size;
    u->sig_len = p->sig_len;
    u->last_ns = now;
    rx->st.held_bytes += u->size + u->sig_len;
    if (rx->st.held_bytes > rx->st.peak_bytes)
        rx->st.peak_bytes = rx->st.held_bytes;
    rx->st.manifests_ok++;
    return ack(rx, p->update_id, reply);
}

bool vupd_rx_packet(struct vupd_rx *rx, const uint8_t *src, size_t srclen,
                    uint64_t now, const uint8_t *pkt, size_t len,
                    uint8_t *reply, size_t *reply_len,
                    struct vupd_rx_done *done)
{
    struct vupd_pkt *p = &rx->pkt;
    *reply_len = 0;
    rx->st.packets++;
    if (srclen > 32 || vupd_pkt_decode(pkt, len, p) < 0) {
        rx->st.drops[VUPD_DROP_MALFORMED]++;
        return false;
    }
    if (p->type == VUPD_PKT_FRAG) {
        struct update *u = find(rx, p->update_id);
        if (u == NULL || u->complete) {
            rx->st.drops[u ? VUPD_DROP_DUPLICATE : VUPD_DROP_UNKNOWN]++;
            return false;
        }
        size_t frag = (size_t)u->claim.frag, off = (size_t)p->index * frag;
        size_t want = p->index + 1 == u->nfrags ? u->size - off : frag;
        if (p->index >= u->nfrags || p->len != want) {
            rx->st.drops[VUPD_DROP_FRAG_RANGE]++;
            return false;
        }
        if (u->bitmap[p->index / 8] & (1u << (p->index % 8))) {
            rx->st.drops[VUPD_DROP_DUPLICATE]++;
            return false;
        }
        uint8_t h[32];
        crypto_hash_sha256(h, p->data, p->len);
        if (sodium_memcmp(h, u->hashes[p->index], 32) != 0) {
            rx->st.drops[VUPD_DROP_FRAG_HASH]++;
            return false;
        }
        memcpy(u->buf + off, p->data, p->len);
        u->bitmap[p->index / 8] |= (uint8_t)(1u << (p->index % 8));
        u->have++;
        u->last_ns = now;
        rx->st.accepted_frags++;
        if (u->have < u->nfrags)
            return false;
        u->complete = true;
        rx->st.completed++;
        done->update_id = u->id;
        done->bundle = u->buf;
        done->len = u->size + u->sig_len;
        return true;
    }
    if (p->type != VUPD_PKT_MANIFEST && p->type != VUPD_PKT_POLL) {
        rx->st.drops[VUPD_DROP_MALFORMED]++; /* ACK and COOKIE are ours */
        return false;
    }
    if (!cookie_ok(rx, src, srclen, now, p->cookie)) {
        rx->st.drops[VUPD_DROP_NO_COOKIE]++;
        if (take_token(&rx->cookies, rx->lim.cookie_rate, now)) {
            struct vupd_pkt c = {.type = VUPD_PKT_COOKIE};
            make_cookie(rx, src, srclen, now / EPOCH_NS, c.cookie);
            *reply_len = vupd_pkt_encode(&c, reply, VUPD_DGRAM_MAX);
        }
        return false;
    }
    /* From here the source is proven: answers cost no verification. */
    if (p->type == VUPD_PKT_POLL || find(rx, p->update_id) != NULL ||
        finished(rx, p->update_id) != NULL) {
        *reply_len = ack(rx, p->update_id, reply);
        return false;
    }
    struct source *s = source_of(rx, src, srclen, now);
    if (!take_token(&s->b, rx->lim.source_rate, now) ||
        !take_token(&rx->global, rx->lim.global_rate, now)) {
        rx->st.drops[VUPD_DROP_RATE]++;
        return false;
    }
    *reply_len = manifest(rx, p, now, reply);
    return false;
}

size_t vupd_rx_finished(struct vupd_rx *rx, uint64_t update_id,
                        enum vupd_reason r, uint64_t version, uint8_t *ackbuf)
{
    struct update *u = find(rx, update_id);
    if (u != NULL)
        drop_update(rx, u);
    remember(rx, update_id, r == VUPD_OK ? VUPD_ACK_APPLIED : VUPD_ACK_REFUSED,
             (uint8_t)r, version);
    return ack(rx, update_id, ackbuf);
}

void vupd_rx_tick(struct vupd_rx *rx, uint64_t now)
{
    for (unsigned i = 0; i < rx->lim.max_updates; i++) {
        struct update *u = &rx->up[i];
        if (u->open && !u->complete && now > u->last_ns &&
            now - u->last_ns > rx->lim.timeout_ns) {
            rx->st.drops[VUPD_DROP_EXPIRED]++;
            drop_update(rx, u);
        }
    }
}
