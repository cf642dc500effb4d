/* Internal definitions shared by the lib/sig modules.  Nothing here is part of
 * the public API (include/vigil/sig.h).
 *
 * Data flow:
 *   hexpat.c   hex signature text      -> tokens (struct vs_tok)
 *   ndb.c      .ndb/.db/.hdb/.hsb lines -> signatures in a struct vs_store
 *   ldb.c      .ldb lines              -> logical signatures + subsignatures
 *   cvd.c      .cvd/.cld containers    -> the members above
 *   loader.c   public loader API, diagnostics, format dispatch
 *   plan.c     tokens -> segments (while loading, with anchor.c)
 *   anchor.c   a segment's anchor window and length class
 *   group.c    anchors -> prefilter groups
 *   compile.c  the phases of vs_compile (struct vsig_db)
 *   verify.c   checks one segment around an anchor hit
 *   verify-lin.c  the same for long ranges, linear in the data
 *   scan.c     streams: life cycle, windows, feeding (scan-int.h)
 *   prefilter.c  sampled-gram passes -> anchor hits
 *   teddy.c, pass512.c  SIMD forms of some of those passes
 *   match.c    anchor hits -> parts, chains, logical signatures, reports
 *   hash.c     MD5/SHA-1/SHA-256 (nettle) and hash signature lookup
 *   slot.c     atomic database replacement
 */
#ifndef VIGIL_SIG_INT_H
#define VIGIL_SIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/sig.h"

#define VS_HIDDEN __attribute__((visibility("hidden")))

#define VS_INF      UINT32_MAX /* unbounded gap / "no value" */
#define VS_NONE     UINT32_MAX /* no index */
#define VS_SEG_MAX  32768u     /* longest span one segment may cover */
#define VS_MAX_TOKS 65536u     /* tokens per signature */
#define VS_EOF_TAIL (1u << 20) /* EOF-n reach kept for unknown sizes */

/* ---- tokens: the parsed form of a hex signature ---- */

enum vs_tk {
    VS_TK_BYTE = 0, /* one byte: (b & mask) == val, or member of set */
    VS_TK_GAP,      /* min..max arbitrary bytes (max VS_INF: unbounded) */
    VS_TK_MALT,     /* fixed-width alternatives: max strings of min bytes */
    VS_TK_SPECIAL,  /* (B) (L) (W) before segmentation */
    VS_TK_LOOKB,    /* special at a segment start: checks the byte before */
    VS_TK_LOOKA,    /* special at a segment end: checks the byte after */
    VS_TK_GOPEN,    /* generic alternation ( ... | ... ) */
    VS_TK_GBAR,
    VS_TK_GCLOSE,
};

enum vs_special { VS_SP_B = 0, VS_SP_L = 1, VS_SP_W = 2 };

struct vs_tok {
    uint8_t kind;
    uint8_t mask, val; /* VS_TK_BYTE without a set */
    uint8_t flag;      /* MALT: negated; SPECIAL/LOOK*: enum vs_special */
    uint32_t arg;      /* BYTE: set index or VS_NONE; MALT: pool offset */
    uint32_t min, max; /* GAP: range; MALT: width, count; GOPEN: close idx */
};

struct vs_set {
    uint64_t w[4];
};

static inline bool vs_set_has(const struct vs_set *s, uint8_t b)
{
    return (s->w[b >> 6] >> (b & 63)) & 1;
}

static inline void vs_set_add(struct vs_set *s, uint8_t b)
{
    s->w[b >> 6] |= 1ull << (b & 63);
}

/* ---- signatures ---- */

enum vs_off_kind { VS_OFF_ANY = 0, VS_OFF_ABS, VS_OFF_EOF };

struct vs_offset {
    uint8_t kind;
    uint64_t off, shift; /* start in [off, off + shift] (EOF: size - off) */
};

/* A matcher signature: one hex pattern with an offset.  Body signatures have
 * one; each logical subsignature has one (two for ::wa). */
struct vs_msig {
    uint32_t tok, ntok; /* tokens (store->toks) */
    uint32_t seg, nseg; /* segments after compilation */
    uint32_t owner;     /* public signature, or global subsignature index */
    uint32_t state;     /* per-stream chain state index, VS_NONE if 1 seg */
    /* aa[x-y]HEXSIG: the offset refers to HEXSIG, token ref (store index);
     * VS_NONE: to the first byte. */
    uint32_t ref;
    struct vs_offset off;
    uint8_t is_sub;
    uint8_t target;
};

struct vs_sig {
    uint32_t name; /* offset in store->names */
    uint8_t kind;  /* enum vsig_match_kind */
    uint8_t target;
    uint32_t msig, nmsig; /* body signatures */
    uint32_t ldb;         /* logical signatures */
};

/* Logical expression in reverse Polish notation. */
enum vs_op { VS_OP_SUB = 0, VS_OP_AND, VS_OP_OR, VS_OP_EQ, VS_OP_GT, VS_OP_LT };

struct vs_rpn {
    uint8_t op;
    uint32_t a; /* SUB: local subsignature index; EQ/GT/LT: X */
    uint32_t b; /* EQ/GT/LT: Y (distinct subsignatures) or VS_NONE */
};

struct vs_ldb {
    uint32_t sig;
    uint32_t sub, nsub; /* global subsignature indexes */
    uint32_t rpn, nrpn;
    uint8_t monotone; /* no '=' or '<': may fire as soon as it is true */
    uint8_t plain;    /* only '&' and '|': depends on which subs matched */
    uint8_t target;
    uint64_t fs_min, fs_max; /* FileSize: range, fs_max UINT64_MAX if none */
};

enum vs_hash_algo { VS_MD5 = 0, VS_SHA1, VS_SHA256, VS_NALGO };

struct vs_hash {
    uint8_t digest[32];
    uint64_t size; /* UINT64_MAX: any size */
    uint32_t sig;
};

/* Segment: the part of a signature between unbounded gaps.  The prefilter
 * finds its anchor (a literal run); verify.c checks the rest. */
struct vs_seg {
    uint32_t msig;
    uint32_t idx;              /* position within the signature */
    uint32_t tok, ntok;        /* db->toks */
    uint32_t atok;             /* first anchor token (relative to tok) */
    uint32_t alen;             /* anchor window length in bytes (= tokens) */
    uint32_t gmask;            /* offsets in the window of the indexed grams */
    int16_t cd0, cd1;          /* inline check regions, from the window start */
    uint8_t cw;                /* their width: 8, 4 or 0 */
    uint32_t pre_min, pre_max; /* bytes before the anchor */
    uint32_t post_min, post_max; /* bytes after the anchor */
    uint32_t gmin, gmax;         /* gap after the previous segment */
    int32_t refd;    /* offset reference = anchor + refd (if hasref) */
    uint32_t reftok; /* token of the offset reference, VS_NONE: none */
    uint8_t hasref;
    /* Fixed-width segments: masked compare over pre+alen+post bytes. */
    uint32_t fx, fxn; /* db->fxmask/fxval, padded to 8 bytes */
    uint32_t xc, nxc; /* extra checks (sets, alternatives) */
    uint8_t fixed;
    int8_t lookb, looka; /* enum vs_special or -1 */
    uint32_t lin;        /* db->lplans index (linear path), VS_NONE: none */
    uint32_t fw, nfw;    /* db->fxw: the 8-byte words of a fixed segment
                          * that hold something to compare (nfw 0: all) */
};

/* Extra check of the fixed path: a byte set or alternatives at pos. */
struct vs_xchk {
    uint32_t pos; /* from the segment start */
    uint32_t tok; /* absolute token index */
};

/* Linear path (verify-lin.c): a variable-width segment without generic
 * alternatives, seen as fixed-width fragments separated by ranges.  Before
 * the anchor, level 0 is the first fragment and level i > 0 is range i then
 * fragment i; after it, level 0 is the anchor itself and levels 1.. are
 * (range, fragment) pairs the same way. */
struct vs_lvl {
    uint32_t gmin, gmax; /* range before the fragment */
    uint32_t tok, ntok;  /* fragment tokens (db->toks), BYTE or MALT */
    uint32_t width;      /* fragment bytes */
};

struct vs_lplan {
    uint32_t pl, npl; /* prefix levels (db->lvls) */
    uint32_t sl, nsl; /* suffix levels after the anchor */
    uint32_t pring;   /* ring entries per prefix level (power of two) */
    uint32_t sring;   /* ring entries per suffix level (power of two) */
    uint32_t pmaxw;   /* widest prefix fragment, plus one (lookbehind) */
    uint32_t smaxw;   /* widest suffix fragment or the anchor */
};

/* Segments whose span before or after the anchor reaches this many bytes
 * take the linear path (tests lower it to compare both paths). */
VS_HIDDEN extern uint32_t vs_lin_span;

/* Signatures cut into segments with anchors (compile.c), built line by line
 * while loading so that problems are reported with file and line. */
struct vs_plan {
    struct vs_tok *toks; /* segment tokens (specials rewritten) */
    size_t ntoks, ctoks;
    struct vs_seg *segs;
    size_t nsegs, csegs;
    uint8_t *sgrp; /* anchor class of each segment */
    size_t nsgrp, csgrp;
    uint8_t *fxm; /* fixed-path masks and values */
    size_t nfxm, cfxm;
    uint8_t *fxv;
    size_t nfxv, cfxv;
    struct vs_xchk *xchk;
    size_t nxchk, cxchk;
};

/* Growable arrays of everything a database is made of.  The loader fills
 * one; compilation moves it into the vsig_db. */
struct vs_store {
    char *names;
    size_t nnames, cnames;
    struct vs_sig *sigs;
    size_t nsigs, csigs;
    struct vs_msig *msigs;
    size_t nmsigs, cmsigs;
    struct vs_tok *toks;
    size_t ntoks, ctoks;
    struct vs_set *sets;
    size_t nsets, csets;
    uint8_t *pool;
    size_t npool, cpool;
    struct vs_ldb *ldbs;
    size_t nldbs, cldbs;
    struct vs_rpn *rpn;
    size_t nrpn, crpn;
    uint32_t *subs; /* global subsignature index -> ldb index */
    size_t nsubs, csubs;
    struct vs_hash *hashes[VS_NALGO];
    size_t nhashes[VS_NALGO], chashes[VS_NALGO];
    size_t nbody;
    uint32_t hex_ref; /* set by vs_hex_parse, taken by vs_add_msig */
    struct vs_plan plan;
};

VS_HIDDEN int vs_grow(void **p, size_t *cap, size_t n, size_t add, size_t elsz);
/* Ask for huge pages under a large array (@bytes at @p) before it is
 * first touched; nothing for small ones. */
VS_HIDDEN void vs_huge(void *p, size_t bytes);
#define VS_RESERVE(st, arr, add)                                               \
    vs_grow((void **)&(st)->arr, &(st)->c##arr, (st)->n##arr, (add),           \
            sizeof *(st)->arr)
VS_HIDDEN void vs_store_free(struct vs_store *st);
/* Roll the store back to an earlier size (a line that failed half-way). */
struct vs_mark {
    size_t nnames, nsigs, nmsigs, ntoks, nsets, npool, nldbs, nrpn, nsubs;
    size_t nhashes[VS_NALGO];
    size_t nbody;
    size_t p_toks, p_segs, p_fx, p_xchk;
};
VS_HIDDEN void vs_store_mark(const struct vs_store *st, struct vs_mark *m);
VS_HIDDEN void vs_store_rollback(struct vs_store *st, const struct vs_mark *m);
VS_HIDDEN int vs_store_name(struct vs_store *st, const char *s, size_t len,
                            uint32_t *out);

/* ---- parsing helpers (hexpat.c) ---- */

/* Error text for one line: the parsers fill it, loader.c reports it. */
struct vs_err {
    char msg[192];
};
VS_HIDDEN void vs_errf(struct vs_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Parse hex signature text into tokens appended to st->toks.
 * @nocase/@wide: ldb subsignature modifiers 'i' and 'w'.
 * Return 0 or -EINVAL (message in @e) / -ENOMEM.
 */
#define VS_HEX_NOCASE 0x1u
#define VS_HEX_WIDE   0x2u
VS_HIDDEN int vs_hex_parse(struct vs_store *st, const char *s, size_t len,
                           unsigned flags, uint32_t *tok, uint32_t *ntok,
                           struct vs_err *e);

/* Parse an offset field ("*", "n", "n,m", "EOF-n", "EOF-n,m"). */
VS_HIDDEN int vs_offset_parse(const char *s, size_t len, struct vs_offset *o,
                              struct vs_err *e);

/* Decimal number, no sign, overflow-checked.  0 or -EINVAL. */
VS_HIDDEN int vs_parse_u64(const char *s, size_t len, uint64_t *out);

/* Add a body signature built from tokens already parsed. */
VS_HIDDEN int vs_add_msig(struct vs_store *st, uint32_t tok, uint32_t ntok,
                          const struct vs_offset *off, uint32_t owner,
                          bool is_sub, uint8_t target, uint32_t *out);

/* ---- per-format line parsers (ndb.c, ldb.c) ---- */

/* Add a named signature (checks the name). */
VS_HIDDEN int vs_add_named_sig(struct vs_store *st, const char *name,
                               size_t nlen, uint8_t kind, uint8_t target,
                               uint32_t *id, struct vs_err *e);

VS_HIDDEN int vs_parse_ndb_line(struct vs_store *st, const char *s, size_t len,
                                struct vs_err *e);
VS_HIDDEN int vs_parse_db_line(struct vs_store *st, const char *s, size_t len,
                               struct vs_err *e);
VS_HIDDEN int vs_parse_hash_line(struct vs_store *st, const char *s, size_t len,
                                 bool md5_only, struct vs_err *e);
VS_HIDDEN int vs_parse_ldb_line(struct vs_store *st, const char *s, size_t len,
                                struct vs_err *e);

/* ---- containers (cvd.c) ---- */

/* Called for each member of a container. */
typedef int (*vs_member_fn)(void *opaque, const char *name, const uint8_t *buf,
                            size_t len);
/* @key: the dsig key (dsig.h), NULL for ClamAV's. */
VS_HIDDEN int vs_cvd_unpack(const uint8_t *buf, size_t len, bool is_cld,
                            vs_member_fn fn, void *opaque, struct vs_err *e,
                            bool *md5_checked, const char *key);

/* ---- hashes (hash.c) ---- */

struct vs_hashctx;
VS_HIDDEN size_t vs_hashctx_size(void);
VS_HIDDEN void vs_hashctx_init(struct vs_hashctx *h, unsigned algos);
VS_HIDDEN void vs_hashctx_update(struct vs_hashctx *h, const uint8_t *p,
                                 size_t n);
/* Digests of the algorithms enabled at init; out[algo] has 32 bytes. */
VS_HIDDEN void vs_hashctx_final(struct vs_hashctx *h, uint8_t out[][32]);
VS_HIDDEN void vs_md5(const uint8_t *p, size_t n, uint8_t out[16]);
VS_HIDDEN size_t vs_hash_len(int algo);
VS_HIDDEN void vs_hash_sort(struct vs_hash *h, size_t n);
/* First entry with this digest, or NULL; equal digests are adjacent. */
VS_HIDDEN const struct vs_hash *vs_hash_find(const struct vs_hash *h, size_t n,
                                             int algo, const uint8_t *digest);

/* ---- the compiled database ---- */

/* One indexed gram: everything a hit needs in one 64-byte record.  The
 * inline check compares two regions near the anchor window (offsets d0, d1
 * from its start, cw = 8 or 4 bytes) as value/mask pairs, so most gram hits
 * are rejected without touching the segment. */
struct vs_gent {
    uint64_t gram;
    uint64_t aw[4]; /* w0, m0, w1, m1 */
    uint32_t ref;   /* seg << 5 | gram offset within the window */
    int16_t d0, d1;
    /* The segment's chain (its msig's state, VS_NONE for one part), its
     * index in it, and whether the gap after it is unbounded: a hit that
     * vs_on_anchor() would drop for the chain's progress is dropped in the
     * prefilter, without loading the segment and the msig (a common word
     * that starts dozens of chains hits them all at every occurrence). */
    uint32_t state;
    uint16_t pidx;
    uint8_t cw;
    uint8_t unb;
    /* A subsignature of a logical signature of only '&' and '|' without a
     * FileSize range (VS_NONE otherwise): once it matched, another match
     * changes nothing (the expression depends on which subsignatures
     * matched, and was evaluated when this one first did), so its hits are
     * dropped in the prefilter.  Text repeats short subsignatures
     * thousands of times, each a verified match before. */
    uint32_t sub;
};

struct vs_pk {
    uint64_t v, m;
};

/* Prefilter group: anchors of one length class, found by sampling one
 * g-byte gram every S positions.  An anchor of A = S + g - 1 bytes always
 * has one of its S grams on a sampled position, so each of its grams is
 * indexed with its offset. */
struct vs_group {
    uint8_t g, S, A;
    uint8_t cls;    /* index in VS_CLASSES */
    uint32_t lbase; /* bit of entry 0 in a stream's live bitmap */
    uint64_t mul;   /* hash multiplier of the bloom filter */
    uint32_t mbits; /* log2 of bloom bits */
    uint64_t *bloom;
    uint32_t bbits;       /* log2 of buckets */
    uint32_t *boff;       /* bucket -> first entry; (1 << bbits) + 1 entries */
    struct vs_gent *ents; /* entries grouped by bucket */
    /* Per entry, parallel to ents: value and mask of the 8 data bytes at
     * the sampled position minus VS_PK_BACK(g) that the entry requires (its
     * gram and the literal bytes of its window and check regions there).
     * One load and one compare per entry reject most entries of a bucket
     * without touching their 64-byte records: many anchors cut from text
     * share a gram, and walking those records was the largest cost of a
     * gram hit. */
    struct vs_pk *pk;
    size_t nent;
    /* Windows of A <= 8 bytes with S > 1: a bit per hashed window (every
     * variant of each anchor's A bytes), probed at the S places a window
     * holding the sampled gram can start.  A gram hit whose windows are all
     * absent cannot be an anchor: it is dropped before the table (a common
     * 3-byte gram is mostly the start of some other word).  NULL: none. */
    uint64_t *wf;
    uint32_t wfbits;
    /* Class 5 with at most VS_TEDDY_MAX grams: nibble tables of the SIMD
     * first stage (teddy.c); NULL: the scalar pass. */
    uint8_t *teddy;
};
/* How far before the sampled position the pre-check word starts: two
 * bytes of context before a short gram, none before an 8-byte one. */
#define VS_PK_BACK(g) ((g) >= 8 ? 0u : 2u)
/* The window filter's hash: its top wfbits bits of the window's product. */
#define VS_WFMUL 0xC2B2AE3D27D4EB4Full

/* Anchor classes (index, A, g, S): anchors of A bytes found by sampling one
 * g-byte gram every S positions (A = S + g - 1).  Short grams (g <= 2) index
 * the filter directly, longer ones are hashed. */
#define VS_CLASSES(X)                                                          \
    X(0, 16, 8, 9)                                                             \
    X(1, 12, 8, 5)                                                             \
    X(2, 8, 4, 5)                                                              \
    X(3, 6, 4, 3)                                                              \
    X(4, 4, 3, 2)                                                              \
    X(5, 3, 3, 1)                                                              \
    X(6, 2, 2, 1)                                                              \
    X(7, 1, 1, 1)
#define VS_NGROUPS 8
/* The class whose anchors the SIMD first stage finds (3-byte grams at every
 * position), and how many short anchors and grams it takes: beyond that its
 * 8 buckets hold too many grams and most positions become candidates. */
#define VS_TEDDY_CLASS   5
#define VS_TEDDY_ANCHORS 48
#define VS_TEDDY_MAX     256
#define VS_HASHMUL       0x9E3779B97F4A7C15ull
/* Bloom probes of 8-byte grams take fixed bit fields of the 64-bit product
 * y = gram * mul (no variable shifts in the hot loop): bits 39.. and 14..,
 * masked to the filter size (<= 25 bits). */
#define VS_H1(y, mask) (((y) >> 39) & (mask))
/* The second probe stays in the first one's 64-byte block: one cache miss
 * per lookup (a blocked bloom filter). */
#define VS_H2(y, mask) ((VS_H1(y, mask) & ~(uint64_t)511) | (((y) >> 14) & 511))
/* Grams of 3 and 4 bytes: the first probe is the top @mbits bits of the
 * 32-bit product, which the AVX-512 pass (pass512.c) computes for 16
 * positions at once; the second takes bits 40.. of the 64-bit product
 * (independent of the first's bits) within the first one's block. */
#define VS_H1S(x, mul, mbits)                                                  \
    ((uint64_t)((uint32_t)(x) * (uint32_t)(mul) >> (32 - (mbits))))

static inline void vs_probes(unsigned g, uint64_t x, uint64_t mul,
                             unsigned mbits, uint64_t *h1, uint64_t *h2)
{
    uint64_t y = x * mul, mask = ((uint64_t)1 << mbits) - 1;
    if (g <= 4) {
        *h1 = VS_H1S(x, mul, mbits);
        *h2 = (*h1 & ~(uint64_t)511) | ((y >> 40) & 511);
    } else {
        *h1 = VS_H1(y, mask);
        *h2 = VS_H2(y, mask);
    }
}

/* A table entry whose hits may stop mattering in a stream, listed under
 * its chain state and under its subsignature (struct vsig_db's live
 * index): its bit in a stream's live bitmap and what decides it. */
struct vs_stent {
    uint32_t bit;
    uint32_t state; /* chain state, VS_NONE: a single part */
    uint32_t sub;   /* as struct vs_gent's sub */
    uint16_t pidx;
    uint8_t unb;
};

/* Can a hit of an entry of part @pidx matter while its chain's progress
 * is @pr?  A later part only continues the chain at its index; a first
 * part is not needed once the chain started, unless the next gap is
 * bounded (@unb false) and nothing followed yet.  vs_on_anchor() decides
 * the same. */
static inline bool vs_entry_live(uint16_t pidx, uint8_t unb, uint16_t pr)
{
    return pidx ? pr == pidx : pr == 0 || (!unb && pr <= 1);
}

struct vsig_db {
    long refs;
    struct vs_store st; /* names, sigs, msigs, sets, pool, ldbs, hashes */
    struct vs_seg *segs;
    size_t nsegs;
    struct vs_tok *toks; /* segment tokens (rewritten specials) */
    size_t ntoks;
    uint8_t *fxmask, *fxval;
    size_t nfx;
    struct vs_xchk *xchk;
    size_t nxchk;
    uint32_t *fxw; /* word lists of fixed segments with long {n} */
    size_t nfxw;
    struct vs_lvl *lvls; /* levels of the linear path (verify-lin.c) */
    size_t nlvls;
    struct vs_lplan *lplans;
    size_t nlin;
    struct vs_group groups[VS_NGROUPS];
    unsigned ngroups;
    uint32_t
        *eof_msigs; /* EOF-anchored: evaluated at the end if size unknown */
    size_t neof;
    uint32_t nstate;       /* multi-segment signatures */
    uint32_t lb, lf;       /* bytes needed before / after a sampled position */
    uint32_t eof_reach;    /* tail kept for EOF signatures, <= VS_EOF_TAIL */
    uint32_t max_span;     /* longest pre/post span (bitset scratch) */
    unsigned hash_algos;   /* bit per algorithm with signatures */
    bool has_targets;      /* some signature has a target type != 0 */
    struct vs_set fill_ok; /* bytes v such that some anchor fits in v v v.. */
    size_t nanchors;
    size_t memory;
    /* The live bitmap (a bit per gram-table entry, groups at their lbase):
     * its value in a fresh stream; per chain state the entries whose bit
     * follows that chain's progress (st_ent[st_eoff[i]..st_eoff[i+1])),
     * and per subsignature those whose bit clears once it matched (sb_). */
    uint64_t *live0;
    size_t live_words;
    bool live_all; /* compiled with vs_prune_off: every bit stays set */
    uint32_t *st_eoff, *sb_eoff;
    struct vs_stent *st_ent, *sb_ent;
};

/* teddy.c: the nibble tables of group @g if it qualifies (0 or -ENOMEM),
 * and the SIMD pass: positions in [r, end) of the block at @p (p is at r)
 * that may start one of the group's grams, into @out.  Needs AVX2. */
VS_HIDDEN int vs_teddy_build(struct vs_group *g);
VS_HIDDEN size_t vs_teddy_scan(const uint8_t *t, const uint8_t *p, uint32_t r,
                               uint32_t end, uint32_t *out);
/* Does this CPU run the SIMD first stage (and vs_teddy_off not set)?
 * Decided when a database is compiled: its streams run in the same
 * process. */
VS_HIDDEN bool vs_have_avx2(void);
VS_HIDDEN extern bool vs_teddy_off;
/* Compile without the window filters and with every live bit set
 * (group.c): the prefilter then works as before either existed; tests
 * compare the two. */
VS_HIDDEN extern bool vs_prune_off;

/* pass512.c: the sampling pass of a hashed class of 3- or 4-byte grams
 * (classes 2 to 5) with AVX-512: the same positions as the scalar pass of
 * prefilter.c, 16 at a time (12 for stride 5).  Needs vs_have_avx512(). */
VS_HIDDEN size_t vs_pass512(unsigned cls, const uint64_t *bloom, unsigned mbits,
                            uint64_t mul, const uint8_t *p, uint32_t r,
                            uint32_t end, uint32_t *out);
/* Does this CPU run vs_pass512() (AVX-512 F, BW and VBMI), and is
 * vs_pass512_off unset?  Decided when a stream is created. */
VS_HIDDEN bool vs_have_avx512(void);
VS_HIDDEN extern bool vs_pass512_off;

VS_HIDDEN int vs_compile(struct vs_store *st, struct vsig_db **out);
/* Cut signature @mi into segments with anchors (st->plan); the loader
 * reports problems with file and line. */
VS_HIDDEN int vs_plan_msig(struct vs_store *st, uint32_t mi, struct vs_err *e);
VS_HIDDEN void vs_db_free(struct vsig_db *db);

/* ---- verification (verify.c) ---- */

/* A window of stream bytes: buf[0] is absolute offset base; bytes in
 * [lo, hi) are valid.  bof: lo is the start of the object; eof: hi is its
 * end. */
struct vs_win {
    const uint8_t *buf;
    uint64_t base, lo, hi;
    bool bof, eof;
};

/* Scratch bitsets for variable-width segments, sized by db->max_span. */
struct vs_scratch {
    uint64_t *a, *b, *c, *d, *e, *f;
    size_t words;
    /* Work counter (vsig_stream_stats): one step is one byte or token test,
     * one bitset word operation, or one position of one level of a linear
     * scan (verify-lin.c). */
    uint64_t steps;
    uint64_t anchors; /* anchor hits passed to verification */
    /* Linear-path states, one per db->lplans entry, allocated on first use;
     * valid while their generation equals gen (bumped per object). */
    struct vs_lstate **lin;
    size_t nlin;
    uint64_t gen;
};

/* Result of verifying a segment at anchor position a: possible starts and
 * ends.  For fixed segments smin == smax and emin == emax. */
struct vs_vres {
    uint64_t smin, smax, emin; /* earliest end */
    const uint64_t *starts;    /* bitset of (a - start) when !fixed */
    uint32_t nstart_words;
};

VS_HIDDEN bool vs_verify(const struct vsig_db *db, const struct vs_seg *seg,
                         const struct vs_win *w, uint64_t a,
                         struct vs_scratch *sc, struct vs_vres *r);
/*
 * Verify @seg at anchor @a and choose its start in [lo, hi] (the first part:
 * the offset window, see vs_first_start_in; later parts: after the previous
 * part).  Returns 1 with the start in *st and the end in r->emin; 0 if the
 * part is there but starts outside [lo, hi] (r->smin > hi: too late); -1
 * if it is not there.  Takes the linear path when the segment has one.
 */
VS_HIDDEN int vs_match(const struct vsig_db *db, const struct vs_seg *seg,
                       const struct vs_win *w, uint64_t a,
                       struct vs_scratch *sc, uint64_t lo, uint64_t hi,
                       uint64_t *st, struct vs_vres *r);
/* Does the fixed-width token @t (BYTE or MALT) match at @p? */
VS_HIDDEN bool vs_tok_ok(const struct vsig_db *db, const struct vs_tok *t,
                         const uint8_t *p);

/* ---- linear path (verify-lin.c) ---- */

/* Plan the linear path of every eligible segment (after compilation). */
VS_HIDDEN int vs_lin_build(struct vsig_db *db);
/* Like vs_verify for a segment with a linear plan, keeping only the latest
 * start, among starts in [lo, hi] (r->smin = r->smax = it, r->starts NULL).
 * -ENOMEM if its state cannot be allocated (use vs_verify), else 1 / 0. */
VS_HIDDEN int vs_lin_verify(const struct vsig_db *db, const struct vs_seg *seg,
                            const struct vs_win *w, uint64_t a,
                            struct vs_scratch *sc, uint64_t lo, uint64_t hi,
                            struct vs_vres *r);
VS_HIDDEN void vs_lin_free(struct vs_scratch *sc);
/* Is there a start in [lo, hi] among the results?  Returns it (the latest
 * such start, i.e. the shortest match) through *s. */
VS_HIDDEN bool vs_vres_start_in(const struct vs_seg *seg,
                                const struct vs_vres *r, uint64_t a,
                                uint64_t lo, uint64_t hi, uint64_t *s);
/* Same for a signature's first part, where the offset may refer to a
 * token other than the first (aa[x-y]HEXSIG). */
VS_HIDDEN bool vs_first_start_in(const struct vs_seg *seg,
                                 const struct vs_vres *r, uint64_t a,
                                 uint64_t lo, uint64_t hi, uint64_t *s);

/* Reference search of one segment anywhere in a window (no prefilter):
 * calls fn for each anchor position, in increasing order, where the part is
 * found starting in [lo, hi] (vs_match), with that start. */
typedef int (*vs_found_fn)(void *opaque, const struct vs_seg *seg, uint64_t st,
                           const struct vs_vres *r);
VS_HIDDEN int vs_search_seg(const struct vsig_db *db, const struct vs_seg *seg,
                            const struct vs_win *w, uint64_t from, uint64_t to,
                            uint64_t lo, uint64_t hi, struct vs_scratch *sc,
                            vs_found_fn fn, void *opaque);

/* Tables of the special classes. */
VS_HIDDEN const struct vs_set *vs_special_set(int sp, int where);
enum { VS_WHERE_LEFT = 0, VS_WHERE_MID = 1, VS_WHERE_RIGHT = 2 };

static inline uint64_t vs_load64(const uint8_t *p)
{
    uint64_t v;
    __builtin_memcpy(&v, p, 8);
    return v;
}

static inline uint64_t vs_load16_le(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8;
}

static inline uint32_t vs_load32(const uint8_t *p)
{
    uint32_t v;
    __builtin_memcpy(&v, p, 4);
    return v;
}

#endif
