/* minisign public keys and signatures, verified with libsodium (see
 * vigil/update.h).
 *
 * minisign's formats: a public key file is an untrusted comment line and
 * the base64 of "Ed" || key id (8) || Ed25519 public key (32). A signature
 * file has four lines: an untrusted comment; the base64 of the algorithm
 * ("ED": the signature covers BLAKE2b-512 of the data, minisign's default;
 * "Ed": the data itself) || key id (8) || signature (64); "trusted comment:
 * " and the comment; the base64 of a second signature, by the same key,
 * over the first signature followed by the comment.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "vigil/update.h"
#include "vigil/errf.h"

#define fail(...) vigil_errf(-EINVAL, __VA_ARGS__)

void vupd_key_id_hex(const uint8_t id[8], char out[17])
{
    static const char hex[] = "0123456789ABCDEF";
    for (int i = 0; i < 8; i++) {
        out[2 * i] = hex[id[7 - i] >> 4];
        out[2 * i + 1] = hex[id[7 - i] & 15];
    }
    out[16] = '\0';
}

/* Line @i (0-based) of @text: its start and length, without "\r\n". */
static bool line(const char *text, size_t len, unsigned i, const char **s,
                 size_t *n)
{
    size_t off = 0;
    for (unsigned k = 0; k < i; k++) {
        const char *nl = memchr(text + off, '\n', len - off);
        if (nl == NULL)
            return false;
        off = (size_t)(nl - text) + 1;
    }
    if (off > len)
        return false;
    const char *nl = memchr(text + off, '\n', len - off);
    *s = text + off;
    *n = nl ? (size_t)(nl - *s) : len - off;
    if (*n > 0 && (*s)[*n - 1] == '\r')
        (*n)--;
    return true;
}

static bool b64(const char *s, size_t n, uint8_t *out, size_t want)
{
    size_t got;
    return n > 0 && n < 256 &&
           sodium_base642bin(out, want, s, n, NULL, &got, NULL,
                             sodium_base64_VARIANT_ORIGINAL) == 0 &&
           got == want;
}

int vupd_key_parse(const char *text, size_t len, struct vupd_key *out,
                   char *err, size_t errlen)
{
    if (sodium_init() < 0)
        return fail(err, errlen, "libsodium cannot start");
    const char *s;
    size_t n;
    uint8_t raw[42];
    /* The key file, or the base64 line alone. */
    unsigned i = len > 19 && !memcmp(text, "untrusted comment: ", 19) ? 1 : 0;
    if (!line(text, len, i, &s, &n) || !b64(s, n, raw, sizeof raw))
        return fail(err, errlen, "not a minisign public key");
    if (raw[0] != 'E' || raw[1] != 'd')
        return fail(err, errlen, "not an Ed25519 minisign key");
    memcpy(out->id, raw + 2, 8);
    memcpy(out->pk, raw + 10, 32);
    return 0;
}

int vupd_sig_parse(const char *text, size_t len, struct vupd_sig *out,
                   char *err, size_t errlen)
{
    static const char tc[] = "trusted comment: ";
    const char *s;
    size_t n;
    uint8_t raw[74];
    memset(out, 0, sizeof *out);
    if (sodium_init() < 0)
        return fail(err, errlen, "libsodium cannot start");
    if (len > VUPD_SIG_TEXT_MAX || !line(text, len, 0, &s, &n) || n < 19 ||
        memcmp(s, "untrusted comment: ", 19) != 0)
        return fail(err, errlen, "not a minisign signature");
    if (!line(text, len, 1, &s, &n) || !b64(s, n, raw, sizeof raw))
        return fail(err, errlen,
                    "the signature line is not base64 of 74 "
                    "bytes");
    if (raw[0] != 'E' || (raw[1] != 'D' && raw[1] != 'd'))
        return fail(err, errlen, "unknown signature algorithm");
    out->prehashed = raw[1] == 'D';
    memcpy(out->key_id, raw + 2, 8);
    memcpy(out->sig, raw + 10, 64);
    if (!line(text, len, 2, &s, &n) || n < sizeof tc - 1 ||
        memcmp(s, tc, sizeof tc - 1) != 0 ||
        n - (sizeof tc - 1) > VUPD_COMMENT_MAX)
        return fail(err, errlen, "no trusted comment");
    memcpy(out->comment, s + sizeof tc - 1, n - (sizeof tc - 1));
    if (memchr(out->comment, '\0', n - (sizeof tc - 1)) != NULL)
        return fail(err, errlen, "a NUL in the trusted comment");
    if (!line(text, len, 3, &s, &n) ||
        !b64(s, n, out->global_sig, sizeof out->global_sig))
        return fail(err, errlen, "no global signature");
    /* Nothing but an end of line may follow. */
    const char *rest;
    size_t rn;
    if (line(text, len, 4, &rest, &rn) &&
        (rn != 0 || (size_t)(rest - text) + rn < len))
        return fail(err, errlen, "text after the signature");
    return 0;
}

enum vupd_reason vupd_check_sig(const struct vupd_sig *sig,
                                const struct vupd_key *keys, size_t nkeys,
                                struct vupd_claim *claim, size_t *key_index,
                                char *err, size_t errlen)
{
    size_t k = 0;
    while (k < nkeys && memcmp(keys[k].id, sig->key_id, 8) != 0)
        k++;
    if (k == nkeys) {
        char id[17];
        vupd_key_id_hex(sig->key_id, id);
        fail(err, errlen, "signed by key %s, which is not trusted", id);
        return VUPD_UNKNOWN_KEY;
    }
    /* The trusted comment is signed with the signature it follows. */
    size_t clen = strlen(sig->comment);
    uint8_t msg[64 + VUPD_COMMENT_MAX];
    memcpy(msg, sig->sig, 64);
    memcpy(msg + 64, sig->comment, clen);
    if (crypto_sign_verify_detached(sig->global_sig, msg, 64 + clen,
                                    keys[k].pk) != 0) {
        fail(err, errlen, "the trusted comment's signature does not verify");
        return VUPD_BAD_SIGNATURE;
    }
    if (vupd_claim_parse(sig->comment, claim) < 0) {
        fail(err, errlen,
             "trusted comment is not 'vigil-update db=... version=... "
             "kind=... base=... size=... frag=... fraghash=...'");
        return VUPD_COMMENT;
    }
    *key_index = k;
    return VUPD_OK;
}

enum vupd_reason vupd_verify(const struct vupd_bundle *b,
                             const struct vupd_key *keys, size_t nkeys,
                             size_t *key_index, char *err, size_t errlen)
{
    struct vupd_sig sig;
    if (vupd_sig_parse(b->sig_text, b->sig_len, &sig, err, errlen) < 0)
        return VUPD_SIG_MALFORMED;
    struct vupd_claim c;
    enum vupd_reason r =
        vupd_check_sig(&sig, keys, nkeys, &c, key_index, err, errlen);
    if (r != VUPD_OK)
        return r;
    const struct vupd_header *h = &b->h;
    /* The statement must be this bundle's before the payload is hashed. */
    if (strcmp(c.db_id, h->db_id) != 0 || c.version != h->version ||
        c.kind != h->kind || c.base != h->base || c.size != h->payload_len) {
        fail(err, errlen, "the trusted comment states another bundle");
        return VUPD_COMMENT;
    }
    const struct vupd_key *key = &keys[*key_index];
    size_t len = (size_t)h->payload_len;
    int bad;
    if (sig.prehashed) {
        uint8_t digest[crypto_generichash_BYTES_MAX];
        crypto_generichash(digest, sizeof digest, b->payload, len, NULL, 0);
        bad = crypto_sign_verify_detached(sig.sig, digest, sizeof digest,
                                          key->pk);
    } else {
        bad = crypto_sign_verify_detached(sig.sig, b->payload, len, key->pk);
    }
    if (bad) {
        fail(err, errlen, "the signature does not verify");
        return VUPD_BAD_SIGNATURE;
    }
    uint8_t fh[32];
    vupd_fraghash(b->payload, len, (size_t)c.frag, fh, NULL);
    if (sodium_memcmp(fh, c.fraghash, 32) != 0) {
        fail(err, errlen,
             "the trusted comment's fragment hash is not this "
             "payload's");
        return VUPD_COMMENT;
    }
    return VUPD_OK;
}
