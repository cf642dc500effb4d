/* lib/update: bundles, minisign signatures and the update store, with keys
 * and signatures made here in minisign's formats (tests/test-update.sh
 * checks the same against the minisign program itself). */
#undef NDEBUG
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "vigil/update.h"

#include "check.h"

struct signer {
    uint8_t id[8], pk[32], sk[64];
};

static void new_signer(struct signer *s, uint8_t seed)
{
    uint8_t sd[32];
    memset(sd, seed, sizeof sd);
    crypto_sign_seed_keypair(s->pk, s->sk, sd);
    for (int i = 0; i < 8; i++)
        s->id[i] = (uint8_t)(seed + i);
}

static struct vupd_key key_of(const struct signer *s)
{
    /* Through the text form, as a key file is read. */
    uint8_t raw[42] = {'E', 'd'};
    memcpy(raw + 2, s->id, 8);
    memcpy(raw + 10, s->pk, 32);
    char b64[128], text[256], err[128];
    sodium_bin2base64(b64, sizeof b64, raw, sizeof raw,
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(text, sizeof text, "untrusted comment: test key\n%s\n", b64);
    struct vupd_key k;
    int e = vupd_key_parse(text, strlen(text), &k, err, sizeof err);
    if (e < 0) {
        printf("NOT OK: key text does not parse: %s\n", err);
        exit(1);
    }
    return k;
}

/* A minisign signature file for @data, with @comment trusted. */
static size_t sign(const struct signer *s, const uint8_t *data, size_t len,
                   const char *comment, bool prehash, char *out, size_t cap)
{
    uint8_t raw[74] = {'E', (uint8_t)(prehash ? 'D' : 'd')};
    memcpy(raw + 2, s->id, 8);
    if (prehash) {
        uint8_t h[64];
        crypto_generichash(h, sizeof h, data, len, NULL, 0);
        crypto_sign_detached(raw + 10, NULL, h, sizeof h, s->sk);
    } else {
        crypto_sign_detached(raw + 10, NULL, data, len, s->sk);
    }
    uint8_t gmsg[64 + VUPD_COMMENT_MAX], gsig[64];
    memcpy(gmsg, raw + 10, 64);
    memcpy(gmsg + 64, comment, strlen(comment));
    crypto_sign_detached(gsig, NULL, gmsg, 64 + strlen(comment), s->sk);
    char b1[128], b2[128];
    sodium_bin2base64(b1, sizeof b1, raw, sizeof raw,
                      sodium_base64_VARIANT_ORIGINAL);
    sodium_bin2base64(b2, sizeof b2, gsig, sizeof gsig,
                      sodium_base64_VARIANT_ORIGINAL);
    return (size_t)snprintf(out, cap,
                            "untrusted comment: signature\n%s\ntrusted "
                            "comment: %s\n%s\n",
                            b1, comment, b2);
}

/* A signed bundle: payload + signature, malloc'd. @comment NULL: the
 * right one. */
static uint8_t *bundle(const struct signer *s, const char *db, uint64_t ver,
                       uint64_t base, const char *name, const char *body,
                       const char *comment, bool prehash, size_t *len)
{
    struct vupd_header h = {.kind = base ? VUPD_DELTA : VUPD_FULL,
                            .version = ver,
                            .base = base,
                            .created = 1800000000};
    snprintf(h.db_id, sizeof h.db_id, "%s", db);
    struct vupd_entry e = {.data = (const uint8_t *)body, .len = strlen(body)};
    snprintf(e.name, sizeof e.name, "%s", name);
    char err[256], c[VUPD_COMMENT_MAX + 1], sig[VUPD_SIG_TEXT_MAX];
    size_t plen;
    uint8_t *p = vupd_build(&h, &e, 1, &plen, err, sizeof err);
    if (p == NULL) {
        printf("NOT OK: build: %s\n", err);
        exit(1);
    }
    h.payload_len = plen;
    vupd_comment(&h, p, c, sizeof c);
    size_t slen =
        sign(s, p, plen, comment ? comment : c, prehash, sig, sizeof sig);
    uint8_t *all = malloc(plen + slen);
    memcpy(all, p, plen);
    memcpy(all + plen, sig, slen);
    free(p);
    *len = plen + slen;
    return all;
}

static struct vupd_bundle B;

static enum vupd_reason verify(const uint8_t *buf, size_t len,
                               const struct vupd_key *keys, size_t n,
                               size_t max)
{
    char err[256];
    size_t k;
    enum vupd_reason r = vupd_parse(buf, len, max, &B, err, sizeof err);
    if (r == VUPD_OK)
        r = vupd_verify(&B, keys, n, &k, err, sizeof err);
    return r;
}

#define SIG1 "Vigil.Test.One:0:*:5649474c2d5445535431\n"
#define SIG2 "Vigil.Test.Two:0:*:5649474c2d5445535432\n"

static void test_verify(void)
{
    struct signer a, b;
    new_signer(&a, 1);
    new_signer(&b, 2);
    struct vupd_key keys[2] = {key_of(&a), key_of(&b)};
    size_t len;
    uint8_t *u = bundle(&a, "db", 5, 0, "x.ndb", SIG1, NULL, true, &len);
    CHECK(verify(u, len, keys, 2, 0) == VUPD_OK, "a prehashed bundle verifies");
    CHECK(B.h.version == 5 && B.h.nentries == 1 &&
              !strcmp(B.entries[0].name, "x.ndb") &&
              B.entries[0].len == strlen(SIG1),
          "its header and entry read back");
    size_t plen = (size_t)B.h.payload_len;
    CHECK(verify(u, len, keys + 1, 1, 0) == VUPD_UNKNOWN_KEY,
          "without its key: unknown key");
    CHECK(verify(u, len, keys, 2, len - 1) == VUPD_OVERSIZE,
          "over the size bound: oversize");
    CHECK(verify(u, plen - 3, keys, 2, 0) == VUPD_TRUNCATED,
          "cut inside the payload: truncated");
    CHECK(verify(u, plen, keys, 2, 0) == VUPD_TRUNCATED,
          "the payload without its signature: truncated");
    u[plen - 5] ^= 1;
    CHECK(verify(u, len, keys, 2, 0) == VUPD_BAD_SIGNATURE,
          "one payload bit changed: bad signature");
    free(u);

    u = bundle(&a, "db", 5, 0, "x.ndb", SIG1, NULL, false, &len);
    CHECK(verify(u, len, keys, 2, 0) == VUPD_OK,
          "a legacy (not prehashed) signature verifies");
    free(u);

    /* A trusted comment that states another bundle, signed properly. */
    u = bundle(&a, "db", 5, 0, "x.ndb", SIG1,
               "vigil-update db=db version=6 kind=full base=0 size=1 "
               "frag=1024 fraghash="
               "00000000000000000000000000000000000000000000000000000000000000"
               "00",
               true, &len);
    CHECK(verify(u, len, keys, 2, 0) == VUPD_COMMENT,
          "a comment stating another version: comment mismatch");
    free(u);
    u = bundle(&a, "db", 5, 0, "x.ndb", SIG1, "just a comment", true, &len);
    CHECK(verify(u, len, keys, 2, 0) == VUPD_COMMENT,
          "a comment not in vigil's form: comment mismatch");
    free(u);

    /* The comment changed after signing: its own signature fails. */
    u = bundle(&a, "db", 5, 0, "x.ndb", SIG1, NULL, true, &len);
    char *v = memmem(u, len, "version=5", 9);
    v[8] = '7';
    CHECK(verify(u, len, keys, 2, 0) == VUPD_BAD_SIGNATURE,
          "an edited trusted comment: bad signature");
    free(u);

    const char junk[] = "VIGILUPD but nothing else";
    CHECK(verify((const uint8_t *)junk, sizeof junk, keys, 2, 0) ==
              VUPD_TRUNCATED,
          "a header cut short: truncated");
    CHECK(verify((const uint8_t *)"hello", 5, keys, 2, 0) == VUPD_MALFORMED,
          "not a bundle: malformed");
}

static void test_names(void)
{
    CHECK(vupd_name_ok("daily.ndb") && vupd_name_ok("main.cvd") &&
              vupd_name_ok("a-b_c.1.ldb"),
          "database file names are accepted");
    CHECK(!vupd_name_ok("../x.ndb") && !vupd_name_ok("a/b.ndb") &&
              !vupd_name_ok(".ndb") && !vupd_name_ok("x.txt") &&
              !vupd_name_ok(".hidden.ndb") && !vupd_name_ok(""),
          "paths, hidden files and other extensions are refused");
}

static enum vupd_reason apply(struct vupd_store *s, const uint8_t *u,
                              size_t len, const struct vupd_key *k)
{
    char err[256];
    enum vupd_reason r = verify(u, len, k, 1, 0);
    if (r == VUPD_OK)
        r = vupd_store_apply(s, &B, u, len, err, sizeof err);
    return r;
}

static bool file_has(const char *path, const char *text)
{
    FILE *f = fopen(path, "r");
    char buf[4096] = "";
    if (f == NULL)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return strstr(buf, text) != NULL;
}

static void test_store(void)
{
    char dir[] = "/tmp/vigil-test-update.XXXXXX", db[128], err[256];
    if (mkdtemp(dir) == NULL)
        return;
    snprintf(db, sizeof db, "%s/sigs.ndb", dir);
    FILE *f = fopen(db, "w");
    fputs("Vigil.Test.Base:0:*:5649474c2d42415345\n", f);
    fclose(f);
    struct signer a;
    new_signer(&a, 1);
    struct vupd_key k = key_of(&a);
    struct vupd_store *s;
    CHECK(vupd_store_open(&s, db, err, sizeof err) == 0, "store opens");

    size_t l1, l2, l3, l4, l5, l6;
    uint8_t *d1 = bundle(&a, "db", 1, 0, "x.ndb", SIG1, NULL, true, &l1);
    uint8_t *d1b = bundle(&a, "db", 3, 1, "y.ndb", SIG2, NULL, true, &l3);
    CHECK(apply(s, d1b, l3, &k) == VUPD_WRONG_BASE,
          "a delta on version 1 before version 1: wrong base");
    CHECK(apply(s, d1, l1, &k) == VUPD_OK, "version 1 (full) applies");
    char path[256];
    snprintf(path, sizeof path, "%s/x.ndb", db);
    CHECK(file_has(path, "Vigil.Test.One"), "the database is version 1's");
    snprintf(path, sizeof path, "%s/sigs.ndb", db);
    CHECK(access(path, F_OK) != 0, "a full update replaces every file");
    CHECK(apply(s, d1, l1, &k) == VUPD_REPLAY, "version 1 again: replay");
    uint8_t *d2 = bundle(&a, "db", 2, 1, "y.ndb", SIG2, NULL, true, &l2);
    CHECK(apply(s, d2, l2, &k) == VUPD_OK, "a delta on 1 applies");
    snprintf(path, sizeof path, "%s/y.ndb", db);
    CHECK(file_has(path, "Vigil.Test.Two"), "the delta's file is there");
    snprintf(path, sizeof path, "%s/x.ndb", db);
    CHECK(file_has(path, "Vigil.Test.One"), "and the base's file stays");
    CHECK(apply(s, d1b, l3, &k) == VUPD_WRONG_BASE,
          "a delta on 1 at version 2: wrong base");
    CHECK(apply(s, d1, l1, &k) == VUPD_ROLLBACK, "version 1 at 2: rollback");
    uint8_t *other = bundle(&a, "other", 9, 0, "x.ndb", SIG1, NULL, true, &l4);
    CHECK(apply(s, other, l4, &k) == VUPD_WRONG_DB,
          "another database's bundle: wrong database");
    uint8_t *bad =
        bundle(&a, "db", 4, 0, "x.ndb", "not a signature\n", NULL, true, &l5);
    CHECK(apply(s, bad, l5, &k) == VUPD_BAD_BODY,
          "a line that does not parse: bad body");
    struct vupd_state st;
    vupd_store_state(s, &st);
    CHECK(st.version == 2 && !strcmp(st.db_id, "db"),
          "refused bundles changed nothing (version %llu)",
          (unsigned long long)st.version);
    vupd_store_close(s);

    /* A restart remembers. */
    CHECK(vupd_store_open(&s, db, err, sizeof err) == 0, "store reopens");
    CHECK(apply(s, d1, l1, &k) == VUPD_ROLLBACK,
          "after a restart, version 1 is still a rollback");
    uint8_t *d5 = bundle(&a, "db", 5, 0, "z.ndb", SIG2, NULL, true, &l6);
    CHECK(apply(s, d5, l6, &k) == VUPD_OK, "version 5 (full) applies");
    vupd_store_close(s);

    /* A corrupt state file is an error, not a fresh start. */
    char sp[256];
    snprintf(sp, sizeof sp, "%s.vigil-update", db);
    f = fopen(sp, "w");
    fputs("version=1\n", f);
    fclose(f);
    CHECK(vupd_store_open(&s, db, err, sizeof err) < 0,
          "a corrupt state file is refused: %s", err);
    free(d1);
    free(d1b);
    free(d2);
    free(other);
    free(bad);
    free(d5);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("note: could not remove %s\n", dir);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    test_verify();
    test_names();
    test_store();
    return failures ? 1 : 0;
}
