/* Test-only signing of .cvd headers (lib/sig/dsig.h gives the scheme): an
 * RSA key pair made with nettle from a fixed seed, and the dsig string of
 * an MD5 under it.  The public half is handed to the loader as
 * vsig_load_opts.cvd_key ("N E" in decimal). */
#ifndef VIGIL_TESTS_DSIG_SIGN_H
#define VIGIL_TESTS_DSIG_SIGN_H

#include <gmp.h>
#include <nettle/knuth-lfib.h>
#include <nettle/rsa.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_key {
    struct rsa_public_key pub;
    struct rsa_private_key priv;
    char text[2560]; /* "N E" */
};

/* A 1024-bit key, the size of ClamAV's, from @seed. */
static inline int test_key_make(struct test_key *k, uint32_t seed)
{
    struct knuth_lfib_ctx rnd;
    knuth_lfib_init(&rnd, seed);
    rsa_public_key_init(&k->pub);
    rsa_private_key_init(&k->priv);
    mpz_set_ui(k->pub.e, 65537);
    if (!rsa_generate_keypair(&k->pub, &k->priv, &rnd,
                              (nettle_random_func *)knuth_lfib_random, NULL,
                              NULL, 1024, 0))
        return -1;
    gmp_snprintf(k->text, sizeof k->text, "%Zd %Zd", k->pub.n, k->pub.e);
    return 0;
}

static inline void test_key_free(struct test_key *k)
{
    rsa_public_key_clear(&k->pub);
    rsa_private_key_clear(&k->priv);
}

/* The dsig of @md5: md5^d mod n, in base-64 digits (a-z A-Z 0-9 + /),
 * least significant first, as ClamAV writes it. */
static inline void test_dsig(const struct test_key *k, const uint8_t md5[16],
                             char *out, size_t outlen)
{
    static const char digits[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/";
    mpz_t m, s;
    mpz_inits(m, s, NULL);
    mpz_import(m, 16, 1, 1, 1, 0, md5);
    mpz_powm(s, m, k->priv.d, k->pub.n);
    size_t i = 0;
    while (mpz_sgn(s) != 0 && i + 1 < outlen) {
        out[i++] = digits[mpz_fdiv_ui(s, 64)];
        mpz_fdiv_q_2exp(s, s, 6);
    }
    out[i] = '\0';
    mpz_clears(m, s, NULL);
}

#endif
