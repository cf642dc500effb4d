/* The update bundle: payload layout, entries, the trusted comment that
 * restates the payload (see vigil/update.h and docs/updates.md).
 *
 * Payload, little-endian:
 *    0  8  magic "VIGILUPD"
 *    8  2  format (1)
 *   10  1  kind (0 full, 1 delta)
 *   11  1  length of the database id
 *   12  4  number of entries
 *   16  8  version
 *   24  8  base version
 *   32  8  created (Unix time)
 *   40  8  payload length (this header to the end of the last entry)
 *   48 16  zero
 *   64     the database id, then each entry: u16 name length, the name,
 *          u32 data length, the data
 * The minisign signature text follows the payload.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "vigil/le.h"
#include "vigil/update.h"
#include "vigil/errf.h"

static const char *const reason_names[VUPD_REASONS] = {
    [VUPD_OK] = "ok",
    [VUPD_TRUNCATED] = "truncated",
    [VUPD_OVERSIZE] = "oversize",
    [VUPD_MALFORMED] = "malformed",
    [VUPD_SIG_MALFORMED] = "signature-malformed",
    [VUPD_UNKNOWN_KEY] = "unknown-key",
    [VUPD_BAD_SIGNATURE] = "bad-signature",
    [VUPD_COMMENT] = "comment-mismatch",
    [VUPD_WRONG_DB] = "wrong-database",
    [VUPD_ROLLBACK] = "rollback",
    [VUPD_REPLAY] = "replay",
    [VUPD_WRONG_BASE] = "wrong-base",
    [VUPD_BAD_BODY] = "bad-body",
    [VUPD_IO] = "io-error",
};

const char *vupd_reason_name(enum vupd_reason r)
{
    return (unsigned)r < VUPD_REASONS ? reason_names[r] : "unknown";
}

#define fail(r, ...) ((enum vupd_reason)vigil_errf((int)(r), __VA_ARGS__))

static bool dbid_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static bool dbid_ok(const char *s, size_t n)
{
    if (n == 0 || n > VUPD_DBID_MAX || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!dbid_char(s[i]))
            return false;
    return true;
}

bool vupd_name_ok(const char *name)
{
    static const char *const exts[] = {".ndb", ".hdb", ".hsb", ".ldb", ".cvd"};
    size_t n = strlen(name);
    if (!dbid_ok(name, n))
        return false; /* the same alphabet: no '/', no leading dot */
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot != NULL && i < sizeof exts / sizeof *exts; i++)
        if (!strcmp(dot, exts[i]) && dot != name)
            return true;
    return false;
}

enum vupd_reason vupd_parse(const void *buf, size_t len, size_t max,
                            struct vupd_bundle *out, char *err, size_t errlen)
{
    const uint8_t *p = buf;
    if (max == 0)
        max = VUPD_DEFAULT_MAX;
    memset(&out->h, 0, sizeof out->h);
    if (len > max)
        return fail(VUPD_OVERSIZE, err, errlen,
                    "%zu bytes, more than the %zu accepted", len, max);
    if (len < VUPD_HEADER_BYTES)
        return fail(len >= 8 && !memcmp(p, VUPD_MAGIC, 8) ? VUPD_TRUNCATED
                                                          : VUPD_MALFORMED,
                    err, errlen, "%zu bytes: shorter than a bundle header",
                    len);
    if (memcmp(p, VUPD_MAGIC, 8) != 0)
        return fail(VUPD_MALFORMED, err, errlen, "not a vigil update bundle");
    if (le16(p + 8) != VUPD_FORMAT)
        return fail(VUPD_MALFORMED, err, errlen, "bundle format %u, not %u",
                    le16(p + 8), VUPD_FORMAT);
    struct vupd_header *h = &out->h;
    unsigned kind = p[10], idlen = p[11];
    h->nentries = le32(p + 12);
    h->version = le64(p + 16);
    h->base = le64(p + 24);
    h->created = le64(p + 32);
    h->payload_len = le64(p + 40);
    for (int i = 48; i < 64; i++)
        if (p[i] != 0)
            return fail(VUPD_MALFORMED, err, errlen, "reserved header bytes");
    if (kind > VUPD_DELTA)
        return fail(VUPD_MALFORMED, err, errlen, "unknown kind %u", kind);
    h->kind = (enum vupd_kind)kind;
    if (h->version == 0 || (h->kind == VUPD_FULL && h->base != 0) ||
        (h->kind == VUPD_DELTA && h->base >= h->version))
        return fail(VUPD_MALFORMED, err, errlen,
                    "version %llu on base %llu does not make sense",
                    (unsigned long long)h->version,
                    (unsigned long long)h->base);
    if (h->nentries == 0 || h->nentries > VUPD_ENTRIES_MAX)
        return fail(VUPD_MALFORMED, err, errlen, "%u entries (1..%d)",
                    h->nentries, VUPD_ENTRIES_MAX);
    if (h->payload_len > len)
        return fail(VUPD_TRUNCATED, err, errlen,
                    "payload of %llu bytes, but %zu bytes in all",
                    (unsigned long long)h->payload_len, len);
    size_t end = (size_t)h->payload_len;
    if (VUPD_HEADER_BYTES + idlen > end ||
        !dbid_ok((const char *)p + VUPD_HEADER_BYTES, idlen))
        return fail(VUPD_MALFORMED, err, errlen, "bad database id");
    memcpy(h->db_id, p + VUPD_HEADER_BYTES, idlen);
    h->db_id[idlen] = '\0';

    size_t off = VUPD_HEADER_BYTES + idlen;
    for (uint32_t i = 0; i < h->nentries; i++) {
        struct vupd_entry *e = &out->entries[i];
        if (end - off < 2)
            return fail(VUPD_TRUNCATED, err, errlen, "entry %u cut short", i);
        size_t nlen = le16(p + off);
        off += 2;
        if (nlen == 0 || nlen > VUPD_NAME_MAX || end - off < nlen + 4)
            return fail(nlen > VUPD_NAME_MAX ? VUPD_MALFORMED : VUPD_TRUNCATED,
                        err, errlen, "entry %u: bad name length %zu", i, nlen);
        memcpy(e->name, p + off, nlen);
        e->name[nlen] = '\0';
        if (memchr(p + off, 0, nlen) != NULL || !vupd_name_ok(e->name))
            return fail(VUPD_MALFORMED, err, errlen,
                        "entry %u: '%s' is not a database file name", i,
                        e->name);
        for (uint32_t j = 0; j < i; j++)
            if (!strcmp(out->entries[j].name, e->name))
                return fail(VUPD_MALFORMED, err, errlen, "entry '%s' twice",
                            e->name);
        off += nlen;
        e->len = le32(p + off);
        off += 4;
        if (e->len > end - off)
            return fail(VUPD_TRUNCATED, err, errlen,
                        "entry '%s': %zu bytes, %zu left", e->name, e->len,
                        end - off);
        e->data = p + off;
        off += e->len;
    }
    if (off != end)
        return fail(VUPD_MALFORMED, err, errlen,
                    "%zu bytes after the last entry", end - off);
    out->payload = p;
    out->sig_text = (const char *)p + end;
    out->sig_len = len - end;
    if (out->sig_len == 0)
        return fail(VUPD_TRUNCATED, err, errlen,
                    "no signature after the "
                    "payload");
    if (out->sig_len > VUPD_SIG_TEXT_MAX)
        return fail(VUPD_MALFORMED, err, errlen,
                    "%zu bytes after the payload: not a signature",
                    out->sig_len);
    return VUPD_OK;
}

uint8_t *vupd_build(const struct vupd_header *h,
                    const struct vupd_entry *entries, size_t n, size_t *len,
                    char *err, size_t errlen)
{
    size_t idlen = strlen(h->db_id);
    if (!dbid_ok(h->db_id, idlen)) {
        fail(VUPD_MALFORMED, err, errlen,
             "database id: 1 to %d of [A-Za-z0-9._-], not starting with '.'",
             VUPD_DBID_MAX);
        return NULL;
    }
    if (n == 0 || n > VUPD_ENTRIES_MAX || h->version == 0 ||
        (h->kind == VUPD_DELTA) != (h->base != 0) ||
        (h->kind == VUPD_DELTA && h->base >= h->version)) {
        fail(VUPD_MALFORMED, err, errlen,
             "1..%d entries, a version > 0, and a base below it exactly "
             "for a delta",
             VUPD_ENTRIES_MAX);
        return NULL;
    }
    size_t total = VUPD_HEADER_BYTES + idlen;
    for (size_t i = 0; i < n; i++) {
        if (!vupd_name_ok(entries[i].name) || entries[i].len > UINT32_MAX) {
            fail(VUPD_MALFORMED, err, errlen, "'%s': not a database file",
                 entries[i].name);
            return NULL;
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(entries[i].name, entries[j].name)) {
                fail(VUPD_MALFORMED, err, errlen, "'%s' twice",
                     entries[i].name);
                return NULL;
            }
        total += 2 + strlen(entries[i].name) + 4 + entries[i].len;
    }
    if (total > VUPD_DEFAULT_MAX - VUPD_SIG_TEXT_MAX) {
        fail(VUPD_OVERSIZE, err, errlen, "%zu bytes: too large", total);
        return NULL;
    }
    uint8_t *p = calloc(1, total);
    if (p == NULL) {
        fail(VUPD_IO, err, errlen, "out of memory");
        return NULL;
    }
    memcpy(p, VUPD_MAGIC, 8);
    put_le16(p + 8, VUPD_FORMAT);
    p[10] = (uint8_t)h->kind;
    p[11] = (uint8_t)idlen;
    put_le32(p + 12, (uint32_t)n);
    put_le64(p + 16, h->version);
    put_le64(p + 24, h->base);
    put_le64(p + 32, h->created);
    put_le64(p + 40, total);
    memcpy(p + VUPD_HEADER_BYTES, h->db_id, idlen);
    size_t off = VUPD_HEADER_BYTES + idlen;
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(entries[i].name);
        put_le16(p + off, (uint16_t)nl);
        memcpy(p + off + 2, entries[i].name, nl);
        off += 2 + nl;
        put_le32(p + off, (uint32_t)entries[i].len);
        if (entries[i].len)
            memcpy(p + off + 4, entries[i].data, entries[i].len);
        off += 4 + entries[i].len;
    }
    *len = total;
    return p;
}

size_t vupd_frag_size(size_t len)
{
    for (size_t f = VUPD_FRAG_MIN; f <= VUPD_FRAG_MAX; f *= 2)
        if ((len + f - 1) / f <= VUPD_FRAGS_MAX)
            return f;
    return 0;
}

void vupd_fraghash(const uint8_t *payload, size_t len, size_t frag,
                   uint8_t out[32], uint8_t (*frags)[32])
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    for (size_t off = 0, i = 0; off < len; off += frag, i++) {
        size_t n = len - off < frag ? len - off : frag;
        uint8_t h[32];
        crypto_hash_sha256(h, payload + off, n);
        if (frags != NULL)
            memcpy(frags[i], h, 32);
        crypto_hash_sha256_update(&st, h, 32);
    }
    crypto_hash_sha256_final(&st, out);
}

int vupd_comment(const struct vupd_header *h, const uint8_t *payload, char *out,
                 size_t outlen)
{
    uint8_t fh[32];
    char hex[65];
    size_t frag = vupd_frag_size((size_t)h->payload_len);
    if (frag == 0)
        return -EFBIG;
    vupd_fraghash(payload, (size_t)h->payload_len, frag, fh, NULL);
    sodium_bin2hex(hex, sizeof hex, fh, sizeof fh);
    int n = snprintf(out, outlen,
                     "vigil-update db=%s version=%llu kind=%s base=%llu "
                     "size=%llu frag=%zu fraghash=%s",
                     h->db_id, (unsigned long long)h->version,
                     h->kind == VUPD_DELTA ? "delta" : "full",
                     (unsigned long long)h->base,
                     (unsigned long long)h->payload_len, frag, hex);
    return n > 0 && (size_t)n < outlen ? 0 : -ENOSPC;
}

/* "KEY=" at *p; the value up to the next space (or the end) into val. */
static bool field(const char **p, const char *key, char *val, size_t vallen)
{
    size_t kl = strlen(key);
    if (strncmp(*p, key, kl) != 0 || (*p)[kl] != '=')
        return false;
    const char *v = *p + kl + 1, *end = strchr(v, ' ');
    size_t n = end ? (size_t)(end - v) : strlen(v);
    if (n == 0 || n >= vallen)
        return false;
    memcpy(val, v, n);
    val[n] = '\0';
    *p = end ? end + 1 : v + n;
    return end != NULL || strcmp(key, "fraghash") == 0;
}

static bool number(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

int vupd_claim_parse(const char *comment, struct vupd_claim *out)
{
    static const char prefix[] = "vigil-update ";
    const char *p = comment;
    char val[80];
    memset(out, 0, sizeof *out);
    if (strncmp(p, prefix, sizeof prefix - 1) != 0)
        return -EINVAL;
    p += sizeof prefix - 1;
    if (!field(&p, "db", val, sizeof val) || !dbid_ok(val, strlen(val)))
        return -EINVAL;
    memcpy(out->db_id, val, strlen(val) + 1); /* dbid_ok bounds it */
    if (!field(&p, "version", val, sizeof val) || !number(val, &out->version))
        return -EINVAL;
    if (!field(&p, "kind", val, sizeof val))
        return -EINVAL;
    if (!strcmp(val, "full"))
        out->kind = VUPD_FULL;
    else if (!strcmp(val, "delta"))
        out->kind = VUPD_DELTA;
    else
        return -EINVAL;
    if (!field(&p, "base", val, sizeof val) || !number(val, &out->base) ||
        !field(&p, "size", val, sizeof val) || !number(val, &out->size) ||
        !field(&p, "frag", val, sizeof val) || !number(val, &out->frag) ||
        out->frag != vupd_frag_size((size_t)out->size) ||
        !field(&p, "fraghash", val, sizeof val) || strlen(val) != 64 ||
        *p != '\0')
        return -EINVAL;
    size_t got;
    if (sodium_hex2bin(out->fraghash, sizeof out->fraghash, val, 64, NULL, &got,
                       NULL) != 0 ||
        got != 32)
        return -EINVAL;
    return 0;
}
