/* libFuzzer: .cvd/.cld containers (lib/sig/cvd.c, dsig.c) through the
 * public loader. A container is only unpacked once its publisher signature
 * verifies, so the harness signs: with the first input byte even, the rest
 * of the input is the body, and the harness writes a header with its MD5
 * and a dsig made with a fixed test key (the key the loader is given), so
 * gunzip and untar see every body; odd, the rest is the whole container,
 * header and dsig included, as an attacker would write it. */
#include <gmp.h>
#include <nettle/md5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A 512-bit RSA test key made for this harness only. */
static const char key_n[] =
    "96769883215768396972950828155540275691870229621107483241682015596175690"
    "56097291532333613940021547136184697714103332458324152697446605794120622"
    "432322806623";
static const char key_d[] =
    "66153231118800917362438668279361512299116072256661999545200995815186280"
    "85680791572867184684739469888466089566899453778797366253128150680844925"
    "219295017041";
static char key_text[256];

static void sign(const uint8_t md5[16], char *out, size_t outlen)
{
    static const char digits[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/";
    mpz_t m, s, n, d;
    mpz_inits(m, s, n, d, NULL);
    mpz_set_str(n, key_n, 10);
    mpz_set_str(d, key_d, 10);
    mpz_import(m, 16, 1, 1, 1, 0, md5);
    mpz_powm(s, m, d, n);
    size_t i = 0;
    while (mpz_sgn(s) != 0 && i + 1 < outlen) {
        out[i++] = digits[mpz_fdiv_ui(s, 64)];
        mpz_fdiv_q_2exp(s, s, 6);
    }
    out[i] = '\0';
    mpz_clears(m, s, n, d, NULL);
}

static void load(const char *name, const uint8_t *buf, size_t len)
{
    struct vsig_load_opts o = {.sz = sizeof o,
                               .flags = 0,
                               .diag = NULL,
                               .diag_opaque = NULL,
                               .cvd_key = key_text};
    struct vsig_loader *l;
    if (vsig_loader_new(&l, &o) < 0)
        return;
    if (vsig_loader_add(l, name, buf, len) == 0) {
        struct vsig_db *db = NULL;
        if (vsig_loader_compile(l, &db) == 0)
            vsig_db_unref(db);
    }
    vsig_loader_free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (key_text[0] == '\0')
        snprintf(key_text, sizeof key_text, "%s 65537", key_n);
    const char *name = data[0] & 2 ? "f.cld" : "f.cvd";
    if (data[0] & 1) {
        load(name, data + 1, size - 1);
        return 0;
    }
    uint8_t md5[16];
    struct md5_ctx m;
    md5_init(&m);
    md5_update(&m, size - 1, data + 1);
    md5_digest(&m, 16, md5);
    char dsig[128], hdr[512];
    sign(md5, dsig, sizeof dsig);
    memset(hdr, ' ', sizeof hdr);
    int n = snprintf(hdr, sizeof hdr, "ClamAV-VDB:x:1:1:90:");
    for (int i = 0; i < 16; i++)
        n += snprintf(hdr + n, sizeof hdr - (size_t)n, "%02x", md5[i]);
    n += snprintf(hdr + n, sizeof hdr - (size_t)n, ":%s:fuzz:0", dsig);
    hdr[n] = ' ';
    uint8_t *c = malloc(sizeof hdr + size - 1);
    if (c == NULL)
        return 0;
    memcpy(c, hdr, sizeof hdr);
    memcpy(c + sizeof hdr, data + 1, size - 1);
    load(name, c, sizeof hdr + size - 1);
    free(c);
    return 0;
}
