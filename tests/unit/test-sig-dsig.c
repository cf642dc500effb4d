/* .cvd publisher signatures (lib/sig/dsig.c): ClamAV's own known answers
 * under ClamAV's public key (two digests it signed, and the ways its test
 * suite spoils them), and signatures made here with a test key.
 *
 * With arguments it is the test helper of tests/test-scan-cvd.sh:
 *   test-sig-dsig keygen PUB PRIV   a key pair ("N E" / "N D", decimal)
 *   test-sig-dsig sign PRIV FILE    print the dsig of MD5(FILE)
 *   test-sig-dsig cvd DSIG BODY OUT write a container: header with
 *                                   MD5(BODY) and DSIG ("-": none), BODY */
#undef NDEBUG
#include <errno.h>
#include <gmp.h>
#include <nettle/md5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsig-sign.h"
#include "sig/dsig.h"

#include "check.h"

static const struct {
    const char *md5, *dsig;
    bool ok;
} clamav[] = {
    {"ae307614434715274c60854c931a26de",
     "60uhCFmiN48J8r6c7coBv9Q1mehAWEGh6GPYA+60VhQcuXfb0iV1O+sCEyMiRXt/iYF6vXt"
     "PXHVd6DiuZ4Gfrry7sVQqNTt3o1/KwU1rc0l5FHgX/nC99fdr/fjaFtinMtRnUXHLeu0j8e"
     "6HK+7JLBpD37fZ60GC9YY86EclYGe",
     true},
    {"96b7feb3b2a863846438809fe481906f",
     "Zh5gmf09Zfj6V4gmRKu/NURzhFiE9VloI7w1G33BgDdGSs0Xhscx6sjPUpFSCPsjOalyS4L"
     "8q7RS+NdGvNCsLymiIH6RYItlOZsygFhcGuH4jt15KAaAkvEg2TwmqR8z41nUaMlZ0c8q1M"
     "XYCLvQJyFARsfzIxS3PAoN2Y3HPoe",
     true},
    /* the signatures swapped */
    {"ae307614434715274c60854c931a26de",
     "Zh5gmf09Zfj6V4gmRKu/NURzhFiE9VloI7w1G33BgDdGSs0Xhscx6sjPUpFSCPsjOalyS4L"
     "8q7RS+NdGvNCsLymiIH6RYItlOZsygFhcGuH4jt15KAaAkvEg2TwmqR8z41nUaMlZ0c8q1M"
     "XYCLvQJyFARsfzIxS3PAoN2Y3HPoe",
     false},
    /* one digit of the digest changed */
    {"ae307614434715274060854c931a26de",
     "60uhCFmiN48J8r6c7coBv9Q1mehAWEGh6GPYA+60VhQcuXfb0iV1O+sCEyMiRXt/iYF6vXt"
     "PXHVd6DiuZ4Gfrry7sVQqNTt3o1/KwU1rc0l5FHgX/nC99fdr/fjaFtinMtRnUXHLeu0j8e"
     "6HK+7JLBpD37fZ60GC9YY86EclYGe",
     false},
    /* one character of the signature changed */
    {"ae307614434715274c60854c931a26de",
     "60uhCFmiN48J8r6c7coBv9Q1mehAWEGh6GPYA+60VhQcuXfb0iV1O+sCEyMiRXt/iYF6vXt"
     "PXHVd6DiuZ4Gfrry7sVQqNTt3o1/KwU1rc0l5FHgX/nC99fdr/fjaatinMtRnUXHLeu0j8e"
     "6HK+7JLBpD37fZ60GC9YY86EclYGe",
     false},
    /* one character too many, and a truncated signature */
    {"ae307614434715274c60854c931a26de",
     "60uhCFmiN48J8r6c7coBv9Q1mehAWEGh6GPYA+60VhQcuXfb0iV1O+sCEyMiRXt/iYF6vXt"
     "PXHVd6DiuZ4Gfrry7sVQqNTt3o1/KwU1rc0l5FHgX/nC99fdr/fjaFtinMtRnUXHLeu0j8e"
     "6HK+7JLBpD37fZ60GC9YY86EclYGee",
     false},
    {"ae307614434715274c60854c931a26de",
     "60uhCFmiN48J8r6c7coBv9Q1mehAWEGh6GPYA+", false},
};

static void unhex(const char *h, uint8_t out[16])
{
    for (int i = 0; i < 16; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

static bool verifies(const char *dsig, const uint8_t md5[16], const char *key)
{
    struct vs_err e = {{0}};
    return vs_dsig_verify(dsig, strlen(dsig), md5, key, &e) == 0;
}

static void test_clamav(void)
{
    for (size_t i = 0; i < sizeof clamav / sizeof clamav[0]; i++) {
        uint8_t md5[16];
        unhex(clamav[i].md5, md5);
        CHECK(verifies(clamav[i].dsig, md5, NULL) == clamav[i].ok,
              "ClamAV's key, vector %zu: %s", i,
              clamav[i].ok ? "verifies" : "refused");
    }
}

static void test_own_key(void)
{
    struct test_key k;
    if (test_key_make(&k, 7) < 0) {
        CHECK(0, "make a test key");
        return;
    }
    uint8_t md5[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2,  3,  4,
                       5,    6,    7,    8,    9, 10, 11, 12};
    char dsig[200];
    test_dsig(&k, md5, dsig, sizeof dsig);
    CHECK(verifies(dsig, md5, k.text), "a test signature verifies with its "
                                       "key");
    CHECK(!verifies(dsig, md5, NULL), "and not with ClamAV's");
    md5[15] ^= 1;
    CHECK(!verifies(dsig, md5, k.text), "nor for another digest");
    md5[15] ^= 1;
    CHECK(!verifies("", md5, k.text), "an empty dsig is refused");
    CHECK(!verifies("abc*", md5, k.text), "a character outside the "
                                          "alphabet is refused");
    CHECK(!verifies(dsig, md5, "12345 3"), "a malformed key is refused");
    CHECK(!verifies(dsig, md5, "not a key"), "text that is not a key is "
                                             "refused");
    test_key_free(&k);
}

static int keygen(const char *pub, const char *priv)
{
    struct test_key k;
    if (test_key_make(&k, 1234) < 0)
        return 1;
    FILE *f = fopen(pub, "w"), *g = fopen(priv, "w");
    if (!f || !g)
        return 1;
    gmp_fprintf(f, "%Zd %Zd\n", k.pub.n, k.pub.e);
    gmp_fprintf(g, "%Zd %Zd\n", k.pub.n, k.priv.d);
    fclose(f);
    fclose(g);
    test_key_free(&k);
    return 0;
}

static int md5_file(const char *path, uint8_t dg[16], char **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    size_t r;
    while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap)
            b = realloc(b, cap *= 2);
    }
    fclose(f);
    if (!b)
        return -1;
    struct md5_ctx m;
    md5_init(&m);
    md5_update(&m, n, (const uint8_t *)b);
    md5_digest(&m, 16, dg);
    *data = b;
    *len = n;
    return 0;
}

static int sign(const char *priv, const char *file)
{
    struct test_key k;
    rsa_public_key_init(&k.pub);
    rsa_private_key_init(&k.priv);
    FILE *f = fopen(priv, "r");
    if (!f || gmp_fscanf(f, "%Zd %Zd", k.pub.n, k.priv.d) != 2)
        return 1;
    fclose(f);
    uint8_t dg[16];
    char *data, dsig[200];
    size_t len;
    if (md5_file(file, dg, &data, &len) < 0)
        return 1;
    test_dsig(&k, dg, dsig, sizeof dsig);
    printf("%s\n", dsig);
    free(data);
    test_key_free(&k);
    return 0;
}

static int cvd(const char *dsig, const char *body, const char *out)
{
    uint8_t dg[16];
    char *data, hdr[512];
    size_t len;
    if (md5_file(body, dg, &data, &len) < 0)
        return 1;
    memset(hdr, ' ', sizeof hdr);
    int n = snprintf(hdr, sizeof hdr,
                     "ClamAV-VDB:04 Dec 2026 10-00 +0000:1:1:"
                     "90:");
    for (int i = 0; i < 16; i++)
        n += snprintf(hdr + n, sizeof hdr - (size_t)n, "%02x", dg[i]);
    n += snprintf(hdr + n, sizeof hdr - (size_t)n, ":%s:vigil-test:1764842400",
                  strcmp(dsig, "-") ? dsig : "");
    hdr[n] = ' ';
    FILE *f = fopen(out, "wb");
    if (!f || fwrite(hdr, 1, sizeof hdr, f) != sizeof hdr ||
        fwrite(data, 1, len, f) != len || fclose(f) != 0)
        return 1;
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "keygen"))
        return keygen(argv[2], argv[3]);
    if (argc == 4 && !strcmp(argv[1], "sign"))
        return sign(argv[2], argv[3]);
    if (argc == 5 && !strcmp(argv[1], "cvd"))
        return cvd(argv[2], argv[3], argv[4]);
    test_clamav();
    test_own_key();
    return failures != 0;
}
