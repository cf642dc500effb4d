/* qcow2 images (run-image.h): checked by their header (lib/image/qcow2.c),
 * then read only through QEMU's own qcow2 driver, given the file by a
 * json: name that also says "backing": null, so that no other file is
 * opened even if the header check missed one.  qemu-img (package
 * qemu-utils) copies the disk into an unnamed raw file for debugfs;
 * qemu-nbd serves it as raw, the guest's own bytes, for vigil's filter. */
#include "run-image.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
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

#define QEMU_IMG_TIMEOUT_S 600
#define QEMU_NBD_START_S   10

int run_qcow2_check(const char *path, uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    off_t end = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
    if (end < 0) {
        cli_error("%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct vimg_qcow2 q;
    char err[1400];
    int r = vimg_qcow2_check(run_image_pread, &fd, (uint64_t)end, &q, err,
                             sizeof err);
    close(fd);
    if (r == -ENOENT)
        return 0;
    if (r < 0) {
        cli_error("%s: %s", path, err);
        return -1;
    }
    *size = q.size;
    return 1;
}

/* QEMU's name for @path opened as qcow2 without a backing file, malloc'd. */
static char *json_name(const char *path)
{
    json_t *j = json_pack("{s:s,s:{s:s,s:s},s:n}", "driver", "qcow2", "file",
                          "driver", "file", "filename", path, "backing");
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    char *name = NULL;
    if (s != NULL && asprintf(&name, "json:%s", s) < 0)
        name = NULL;
    free(s);
    return name;
}

static const char *tool(const char *env, const char *name)
{
    const char *t = getenv(env);
    return t != NULL ? t : name;
}

/* Run qemu-img convert of @path into the open file @fd, which the child
 * inherits.  0, or -1 after printing why. */
static int convert(const char *path, const char *name, int fd)
{
    char target[64];
    snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        fcntl(fd, F_SETFD, 0);
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
        }
        const char *img = tool("VIGIL_QEMU_IMG", "qemu-img");
        execlp(img, img, "convert", "-n", name, "-O", "raw", target,
               (char *)NULL);
        fprintf(stderr, "cannot execute %s (package qemu-utils): %s\n", img,
                strerror(errno));
        _exit(127);
    }
    if (pid < 0) {
        cli_error("fork: %s", strerror(errno));
        return -1;
    }
    uint64_t deadline =
        vigil_now_ns(CLOCK_MONOTONIC) + QEMU_IMG_TIMEOUT_S * 1000000000ull;
    int status = -1; /* not exited, should waitpid fail */
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (vigil_now_ns(CLOCK_MONOTONIC) >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        cli_error("--image %s: qemu-img could not read the qcow2 image", path);
        return -1;
    }
    return 0;
}

int run_qcow2_raw_copy(const char *path, uint64_t size, int *out)
{
    char *name = json_name(path);
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || *tmp == '\0')
        tmp = "/tmp";
    /* No name: nothing to clean up, whatever ends vigil. */
    int fd = open(tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (name == NULL || fd < 0 || ftruncate(fd, (off_t)size) < 0) {
        cli_error("--image %s: a temporary raw copy in %s: %s", path, tmp,
                  name ? strerror(errno) : "out of memory");
        if (fd >= 0)
            close(fd);
        free(name);
        return -1;
    }
    int r = convert(path, name, fd);
    free(name);
    if (r < 0) {
        close(fd);
        return -1;
    }
    *out = fd;
    return 0;
}

pid_t run_qnbd_start(const char *path, const char *sock)
{
    char *name = json_name(path);
    if (name == NULL) {
        cli_error("out of memory");
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
        }
        const char *nbd = tool("VIGIL_QEMU_NBD", "qemu-nbd");
        /* -t: stay after a client leaves (nbdkit reconnects per client). */
        execlp(nbd, nbd, "-t", "--cache=writeback", "-k", sock, name,
               (char *)NULL);
        fprintf(stderr, "vigil: cannot execute %s (package qemu-utils): %s\n",
                nbd, strerror(errno));
        _exit(127);
    }
    free(name);
    if (pid < 0) {
        cli_error("fork: %s", strerror(errno));
        return -1;
    }
    for (int i = 0; i < QEMU_NBD_START_S * 50; i++) {
        struct stat st;
        if (stat(sock, &st) == 0 && S_ISSOCK(st.st_mode))
            return pid;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            cli_error("%s: qemu-nbd exited before serving the qcow2 image",
                      path);
            return -1;
        }
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
    cli_error("%s: qemu-nbd did not listen within %d s", path,
              QEMU_NBD_START_S);
    run_qnbd_stop(pid, sock);
    return -1;
}

void run_qnbd_stop(pid_t pid, const char *sock)
{
    int status;
    if (pid > 0 && waitpid(pid, &status, WNOHANG) == 0) {
        /* SIGTERM: qemu-nbd flushes the image and exits. */
        kill(pid, SIGTERM);
        for (int i = 0; i < 1000; i++) {
            if (waitpid(pid, &status, WNOHANG) == pid) {
                pid = -1;
                break;
            }
            struct timespec ts = {0, 10000000};
            nanosleep(&ts, NULL);
        }
        if (pid > 0) {
            cli_warn("qemu-nbd did not stop within 10 s; killed");
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
        }
    }
    unlink(sock);
}
