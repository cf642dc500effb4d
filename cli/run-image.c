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
#include "vigil/image.h"

#define DEBUGFS_TIMEOUT_S 120
#define LISTING_MAX       (1u << 20)
#define MSG_MAX           4096

char *run_image_file(const char *spec)
{
    return strndup(spec, strcspn(spec, ","));
}

ssize_t run_image_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
    return pread(*(int *)ctx, buf, len, (off_t)off);
}

/* The file systems in the image (vigil/image.h), read from @data (the
 * image, or a qcow2 image's raw copy).  0, or -1 after printing why it
 * cannot be booted. */
static int probe(const char *data, const char *image, struct vimg_layout *l)
{
    int fd = open(data, O_RDONLY | O_CLOEXEC);
    off_t size = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
    if (size < 0) {
        cli_error("--image %s: %s", image, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    char err[256];
    int r =
        vimg_probe(run_image_pread, &fd, (uint64_t)size, l, err, sizeof err);
    close(fd);
    if (r < 0) {
        cli_error("--image %s: %s", image, err);
        return -1;
    }
    return 0;
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
static int dump(const char *dev, const char *image, const char *name,
                const char *out, unsigned long long size)
{
    char req[PATH_BUF + 256], *o, *e;
    snprintf(req, sizeof req, "dump /boot/%s %s", name, out);
    if (debugfs(dev, req, &o, &e) < 0)
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

/* How debugfs names file system @fs of @image: its unix I/O manager
 * takes an offset after a '?'. */
static void fs_name(const char *image, const struct vimg_fs *fs, char *buf,
                    size_t len)
{
    if (fs->offset == 0)
        snprintf(buf, len, "%s", image);
    else
        snprintf(buf, len, "%s?offset=%llu", image,
                 (unsigned long long)fs->offset);
}

/* The first of @l's file systems (in @data) whose /boot holds a kernel:
 * *which, with its files in @bf.  0, or -1 after printing why there is
 * none. */
static int find_boot(const char *data, const char *image,
                     const struct vimg_layout *l, size_t *which,
                     struct boot_files *bf)
{
    char dev[PATH_BUF + 64], why[256] = "";
    for (size_t i = 0; i < l->nfs; i++) {
        char *out, *err;
        fs_name(data, &l->fs[i], dev, sizeof dev);
        if (debugfs(dev, "ls -p /boot", &out, &err) < 0) {
            cli_error("--image %s: cannot read its file system", image);
            return -1;
        }
        const char *c = complaint(err);
        if (c != NULL && strstr(c, "not found") == NULL && why[0] == '\0')
            snprintf(why, sizeof why, "%s", c);
        pick_boot_files(out, bf);
        free(out);
        free(err);
        if (c == NULL && bf->version[0] != '\0') {
            *which = i;
            return 0;
        }
    }
    if (why[0] != '\0')
        cli_error("--image %s: cannot list /boot: %s", image, why);
    else if (l->nfs == 1)
        cli_error("--image %s: no kernel in the image (no /boot/vmlinuz-*)",
                  image);
    else
        cli_error("--image %s: no kernel in the image (no /boot/vmlinuz-* "
                  "in any of its %zu file systems)",
                  image, l->nfs);
    return -1;
}

/* @image's layout and root, read from @data. */
static int find_root(const char *data, const char *image, bool need_boot,
                     struct run_image_root *root)
{
    struct vimg_layout l;
    struct boot_files bf;
    size_t which = 0;
    if (probe(data, image, &l) < 0)
        return -1;
    /* Without the need for /boot: the root is the first file system. */
    if (need_boot && find_boot(data, image, &l, &which, &bf) < 0)
        return -1;
    fs_name(data, &l.fs[which], root->dev, sizeof root->dev);
    root->part = l.fs[which].part;
    if (need_boot) {
        snprintf(root->version, sizeof root->version, "%s", bf.version);
        root->kernel_size = bf.kernel_size;
        root->initrd_size = bf.initrd_size;
        root->have_initrd = bf.have_initrd;
    }
    return 0;
}

static void close_raw(struct run_image_root *root)
{
    if (root->raw_fd >= 0)
        close(root->raw_fd);
    root->raw_fd = -1;
}

int run_image_find(const char *image, bool need_boot,
                   struct run_image_root *root)
{
    *root = (struct run_image_root){.part = 0, .raw_fd = -1};
    if (strchr(image, '?') != NULL) {
        cli_error("--image %s: debugfs cannot take a path with a '?'", image);
        return -1;
    }
    uint64_t size;
    int q = run_qcow2_check(image, &size);
    if (q < 0)
        return -1;
    char data[64];
    if (q > 0) {
        if (run_qcow2_raw_copy(image, size, &root->raw_fd) < 0)
            return -1;
        /* debugfs opens the copy through our descriptor. */
        snprintf(data, sizeof data, "/proc/%d/fd/%d", (int)getpid(),
                 root->raw_fd);
    }
    int r = find_root(q > 0 ? data : image, image, need_boot, root);
    if (r < 0 || !need_boot)
        close_raw(root);
    return r;
}

int run_image_extract(struct run_image_root *root, const char *image,
                      const char *rundir, char *kernel, char *initrd,
                      size_t len)
{
    if (initrd != NULL && !root->have_initrd) {
        cli_error("--image %s: no /boot/initrd.img-%s beside its kernel", image,
                  root->version);
        return -1;
    }
    char name[160];
    int rc = 0;
    if (kernel != NULL) {
        snprintf(kernel, len, "%s/image-vmlinuz", rundir);
        snprintf(name, sizeof name, "vmlinuz-%s", root->version);
        rc = dump(root->dev, image, name, kernel, root->kernel_size);
    }
    if (rc == 0 && initrd != NULL) {
        snprintf(initrd, len, "%s/image-initrd", rundir);
        snprintf(name, sizeof name, "initrd.img-%s", root->version);
        rc = dump(root->dev, image, name, initrd, root->initrd_size);
    }
    close_raw(root);
    return rc;
}
