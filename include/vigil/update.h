/* Signed signature updates (docs/updates.md): the bundle format, minisign
 * keys and signatures, and the checks every bundle passes before it is
 * applied, whichever way it arrived (a guest's hypercall, UDP fragments, a
 * file).
 *
 * A bundle is a payload (header and database files) followed by the text of
 * the minisign signature of that payload. The signature's trusted comment,
 * which minisign signs too, restates the header and the hash of the
 * payload's network fragments, so that the network path can authenticate a
 * manifest before receiving any fragment.
 *
 * Nothing here does I/O or keeps global state; every input is hostile and
 * every failure comes back as a reason (enum vupd_reason) with one line of
 * text. Thread-safe.
 */
#ifndef VIGIL_UPDATE_H
#define VIGIL_UPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VUPD_MAGIC        "VIGILUPD"
#define VUPD_FORMAT       1
#define VUPD_HEADER_BYTES 64 /* fixed part, before the database id */
#define VUPD_DBID_MAX     64 /* [A-Za-z0-9._-], 1..64 */
#define VUPD_NAME_MAX     64 /* a file name with a database extension */
#define VUPD_ENTRIES_MAX  256
#define VUPD_FRAG_MIN     1024  /* network fragment size: a power of two */
#define VUPD_FRAG_MAX     65536 /* ... from 1 KiB to 64 KiB, chosen so */
#define VUPD_FRAGS_MAX    1800  /* ... that the hashes fit one datagram */
#define VUPD_SIG_TEXT_MAX 1024  /* the minisign signature file */
#define VUPD_COMMENT_MAX  512   /* its trusted comment */
#define VUPD_DEFAULT_MAX  (64u << 20) /* bundle size accepted by default */

enum vupd_kind { VUPD_FULL = 0, VUPD_DELTA = 1 };

/* Why a bundle (or a manifest) was refused. */
enum vupd_reason {
    VUPD_OK = 0,
    VUPD_TRUNCATED,     /* shorter than its header says */
    VUPD_OVERSIZE,      /* larger than the bound */
    VUPD_MALFORMED,     /* not a bundle: magic, format, lengths, names */
    VUPD_SIG_MALFORMED, /* the signature text is not minisign's */
    VUPD_UNKNOWN_KEY,   /* signed by a key that is not trusted */
    VUPD_BAD_SIGNATURE, /* the signature or the trusted comment's fails */
    VUPD_COMMENT,       /* the trusted comment does not state this bundle */
    VUPD_WRONG_DB,      /* for another database */
    VUPD_ROLLBACK,      /* not newer than the database */
    VUPD_REPLAY,        /* this very bundle was applied already */
    VUPD_WRONG_BASE,    /* a delta for another version */
    VUPD_BAD_BODY,      /* a database file that does not load */
    VUPD_IO,            /* the database could not be written */
    VUPD_REASONS
};

/* Short name of a reason ("bad-signature"), for counters and messages. */
const char *vupd_reason_name(enum vupd_reason r);

struct vupd_header {
    enum vupd_kind kind;
    uint64_t version; /* > 0; every bundle of a database increases it */
    uint64_t base;    /* delta: the version it applies on; full: 0 */
    uint64_t created; /* Unix time */
    uint64_t payload_len;
    uint32_t nentries;
    char db_id[VUPD_DBID_MAX + 1];
};

struct vupd_entry {
    char name[VUPD_NAME_MAX + 1];
    const uint8_t *data; /* borrowed from the parsed buffer */
    size_t len;
};

/* A bundle split into its parts; borrows the buffer it was parsed from. */
struct vupd_bundle {
    struct vupd_header h;
    struct vupd_entry entries[VUPD_ENTRIES_MAX];
    const uint8_t *payload;
    const char *sig_text; /* the minisign signature, not NUL-terminated */
    size_t sig_len;
};

/**
 * vupd_parse() - split a bundle into payload, entries and signature text.
 * @buf, @len: the whole bundle; borrowed by *out.
 * @max: largest bundle accepted (0: VUPD_DEFAULT_MAX).
 * Checks structure only; vupd_verify() checks the signature.
 * Return: VUPD_OK, VUPD_OVERSIZE, VUPD_TRUNCATED or VUPD_MALFORMED.
 */
enum vupd_reason vupd_parse(const void *buf, size_t len, size_t max,
                            struct vupd_bundle *out, char *err, size_t errlen);

/* A minisign public key. */
struct vupd_key {
    uint8_t id[8]; /* as in the key file (little-endian) */
    uint8_t pk[32];
};
/* The key id as minisign prints it (16 hex digits, most significant
 * first). */
void vupd_key_id_hex(const uint8_t id[8], char out[17]);

/* A minisign public key file (or its base64 line). 0 or -EINVAL. */
int vupd_key_parse(const char *text, size_t len, struct vupd_key *out,
                   char *err, size_t errlen);

/* A minisign signature file. */
struct vupd_sig {
    bool prehashed; /* "ED": signs BLAKE2b-512 of the data; "Ed": the data */
    uint8_t key_id[8];
    uint8_t sig[64];
    char comment[VUPD_COMMENT_MAX + 1]; /* trusted comment, NUL-terminated */
    uint8_t global_sig[64];             /* over sig || comment */
};
int vupd_sig_parse(const char *text, size_t len, struct vupd_sig *out,
                   char *err, size_t errlen);

/* What a trusted comment states:
 *   vigil-update db=ID version=N kind=full|delta base=B size=S frag=F
 *   fraghash=H
 * (one line) F: the fragment size (vupd_frag_size), H: SHA-256 over the
 * SHA-256 of each F-byte piece of the payload (hex). vupd_comment() writes
 * it for a payload; the parse is strict. */
struct vupd_claim {
    char db_id[VUPD_DBID_MAX + 1];
    uint64_t version, base, size, frag;
    enum vupd_kind kind;
    uint8_t fraghash[32];
};

/* The fragment size for a payload of @len bytes: the smallest power of two
 * from VUPD_FRAG_MIN that needs at most VUPD_FRAGS_MAX fragments; 0 when
 * even VUPD_FRAG_MAX needs more. */
size_t vupd_frag_size(size_t len);
int vupd_comment(const struct vupd_header *h, const uint8_t *payload, char *out,
                 size_t outlen);
int vupd_claim_parse(const char *comment, struct vupd_claim *out);

/* SHA-256 over the SHA-256 of each @frag-byte fragment of @payload; the
 * fragment hashes themselves into @frags (ceil(len / frag) of them) when it
 * is not NULL. */
void vupd_fraghash(const uint8_t *payload, size_t len, size_t frag,
                   uint8_t out[32], uint8_t (*frags)[32]);

/**
 * vupd_check_sig() - authenticate a signature and its trusted comment
 * against @keys: the key is trusted and the global signature holds. Does
 * not need the payload (the network manifest is checked with this).
 * On success *claim holds what the comment states and *key_index the key.
 */
enum vupd_reason vupd_check_sig(const struct vupd_sig *sig,
                                const struct vupd_key *keys, size_t nkeys,
                                struct vupd_claim *claim, size_t *key_index,
                                char *err, size_t errlen);

/**
 * vupd_verify() - check a parsed bundle's signature against @keys, and that
 * the trusted comment states exactly this payload's header and fragments.
 * Cheap checks come first: an unknown key id costs no signature check.
 */
enum vupd_reason vupd_verify(const struct vupd_bundle *b,
                             const struct vupd_key *keys, size_t nkeys,
                             size_t *key_index, char *err, size_t errlen);

/**
 * vupd_build() - write a payload (unsigned) for @entries.
 * Return: the malloc'd payload with *len, or NULL with @err set.
 */
uint8_t *vupd_build(const struct vupd_header *h,
                    const struct vupd_entry *entries, size_t n, size_t *len,
                    char *err, size_t errlen);

/* ---- the database that updates replace -------------------------------- */

/* One database under update control: the path vigil and the disk filters
 * load (--db), which becomes a symbolic link to a generation directory
 * "PATH.d/vN" (atomically replaced, so a reader sees the old database or
 * the new one), and the state file "PATH.vigil-update" that remembers the
 * database id, the version and the last bundle, so that neither a restart
 * nor a replay rolls it back. Not thread-safe: one owner applies. */
struct vupd_store;

struct vupd_state {
    char db_id[VUPD_DBID_MAX + 1]; /* empty until the first bundle */
    uint64_t version;              /* 0: never updated */
    uint8_t last_hash[32];         /* SHA-256 of the last bundle applied */
    uint64_t applied;              /* Unix time of that */
};

/* Open the store for @db_path (a file, a symbolic link, or nothing yet).
 * 0, or -errno with @err (a corrupt state file is an error, not a reset). */
int vupd_store_open(struct vupd_store **out, const char *db_path, char *err,
                    size_t errlen);
void vupd_store_close(struct vupd_store *s);
void vupd_store_state(const struct vupd_store *s, struct vupd_state *out);

/**
 * vupd_store_apply() - apply a verified bundle (@whole, @whole_len: the
 * bundle as received, whose hash identifies a replay). Refuses another
 * database, a version not above the current one, a delta on another base
 * and a body that does not load (strictly: every line); then writes the
 * new generation, records the state and swaps the link. A bundle that
 * fails any check changes nothing.
 */
enum vupd_reason vupd_store_apply(struct vupd_store *s,
                                  const struct vupd_bundle *b,
                                  const void *whole, size_t whole_len,
                                  char *err, size_t errlen);

/* ---- network delivery (docs/updates.md) --------------------------------
 *
 * Datagrams start with "VUP1" and a type byte. The sender announces an
 * update with a MANIFEST (the bundle's signature text and the hash of
 * every fragment); the receiver answers the first with a COOKIE bound to
 * the sender's address, which the sender echoes, so that a forged source
 * costs the receiver an HMAC and nothing else. An authenticated manifest
 * (one signature check, rate-limited per source and overall) opens a
 * bounded reassembly; FRAGs that match no open update, or whose hash is
 * not the announced one, are dropped on arrival. POLL asks for an ACK: the
 * state, and which fragments are missing. */

#define VUPD_NET_MAGIC   "VUP1"
#define VUPD_DGRAM_MAX   65507
#define VUPD_ACK_MISSING 256 /* missing fragments listed per ACK */

enum vupd_pkt_type {
    VUPD_PKT_MANIFEST = 1,
    VUPD_PKT_FRAG = 2,
    VUPD_PKT_POLL = 3,
    VUPD_PKT_ACK = 4,
    VUPD_PKT_COOKIE = 5,
};

enum vupd_ack_state {
    VUPD_ACK_RECEIVING = 0,
    VUPD_ACK_APPLIED = 1,
    VUPD_ACK_REFUSED = 2, /* reason: enum vupd_reason */
    VUPD_ACK_BUSY = 3,    /* no room now: try again later */
    VUPD_ACK_UNKNOWN = 4, /* no such update (expired, or never opened) */
};

struct vupd_pkt {
    enum vupd_pkt_type type;
    uint8_t cookie[16]; /* MANIFEST, POLL, COOKIE */
    uint64_t update_id; /* all but COOKIE */
    /* MANIFEST */
    const char *sig_text;
    size_t sig_len;
    uint32_t nfrags;
    const uint8_t *hashes; /* nfrags * 32 bytes */
    /* FRAG */
    uint32_t index;
    const uint8_t *data;
    size_t len;
    /* ACK */
    uint8_t state, reason;
    uint64_t version;
    uint32_t nmissing; /* in all */
    uint32_t nlisted;  /* in missing[] */
    uint32_t missing[VUPD_ACK_MISSING];
};

/* Decode one datagram; borrows @buf. 0, or -EINVAL for anything that is not
 * a well-formed packet. */
int vupd_pkt_decode(const uint8_t *buf, size_t len, struct vupd_pkt *out);
/* Encode @p into @buf (at most @cap bytes); the length, or 0 when it does
 * not fit. */
size_t vupd_pkt_encode(const struct vupd_pkt *p, uint8_t *buf, size_t cap);

/* Why the receiver dropped a datagram (counted, never answered beyond a
 * cookie or an ACK). */
enum vupd_drop {
    VUPD_DROP_MALFORMED,  /* not a packet */
    VUPD_DROP_NO_COOKIE,  /* a manifest or poll without a valid cookie */
    VUPD_DROP_RATE,       /* over a rate limit */
    VUPD_DROP_MANIFEST,   /* a manifest refused (see reasons) */
    VUPD_DROP_UNKNOWN,    /* a fragment or poll for no open update */
    VUPD_DROP_FRAG_HASH,  /* a fragment that is not the announced one */
    VUPD_DROP_FRAG_RANGE, /* index or length outside the manifest */
    VUPD_DROP_DUPLICATE,  /* a fragment already held */
    VUPD_DROP_NO_ROOM,    /* the reassembly bounds are reached */
    VUPD_DROP_EXPIRED,    /* an update that made no progress in time */
    VUPD_DROPS
};
const char *vupd_drop_name(enum vupd_drop d);

struct vupd_rx_limits {
    size_t max_bundle;    /* bytes per update (default VUPD_DEFAULT_MAX) */
    size_t max_total;     /* bytes held in all (default 2 x max_bundle) */
    unsigned max_updates; /* open at once (default 4) */
    uint64_t timeout_ns;  /* without progress (default 60 s) */
    unsigned source_rate; /* manifests checked per source per second (10) */
    unsigned global_rate; /* signature checks per second overall (100) */
    unsigned cookie_rate; /* cookies sent per second overall (1000) */
};

/* A receiver of network updates: reassembly, cookies, limits. No I/O:
 * the caller feeds datagrams and sends the replies. Not thread-safe. */
struct vupd_rx;

int vupd_rx_new(struct vupd_rx **out, const struct vupd_key *keys, size_t nkeys,
                const struct vupd_rx_limits *lim);
void vupd_rx_free(struct vupd_rx *rx);

/* What the database is at: manifests not above it are refused before any
 * room is taken. */
void vupd_rx_set_version(struct vupd_rx *rx, const char *db_id,
                         uint64_t version);

/* A complete update, ready for vupd_parse/vupd_verify and the store. The
 * buffer stays valid until vupd_rx_finished() for that update. */
struct vupd_rx_done {
    uint64_t update_id;
    const uint8_t *bundle;
    size_t len;
};

/**
 * vupd_rx_packet() - one datagram from source @src (the sender's address
 * bytes, @srclen <= 32) at @now_ns.
 * @reply, @reply_len: a datagram to send back to @src (cookie or ACK);
 *                     *reply_len is 0 when there is none.
 * @done: filled when this datagram completed an update.
 * Return: true when @done was filled; the caller applies the bundle and
 * calls vupd_rx_finished().
 */
bool vupd_rx_packet(struct vupd_rx *rx, const uint8_t *src, size_t srclen,
                    uint64_t now_ns, const uint8_t *pkt, size_t len,
                    uint8_t *reply, size_t *reply_len,
                    struct vupd_rx_done *done);

/* The outcome of a completed update: frees its buffer and remembers the
 * answer for the sender's polls. @ack (cap VUPD_DGRAM_MAX) gets the ACK to
 * send now; returns its length. */
size_t vupd_rx_finished(struct vupd_rx *rx, uint64_t update_id,
                        enum vupd_reason r, uint64_t version, uint8_t *ack);

/* Expire updates without progress; call now and then. */
void vupd_rx_tick(struct vupd_rx *rx, uint64_t now_ns);

struct vupd_rx_stats {
    uint64_t packets, accepted_frags, manifests_ok, completed;
    uint64_t drops[VUPD_DROPS];
    uint64_t manifest_reasons[VUPD_REASONS];
    size_t held_bytes, peak_bytes; /* reassembly memory */
};
void vupd_rx_stats(const struct vupd_rx *rx, struct vupd_rx_stats *out);

/* Whether @name may be a bundle entry: a plain file name with a database
 * extension (.ndb .hdb .hsb .ldb .cvd), no path. */
bool vupd_name_ok(const char *name);

#endif
