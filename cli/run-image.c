/* vigil run --image: what the image holds (run-image.h).
 *
 * The image is never mounted: its superblock is checked here, and e2fsprogs'
 * debugfs, which reads ext2/3/4 from a file, lists /boot and copies the
 * kernel and initrd out.  debugfs opens the file read-only (no -w). */
#include "run-image.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "vigil/clock.h"

#define DEBUGFS_TIMEOUT_S 120
#define LISTING_MAX       (1u << 20)
#define MSG_MAX           4096

char *run_image_file(const char *spec)
{
    return strndup(spec, strcspn(spec, ","));
}

static uint32_t le32(const unsigned char *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* What the start of the file says it is: 0 for a whole ext2/3/4 file
 * system, else -1 after printing why it cannot be booted. */
static int probe(const char *image)
{
    int fd = open(image, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        cli_error("--image %s: %s", image, strerror(errno));
        return -1;
    }
    unsigned char b[2048] = {0};
    struct stat st;
    ssize_t n = fstat(fd, &st) == 0 ? pread(fd, b, sizeof b, 0) : -1;
    close(fd);
    if (n < 0) {
        cli_error("--image %s: %s", image, strerror(errno));
        return -1;
    }
    const unsigned char *sb = b + 1024;
    if (n >= 4 && !memcmp(b, "QFI\xfb", 4)) {
        cli_error("--image %s: qcow2 images are not supported yet; convert "
                  "it with `qemu-img convert -O raw`",
                  image);
        return -1;
    }
    if (n == (ssize_t)sizeof b && sb[0x38] == 0x53 && sb[0x39] == 0xef) {
        /* s_blocks_count (lo, and hi with the 64bit feature) times the
         * block size (1024 << s_log_block_size). */
        uint64_t blocks = le32(sb + 0x04);
        if (le32(sb + 0x60) & 0x80)
            blocks |= (uint64_t)le32(sb + 0x150) << 32;
        uint32_t log = le32(sb + 0x18);
        uint64_t need = log <= 6 ? blocks << (10 + log) : UINT64_MAX;
        if ((uint64_t)st.st_size < need) {
            cli_error("--image %s: truncated: its file system spans %llu "
                      "bytes, the file has %llu",
                      image, (unsigned long long)need,
                      (unsigned long long)st.st_size);
            return -1;
        }
        return 0;
    }
    if (n >= 512 && b[510] == 0x55 && b[511] == 0xaa)
        cli_error("--image %s: the file starts with a partition table; "
                  "partitioned images are not supported yet (give an image "
                  "of the root file system alone, see docs/image.md)",
                  image);
    else
        cli_error("--image %s: not a raw ext2/3/4 file system (no "
                  "superblock at offset 1024)",
                  image);
    return -1;
}

/* Read @fd to its end (or to @max bytes) into *buf, NUL-terminated. */
static int slurp_step(int fd, char **buf, size_t *len, size_t max)
{
    char tmp[8192];
    ssize_t n = read(fd, tmp, sizeof tmp);
    if (n <= 0)
        return n == 0 || errno != EINTR ? 1 : 0;
    size_t take = *len + (size_t)n > max ? max - *len : (size_t)n;
    char *nb = realloc(*buf, *len + take + 1);
    if (nb == NULL)
        return -1;
    memcpy(nb + *len, tmp, take);
    *len += take;
    nb[*len] = '\0';
    *buf = nb;
    return 0;
}

/* Run debugfs with request @req on @image; *out and *err receive what it
 * printed (malloc'd, NUL-terminated, never NULL on success).  debugfs
 * exits 0 even when a request fails: the caller reads *err. */
static int debugfs(const char *image, const char *req, char **out, char **err)
{
    int po[2], pe[2];
    *out = *err = NULL;
    if (pipe2(po, O_CLOEXEC) < 0)
        return -1;
    if (pipe2(pe, O_CLOEXEC) < 0) {
        close(po[0]);
        close(po[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(po[1], 1);
        dup2(pe[1], 2);
        const char *tool = access("/usr/sbin/debugfs", X_OK) == 0
                               ? "/usr/sbin/debugfs"
                               : "debugfs";
        execlp(tool, "debugfs", "-R", req, image, (char *)NULL);
        fprintf(stderr, "cannot execute debugfs (e2fsprogs): %s\n",
                strerror(errno));
        _exit(127);
    }
    close(po[1]);
    close(pe[1]);
    size_t lo = 0, le = 0;
    *out = calloc(1, 1);
    *err = calloc(1, 1);
    struct pollfd p[2] = {{.fd = po[0], .events = POLLIN, .revents = 0},
                          {.fd = pe[0], .events = POLLIN, .revents = 0}};
    uint64_t deadline =
        vigil_now_ns(CLOCK_MONOTONIC) + DEBUGFS_TIMEOUT_S * 1000000000ull;
    int nopen = 2, rc = 0;
    while (pid > 0 && nopen > 0 && *out && *err) {
        if (vigil_now_ns(CLOCK_MONOTONIC) >= deadline) {
            kill(pid, SIGKILL);
            rc = -1;
            break;
        }
        if (poll(p, 2, 1000) <= 0)
            continue;
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || !p[i].revents)
                continue;
            int r = i == 0 ? slurp_step(p[0].fd, out, &lo, LISTING_MAX)
                           : slurp_step(p[1].fd, err, &le, MSG_MAX);
            if (r != 0) {
                close(p[i].fd);
                p[i].fd = -1;
                nopen--;
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (p[i].fd >= 0)
            close(p[i].fd);
    int status;
    if (pid > 0)
        waitpid(pid, &status, 0);
    if (pid < 0 || rc < 0 || !*out || !*err || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        if (*err && **err)
            cli_error("debugfs: %s", *err);
        free(*out);
        free(*err);
        *out = *err = NULL;
        return -1;
    }
    return 0;
}

/* The first line of debugfs' messages that is not its banner, or NULL. */
static const char *complaint(char *err)
{
    for (char *l = strtok(err, "\n"); l != NULL; l = strtok(NULL, "\n"))
        if (strncmp(l, "debugfs ", 8) != 0)
            return l;
    return NULL;
}

/* A name from the image that is safe on debugfs' command line. */
static bool plain_name(const char *s)
{
    if (*s == '\0' || *s == '.')
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789._+-") == strlen(s);
}

struct boot_files {
    char version[128];
    unsigned long long kernel_size, initrd_size;
    bool have_initrd;
};

/* From `ls -p /boot` ("/inode/mode/uid/gid/name/size/" lines): the newest
 * regular vmlinuz-VERSION, and initrd.img-VERSION's size. */
static void pick_boot_files(char *listing, struct boot_files *bf)
{
    char *save;
    *bf = (struct boot_files){.version = ""};
    struct {
        char name[160];
        unsigned long long size;
    } f[256];
    size_t n = 0;
    for (char *l = strtok_r(listing, "\n", &save); l && n < 256;
         l = strtok_r(NULL, "\n", &save)) {
        unsigned long ino, mode, uid, gid;
        char name[160];
        unsigned long long size;
        if (sscanf(l, "/%lu/%lo/%lu/%lu/%159[^/]/%llu/", &ino, &mode, &uid,
                   &gid, name, &size) == 6 &&
            (mode & 0170000) == 0100000 && plain_name(name)) {
            snprintf(f[n].name, sizeof f[n].name, "%s", name);
            f[n++].size = size;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const char *v = f[i].name + 8;
        if (strncmp(f[i].name, "vmlinuz-", 8) != 0 || *v == '\0' ||
            strlen(v) >= sizeof bf->version)
            continue;
        if (bf->version[0] == '\0' || strverscmp(v, bf->version) > 0) {
            snprintf(bf->version, sizeof bf->version, "%s", v);
            bf->kernel_size = f[i].size;
        }
    }
    for (size_t i = 0; i < n && bf->version[0]; i++) {
        if (!strncmp(f[i].name, "initrd.img-", 11) &&
            !strcmp(f[i].name + 11, bf->version)) {
            bf->have_initrd = true;
            bf->initrd_size = f[i].size;
        }
    }
}

/* Copy /boot/@name out of @image into @out, which must then hold @size
 * bytes. */
static int dump(const char *image, const char *name, const char *out,
                unsigned long long size)
{
    char req[PATH_BUF + 256], *o, *e;
    snprintf(req, sizeof req, "dump /boot/%s %s", name, out);
    if (debugfs(image, req, &o, &e) < 0)
        return -1;
    const char *why = complaint(e);
    struct stat st;
    int rc = 0;
    if (why != NULL || stat(out, &st) < 0 ||
        (unsigned long long)st.st_size != size) {
        cli_error("--image %s: cannot read /boot/%s: %s", image, name,
                  why ? why : "short copy (corrupt file system?)");
        rc = -1;
    }
    free(o);
    free(e);
    return rc;
}

int run_image_extract(const char *image, const char *rundir, char *kernel,
                      char *initrd, size_t len)
{
    if (probe(image) < 0)
        return -1;
    char *out, *err;
    if (debugfs(image, "ls -p /boot", &out, &err) < 0) {
        cli_error("--image %s: cannot read its file system", image);
        return -1;
    }
    const char *why = complaint(err);
    struct boot_files bf;
    pick_boot_files(out, &bf);
    int rc = -1;
    if (why != NULL && strstr(why, "not found") != NULL)
        cli_error("--image %s: no kernel in the image (no /boot)", image);
    else if (why != NULL)
        cli_error("--image %s: cannot list /boot: %s", image, why);
    else if (bf.version[0] == '\0')
        cli_error("--image %s: no kernel in the image (no /boot/vmlinuz-*)",
                  image);
    else if (initrd != NULL && !bf.have_initrd)
        cli_error("--image %s: no /boot/initrd.img-%s beside its kernel", image,
                  bf.version);
    else
        rc = 0;
    free(out);
    free(err);
    char name[160];
    if (rc == 0 && kernel != NULL) {
        snprintf(kernel, len, "%s/image-vmlinuz", rundir);
        snprintf(name, sizeof name, "vmlinuz-%s", bf.version);
        rc = dump(image, name, kernel, bf.kernel_size);
    }
    if (rc == 0 && initrd != NULL) {
        snprintf(initrd, len, "%s/image-initrd", rundir);
        snprintf(name, sizeof name, "initrd.img-%s", bf.version);
        rc = dump(image, name, initrd, bf.initrd_size);
    }
    return rc;
}
