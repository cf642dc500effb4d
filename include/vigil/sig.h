/* vigil signature engine: ClamAV-format databases and a streaming matcher.
 *
 * Three objects:
 *
 *   struct vsig_loader   mutable; collects signature databases (.ndb, .ldb,
 *                        .hdb, .hsb, .db, .cvd, .cld) from memory buffers and
 *                        compiles them into
 *   struct vsig_db       immutable and reference counted; shared by any
 *                        number of threads and streams without locking.
 *   struct vsig_stream   per-object scanning state (one file, one disk, one
 *                        network flow).  Bytes arrive in pieces through
 *                        vsig_stream_feed(); a signature split over two
 *                        pieces is found.  Memory per stream is fixed when
 *                        the stream is created and does not grow with the
 *                        amount of data scanned.
 *
 * struct vsig_slot holds "the current database" for long-running users: a new
 * database can be published atomically while streams run; each stream keeps
 * the database it was created (or last reset) with.
 *
 * Errors: functions return 0 or a negative errno value (or NULL), never print
 * and never exit.  Details about signature lines that could not be loaded go
 * to the caller's vsig_diag_fn.  The library does no file I/O: the caller
 * reads databases and data into memory.
 *
 * Thread safety: a vsig_db may be used concurrently by any number of threads.
 * A vsig_loader and a vsig_stream must be used by one thread at a time.
 * vsig_slot functions may be called from any thread.
 *
 * Supported syntax and the differences from ClamAV: docs/signatures.md.
 */
#ifndef VIGIL_SIG_H
#define VIGIL_SIG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VSIG_MUST_CHECK __attribute__((warn_unused_result))

struct vsig_loader;
struct vsig_db;
struct vsig_stream;
struct vsig_slot;

/* ---- diagnostics ---- */

enum vsig_severity {
    /* The line (or file) was not loaded.  Fatal in strict mode. */
    VSIG_DIAG_ERROR = 0,
    /* Loaded, but something in it is ignored or behaves differently from
     * ClamAV (see docs/signatures.md). */
    VSIG_DIAG_WARNING = 1,
    /* Informational: a member of a container that is not a signature
     * database, a skipped publisher signature, ... */
    VSIG_DIAG_NOTE = 2,
};

struct vsig_diag {
    enum vsig_severity severity;
    /* Database name as passed to vsig_loader_add(); for a member of a
     * .cvd/.cld container "container:member". */
    const char *file;
    /* 1-based line number, 0 when the message is about the whole file. */
    unsigned long line;
    /* Human-readable, one line, no trailing newline.  Valid only during the
     * callback. */
    const char *msg;
};

typedef void (*vsig_diag_fn)(void *opaque, const struct vsig_diag *d);

/* Fail vsig_loader_add() with -EINVAL on the first VSIG_DIAG_ERROR instead of
 * skipping the line. */
#define VSIG_LOAD_STRICT 0x1u

struct vsig_load_opts {
    size_t sz; /* sizeof(struct vsig_load_opts), for future extension */
    unsigned flags;
    vsig_diag_fn diag; /* may be NULL */
    void *diag_opaque;
    /* The public key .cvd/.cld publisher signatures (dsig) must verify
     * with, replacing ClamAV's: "N E", modulus and exponent in decimal.
     * NULL: ClamAV's key.  For tests and private signers; not copied, so
     * it must outlive the loader. */
    const char *cvd_key;
};

/* ---- loading ---- */

/*
 * vsig_loader_new: create an empty loader.
 * @out: receives the loader.
 * @opts: options (may be NULL); copied.
 * Return: 0 or -ENOMEM / -EINVAL.
 */
VSIG_MUST_CHECK int vsig_loader_new(struct vsig_loader **out,
                                    const struct vsig_load_opts *opts);

/*
 * vsig_loader_add: parse one database held in memory.
 * @name: file name; its extension selects the format (.ndb, .ldb, .hdb,
 *        .hsb, .db, .cvd, .cld).  Only the extension is used.
 * @buf, @len: the file's contents (need not be NUL-terminated).
 * Lines that cannot be loaded are reported through the diag callback and
 * skipped; the rest of the file loads.
 * Return: 0; -EINVAL for an unknown extension, a broken container, or (in
 * strict mode) any line that could not be loaded; -ENOMEM.  After an error
 * the loader keeps the signatures added before the failing call.
 */
VSIG_MUST_CHECK int vsig_loader_add(struct vsig_loader *l, const char *name,
                                    const void *buf, size_t len);

/* Number of signatures (named detections) added so far. */
size_t vsig_loader_count(const struct vsig_loader *l);

/*
 * vsig_loader_compile: build the matcher.  The loader is left empty and may
 * be reused or freed.
 * Return: 0 or -ENOMEM / -E2BIG (database too large).
 */
VSIG_MUST_CHECK int vsig_loader_compile(struct vsig_loader *l,
                                        struct vsig_db **out);

void vsig_loader_free(struct vsig_loader *l);

/* Convenience: new + add + compile for a single database. */
VSIG_MUST_CHECK int vsig_db_load(struct vsig_db **out, const char *name,
                                 const void *buf, size_t len,
                                 const struct vsig_load_opts *opts);

/* ---- compiled databases ---- */

/* Take another reference; returns @db.  Thread-safe. */
struct vsig_db *vsig_db_ref(struct vsig_db *db);
/* Drop a reference; the last one frees the database.  NULL is ignored. */
void vsig_db_unref(struct vsig_db *db);

struct vsig_db_stats {
    size_t sz;            /* caller sets sizeof(struct vsig_db_stats) */
    size_t signatures;    /* named detections */
    size_t body;          /* .ndb/.db body signatures */
    size_t logical;       /* .ldb signatures */
    size_t hashes;        /* .hdb/.hsb entries */
    size_t anchors;       /* literal anchors in the prefilter */
    size_t memory;        /* bytes held by the compiled matcher */
    size_t stream_memory; /* bytes each stream allocates at creation (parts
                           * with long ranges add more on their first hit:
                           * docs/signatures.md) */
};
void vsig_db_stats(const struct vsig_db *db, struct vsig_db_stats *st);

/*
 * vsig_db_match_span: the most bytes one match of a bounded signature can
 * cover (from its first to its last byte, plus the byte on each side that
 * (B), (L) and (W) look at).  *@unbounded is set to 1 when some signature
 * has no such bound (an unbounded gap '*' or {n-}, or a logical .ldb
 * signature, whose subsignatures may lie anywhere), else 0.  Hash
 * signatures do not count.  A caller that scans pieces of an object in any
 * order finds every bounded match touching a piece by scanning the piece
 * with span - 1 bytes of its surroundings on each side.
 */
uint64_t vsig_db_match_span(const struct vsig_db *db, int *unbounded);

/* Name of signature @id (0 <= id < signatures), or NULL. */
const char *vsig_db_name(const struct vsig_db *db, uint32_t id);

/* ---- atomic replacement ---- */

/* A slot holds one reference to the current database. */
VSIG_MUST_CHECK int vsig_slot_new(struct vsig_slot **out, struct vsig_db *db);
/* Return a new reference to the current database (NULL if none): pass it
 * to vsig_stream_new() and drop it with vsig_db_unref(). */
struct vsig_db *vsig_slot_get(struct vsig_slot *s);
/* Publish @db (a reference is taken; NULL clears the slot).  The previous
 * database is released once the last stream using it is done. */
void vsig_slot_set(struct vsig_slot *s, struct vsig_db *db);
void vsig_slot_free(struct vsig_slot *s);

/* ---- streams ---- */

enum vsig_match_kind {
    VSIG_MATCH_BODY = 0,    /* .ndb / .db signature */
    VSIG_MATCH_LOGICAL = 1, /* .ldb signature */
    VSIG_MATCH_HASH = 2,    /* .hdb / .hsb: the whole object's hash */
};

struct vsig_match {
    uint32_t sig;     /* signature id, see vsig_db_name() */
    const char *name; /* signature name (owned by the database) */
    enum vsig_match_kind kind;
    /* Absolute offsets in the stream.  Body: first and one-past-last byte of
     * the match.  Logical: the match of the subsignature that completed the
     * expression (both 0 if none).  Hash: 0 and the object size. */
    uint64_t offset;
    uint64_t end;
};

/* Match callback return values. */
enum {
    VSIG_CONTINUE = 0, /* keep reporting */
    VSIG_MUTE = 1,     /* do not report this signature again in this stream */
    VSIG_STOP = 2,     /* stop scanning this stream */
};

typedef int (*vsig_match_fn)(void *opaque, const struct vsig_match *m);

#define VSIG_SIZE_UNKNOWN UINT64_MAX

/* Object types for target-type filtering (ClamAV "TargetType" numbers). */
#define VSIG_TARGET_AUTO (-1) /* detect ELF / PE / Mach-O by magic */
#define VSIG_TARGET_ANY  0    /* plain data: only target-type 0 applies */

/* Do not compute whole-object hashes (hash signatures never match). */
#define VSIG_STREAM_NO_HASH 0x1u
/* Apply signatures of every target type regardless of the object type. */
#define VSIG_STREAM_ALL_TARGETS 0x2u

struct vsig_stream_opts {
    size_t sz; /* sizeof(struct vsig_stream_opts) */
    /* Total size when known in advance (files): makes EOF-n offsets and
     * hash size checks exact while streaming.  VSIG_SIZE_UNKNOWN otherwise;
     * then EOF-anchored signatures are evaluated by vsig_stream_end() over
     * a retained tail (see docs/signatures.md for the limit). */
    uint64_t size;
    int target; /* VSIG_TARGET_AUTO (default when opts is NULL) or a type */
    unsigned flags;
};

/*
 * vsig_stream_new: start scanning one object.
 * @db: the database; the stream takes its own reference.
 * @opts: may be NULL (size unknown, target auto, hashes on).
 * @fn, @opaque: called for every match, from inside vsig_stream_feed() and
 *               vsig_stream_end() on the calling thread.
 * Return: 0 or -ENOMEM / -EINVAL.
 */
VSIG_MUST_CHECK int vsig_stream_new(struct vsig_stream **out,
                                    struct vsig_db *db,
                                    const struct vsig_stream_opts *opts,
                                    vsig_match_fn fn, void *opaque);

/*
 * vsig_stream_feed: scan the next @len bytes of the object.
 * Return: 0; 1 once the callback returned VSIG_STOP (further calls do
 * nothing and return 1); -EINVAL after vsig_stream_end() or if more bytes
 * than a declared size arrive.
 */
VSIG_MUST_CHECK int vsig_stream_feed(struct vsig_stream *s, const void *buf,
                                     size_t len);

/*
 * vsig_stream_end: the object is complete.  Reports matches that need the
 * end of the data (EOF offsets, trailing boundaries, logical signatures with
 * '=' or '<', hashes).
 * Return: 0, 1 if stopped, -EINVAL if called twice or a declared size was not
 * reached.
 */
VSIG_MUST_CHECK int vsig_stream_end(struct vsig_stream *s);

/*
 * vsig_stream_reset: reuse the stream for a new object, optionally with a
 * different database (@db NULL keeps the current one).  Cheaper than free +
 * new when the database is unchanged.
 */
VSIG_MUST_CHECK int vsig_stream_reset(struct vsig_stream *s, struct vsig_db *db,
                                      const struct vsig_stream_opts *opts);

/* Bytes fed so far. */
uint64_t vsig_stream_offset(const struct vsig_stream *s);

/* Work a stream did since it was created or reset (tests, profiling). */
struct vsig_stream_stats {
    size_t sz;             /* caller sets sizeof(struct vsig_stream_stats) */
    uint64_t anchors;      /* anchor hits that reached verification */
    uint64_t verify_steps; /* verification work, see docs/signatures.md */
};
void vsig_stream_stats(const struct vsig_stream *s,
                       struct vsig_stream_stats *st);

void vsig_stream_free(struct vsig_stream *s);

#ifdef __cplusplus
}
#endif

#endif
