/* The kernel profile of an --image's kernel, cached by the kernel's build
 * id (run-image.h, docs/image.md).
 *
 * <dir>/<build-id>.json is the profile (vprof_to_json) with a "cache"
 * member naming the build id and the SHA-256 of the kernel image it was
 * made from; <dir>/kernel-<sha256>.id holds that kernel image's build id,
 * so that a second run finds the profile from a hash of the file without
 * decompressing the kernel.  Both are written to a temporary file and
 * renamed.  What is read is checked (a profile vprof_load_json accepts,
 * of this build id, made from this file) and rebuilt when it fails. */
#include "run-image.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "vigil/file.h"
#include "vigil/image.h"
#include "vigil/profile.h"
#include "vigil/replace.h"

#define KERNEL_MAX   (1u << 30)
#define PROFILE_MAX  (16u << 20)
#define BUILD_ID_HEX 129

static const char *cache_dir(void)
{
    const char *d = getenv("VIGIL_PROFILE_CACHE");
    return d != NULL && *d != '\0' ? d : "/var/cache/vigil/profiles";
}

static bool is_hex(const char *s, size_t min, size_t max)
{
    size_t n = strspn(s, "0123456789abcdef");
    return s[n] == '\0' && n >= min && n <= max;
}

/* The profile at @path, if it is one vigil reads, of build id @id, made
 * from the kernel image whose SHA-256 is @sha. */
static bool cached_ok(const char *path, const char *id, const char *sha)
{
    char *buf = NULL;
    size_t len = 0;
    if (vigil_read_file(path, PROFILE_MAX, (uint8_t **)&buf, &len) < 0)
        return false;
    struct vprof *p = NULL;
    struct vprof_diag d = {{0}};
    bool ok = vprof_load_json(&p, buf, len, &d) == 0;
    free(buf);
    const char *jid = ok ? vprof_string(p, "cache", "build_id") : NULL;
    const char *jsha = ok ? vprof_string(p, "cache", "kernel_sha256") : NULL;
    ok = ok && jid && jsha && !strcmp(jid, id) && !strcmp(jsha, sha);
    vprof_free(p);
    return ok;
}

/* The build id a previous run recorded for the kernel image @sha. */
static bool index_lookup(const char *dir, const char *sha, char *id)
{
    char path[PATH_BUF + 96];
    char *buf = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/kernel-%s.id", dir, sha);
    if (vigil_read_file(path, BUILD_ID_HEX, (uint8_t **)&buf, &len) < 0)
        return false;
    buf[strcspn(buf, "\n")] = '\0';
    bool ok = is_hex(buf, 16, BUILD_ID_HEX - 1);
    if (ok)
        snprintf(id, BUILD_ID_HEX, "%s", buf);
    free(buf);
    return ok;
}

/* Build the profile of @img, with its "cache" member, as JSON text. */
static char *build(struct vprof_kimage *img, const char *id, const char *sha)
{
    struct vprof *p = NULL;
    struct vprof_diag d = {{0}};
    int err = vprof_build(&p, img, &d);
    char *text = err == 0 ? vprof_to_json(p, &d) : NULL;
    vprof_free(p);
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    text = NULL;
    if (j != NULL && json_object_set_new(j, "cache",
                                         json_pack("{s:s,s:s}", "build_id", id,
                                                   "kernel_sha256", sha)) == 0)
        text = json_dumps(j, JSON_INDENT(2));
    json_decref(j);
    return text;
}

/* Decompress @buf (the kernel image), read its build id into @id, build
 * its profile and store it in @dir under @path. */
static int rebuild(const char *dir, const uint8_t *buf, size_t len,
                   const char *sha, char *id, char *path, size_t pathlen)
{
    struct vprof_kimage *img = NULL;
    struct vprof_diag d = {{0}};
    uint64_t addr, size;
    static unsigned char notes[65536];
    int err = vprof_kimage_open(&img, buf, len, 0, &d);
    if (err == 0 &&
        (err = vprof_kimage_section(img, ".notes", &addr, &size)) == 0) {
        if (size > sizeof notes)
            size = sizeof notes;
        err = vprof_kimage_read(img, addr, notes, (size_t)size);
        if (err == 0)
            err = vimg_build_id(notes, (size_t)size, id, BUILD_ID_HEX);
    }
    if (err < 0) {
        /* No build id: the profile is derived each run, as for --kernel. */
        vprof_kimage_free(img);
        return err;
    }
    char *text = build(img, id, sha);
    vprof_kimage_free(img);
    if (text == NULL)
        return -EINVAL;
    snprintf(path, pathlen, "%s/%s.json", dir, id);
    err = vigil_replace_file(path, text, strlen(text), 0644);
    free(text);
    char ipath[PATH_BUF + 96];
    snprintf(ipath, sizeof ipath, "%s/kernel-%s.id", dir, sha);
    char line[BUILD_ID_HEX + 1];
    snprintf(line, sizeof line, "%s\n", id);
    if (err == 0)
        err = vigil_replace_file(ipath, line, strlen(line), 0644);
    if (err < 0)
        cli_warn("cannot cache the kernel profile in %s: %s", dir,
                 strerror(-err));
    return err;
}

/* Whether @dir (made if missing) is ours alone: others who could write
 * there could hand us a profile. */
static int own_dir(const char *dir)
{
    struct stat st;
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return -errno;
    if (lstat(dir, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & 022) != 0)
        return -EPERM;
    return 0;
}

int run_image_profile(const char *kernel, char *path, size_t len, bool verbose)
{
    const char *dir = cache_dir();
    int err = own_dir(dir);
    /* Not writable (not root): quietly derived each run, as before. */
    if (err < 0 && (verbose || err == -EPERM))
        cli_warn("kernel profile cache %s not used: %s", dir,
                 err == -EPERM ? "not a directory of ours alone"
                               : strerror(-err));
    if (err < 0)
        return err;
    uint8_t *buf = NULL;
    size_t klen = 0;
    err = vigil_read_file(kernel, KERNEL_MAX, &buf, &klen);
    if (err < 0)
        return err;
    unsigned char digest[crypto_hash_sha256_BYTES];
    char sha[2 * sizeof digest + 1], id[BUILD_ID_HEX];
    crypto_hash_sha256(digest, buf, klen);
    sodium_bin2hex(sha, sizeof sha, digest, sizeof digest);
    if (index_lookup(dir, sha, id)) {
        snprintf(path, len, "%s/%s.json", dir, id);
        if (cached_ok(path, id, sha)) {
            if (verbose)
                fprintf(stderr, "vigil: profile: cached %s\n", path);
            free(buf);
            return 0;
        }
    }
    err = rebuild(dir, buf, klen, sha, id, path, len);
    free(buf);
    if (err == 0 && verbose)
        fprintf(stderr, "vigil: profile: built %s\n", path);
    return err;
}
