/* Whole-object hashes (nettle) and the .hdb/.hsb lookup tables. */
#include <stdlib.h>
#include <string.h>

#include <nettle/md5.h>
#include <nettle/sha1.h>
#include <nettle/sha2.h>

#include "sig/sig-int.h"

struct vs_hashctx {
    unsigned algos;
    struct md5_ctx md5;
    struct sha1_ctx sha1;
    struct sha256_ctx sha256;
};

size_t vs_hashctx_size(void)
{
    return sizeof(struct vs_hashctx);
}

void vs_hashctx_init(struct vs_hashctx *h, unsigned algos)
{
    h->algos = algos;
    if (algos & (1u << VS_MD5))
        md5_init(&h->md5);
    if (algos & (1u << VS_SHA1))
        sha1_init(&h->sha1);
    if (algos & (1u << VS_SHA256))
        sha256_init(&h->sha256);
}

void vs_hashctx_update(struct vs_hashctx *h, const uint8_t *p, size_t n)
{
    if (h->algos & (1u << VS_MD5))
        md5_update(&h->md5, n, p);
    if (h->algos & (1u << VS_SHA1))
        sha1_update(&h->sha1, n, p);
    if (h->algos & (1u << VS_SHA256))
        sha256_update(&h->sha256, n, p);
}

void vs_hashctx_final(struct vs_hashctx *h, uint8_t out[][32])
{
    if (h->algos & (1u << VS_MD5))
        md5_digest(&h->md5, MD5_DIGEST_SIZE, out[VS_MD5]);
    if (h->algos & (1u << VS_SHA1))
        sha1_digest(&h->sha1, SHA1_DIGEST_SIZE, out[VS_SHA1]);
    if (h->algos & (1u << VS_SHA256))
        sha256_digest(&h->sha256, SHA256_DIGEST_SIZE, out[VS_SHA256]);
}

void vs_md5(const uint8_t *p, size_t n, uint8_t out[16])
{
    struct md5_ctx c;
    md5_init(&c);
    md5_update(&c, n, p);
    md5_digest(&c, MD5_DIGEST_SIZE, out);
}

size_t vs_hash_len(int algo)
{
    return algo == VS_MD5 ? 16 : algo == VS_SHA1 ? 20 : 32;
}

static int cmp_hash(const void *a, const void *b)
{
    const struct vs_hash *x = a, *y = b;
    int c = memcmp(x->digest, y->digest, sizeof x->digest);
    if (c)
        return c;
    return x->sig < y->sig ? -1 : x->sig > y->sig;
}

void vs_hash_sort(struct vs_hash *h, size_t n)
{
    if (n > 1)
        qsort(h, n, sizeof *h, cmp_hash);
}

const struct vs_hash *vs_hash_find(const struct vs_hash *h, size_t n, int algo,
                                   const uint8_t *digest)
{
    size_t lo = 0, hi = n;
    uint8_t key[32] = {0}; /* digests are zero-padded to 32 bytes */

    memcpy(key, digest, vs_hash_len(algo));
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(h[mid].digest, key, 32) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < n && memcmp(h[lo].digest, key, 32) == 0)
        return &h[lo];
    return NULL;
}
