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

/* Whether @name may be a bundle entry: a plain file name with a database
 * extension (.ndb .hdb .hsb .ldb .cvd), no path. */
bool vupd_name_ok(const char *name);

#endif
