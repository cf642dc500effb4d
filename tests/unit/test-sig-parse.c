/* Signature database loading: formats, diagnostics with file:line, strict
 * mode, unsupported constructs, .cvd/.cld containers. */
#undef NDEBUG
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/md5.h>
#include <zlib.h>

#include "vigil/sig.h"

#include "dsig-sign.h"
#include "check.h"

/* The key test containers are signed with (test_cvd), given to the loader. */
static struct test_key cvd_key;

struct diags {
    int n, errors, warnings, notes;
    unsigned long lines[64];
    char last[256];
    char file[256];
};

static void on_diag(void *opaque, const struct vsig_diag *d)
{
    struct diags *g = opaque;
    if (g->n < 64)
        g->lines[g->n] = d->line;
    g->n++;
    if (d->severity == VSIG_DIAG_ERROR)
        g->errors++;
    else if (d->severity == VSIG_DIAG_WARNING)
        g->warnings++;
    else
        g->notes++;
    snprintf(g->last, sizeof g->last, "%s", d->msg);
    snprintf(g->file, sizeof g->file, "%s", d->file);
}

/* Load @text as @name; returns the error code, fills *nsig and diags. */
static int load(const char *name, const void *text, size_t len, bool strict,
                struct diags *g, size_t *nsig, struct vsig_db **dbp)
{
    struct vsig_load_opts o = {.sz = sizeof o,
                               .flags = strict ? VSIG_LOAD_STRICT : 0,
                               .diag = on_diag,
                               .diag_opaque = g,
                               .cvd_key = cvd_key.text};
    struct vsig_loader *l;
    memset(g, 0, sizeof *g);
    int r = vsig_loader_new(&l, &o);
    CHECK_QUIET(r == 0, "r == 0");
    r = vsig_loader_add(l, name, text, len);
    *nsig = vsig_loader_count(l);
    struct vsig_db *db = NULL;
    int rc = vsig_loader_compile(l, &db);
    CHECK_QUIET(rc == 0, "rc == 0");
    if (dbp)
        *dbp = db;
    else
        vsig_db_unref(db);
    vsig_loader_free(l);
    return r;
}

static int loads(const char *name, const char *text, bool strict,
                 struct diags *g, size_t *nsig)
{
    return load(name, text, strlen(text), strict, g, nsig, NULL);
}

/* One line must be rejected (message contains @want). */
static void reject(const char *name, const char *line, const char *want)
{
    struct diags g;
    size_t n;
    int r = loads(name, line, false, &g, &n);
    if (r != 0 || n != 0 || g.errors != 1 ||
        (want && strstr(g.last, want) == NULL)) {
        fprintf(stderr, "line not rejected as expected: %s (%s)\n", line,
                g.last);
        failures++;
    }
}

static void accept(const char *name, const char *line)
{
    struct diags g;
    size_t n;
    int r = loads(name, line, true, &g, &n);
    if (r != 0 || n != 1 || g.errors != 0) {
        fprintf(stderr, "line not accepted: %s (%s)\n", line, g.last);
        failures++;
    }
}

static void test_lines(void)
{
    struct diags g;
    size_t n;
    const char *db = "Good.1:0:*:41424344454647\n"
                     "Bad.2:0:*:4142434\n" /* odd digits */
                     "\n"
                     "# comment\n"
                     "Good.3:0:10,5:4142??44{2-4}4546\r\n"
                     "Bad.4:0:EP+10:41424344\n"
                     "Bad.5:0:*\n"
                     "Good.6:1:EOF-20:41424344(45|46)\n";
    int r = loads("t.ndb", db, false, &g, &n);
    CHECK_QUIET(r == 0, "r == 0");
    CHECK_QUIET(n == 3, "n == 3");
    CHECK_QUIET(g.errors == 3, "g.errors == 3");
    CHECK_QUIET(
        g.n >= 3 && g.lines[0] == 2 && g.lines[1] == 6 && g.lines[2] == 7,
        "g.n >= 3 && g.lines[0] == 2 && g.lines[1] == 6 && g.lines[2] == 7");
    CHECK_QUIET(strcmp(g.file, "t.ndb") == 0, "strcmp(g.file, \"t.ndb\") == 0");

    /* Strict: the first bad line fails the whole file. */
    r = loads("t.ndb", db, true, &g, &n);
    CHECK_QUIET(r == -EINVAL, "r == -EINVAL");
    CHECK_QUIET(n == 0, "n == 0");

    r = loads("t.xyz", "a", false, &g, &n);
    CHECK_QUIET(r == -EINVAL && g.errors == 1, "r == -EINVAL && g.errors == 1");
}

static void test_hex_syntax(void)
{
    accept("a.ndb", "S:0:*:0102030405060708");
    accept("a.ndb", "S:0:*:0102??0405?6070a?8");
    accept("a.ndb", "S:0:*:01020304*05060708");
    accept("a.ndb", "S:0:*:01020304{5}05060708");
    accept("a.ndb", "S:0:*:01020304{-5}05060708");
    accept("a.ndb", "S:0:*:01020304{5-}05060708");
    accept("a.ndb", "S:0:*:01020304{5-9}05060708");
    accept("a.ndb", "S:0:*:01020304(05|06|07)08090a");
    accept("a.ndb", "S:0:*:01020304(0506|0708)090a");
    accept("a.ndb", "S:0:*:01020304!(0506|0708)090a");
    accept("a.ndb", "S:0:*:01020304!(05|07)090a");
    accept("a.ndb", "S:0:*:01020304(05|0607|??08)090a");
    accept("a.ndb", "S:0:*:01020304[1-3]05");
    accept("a.ndb", "S:0:*:05[1-3]01020304");
    accept("a.ndb", "S:0:*:(B)01020304(L)");
    accept("a.ndb", "S:0:*:01020304(W)05060708");
    accept("a.ndb", "S:0:*:0A0B0C0D0E0F");
    accept("a.ndb", "S:0:100:01020304:51:255");
    accept("a.db", "Old.Sig=32e4cd16cd1233c0cd130e07b80002b9");

    reject("a.ndb", "S:0:*:0102030", "odd");
    reject("a.ndb", "S:0:*:01020304zz", "unexpected");
    reject("a.ndb", "S:0:*:01020304(05|(06|07))", "nested");
    reject("a.ndb", "S:0:*:01020304!(05|0607)", "negation");
    reject("a.ndb", "S:0:*:01020304(05|06", "unterminated");
    reject("a.ndb", "S:0:*:01020304{5", "range");
    reject("a.ndb", "S:0:*:01020304{9-5}0506", "range");
    reject("a.ndb", "S:0:*:01020304(05||06)", "empty");
    reject("a.ndb", "S:0:*:????", "anchor");
    reject("a.ndb", "S:0:*:01020304(05|*06)", "'*'");
    reject("a.ndb", "S:0:SE1:01020304", "not supported");
    reject("a.ndb", "S:0:$5:01020304", "macro");
    reject("a.ndb", "S:300:*:01020304", "target");
    reject("a.ndb", "S 1:0:*:01020304", "name");
    reject("a.db", "NoEquals", "Name=");
}

static void test_ldb(void)
{
    accept("a.ldb", "L;Target:0;0&1;41424344;45464748");
    accept("a.ldb", "L;Engine:51-255,Target:0;(0|1)>2,1;41424344;45464748");
    accept("a.ldb", "L;Target:0;((0|1)&2)=0;41424344;45464748;494a4b4c");
    accept("a.ldb", "L;Target:0,FileSize:10-100;0<3;10,5:41424344");
    accept("a.ldb", "L;Engine:81-255,Target:0;0;41424344::iwfa");
    reject("a.ldb", "L;Target:0;0&2;41424344;45464748", "index");
    reject("a.ldb", "L;Target:0;(0&1;41424344;45464748", "unbalanced");
    reject("a.ldb", "L;Target:0;0&;41424344;45464748", "operator");
    reject("a.ldb", "L;Target:0;0;0/abc/", "PCRE");
    reject("a.ldb", "L;Target:0;0&1;41424344;${6-7}12$", "macro");
    reject("a.ldb", "L;Target:0;0;41424344::x", "modifier");
    reject("a.ldb", "L;Container:CL_TYPE_ZIP,Target:0;0;41424344",
           "not supported");
    reject("a.ldb", "L;Engine:51-255;0;41424344", "Target");
    reject("a.ldb", "L;Target:0;0", NULL);
}

static void test_hashes(void)
{
    accept("a.hdb", "d41d8cd98f00b204e9800998ecf8427e:0:Empty.File");
    accept("a.hsb", "da39a3ee5e6b4b0d3255bfef95601890afd80709:0:Empty.Sha1");
    accept("a.hsb",
           "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855:"
           "*:Empty.Sha256:73");
    reject("a.hdb", "d41d8cd98f00b204e9800998ecf8427:0:Short", "MD5");
    reject("a.hdb", "d41d8cd98f00b204e9800998ecf8427g:0:BadHex", "hex");
    reject("a.hdb", "d41d8cd98f00b204e9800998ecf8427e:x:BadSize", "size");
}

/* ---- containers ---- */

struct buf {
    uint8_t *p;
    size_t n, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 1024;
        b->p = realloc(b->p, b->cap);
        if (b->p == NULL)
            abort();
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void tar_add(struct buf *t, const char *name, const char *data)
{
    uint8_t h[512];
    size_t len = strlen(data);
    memset(h, 0, sizeof h);
    snprintf((char *)h, 100, "%s", name);
    snprintf((char *)h + 100, 8, "%07o", 0644);
    snprintf((char *)h + 124, 12, "%011o", (unsigned)len);
    snprintf((char *)h + 136, 12, "%011o", 0);
    h[156] = '0';
    memcpy(h + 257, "ustar", 5);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    put(t, h, 512);
    put(t, data, len);
    static const uint8_t zero[512];
    if (len % 512)
        put(t, zero, 512 - len % 512);
}

static struct buf gzip_buf(const struct buf *in)
{
    struct buf out = {0};
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort();
    out.cap = deflateBound(&z, (uLong)in->n) + 64;
    out.p = malloc(out.cap);
    z.next_in = in->p;
    z.avail_in = (uInt)in->n;
    z.next_out = out.p;
    z.avail_out = (uInt)out.cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END)
        abort();
    out.n = out.cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

static void md5_of(const struct buf *b, uint8_t dg[16])
{
    struct md5_ctx m;
    md5_init(&m);
    md5_update(&m, b->n, b->p);
    md5_digest(&m, 16, dg);
}

/* A container of @body whose header has @body's MD5 (or a wrong one) and
 * @dsig, or when @dsig is NULL the signature of that MD5 under cvd_key. */
static struct buf make_cvd_sig(const struct buf *body, bool bad_md5,
                               const char *given)
{
    struct buf c = {0};
    uint8_t dg[16];
    md5_of(body, dg);
    char dsig[200];
    if (given)
        snprintf(dsig, sizeof dsig, "%s", given);
    else
        test_dsig(&cvd_key, dg, dsig, sizeof dsig);
    if (bad_md5)
        dg[0] ^= 1;
    char hex[33], hdr[512];
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", dg[i]);
    memset(hdr, ' ', sizeof hdr);
    int n = snprintf(hdr, sizeof hdr,
                     "ClamAV-VDB:22 Nov 2026 04-00 +0000:1:3:90:%s:"
                     "%s:vigil:1700000000",
                     hex, dsig);
    hdr[n] = ' ';
    put(&c, hdr, 512);
    put(&c, body->p, body->n);
    return c;
}

static struct buf make_cvd(const struct buf *body, bool bad_md5)
{
    return make_cvd_sig(body, bad_md5, NULL);
}

/* The publisher signature covers the MD5: a body changed by one byte,
 * its MD5 recomputed, keeps the old signature and is refused; so are
 * an unsigned container, a changed signature and one that only
 * ClamAV's key would be asked to verify. */
static void cvd_publisher_sig(const struct buf *gzp, const struct buf *cvdp)
{
    struct buf gz = *gzp, cvd = *cvdp;
    struct diags g;
    size_t n;
    int r;
    uint8_t dg[16];
    char dsig[200];
    md5_of(&gz, dg);
    test_dsig(&cvd_key, dg, dsig, sizeof dsig);
    struct buf gz2 = {0};
    put(&gz2, gz.p, gz.n);
    gz2.p[gz2.n / 2] ^= 0x40;
    struct buf forged = make_cvd_sig(&gz2, false, dsig);
    r = load("daily.cvd", forged.p, forged.n, false, &g, &n, NULL);
    CHECK_QUIET(r == -EINVAL && n == 0 && strstr(g.last, "dsig") != NULL,
                "r == -EINVAL && n == 0 && strstr(g.last, \"dsig\") != NULL");
    struct buf unsigned_ = make_cvd_sig(&gz, false, "");
    r = load("daily.cvd", unsigned_.p, unsigned_.n, false, &g, &n, NULL);
    CHECK_QUIET(r == -EINVAL && n == 0 && strstr(g.last, "dsig") != NULL,
                "r == -EINVAL && n == 0 && strstr(g.last, \"dsig\") != NULL");
    dsig[7] = dsig[7] == 'a' ? 'b' : 'a';
    struct buf changed = make_cvd_sig(&gz, false, dsig);
    r = load("daily.cvd", changed.p, changed.n, false, &g, &n, NULL);
    CHECK_QUIET(
        r == -EINVAL && n == 0 && strstr(g.last, "does not verify"),
        "r == -EINVAL && n == 0 && strstr(g.last, \"does not verify\")");
    struct test_key saved = cvd_key;
    cvd_key.text[0] = '\0'; /* NULL below: ClamAV's key */
    struct vsig_load_opts o = {
        .sz = sizeof o, .diag = on_diag, .diag_opaque = &g, .cvd_key = NULL};
    struct vsig_loader *l;
    memset(&g, 0, sizeof g);
    CHECK_QUIET(vsig_loader_new(&l, &o) == 0, "vsig_loader_new(&l, &o) == 0");
    CHECK_QUIET(vsig_loader_add(l, "daily.cvd", cvd.p, cvd.n) == -EINVAL &&
                    strstr(g.last, "ClamAV's key") != NULL,
                "vsig_loader_add(l, \"daily.cvd\", cvd.p, cvd.n) == -EINVAL && "
                "strstr(g.last, \"ClamAV's key\") != NULL");
    vsig_loader_free(l);
    cvd_key = saved;
    free(gz2.p);
    free(forged.p);
    free(unsigned_.p);
    free(changed.p);
}

static void test_cvd(void)
{
    struct buf tar = {0};
    tar_add(&tar, "test.info", "ClamAV-VDB:whatever\n");
    tar_add(&tar, "test.ndb", "Cvd.Ndb:0:*:41424344454647\nBad:0:*:zz\n");
    tar_add(&tar, "test.hdb", "d41d8cd98f00b204e9800998ecf8427e:0:Cvd.Empty\n");
    tar_add(&tar, "test.ldb", "Cvd.Ldb;Target:0;0&1;41424344;45464748\n");
    static const uint8_t end[1024];
    put(&tar, end, sizeof end);

    struct diags g;
    size_t n;
    struct buf gz = gzip_buf(&tar);
    struct buf cvd = make_cvd(&gz, false);
    struct vsig_db *db;
    int r = load("daily.cvd", cvd.p, cvd.n, false, &g, &n, &db);
    CHECK_QUIET(r == 0, "r == 0");
    CHECK_QUIET(n == 3, "n == 3");
    /* The bad line is named inside its container; nothing else is said
     * (the .info member is noted as skipped; a verified container gets
     * no note about its signature). */
    CHECK_QUIET(g.errors == 1 && g.notes <= 1 &&
                    strcmp(g.file, "daily.cvd:test.ndb") == 0,
                "g.errors == 1 && g.notes <= 1 && strcmp(g.file, "
                "\"daily.cvd:test.ndb\") == 0");
    struct vsig_db_stats st = {.sz = sizeof st};
    vsig_db_stats(db, &st);
    CHECK_QUIET(st.body == 1 && st.logical == 1 && st.hashes == 1,
                "st.body == 1 && st.logical == 1 && st.hashes == 1");
    vsig_db_unref(db);

    /* The MD5 in the header covers the body. */
    struct buf bad = make_cvd(&gz, true);
    r = load("daily.cvd", bad.p, bad.n, false, &g, &n, NULL);
    CHECK_QUIET(r == -EINVAL && n == 0 && strstr(g.last, "MD5") != NULL,
                "r == -EINVAL && n == 0 && strstr(g.last, \"MD5\") != NULL");

    cvd_publisher_sig(&gz, &cvd);

    /* A .cld holds a plain tar. */
    struct buf cld = make_cvd(&tar, false);
    r = load("daily.cld", cld.p, cld.n, false, &g, &n, NULL);
    CHECK_QUIET(r == 0 && n == 3, "r == 0 && n == 3");

    /* Truncated and corrupt containers are rejected, never crash. */
    r = load("daily.cvd", cvd.p, 300, false, &g, &n, NULL);
    CHECK_QUIET(r == -EINVAL, "r == -EINVAL");
    struct buf trunc = gz;
    trunc.n = gz.n / 2;
    struct buf tc = make_cvd(&trunc, false);
    r = load("daily.cvd", tc.p, tc.n, false, &g, &n, NULL);
    CHECK_QUIET(r == -EINVAL && n == 0, "r == -EINVAL && n == 0");
    tar.p[124] = 'x'; /* size field of the first member */
    struct buf bt = make_cvd(&tar, false);
    r = load("daily.cld", bt.p, bt.n, false, &g, &n, NULL);
    CHECK_QUIET(r == -EINVAL && n == 0, "r == -EINVAL && n == 0");

    free(tar.p);
    free(gz.p);
    free(cvd.p);
    free(bad.p);
    free(cld.p);
    free(tc.p);
    free(bt.p);
}

int main(void)
{
    test_lines();
    test_hex_syntax();
    test_ldb();
    test_hashes();
    if (test_key_make(&cvd_key, 1) < 0)
        return 1;
    test_cvd();
    test_key_free(&cvd_key);
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("ok\n");
    return 0;
}
