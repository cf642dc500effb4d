/* vigil update: build, seal, inspect, verify and apply signed signature
 * update bundles (docs/updates.md). Signing is minisign's: vigil never
 * holds a secret key, it runs minisign or tells the user how to. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "update-cli.h"
#include "vigil/update.h"

#define KEYS_MAX 16

void update_usage(FILE *f)
{
    fprintf(
        f,
        "usage: vigil update build --db-id ID --version N [--base M]\n"
        "                          [--sign SECRET_KEY] -o BUNDLE FILE...\n"
        "       vigil update seal PAYLOAD [--sig PAYLOAD.minisig] -o BUNDLE\n"
        "       vigil update inspect BUNDLE\n"
        "       vigil update verify -k PUBLIC_KEY... BUNDLE\n"
        "       vigil update apply -k PUBLIC_KEY... --db PATH BUNDLE\n"
        "       vigil update send BUNDLE udp://HOST:PORT [--timeout S]\n"
        "       vigil update listen -k PUBLIC_KEY... --db PATH "
        "udp://ADDR:PORT\n"
        "                          [--for SECONDS] [-v]\n"
        "       vigil update flood udp://HOST:PORT --rate PPS --seconds S\n"
        "\n"
        "build   a bundle of database files (.ndb .hdb .hsb .ldb .cvd): a\n"
        "        full one, or with --base M a delta on version M. With\n"
        "        --sign it runs minisign with that secret key and writes\n"
        "        BUNDLE; without, it writes BUNDLE.payload and prints the\n"
        "        minisign and seal commands that finish it\n"
        "seal    join a payload and its minisign signature into a bundle\n"
        "inspect print a bundle's header, files and signer (trusts nothing)\n"
        "verify  check a bundle against trusted minisign public keys\n"
        "        (-k repeatable); exit 0 when it would be accepted\n"
        "apply   verify and apply a bundle to the database at PATH, as\n"
        "        `vigil run --update-key` does for the disks it scans\n"
        "send    deliver a bundle to a listener (vigil run --update-listen,\n"
        "        or update listen), resending what is lost until it\n"
        "        answers or --timeout (default 30 s) passes\n"
        "listen  receive updates over UDP for the database at PATH until\n"
        "        interrupted (or for --for SECONDS); prints the counters\n"
        "flood   send forged fragments and manifests (tests, benchmarks)\n"
        "\n"
        "  --max BYTES   largest bundle accepted (default 64 MiB)\n"
        "\n"
        "Exit status: 0 done, 1 refused or failed (the reason is printed),\n"
        "2 usage.\n");
}

int update_read_named(const char *what, const char *path, size_t max,
                      uint8_t **buf, size_t *len)
{
    int e = vigil_read_file(path, max, buf, len);
    if (e < 0)
        cli_error("%s %s: %s", what, path,
                  e == -EFBIG ? "too large" : strerror(-e));
    return e;
}

static int write_file(const char *path, const void *a, size_t alen,
                      const void *b, size_t blen)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(a, 1, alen, f) != alen ||
        (blen && fwrite(b, 1, blen, f) != blen) || fclose(f) != 0) {
        cli_error("%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

bool update_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || end == s || s[0] == '-')
        return false;
    *out = v;
    return true;
}

/* Trusted keys from -k files. */
int update_load_keys(char *const *paths, size_t n, struct vupd_key *keys)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t *text;
        size_t len;
        char err[128];
        if (update_read_named("key", paths[i], 4096, &text, &len) < 0)
            return -1;
        int e = vupd_key_parse((char *)text, len, &keys[i], err, sizeof err);
        free(text);
        if (e < 0) {
            cli_error("key %s: %s", paths[i], err);
            return -1;
        }
    }
    return 0;
}

/* Seal @payload with the signature text in @sig: check that the signature
 * states this payload (not who signed it), then write @out. */
static int seal(const uint8_t *payload, size_t plen, const char *sig,
                size_t slen, const char *out)
{
    uint8_t *whole = malloc(plen + slen);
    if (whole == NULL) {
        cli_error("out of memory");
        return -1;
    }
    memcpy(whole, payload, plen);
    memcpy(whole + plen, sig, slen);
    static struct vupd_bundle b;
    char err[256];
    struct vupd_sig s;
    struct vupd_claim c;
    enum vupd_reason r = vupd_parse(whole, plen + slen, 0, &b, err, sizeof err);
    if (r == VUPD_OK &&
        vupd_sig_parse(b.sig_text, b.sig_len, &s, err, sizeof err) < 0)
        r = VUPD_SIG_MALFORMED;
    if (r == VUPD_OK && vupd_claim_parse(s.comment, &c) < 0) {
        snprintf(err, sizeof err,
                 "the trusted comment is not vigil's "
                 "(sign with the -t that build printed)");
        r = VUPD_COMMENT;
    }
    if (r == VUPD_OK && b.h.payload_len != plen) {
        snprintf(err, sizeof err, "the payload file is not one payload");
        r = VUPD_MALFORMED;
    }
    int rc = -1;
    if (r != VUPD_OK)
        cli_error("cannot seal: %s (%s)", err, vupd_reason_name(r));
    else
        rc = write_file(out, whole, plen + slen, NULL, 0);
    free(whole);
    return rc;
}

static int run_minisign(const char *key, const char *payload,
                        const char *sigpath, const char *comment)
{
    pid_t pid = fork();
    if (pid == 0) {
        execlp("minisign", "minisign", "-S", "-s", key, "-m", payload, "-x",
               sigpath, "-t", comment, (char *)NULL);
        fprintf(stderr, "vigil: cannot run minisign: %s\n", strerror(errno));
        _exit(127);
    }
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) ||
        WEXITSTATUS(st) != 0) {
        cli_error("minisign failed");
        return -1;
    }
    return 0;
}

/* The database files named on the command line, as bundle entries; the
 * buffers in @bufs are the caller's to free. */
static int read_entries(char *const *paths, size_t n, struct vupd_entry *e,
                        uint8_t **bufs)
{
    for (size_t i = 0; i < n; i++) {
        const char *path = paths[i], *slash = strrchr(path, '/');
        const char *name = slash ? slash + 1 : path;
        if (strlen(name) > VUPD_NAME_MAX || !vupd_name_ok(name)) {
            cli_error("%s: a database file name is [A-Za-z0-9._-] ending in "
                      ".ndb .hdb .hsb .ldb or .cvd",
                      path);
            return -1;
        }
        snprintf(e[i].name, sizeof e[i].name, "%s", name);
        if (update_read_named("file", path, VUPD_DEFAULT_MAX, &bufs[i],
                              &e[i].len) < 0)
            return -1;
        e[i].data = bufs[i];
    }
    return 0;
}

/* Write @out's payload beside it; with @key sign it with minisign and seal
 * the bundle, else tell the user the two commands that finish it. */
static int sign_or_explain(const struct vupd_header *h, const uint8_t *payload,
                           size_t plen, size_t nfiles, const char *key,
                           const char *out)
{
    char comment[VUPD_COMMENT_MAX + 1];
    if (vupd_comment(h, payload, comment, sizeof comment) < 0)
        return -1;
    char ppath[4096], spath[4200];
    if (snprintf(ppath, sizeof ppath, "%s.payload", out) >= (int)sizeof ppath)
        return -1;
    snprintf(spath, sizeof spath, "%s.minisig", ppath);
    if (write_file(ppath, payload, plen, NULL, 0) < 0)
        return -1;
    if (key == NULL) {
        printf("wrote %s (%zu bytes); sign it and seal it:\n"
               "  minisign -S -s SECRET_KEY -m %s -t '%s'\n"
               "  vigil update seal %s -o %s\n",
               ppath, plen, ppath, comment, ppath, out);
        return 0;
    }
    uint8_t *sig = NULL;
    size_t slen;
    int rc = -1;
    if (run_minisign(key, ppath, spath, comment) == 0 &&
        update_read_named("signature", spath, VUPD_SIG_TEXT_MAX, &sig, &slen) ==
            0 &&
        seal(payload, plen, (char *)sig, slen, out) == 0) {
        printf("wrote %s: %s version %llu (%s), %zu files\n", out, h->db_id,
               (unsigned long long)h->version,
               h->kind == VUPD_DELTA ? "delta" : "full", nfiles);
        unlink(ppath);
        unlink(spath);
        rc = 0;
    }
    free(sig);
    return rc;
}

static int cmd_build(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db-id", required_argument, NULL, 'd'},
        {"version", required_argument, NULL, 'V'},
        {"base", required_argument, NULL, 'b'},
        {"created", required_argument, NULL, 'c'},
        {"sign", required_argument, NULL, 's'},
        {"output", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    struct vupd_header h = {.kind = VUPD_FULL, .created = (uint64_t)time(NULL)};
    const char *out = NULL, *key = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
        uint64_t v = 0;
        if ((c == 'V' || c == 'b' || c == 'c') &&
            !update_parse_u64(optarg, &v)) {
            cli_error("expected a number, got '%s'", optarg);
            return VIGIL_EXIT_USAGE;
        }
        switch (c) {
        case 'd':
            if (strlen(optarg) > VUPD_DBID_MAX) {
                cli_error("--db-id: at most %d characters", VUPD_DBID_MAX);
                return VIGIL_EXIT_USAGE;
            }
            snprintf(h.db_id, sizeof h.db_id, "%s", optarg);
            break;
        case 'V':
            h.version = v;
            break;
        case 'b':
            h.base = v, h.kind = VUPD_DELTA;
            break;
        case 'c':
            h.created = v;
            break;
        case 's':
            key = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        default:
            update_usage(stderr);
            return VIGIL_EXIT_USAGE;
        }
    }
    size_t n = (size_t)(argc - optind);
    if (out == NULL || h.db_id[0] == '\0' || h.version == 0 || n == 0 ||
        n > VUPD_ENTRIES_MAX) {
        cli_error("build needs --db-id, --version, -o and 1..%d files",
                  VUPD_ENTRIES_MAX);
        return VIGIL_EXIT_USAGE;
    }
    struct vupd_entry *e = calloc(n, sizeof *e);
    uint8_t **bufs = calloc(n, sizeof *bufs);
    uint8_t *payload = NULL;
    int rc = 1;
    char err[256];
    size_t plen;
    if (e == NULL || bufs == NULL)
        cli_error("out of memory");
    else if (read_entries(argv + optind, n, e, bufs) == 0) {
        payload = vupd_build(&h, e, n, &plen, err, sizeof err);
        if (payload == NULL)
            cli_error("%s", err);
        else {
            h.payload_len = plen;
            rc = sign_or_explain(&h, payload, plen, n, key, out) == 0 ? 0 : 1;
        }
    }
    for (size_t i = 0; bufs && i < n; i++)
        free(bufs[i]);
    free(bufs);
    free(e);
    free(payload);
    return rc;
}

static int cmd_seal(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"sig", required_argument, NULL, 's'},
        {"output", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *sigpath = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
        if (c == 's')
            sigpath = optarg;
        else if (c == 'o')
            out = optarg;
        else
            return update_usage(stderr), VIGIL_EXIT_USAGE;
    }
    if (out == NULL || optind + 1 != argc) {
        cli_error("seal needs PAYLOAD and -o BUNDLE");
        return VIGIL_EXIT_USAGE;
    }
    const char *ppath = argv[optind];
    char sbuf[4200];
    if (sigpath == NULL) {
        snprintf(sbuf, sizeof sbuf, "%s.minisig", ppath);
        sigpath = sbuf;
    }
    uint8_t *payload = NULL, *sig = NULL;
    size_t plen, slen;
    int rc = 1;
    if (update_read_named("payload", ppath, VUPD_DEFAULT_MAX, &payload,
                          &plen) == 0 &&
        update_read_named("signature", sigpath, VUPD_SIG_TEXT_MAX, &sig,
                          &slen) == 0 &&
        seal(payload, plen, (char *)sig, slen, out) == 0)
        rc = 0;
    free(payload);
    free(sig);
    return rc;
}

/* Options shared by inspect, verify and apply. */
struct check_opts {
    char *keys[KEYS_MAX];
    size_t nkeys;
    const char *db;
    size_t max;
};

static int parse_check(int argc, char **argv, struct check_opts *o, bool db)
{
    static const struct option longopts[] = {
        {"key", required_argument, NULL, 'k'},
        {"db", required_argument, NULL, 'd'},
        {"max", required_argument, NULL, 'm'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "k:", longopts, NULL)) != -1) {
        switch (c) {
        case 'k':
            if (o->nkeys == KEYS_MAX) {
                cli_error("at most %d keys", KEYS_MAX);
                return -1;
            }
            o->keys[o->nkeys++] = optarg;
            break;
        case 'd':
            o->db = optarg;
            break;
        case 'm': {
            uint64_t v;
            if (!update_parse_u64(optarg, &v) || v == 0 || v > (1ull << 32)) {
                cli_error("--max: expected 1..4294967296 bytes");
                return -1;
            }
            o->max = (size_t)v;
            break;
        }
        default:
            update_usage(stderr);
            return -1;
        }
    }
    if (optind + 1 != argc || (db && o->db == NULL)) {
        cli_error("expected one BUNDLE%s", db ? " and --db PATH" : "");
        return -1;
    }
    return 0;
}

static int cmd_inspect(int argc, char **argv)
{
    struct check_opts o = {0};
    if (parse_check(argc, argv, &o, false) < 0)
        return VIGIL_EXIT_USAGE;
    uint8_t *buf;
    size_t len;
    if (update_read_named("bundle", argv[optind], (size_t)1 << 32, &buf, &len) <
        0)
        return 1;
    static struct vupd_bundle b;
    char err[256];
    enum vupd_reason r = vupd_parse(buf, len, o.max ? o.max : (size_t)1 << 32,
                                    &b, err, sizeof err);
    if (r != VUPD_OK) {
        cli_error("%s: %s (%s)", argv[optind], err, vupd_reason_name(r));
        free(buf);
        return 1;
    }
    printf("database:  %s\nversion:   %llu\nkind:      %s", b.h.db_id,
           (unsigned long long)b.h.version,
           b.h.kind == VUPD_DELTA ? "delta on version " : "full");
    if (b.h.kind == VUPD_DELTA)
        printf("%llu", (unsigned long long)b.h.base);
    time_t t = (time_t)b.h.created;
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    printf("\ncreated:   %s\npayload:   %llu bytes\n", when,
           (unsigned long long)b.h.payload_len);
    for (uint32_t i = 0; i < b.h.nentries; i++)
        printf("file:      %s (%zu bytes)\n", b.entries[i].name,
               b.entries[i].len);
    struct vupd_sig s;
    if (vupd_sig_parse(b.sig_text, b.sig_len, &s, err, sizeof err) < 0) {
        printf("signature: unreadable: %s\n", err);
    } else {
        char id[17];
        vupd_key_id_hex(s.key_id, id);
        printf("signed by: key %s (%s)\ncomment:   %s\n", id,
               s.prehashed ? "prehashed" : "legacy", s.comment);
    }
    free(buf);
    return 0;
}

/* Parse and verify a bundle file; on success *buf holds it. */
static enum vupd_reason check(const struct check_opts *o, const char *path,
                              struct vupd_bundle *b, uint8_t **buf, size_t *len)
{
    struct vupd_key keys[KEYS_MAX];
    size_t max = o->max ? o->max : VUPD_DEFAULT_MAX, k;
    char err[256];
    if (update_load_keys(o->keys, o->nkeys, keys) < 0)
        return VUPD_IO;
    int e = vigil_read_file(path, max, buf, len);
    if (e == -EFBIG) {
        cli_error("%s refused: oversize: more than %zu bytes", path, max);
        return VUPD_OVERSIZE;
    }
    if (e < 0) {
        cli_error("%s: %s", path, strerror(-e));
        return VUPD_IO;
    }
    enum vupd_reason r = vupd_parse(*buf, *len, max, b, err, sizeof err);
    if (r == VUPD_OK)
        r = vupd_verify(b, keys, o->nkeys, &k, err, sizeof err);
    if (r != VUPD_OK) {
        cli_error("%s refused: %s: %s", path, vupd_reason_name(r), err);
        free(*buf);
        *buf = NULL;
    }
    return r;
}

static int cmd_verify(int argc, char **argv)
{
    struct check_opts o = {0};
    if (parse_check(argc, argv, &o, false) < 0 || o.nkeys == 0) {
        if (o.nkeys == 0)
            cli_error("verify needs at least one -k PUBLIC_KEY");
        return VIGIL_EXIT_USAGE;
    }
    static struct vupd_bundle b;
    uint8_t *buf;
    size_t len;
    if (check(&o, argv[optind], &b, &buf, &len) != VUPD_OK)
        return 1;
    printf("%s: valid: %s version %llu\n", argv[optind], b.h.db_id,
           (unsigned long long)b.h.version);
    free(buf);
    return 0;
}

static int cmd_apply(int argc, char **argv)
{
    struct check_opts o = {0};
    if (parse_check(argc, argv, &o, true) < 0 || o.nkeys == 0) {
        if (o.nkeys == 0)
            cli_error("apply needs at least one -k PUBLIC_KEY");
        return VIGIL_EXIT_USAGE;
    }
    char err[512];
    struct vupd_store *s;
    int e = vupd_store_open(&s, o.db, err, sizeof err);
    if (e < 0) {
        cli_error("%s", err);
        return 1;
    }
    static struct vupd_bundle b;
    uint8_t *buf;
    size_t len;
    enum vupd_reason r = check(&o, argv[optind], &b, &buf, &len);
    if (r == VUPD_OK) {
        r = vupd_store_apply(s, &b, buf, len, err, sizeof err);
        if (r != VUPD_OK)
            cli_error("%s refused: %s: %s", argv[optind], vupd_reason_name(r),
                      err);
        else
            printf("%s: applied: %s version %llu\n", o.db, b.h.db_id,
                   (unsigned long long)b.h.version);
        free(buf);
    }
    vupd_store_close(s);
    return r == VUPD_OK ? 0 : 1;
}

int cmd_update(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } subs[] = {
        {"build", cmd_build},          {"seal", cmd_seal},
        {"inspect", cmd_inspect},      {"verify", cmd_verify},
        {"apply", cmd_apply},          {"send", cmd_update_send},
        {"listen", cmd_update_listen}, {"flood", cmd_update_flood},
    };
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        update_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? VIGIL_EXIT_USAGE : 0;
    }
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++)
        if (!strcmp(argv[1], subs[i].name)) {
            optind = 1;
            return subs[i].fn(argc - 1, argv + 1);
        }
    cli_error("unknown update command '%s'", argv[1]);
    update_usage(stderr);
    return VIGIL_EXIT_USAGE;
}
