/* Logical signatures (.ldb):
 *   Name;TargetDescriptionBlock;LogicalExpression;Subsig0;Subsig1;...
 * The expression is compiled to reverse Polish notation with an explicit
 * operator stack (no recursion). */
#include <errno.h>
#include <string.h>

#include "sig/sig-int.h"

#define LDB_MAX_SUBS 64
#define LDB_MAX_EXPR 1024

static int parse_range64(const char *s, size_t len, uint64_t *lo, uint64_t *hi)
{
    const char *dash = memchr(s, '-', len);

    if (dash == NULL) {
        if (vs_parse_u64(s, len, lo) < 0)
            return -EINVAL;
        *hi = *lo;
        return 0;
    }
    size_t l1 = (size_t)(dash - s);
    if (vs_parse_u64(s, l1, lo) < 0 ||
        vs_parse_u64(dash + 1, len - l1 - 1, hi) < 0 || *lo > *hi)
        return -EINVAL;
    return 0;
}

/* Target description block: Engine, Target, FileSize are understood; the
 * rest needs ClamAV's file-type parsers. */
static int parse_tdb(const char *s, size_t len, struct vs_ldb *l,
                     struct vs_err *e)
{
    size_t i = 0;
    bool have_target = false;

    l->fs_min = 0;
    l->fs_max = UINT64_MAX;
    while (i < len) {
        const char *kv = s + i;
        const char *end = memchr(kv, ',', len - i);
        size_t kvlen = end ? (size_t)(end - kv) : len - i;
        const char *colon = memchr(kv, ':', kvlen);
        if (colon == NULL) {
            vs_errf(e, "bad target description '%.*s'", (int)kvlen, kv);
            return -EINVAL;
        }
        size_t klen = (size_t)(colon - kv);
        const char *v = colon + 1;
        size_t vlen = kvlen - klen - 1;
        uint64_t lo, hi;
        if (klen == 6 && memcmp(kv, "Target", 6) == 0) {
            if (vs_parse_u64(v, vlen, &lo) < 0 || lo > 255) {
                vs_errf(e, "bad Target '%.*s'", (int)vlen, v);
                return -EINVAL;
            }
            l->target = (uint8_t)lo;
            have_target = true;
        } else if (klen == 6 && memcmp(kv, "Engine", 6) == 0) {
            if (parse_range64(v, vlen, &lo, &hi) < 0) {
                vs_errf(e, "bad Engine range '%.*s'", (int)vlen, v);
                return -EINVAL;
            }
        } else if (klen == 8 && memcmp(kv, "FileSize", 8) == 0) {
            if (parse_range64(v, vlen, &l->fs_min, &l->fs_max) < 0) {
                vs_errf(e, "bad FileSize range '%.*s'", (int)vlen, v);
                return -EINVAL;
            }
        } else {
            vs_errf(e,
                    "target description '%.*s' needs a file-type parser "
                    "(not supported)",
                    (int)klen, kv);
            return -EINVAL;
        }
        i += kvlen + 1;
    }
    if (!have_target) {
        vs_errf(e, "target description lacks Target");
        return -EINVAL;
    }
    return 0;
}

static int push_rpn(struct vs_store *st, uint8_t op, uint32_t a, uint32_t b)
{
    if (st->nrpn >= UINT32_MAX - 1)
        return -E2BIG;
    if (VS_RESERVE(st, rpn, 1) < 0)
        return -ENOMEM;
    st->rpn[st->nrpn++] = (struct vs_rpn){.op = op, .a = a, .b = b};
    return 0;
}

static size_t scan_num(const char *s, size_t len, size_t i, uint64_t *v)
{
    size_t j = i;
    while (j < len && s[j] >= '0' && s[j] <= '9')
        j++;
    if (j == i || vs_parse_u64(s + i, j - i, v) < 0)
        return 0;
    return j - i;
}

/* Shunting-yard: '&' and '|' have equal precedence and associate to the
 * left; modifiers (=X[,Y], >X[,Y], <X[,Y]) are postfix on the operand or
 * group just completed. */
/* Pop operators down to the innermost '(' (left on the stack) into RPN. */
static int pop_ops(struct vs_store *st, const char *ops, size_t *nops,
                   long *depth)
{
    int r;

    while (*nops > 0 && ops[*nops - 1] != '(') {
        char o = ops[--*nops];
        if ((r = push_rpn(st, o == '&' ? VS_OP_AND : VS_OP_OR, 0, 0)) < 0)
            return r;
        (*depth)--;
    }
    return 0;
}

/* A count modifier at s[*i] ('=', '>' or '<'): X or X,Y. */
static int parse_count(struct vs_store *st, const char *s, size_t len,
                       size_t *i, struct vs_ldb *l, struct vs_err *e)
{
    char c = s[(*i)++];
    uint64_t x, y = VS_NONE;
    size_t n;

    if ((n = scan_num(s, len, *i, &x)) == 0 || x >= VS_NONE) {
        vs_errf(e, "bad count after '%c'", c);
        return -EINVAL;
    }
    *i += n;
    if (*i < len && s[*i] == ',') {
        (*i)++;
        if ((n = scan_num(s, len, *i, &y)) == 0 || y >= VS_NONE) {
            vs_errf(e, "bad count after ','");
            return -EINVAL;
        }
        *i += n;
    }
    uint8_t op = c == '=' ? VS_OP_EQ : c == '>' ? VS_OP_GT : VS_OP_LT;
    l->plain = 0;
    if (op != VS_OP_GT)
        l->monotone = 0;
    return push_rpn(st, op, (uint32_t)x, (uint32_t)y);
}

static int parse_expr(struct vs_store *st, const char *s, size_t len,
                      uint32_t nsub, struct vs_ldb *l, struct vs_err *e)
{
    char ops[LDB_MAX_EXPR];
    size_t nops = 0;
    bool want_operand = true;
    long depth = 0; /* evaluation stack depth, to validate */
    size_t first = st->nrpn;
    int r;

    if (len == 0 || len > LDB_MAX_EXPR) {
        vs_errf(e, "bad logical expression length");
        return -EINVAL;
    }
    l->monotone = 1;
    l->plain = 1;
    for (size_t i = 0; i < len;) {
        char c = s[i];
        uint64_t v;
        size_t n;
        if (want_operand && c == '(') {
            ops[nops++] = '(';
            i++;
        } else if (want_operand) {
            if ((n = scan_num(s, len, i, &v)) == 0 || v >= nsub) {
                vs_errf(e, "bad subsignature index at expression column %zu",
                        i + 1);
                return -EINVAL;
            }
            if ((r = push_rpn(st, VS_OP_SUB, (uint32_t)v, VS_NONE)) < 0)
                return r;
            depth++;
            i += n;
            want_operand = false;
        } else if (c == '=' || c == '>' || c == '<') {
            if ((r = parse_count(st, s, len, &i, l, e)) < 0)
                return r;
        } else if (c == '&' || c == '|') {
            if ((r = pop_ops(st, ops, &nops, &depth)) < 0)
                return r;
            ops[nops++] = c;
            want_operand = true;
            i++;
        } else if (c == ')') {
            if ((r = pop_ops(st, ops, &nops, &depth)) < 0)
                return r;
            if (nops == 0) {
                vs_errf(e, "unbalanced ')' in logical expression");
                return -EINVAL;
            }
            nops--;
            i++;
        } else {
            vs_errf(e, "unexpected '%c' in logical expression", c);
            return -EINVAL;
        }
    }
    if (want_operand) {
        vs_errf(e, "logical expression ends with an operator");
        return -EINVAL;
    }
    if ((r = pop_ops(st, ops, &nops, &depth)) < 0)
        return r;
    if (nops > 0) {
        vs_errf(e, "unbalanced '(' in logical expression");
        return -EINVAL;
    }
    if (depth != 1) {
        vs_errf(e, "malformed logical expression");
        return -EINVAL;
    }
    l->rpn = (uint32_t)first;
    l->nrpn = (uint32_t)(st->nrpn - first);
    return 0;
}

/* One subsignature: [offset:]hex[::modifiers]. */
static int parse_sub(struct vs_store *st, const char *s, size_t len,
                     uint32_t gsub, uint8_t target, struct vs_err *e)
{
    unsigned flags = 0;
    bool fullword = false, ascii = false, wide = false;
    struct vs_offset off = {.kind = VS_OFF_ANY};
    int r;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == '/' || s[i] == '$' || s[i] == '#' ||
            (s[i] == '(' && i + 1 < len &&
             (s[i + 1] == '>' || s[i + 1] == '<'))) {
            vs_errf(e, "PCRE, macro and byte-compare subsignatures are not "
                       "supported");
            return -EINVAL;
        }
    }
    for (size_t i = 0; i + 1 < len; i++) {
        if (s[i] == ':' && s[i + 1] == ':') {
            for (size_t k = i + 2; k < len; k++) {
                switch (s[k]) {
                case 'i':
                    flags |= VS_HEX_NOCASE;
                    break;
                case 'w':
                    wide = true;
                    break;
                case 'a':
                    ascii = true;
                    break;
                case 'f':
                    fullword = true;
                    break;
                default:
                    vs_errf(e, "unknown subsignature modifier '%c'", s[k]);
                    return -EINVAL;
                }
            }
            len = i;
            break;
        }
    }
    const char *colon = memchr(s, ':', len);
    if (colon) {
        size_t olen = (size_t)(colon - s);
        if ((r = vs_offset_parse(s, olen, &off, e)) < 0)
            return r;
        len -= olen + 1;
        s = colon + 1;
    }
    /* ::w alone is wide only; ::wa both; ::a or nothing plain. */
    int variants = wide && ascii ? 2 : 1;
    for (int v = 0; v < variants; v++) {
        unsigned fl = flags | (wide && v == 0 ? VS_HEX_WIDE : 0);
        uint32_t tok = (uint32_t)st->ntoks, ntok, t2, n2;
        struct vs_tok w = {.kind = VS_TK_SPECIAL, .flag = VS_SP_W};
        if (fullword) {
            if (VS_RESERVE(st, toks, 1) < 0)
                return -ENOMEM;
            st->toks[st->ntoks++] = w;
        }
        if ((r = vs_hex_parse(st, s, len, fl, &t2, &n2, e)) < 0)
            return r;
        if (fullword) {
            if (VS_RESERVE(st, toks, 1) < 0)
                return -ENOMEM;
            st->toks[st->ntoks++] = w;
        }
        ntok = (uint32_t)(st->ntoks - tok);
        if ((r = vs_add_msig(st, tok, ntok, &off, gsub, true, target, NULL)) <
            0)
            return r;
    }
    return 0;
}

int vs_parse_ldb_line(struct vs_store *st, const char *s, size_t len,
                      struct vs_err *e)
{
    const char *f[3 + LDB_MAX_SUBS];
    size_t fl[3 + LDB_MAX_SUBS];
    int n = 0;
    size_t start = 0;
    int r;

    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == ';') {
            if (n == 3 + LDB_MAX_SUBS) {
                vs_errf(e, "more than %d subsignatures", LDB_MAX_SUBS);
                return -EINVAL;
            }
            f[n] = s + start;
            fl[n] = i - start;
            n++;
            start = i + 1;
        }
    }
    if (n < 4) {
        vs_errf(e, "expected Name;TargetDescription;Expression;Subsig0...");
        return -EINVAL;
    }
    uint32_t nsub = (uint32_t)(n - 3);
    for (uint32_t k = 0; k < nsub; k++) {
        if (fl[3 + k] == 0) {
            vs_errf(e, "empty subsignature %u", k);
            return -EINVAL;
        }
    }
    struct vs_ldb l;
    memset(&l, 0, sizeof l);
    if ((r = parse_tdb(f[1], fl[1], &l, e)) < 0)
        return r;
    if ((r = parse_expr(st, f[2], fl[2], nsub, &l, e)) < 0)
        return r;
    if (st->nldbs >= UINT32_MAX - 1 || st->nsubs + nsub >= UINT32_MAX - 1)
        return -E2BIG;
    uint32_t ldb = (uint32_t)st->nldbs;
    l.sub = (uint32_t)st->nsubs;
    l.nsub = nsub;
    if (VS_RESERVE(st, subs, nsub) < 0)
        return -ENOMEM;
    for (uint32_t k = 0; k < nsub; k++) {
        if ((r = parse_sub(st, f[3 + k], fl[3 + k], l.sub + k, l.target, e)) <
            0) {
            if (r == -EINVAL) {
                char tmp[sizeof e->msg];
                memcpy(tmp, e->msg, sizeof tmp);
                vs_errf(e, "subsignature %u: %s", k, tmp);
            }
            return r;
        }
        st->subs[st->nsubs++] = ldb;
    }
    uint32_t id;
    if ((r = vs_add_named_sig(st, f[0], fl[0], VSIG_MATCH_LOGICAL, l.target,
                              &id, e)) < 0)
        return r;
    st->sigs[id].ldb = ldb;
    l.sig = id;
    if (VS_RESERVE(st, ldbs, 1) < 0)
        return -ENOMEM;
    st->ldbs[st->nldbs++] = l;
    return 0;
}
