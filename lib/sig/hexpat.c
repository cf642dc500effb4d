/* Hex signature parser: ClamAV body-signature text -> tokens.
 *
 * The grammar is flat: alternatives cannot nest, so the parser is one loop
 * with an "inside a generic alternation" flag instead of recursion. */
#include <errno.h>
#include <string.h>

#include "sig/sig-int.h"
#include "vigil/hex.h"

static int push_tok(struct vs_store *st, const struct vs_tok *t)
{
    if (st->ntoks >= UINT32_MAX - 1)
        return -E2BIG;
    if (VS_RESERVE(st, toks, 1) < 0)
        return -ENOMEM;
    st->toks[st->ntoks++] = *t;
    return 0;
}

static int new_set(struct vs_store *st, uint32_t *idx)
{
    if (st->nsets >= UINT32_MAX - 1)
        return -E2BIG;
    if (VS_RESERVE(st, sets, 1) < 0)
        return -ENOMEM;
    memset(&st->sets[st->nsets], 0, sizeof st->sets[0]);
    *idx = (uint32_t)st->nsets++;
    return 0;
}

static bool is_alpha(uint8_t b)
{
    return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
}

static uint8_t other_case(uint8_t b)
{
    return b ^ 0x20;
}

/* Push one byte token; handles the nocase and wide modifiers. */
static int push_byte(struct vs_store *st, uint8_t mask, uint8_t val,
                     unsigned flags)
{
    struct vs_tok t = {
        .kind = VS_TK_BYTE, .mask = mask, .val = val, .arg = VS_NONE};
    int r;

    if ((flags & VS_HEX_NOCASE) && mask == 0xff && is_alpha(val)) {
        uint32_t si;
        if ((r = new_set(st, &si)) < 0)
            return r;
        vs_set_add(&st->sets[si], val);
        vs_set_add(&st->sets[si], other_case(val));
        t.mask = 0;
        t.val = 0;
        t.arg = si;
    }
    if ((r = push_tok(st, &t)) < 0)
        return r;
    if ((flags & VS_HEX_WIDE) && mask == 0xff) {
        struct vs_tok z = {
            .kind = VS_TK_BYTE, .mask = 0xff, .val = 0, .arg = VS_NONE};
        return push_tok(st, &z);
    }
    return 0;
}

/* "{n}", "{-n}", "{n-}", "{n-m}": s points after '{', close at '}'. */
static int parse_range(const char *s, size_t len, uint32_t *lo, uint32_t *hi)
{
    const char *dash = memchr(s, '-', len);
    uint64_t a = 0, b = VS_INF;

    if (dash == NULL) {
        if (vs_parse_u64(s, len, &a) < 0 || a >= VS_INF)
            return -EINVAL;
        *lo = *hi = (uint32_t)a;
        return 0;
    }
    size_t l1 = (size_t)(dash - s), l2 = len - l1 - 1;
    if (l1 == 0 && l2 == 0)
        return -EINVAL;
    if (l1 > 0 && (vs_parse_u64(s, l1, &a) < 0 || a >= VS_INF))
        return -EINVAL;
    if (l2 > 0 && (vs_parse_u64(dash + 1, l2, &b) < 0 || b >= VS_INF))
        return -EINVAL;
    if (a > b)
        return -EINVAL;
    *lo = (uint32_t)a;
    *hi = (uint32_t)b;
    return 0;
}

/* Is the group content "hex|hex|..." with all alternatives of one length? */
static bool simple_alts(const char *s, size_t len, size_t *width, size_t *count)
{
    size_t w = SIZE_MAX, cur = 0, n = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '|') {
            if (cur == 0 || cur % 2)
                return false;
            if (w != SIZE_MAX && cur != w)
                return false;
            w = cur;
            cur = 0;
            n++;
            continue;
        }
        if (vigil_hexval(s[i]) < 0)
            return false;
        cur++;
    }
    *width = w / 2;
    *count = n;
    return true;
}

/* Fixed-width alternatives (aa|bb), (aabb|ccdd), !(...). */
static int push_alts(struct vs_store *st, const char *s, size_t len,
                     size_t width, size_t count, bool neg, unsigned flags,
                     struct vs_err *e)
{
    int r;

    if (width == 1) {
        uint32_t si;
        if ((r = new_set(st, &si)) < 0)
            return r;
        struct vs_set *set = &st->sets[si];
        for (size_t i = 0; i < len; i += 3) {
            uint8_t b = 0;
            vigil_unhex(s + i, 1, &b); /* checked by simple_alts() */
            vs_set_add(set, b);
            if ((flags & VS_HEX_NOCASE) && is_alpha(b))
                vs_set_add(set, other_case(b));
        }
        if (neg)
            for (int k = 0; k < 4; k++)
                set->w[k] = ~set->w[k];
        struct vs_tok t = {.kind = VS_TK_BYTE, .arg = si};
        if ((r = push_tok(st, &t)) < 0)
            return r;
        if (flags & VS_HEX_WIDE) {
            struct vs_tok z = {
                .kind = VS_TK_BYTE, .mask = 0xff, .val = 0, .arg = VS_NONE};
            return push_tok(st, &z);
        }
        return 0;
    }
    size_t ww = (flags & VS_HEX_WIDE) ? width * 2 : width;
    size_t bytes;
    if (count > 65535 || ww > 4096 ||
        __builtin_mul_overflow(ww, count, &bytes) ||
        st->npool + bytes > UINT32_MAX) {
        vs_errf(e, "alternative set too large");
        return -EINVAL;
    }
    if (VS_RESERVE(st, pool, bytes) < 0)
        return -ENOMEM;
    struct vs_tok t = {
        .kind = VS_TK_MALT,
        .flag = (uint8_t)((neg ? 1 : 0) | ((flags & VS_HEX_NOCASE) ? 2 : 0)),
        .arg = (uint32_t)st->npool,
        .min = (uint32_t)ww,
        .max = (uint32_t)count};
    uint8_t *out = st->pool + st->npool;
    size_t k = 0;
    for (size_t i = 0; i < len;) {
        if (s[i] == '|') {
            i++;
            continue;
        }
        uint8_t b = 0;
        vigil_unhex(s + i, 1, &b); /* checked by simple_alts() */
        out[k++] = b;
        if (flags & VS_HEX_WIDE)
            out[k++] = 0;
        i += 2;
    }
    st->npool += bytes;
    return push_tok(st, &t);
}

/* Parser state of one hex signature. */
struct hexp {
    struct vs_store *st;
    const char *s;
    size_t len, i;
    unsigned flags;
    size_t first;     /* first token of the signature */
    size_t galt;      /* GOPEN token of the open generic alternation */
    size_t alt_first; /* first token of the current alternative */
    bool in_galt;
    struct vs_err *e;
};

/* A byte: two hex digits, either of which may be '?'. */
static int hp_byte(struct hexp *h)
{
    const char *s = h->s;
    size_t i = h->i;

    if (i + 1 >= h->len) {
        vs_errf(h->e, "odd number of hex digits at column %zu", i + 1);
        return -EINVAL;
    }
    char c = s[i], d = s[i + 1];
    int hi = vigil_hexval(c), lo = vigil_hexval(d);
    uint8_t mask, val;
    if (c == '?' && d == '?') {
        mask = 0;
        val = 0;
    } else if (c == '?' && lo >= 0) {
        mask = 0x0f;
        val = (uint8_t)lo;
    } else if (hi >= 0 && d == '?') {
        mask = 0xf0;
        val = (uint8_t)(hi << 4);
    } else if (hi >= 0 && lo >= 0) {
        mask = 0xff;
        val = (uint8_t)(hi << 4 | lo);
    } else {
        vs_errf(h->e, "bad hex byte '%c%c' at column %zu", c, d, i + 1);
        return -EINVAL;
    }
    h->i += 2;
    return push_byte(h->st, mask, val, h->flags);
}

/* '*', {n-m} or [n-m]. */
static int hp_gap(struct hexp *h)
{
    struct vs_store *st = h->st;
    char c = h->s[h->i];
    struct vs_tok t = {.kind = VS_TK_GAP, .min = 0, .max = VS_INF};

    if (c == '*') {
        if (h->in_galt) {
            vs_errf(h->e, "'*' inside alternatives at column %zu", h->i + 1);
            return -EINVAL;
        }
        h->i++;
        return push_tok(st, &t);
    }
    char close = c == '{' ? '}' : ']';
    const char *in = h->s + h->i + 1;
    const char *end = memchr(in, close, h->len - h->i - 1);
    if (end == NULL ||
        parse_range(in, (size_t)(end - in), &t.min, &t.max) < 0 ||
        (c == '[' && t.max == VS_INF)) {
        vs_errf(h->e, "bad range at column %zu", h->i + 1);
        return -EINVAL;
    }
    if (h->in_galt && t.max == VS_INF) {
        vs_errf(h->e, "unbounded range inside alternatives");
        return -EINVAL;
    }
    /* aa[x-y]HEXSIG: clamscan takes the offset as HEXSIG's. */
    if (c == '[' && st->ntoks - h->first == 1 &&
        st->toks[h->first].kind == VS_TK_BYTE)
        st->hex_ref = (uint32_t)st->ntoks + 1;
    h->i = (size_t)(end - h->s) + 1;
    return push_tok(st, &t);
}

/* '(' or '!(': a special (B) (L) (W), fixed-width alternatives, or the
 * start of a generic alternation. */
static int hp_group(struct hexp *h)
{
    bool neg = h->s[h->i] == '!';
    size_t open = neg ? h->i + 1 : h->i;
    int r;

    if (open >= h->len || h->s[open] != '(') {
        vs_errf(h->e, "'!' must precede '(' at column %zu", h->i + 1);
        return -EINVAL;
    }
    if (h->in_galt) {
        vs_errf(h->e, "nested '(' at column %zu", open + 1);
        return -EINVAL;
    }
    const char *end = memchr(h->s + open + 1, ')', h->len - open - 1);
    if (end == NULL) {
        vs_errf(h->e, "unterminated '(' at column %zu", open + 1);
        return -EINVAL;
    }
    const char *in = h->s + open + 1;
    size_t inlen = (size_t)(end - in);
    size_t width, count;
    if (inlen == 1 && !neg && (in[0] == 'B' || in[0] == 'L' || in[0] == 'W')) {
        struct vs_tok t = {.kind = VS_TK_SPECIAL,
                           .flag = (uint8_t)(in[0] == 'B'   ? VS_SP_B
                                             : in[0] == 'L' ? VS_SP_L
                                                            : VS_SP_W)};
        h->i = (size_t)(end - h->s) + 1;
        return push_tok(h->st, &t);
    }
    if (simple_alts(in, inlen, &width, &count)) {
        h->i = (size_t)(end - h->s) + 1;
        return push_alts(h->st, in, inlen, width, count, neg, h->flags, h->e);
    }
    if (neg) {
        vs_errf(h->e, "negation needs fixed-length alternatives at column %zu",
                h->i + 1);
        return -EINVAL;
    }
    struct vs_tok t = {.kind = VS_TK_GOPEN};
    h->galt = h->st->ntoks;
    if ((r = push_tok(h->st, &t)) < 0)
        return r;
    h->in_galt = true;
    h->alt_first = h->st->ntoks;
    h->i = open + 1;
    return 0;
}

/* '|' or ')' of a generic alternation. */
static int hp_bar(struct hexp *h)
{
    struct vs_store *st = h->st;
    char c = h->s[h->i];
    int r;

    if (!h->in_galt) {
        vs_errf(h->e, "unexpected '%c' at column %zu", c, h->i + 1);
        return -EINVAL;
    }
    if (st->ntoks == h->alt_first) {
        vs_errf(h->e, "empty alternative at column %zu", h->i + 1);
        return -EINVAL;
    }
    struct vs_tok t = {.kind = c == '|' ? VS_TK_GBAR : VS_TK_GCLOSE};
    if ((r = push_tok(st, &t)) < 0)
        return r;
    if (c == ')') {
        st->toks[h->galt].max = (uint32_t)(st->ntoks - 1 - h->galt);
        h->in_galt = false;
    }
    h->alt_first = st->ntoks;
    h->i++;
    return 0;
}

int vs_hex_parse(struct vs_store *st, const char *s, size_t len, unsigned flags,
                 uint32_t *tok, uint32_t *ntok, struct vs_err *e)
{
    struct hexp h = {.st = st,
                     .s = s,
                     .len = len,
                     .i = 0,
                     .flags = flags,
                     .first = st->ntoks,
                     .galt = 0,
                     .alt_first = 0,
                     .in_galt = false,
                     .e = e};
    int r;

    st->hex_ref = VS_NONE;
    if (VS_RESERVE(st, toks, len / 2 + 4) < 0)
        return -ENOMEM;
    if (len == 0) {
        vs_errf(e, "empty hex signature");
        return -EINVAL;
    }
    while (h.i < len) {
        char c = s[h.i];
        if (vigil_hexval(c) >= 0 || c == '?')
            r = hp_byte(&h);
        else if (c == '*' || c == '{' || c == '[')
            r = hp_gap(&h);
        else if (c == '!' || c == '(')
            r = hp_group(&h);
        else if (c == '|' || c == ')')
            r = hp_bar(&h);
        else {
            vs_errf(e, "unexpected character '%c' at column %zu", c, h.i + 1);
            r = -EINVAL;
        }
        if (r < 0)
            return r;
        if (st->ntoks - h.first > VS_MAX_TOKS) {
            vs_errf(e, "signature too long");
            return -EINVAL;
        }
    }
    if (h.in_galt) {
        vs_errf(e, "unterminated alternatives");
        return -EINVAL;
    }
    *tok = (uint32_t)h.first;
    *ntok = (uint32_t)(st->ntoks - h.first);
    return 0;
}

int vs_offset_parse(const char *s, size_t len, struct vs_offset *o,
                    struct vs_err *e)
{
    memset(o, 0, sizeof *o);
    if (len == 1 && s[0] == '*') {
        o->kind = VS_OFF_ANY;
        return 0;
    }
    const char *comma = memchr(s, ',', len);
    size_t blen = comma ? (size_t)(comma - s) : len;
    uint64_t shift = 0;
    if (comma && vs_parse_u64(comma + 1, len - blen - 1, &shift) < 0) {
        vs_errf(e, "bad offset shift '%.*s'", (int)(len - blen - 1), comma + 1);
        return -EINVAL;
    }
    o->shift = shift;
    if (blen > 4 && memcmp(s, "EOF-", 4) == 0) {
        o->kind = VS_OFF_EOF;
        if (vs_parse_u64(s + 4, blen - 4, &o->off) < 0) {
            vs_errf(e, "bad offset '%.*s'", (int)blen, s);
            return -EINVAL;
        }
        return 0;
    }
    if (vs_parse_u64(s, blen, &o->off) == 0) {
        o->kind = VS_OFF_ABS;
        return 0;
    }
    if ((blen >= 2 && memcmp(s, "EP", 2) == 0) || (blen >= 1 && s[0] == 'S') ||
        (blen >= 2 && memcmp(s, "VI", 2) == 0)) {
        vs_errf(e,
                "offset '%.*s' needs an executable-format parser "
                "(not supported)",
                (int)blen, s);
        return -EINVAL;
    }
    if (blen >= 1 && s[0] == '$') {
        vs_errf(e, "macro offset '%.*s' is not supported", (int)blen, s);
        return -EINVAL;
    }
    vs_errf(e, "bad offset '%.*s'", (int)len, s);
    return -EINVAL;
}
