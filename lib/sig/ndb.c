/* Line parsers for .ndb (extended), .db (Name=hex) and .hdb/.hsb (hash)
 * signature databases. */
#include <errno.h>
#include <string.h>

#include "sig/sig-int.h"
#include "vigil/hex.h"

/* Split @s at @sep into at most @max fields; returns the count or -1 when
 * there are more. */
static int split(const char *s, size_t len, char sep, const char **f,
                 size_t *fl, int max)
{
    int n = 0;
    size_t start = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == sep) {
            if (n == max)
                return -1;
            f[n] = s + start;
            fl[n] = i - start;
            n++;
            start = i + 1;
        }
    }
    return n;
}

static int check_name(const char *s, size_t len, struct vs_err *e)
{
    if (len == 0) {
        vs_errf(e, "empty signature name");
        return -EINVAL;
    }
    if (len > 1024) {
        vs_errf(e, "signature name too long");
        return -EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c == 0x7f) {
            vs_errf(e, "bad character 0x%02x in signature name", c);
            return -EINVAL;
        }
    }
    return 0;
}

static int add_sig(struct vs_store *st, const char *name, size_t nlen,
                   uint8_t kind, uint8_t target, uint32_t *id)
{
    uint32_t off;
    int r;

    if (st->nsigs >= UINT32_MAX - 1)
        return -E2BIG;
    if ((r = vs_store_name(st, name, nlen, &off)) < 0)
        return r;
    if (VS_RESERVE(st, sigs, 1) < 0)
        return -ENOMEM;
    struct vs_sig *sg = &st->sigs[st->nsigs];
    memset(sg, 0, sizeof *sg);
    sg->name = off;
    sg->kind = kind;
    sg->target = target;
    sg->ldb = VS_NONE;
    sg->msig = VS_NONE;
    *id = (uint32_t)st->nsigs++;
    return 0;
}

/* Body signature: name, target, offset, hex text. */
static int add_body(struct vs_store *st, const char *name, size_t nlen,
                    uint8_t target, const struct vs_offset *off,
                    const char *hex, size_t hlen, struct vs_err *e)
{
    uint32_t id, tok, ntok, ms;
    int r;

    if ((r = check_name(name, nlen, e)) < 0)
        return r;
    if ((r = vs_hex_parse(st, hex, hlen, 0, &tok, &ntok, e)) < 0)
        return r;
    if ((r = add_sig(st, name, nlen, VSIG_MATCH_BODY, target, &id)) < 0)
        return r;
    if ((r = vs_add_msig(st, tok, ntok, off, id, false, target, &ms)) < 0)
        return r;
    st->sigs[id].msig = ms;
    st->sigs[id].nmsig = 1;
    st->nbody++;
    return 0;
}

static int parse_flevel(const char *s, size_t len, struct vs_err *e)
{
    uint64_t v;

    if (len == 0)
        return 0;
    if (vs_parse_u64(s, len, &v) < 0) {
        vs_errf(e, "bad functionality level '%.*s'", (int)len, s);
        return -EINVAL;
    }
    return 0;
}

int vs_parse_ndb_line(struct vs_store *st, const char *s, size_t len,
                      struct vs_err *e)
{
    const char *f[6];
    size_t fl[6];
    int n = split(s, len, ':', f, fl, 6);
    uint64_t target;
    struct vs_offset off;
    int r;

    if (n < 4) {
        vs_errf(e, "expected Name:TargetType:Offset:HexSignature"
                   "[:MinFL[:MaxFL]]");
        return -EINVAL;
    }
    if (vs_parse_u64(f[1], fl[1], &target) < 0 || target > 255) {
        vs_errf(e, "bad target type '%.*s'", (int)fl[1], f[1]);
        return -EINVAL;
    }
    for (int i = 4; i < n; i++)
        if ((r = parse_flevel(f[i], fl[i], e)) < 0)
            return r;
    if ((r = vs_offset_parse(f[2], fl[2], &off, e)) < 0)
        return r;
    return add_body(st, f[0], fl[0], (uint8_t)target, &off, f[3], fl[3], e);
}

int vs_parse_db_line(struct vs_store *st, const char *s, size_t len,
                     struct vs_err *e)
{
    const char *eq = memchr(s, '=', len);
    struct vs_offset any = {.kind = VS_OFF_ANY};

    if (eq == NULL) {
        vs_errf(e, "expected Name=HexSignature");
        return -EINVAL;
    }
    size_t nlen = (size_t)(eq - s);
    return add_body(st, s, nlen, 0, &any, eq + 1, len - nlen - 1, e);
}

int vs_parse_hash_line(struct vs_store *st, const char *s, size_t len,
                       bool md5_only, struct vs_err *e)
{
    const char *f[5];
    size_t fl[5];
    int n = split(s, len, ':', f, fl, 5);
    int algo;
    uint64_t size = UINT64_MAX;
    int r;

    (void)md5_only; /* ClamAV accepts every length in both; so do we */
    if (n < 3) {
        vs_errf(e, "expected Hash:Size:Name[:MinFL[:MaxFL]]");
        return -EINVAL;
    }
    switch (fl[0]) {
    case 32:
        algo = VS_MD5;
        break;
    case 40:
        algo = VS_SHA1;
        break;
    case 64:
        algo = VS_SHA256;
        break;
    default:
        vs_errf(e, "hash of %zu hex digits is not MD5, SHA-1 or SHA-256",
                fl[0]);
        return -EINVAL;
    }
    uint8_t dg[32] = {0};
    if (!vigil_unhex(f[0], fl[0] / 2, dg)) {
        vs_errf(e, "bad hex digit in hash");
        return -EINVAL;
    }
    if (!(fl[1] == 1 && f[1][0] == '*') &&
        vs_parse_u64(f[1], fl[1], &size) < 0) {
        vs_errf(e, "bad file size '%.*s'", (int)fl[1], f[1]);
        return -EINVAL;
    }
    if (size == UINT64_MAX && !(fl[1] == 1 && f[1][0] == '*')) {
        vs_errf(e, "file size too large");
        return -EINVAL;
    }
    for (int i = 3; i < n; i++)
        if ((r = parse_flevel(f[i], fl[i], e)) < 0)
            return r;
    if ((r = check_name(f[2], fl[2], e)) < 0)
        return r;
    uint32_t id;
    if ((r = add_sig(st, f[2], fl[2], VSIG_MATCH_HASH, 0, &id)) < 0)
        return r;
    if (vs_grow((void **)&st->hashes[algo], &st->chashes[algo],
                st->nhashes[algo], 1, sizeof(struct vs_hash)) < 0)
        return -ENOMEM;
    struct vs_hash *h = &st->hashes[algo][st->nhashes[algo]++];
    memcpy(h->digest, dg, sizeof dg);
    h->size = size;
    h->sig = id;
    return 0;
}

int vs_add_named_sig(struct vs_store *st, const char *name, size_t nlen,
                     uint8_t kind, uint8_t target, uint32_t *id,
                     struct vs_err *e)
{
    int r = check_name(name, nlen, e);
    if (r < 0)
        return r;
    return add_sig(st, name, nlen, kind, target, id);
}
