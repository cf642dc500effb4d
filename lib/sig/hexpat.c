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

int vs_hex_parse(struct vs_store *st, const char *s, size_t len, unsigned flags,
                 uint32_t *tok, uint32_t *ntok, struct vs_err *e)
{
    size_t first = st->ntoks;
    size_t i = 0, galt = 0, alt_first = 0;
    bool in_galt = false;
    int r;

    st->hex_ref = VS_NONE;
    if (VS_RESERVE(st, toks, len / 2 + 4) < 0)
        return -ENOMEM;
    if (len == 0) {
        vs_errf(e, "empty hex signature");
        return -EINVAL;
    }
    while (i < len) {
        char c = s[i];
        if (vigil_hexval(c) >= 0 || c == '?') {
            if (i + 1 >= len) {
                vs_errf(e, "odd number of hex digits at column %zu", i + 1);
                return -EINVAL;
            }
            char d = s[i + 1];
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
                vs_errf(e, "bad hex byte '%c%c' at column %zu", c, d, i + 1);
                return -EINVAL;
            }
            if ((r = push_byte(st, mask, val, flags)) < 0)
                return r;
            i += 2;
            continue;
        }
        switch (c) {
        case '*': {
            if (in_galt) {
                vs_errf(e, "'*' inside alternatives at column %zu", i + 1);
                return -EINVAL;
            }
            struct vs_tok t = {.kind = VS_TK_GAP, .min = 0, .max = VS_INF};
            if ((r = push_tok(st, &t)) < 0)
                return r;
            i++;
            break;
        }
        case '{':
        case '[': {
            char close = c == '{' ? '}' : ']';
            const char *end = memchr(s + i + 1, close, len - i - 1);
            uint32_t lo = 0, hi = 0;
            if (end == NULL ||
                parse_range(s + i + 1, (size_t)(end - s - i - 1), &lo, &hi) <
                    0 ||
                (c == '[' && hi == VS_INF)) {
                vs_errf(e, "bad range at column %zu", i + 1);
                return -EINVAL;
            }
            if (in_galt && hi == VS_INF) {
                vs_errf(e, "unbounded range inside alternatives");
                return -EINVAL;
            }
            /* aa[x-y]HEXSIG: clamscan takes the offset as HEXSIG's. */
            if (c == '[' && st->ntoks - first == 1 &&
                st->toks[first].kind == VS_TK_BYTE)
                st->hex_ref = (uint32_t)st->ntoks + 1;
            struct vs_tok t = {.kind = VS_TK_GAP, .min = lo, .max = hi};
            if ((r = push_tok(st, &t)) < 0)
                return r;
            i = (size_t)(end - s) + 1;
            break;
        }
        case '!':
        case '(': {
            bool neg = c == '!';
            size_t open = neg ? i + 1 : i;
            if (open >= len || s[open] != '(') {
                vs_errf(e, "'!' must precede '(' at column %zu", i + 1);
                return -EINVAL;
            }
            if (in_galt) {
                vs_errf(e, "nested '(' at column %zu", open + 1);
                return -EINVAL;
            }
            const char *end = memchr(s + open + 1, ')', len - open - 1);
            if (end == NULL) {
                vs_errf(e, "unterminated '(' at column %zu", open + 1);
                return -EINVAL;
            }
            const char *in = s + open + 1;
            size_t inlen = (size_t)(end - in);
            size_t width, count;
            if (inlen == 1 && !neg &&
                (in[0] == 'B' || in[0] == 'L' || in[0] == 'W')) {
                struct vs_tok t = {.kind = VS_TK_SPECIAL,
                                   .flag = (uint8_t)(in[0] == 'B'   ? VS_SP_B
                                                     : in[0] == 'L' ? VS_SP_L
                                                                    : VS_SP_W)};
                if ((r = push_tok(st, &t)) < 0)
                    return r;
                i = (size_t)(end - s) + 1;
            } else if (simple_alts(in, inlen, &width, &count)) {
                if ((r = push_alts(st, in, inlen, width, count, neg, flags,
                                   e)) < 0)
                    return r;
                i = (size_t)(end - s) + 1;
            } else {
                if (neg) {
                    vs_errf(e,
                            "negation needs fixed-length alternatives "
                            "at column %zu",
                            i + 1);
                    return -EINVAL;
                }
                struct vs_tok t = {.kind = VS_TK_GOPEN};
                galt = st->ntoks;
                if ((r = push_tok(st, &t)) < 0)
                    return r;
                in_galt = true;
                alt_first = st->ntoks;
                i = open + 1;
            }
            break;
        }
        case '|':
        case ')': {
            if (!in_galt) {
                vs_errf(e, "unexpected '%c' at column %zu", c, i + 1);
                return -EINVAL;
            }
            if (st->ntoks == alt_first) {
                vs_errf(e, "empty alternative at column %zu", i + 1);
                return -EINVAL;
            }
            struct vs_tok t = {.kind = c == '|' ? VS_TK_GBAR : VS_TK_GCLOSE};
            if ((r = push_tok(st, &t)) < 0)
                return r;
            if (c == ')') {
                st->toks[galt].max = (uint32_t)(st->ntoks - 1 - galt);
                in_galt = false;
            }
            alt_first = st->ntoks;
            i++;
            break;
        }
        default:
            vs_errf(e, "unexpected character '%c' at column %zu", c, i + 1);
            return -EINVAL;
        }
        if (st->ntoks - first > VS_MAX_TOKS) {
            vs_errf(e, "signature too long");
            return -EINVAL;
        }
    }
    if (in_galt) {
        vs_errf(e, "unterminated alternatives");
        return -EINVAL;
    }
    *tok = (uint32_t)first;
    *ntok = (uint32_t)(st->ntoks - first);
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
