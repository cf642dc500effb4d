/* Verifying a .cvd's publisher signature: see dsig.h. */
#include "sig/dsig.h"

#include <errno.h>
#include <gmp.h>
#include <string.h>

/* ClamAV's public key for .cvd signatures (1024-bit modulus), as ClamAV
 * publishes it in its sources. */
static const char clamav_n[] =
    "1186409955516453426030700016584531897515277744120277437465994057432431"
    "4260746414476736106064065584474976078889002228342492276248891756555100"
    "2467771109669598189410434699034532232228621591089508178591428456220796"
    "8416216371755675904766669286987701433281373839528203831975320477717801"
    "96576957695822641224262693037";
static const char clamav_e[] = "100001027";

/* Keys outside these sizes are refused: the digest must fit below the
 * modulus, and a longer dsig than the largest key needs is not read. */
#define MIN_BITS 256
#define MAX_BITS 8192

static int digit(char c)
{
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* "N E" in decimal -> @n, @e. */
static int parse_key(const char *key, mpz_t n, mpz_t e, struct vs_err *err)
{
    char nbuf[MAX_BITS / 3 + 2], ebuf[32];
    size_t i = 0, k;
    while (key[i] == ' ' || key[i] == '\t' || key[i] == '\n')
        i++;
    for (k = 0; key[i] >= '0' && key[i] <= '9' && k < sizeof nbuf - 1; i++)
        nbuf[k++] = key[i];
    nbuf[k] = '\0';
    while (key[i] == ' ' || key[i] == '\t' || key[i] == '\n')
        i++;
    size_t kn = k;
    for (k = 0; key[i] >= '0' && key[i] <= '9' && k < sizeof ebuf - 1; i++)
        ebuf[k++] = key[i];
    ebuf[k] = '\0';
    while (key[i] == ' ' || key[i] == '\t' || key[i] == '\n')
        i++;
    if (kn == 0 || k == 0 || key[i] != '\0' || mpz_set_str(n, nbuf, 10) ||
        mpz_set_str(e, ebuf, 10)) {
        vs_errf(err, "signature key: expected the modulus and the exponent "
                     "in decimal");
        return -EINVAL;
    }
    if (mpz_sizeinbase(n, 2) < MIN_BITS || mpz_sizeinbase(n, 2) > MAX_BITS ||
        mpz_even_p(n) || mpz_cmp_ui(e, 3) < 0) {
        vs_errf(err,
                "signature key: modulus of %zu bits or exponent out of "
                "range",
                mpz_sizeinbase(n, 2));
        return -EINVAL;
    }
    return 0;
}

/* The dsig field as a number: least significant base-64 digit first. */
static int decode(const char *dsig, size_t len, const mpz_t n, mpz_t c,
                  struct vs_err *err)
{
    if (len == 0 || len > (mpz_sizeinbase(n, 2) + 5) / 6) {
        vs_errf(err, "publisher signature (dsig) %s",
                len ? "is longer than the key allows" : "is missing");
        return -EINVAL;
    }
    mpz_set_ui(c, 0);
    for (size_t i = len; i-- > 0;) {
        int d = digit(dsig[i]);
        if (d < 0) {
            vs_errf(err, "publisher signature (dsig) has a character outside "
                         "its alphabet");
            return -EINVAL;
        }
        mpz_mul_2exp(c, c, 6);
        mpz_add_ui(c, c, (unsigned long)d);
    }
    return 0;
}

int vs_dsig_verify(const char *dsig, size_t len, const uint8_t md5[16],
                   const char *key, struct vs_err *err)
{
    mpz_t n, e, c, m, want;
    mpz_inits(n, e, c, m, want, NULL);
    int r;
    if (key == NULL) {
        mpz_set_str(n, clamav_n, 10);
        mpz_set_str(e, clamav_e, 10);
        r = 0;
    } else {
        r = parse_key(key, n, e, err);
    }
    if (r == 0)
        r = decode(dsig, len, n, c, err);
    if (r == 0 && mpz_cmp(c, n) >= 0) {
        /* No signature made with this key is that large. */
        vs_errf(err,
                "publisher signature (dsig) does not verify with %s (not "
                "below its modulus)",
                key ? "the given key" : "ClamAV's key");
        r = -EINVAL;
    }
    if (r == 0) {
        mpz_powm(m, c, e, n);
        mpz_import(want, 16, 1, 1, 1, 0, md5);
        if (mpz_cmp(m, want) != 0) {
            vs_errf(err, "publisher signature (dsig) does not verify with %s",
                    key ? "the given key" : "ClamAV's key");
            r = -EINVAL;
        }
    }
    mpz_clears(n, e, c, m, want, NULL);
    return r;
}
