/* Which QEMU vigil runs (see qemu-rt.h). */
#include "qemu-rt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define QEMU_NAME "qemu-system-x86_64"

/* The first directory of $PATH holding an executable @name, into @buf. */
static bool in_path(const char *name, char *buf, size_t len)
{
    const char *path = getenv("PATH");
    if (path == NULL)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path != '\0') {
        size_t n = strcspn(path, ":");
        if (n > 0 &&
            (size_t)snprintf(buf, len, "%.*s/%s", (int)n, path, name) < len &&
            access(buf, X_OK) == 0)
            return true;
        path += n + (path[n] == ':');
    }
    return false;
}

int qemu_rt_capture(char *const *argv, char *out, size_t len)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        return -e;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0)
            dup2(null, 0);
        dup2(p[1], 1);
        dup2(p[1], 2);
        execvp(argv[0], argv);
        fprintf(stderr, "cannot execute %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(p[1]);
    size_t got = 0;
    for (;;) {
        char scratch[512];
        char *dst = got + 1 < len ? out + got : scratch;
        size_t room = got + 1 < len ? len - 1 - got : sizeof scratch;
        ssize_t n = read(p[0], dst, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (dst != scratch)
            got += (size_t)n;
    }
    close(p[0]);
    if (len > 0)
        out[got] = '\0';
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void parse_version(const char *line, int *major, int *minor)
{
    const char *v = strstr(line, "version ");
    *major = *minor = 0;
    if (v != NULL && sscanf(v + 8, "%d.%d", major, minor) != 2)
        *major = *minor = 0;
}

int qemu_rt_version(const struct qemu_rt *rt, char *line, size_t len,
                    int *major, int *minor)
{
    struct strvec av;
    strvec_init(&av);
    for (size_t i = 0; i < rt->argv.len; i++)
        strvec_push(&av, rt->argv.v[i]);
    strvec_push(&av, "--version");
    char out[1024];
    int rc = strvec_ok(&av) ? qemu_rt_capture(av.v, out, sizeof out) : -ENOMEM;
    strvec_free(&av);
    *major = *minor = 0;
    if (rc < 0)
        return rc;
    out[strcspn(out, "\n")] = '\0';
    snprintf(line, len, "%s", out);
    if (rc != 0)
        return -ENOEXEC;
    parse_version(out, major, minor);
    return 0;
}

static bool new_enough(int major, int minor)
{
    return major > QEMU_RT_MIN_MAJOR ||
           (major == QEMU_RT_MIN_MAJOR && minor >= QEMU_RT_MIN_MINOR);
}

/* bwrap with the root's /usr (and its library cache, which names files
 * under /usr) over the host's; QEMU dies with bwrap, which dies with us. */
static void push_root(struct qemu_rt *rt)
{
    char usr[sizeof rt->root + 8], cache[sizeof rt->root + 24];
    snprintf(usr, sizeof usr, "%s/usr", rt->root);
    snprintf(cache, sizeof cache, "%s/etc/ld.so.cache", rt->root);
    strvec_pushl(&rt->argv, "bwrap", "--dev-bind", "/", "/", "--ro-bind", usr,
                 "/usr", NULL);
    if (access(cache, R_OK) == 0)
        strvec_pushl(&rt->argv, "--ro-bind", cache, "/etc/ld.so.cache", NULL);
    strvec_pushl(&rt->argv, "--die-with-parent", "--", QEMU_NAME, NULL);
}

int qemu_rt_find(struct qemu_rt *rt, const char *given)
{
    memset(rt, 0, sizeof *rt);
    strvec_init(&rt->argv);
    if (given == NULL)
        given = getenv("VIGIL_QEMU");
    if (given != NULL && *given != '\0') {
        rt->kind = QEMU_RT_GIVEN;
        strvec_push(&rt->argv, given);
        return strvec_ok(&rt->argv) ? 0 : -ENOMEM;
    }

    char host[4096];
    bool have_host = in_path(QEMU_NAME, host, sizeof host);
    if (have_host) {
        rt->kind = QEMU_RT_HOST;
        strvec_push(&rt->argv, host);
        char line[256];
        int major, minor;
        if (qemu_rt_version(rt, line, sizeof line, &major, &minor) == 0 &&
            new_enough(major, minor))
            return strvec_ok(&rt->argv) ? 0 : -ENOMEM;
        strvec_free(&rt->argv);
    }

    const char *root = getenv("VIGIL_QEMU_ROOT");
    if (root == NULL || *root == '\0')
        root = QEMU_RT_ROOT_DEFAULT;
    char probe[sizeof rt->root + 64], bwrap[4096];
    snprintf(rt->root, sizeof rt->root, "%s", root);
    snprintf(probe, sizeof probe, "%s/usr/bin/%s", rt->root, QEMU_NAME);
    if (strlen(root) < sizeof rt->root && access(probe, X_OK) == 0 &&
        in_path("bwrap", bwrap, sizeof bwrap)) {
        rt->kind = QEMU_RT_ROOT;
        push_root(rt);
        return strvec_ok(&rt->argv) ? 0 : -ENOMEM;
    }
    rt->root[0] = '\0';

    if (!have_host)
        return -ENOENT;
    rt->kind = QEMU_RT_OLD;
    strvec_push(&rt->argv, host);
    return strvec_ok(&rt->argv) ? 0 : -ENOMEM;
}

void qemu_rt_free(struct qemu_rt *rt)
{
    strvec_free(&rt->argv);
}

void qemu_rt_describe(const struct qemu_rt *rt, char *buf, size_t len)
{
    const char *bin = rt->argv.len > 0 ? rt->argv.v[0] : "?";
    switch (rt->kind) {
    case QEMU_RT_GIVEN:
        snprintf(buf, len, "%s (given)", bin);
        break;
    case QEMU_RT_HOST:
        snprintf(buf, len, "%s (the host's)", bin);
        break;
    case QEMU_RT_ROOT:
        snprintf(buf, len,
                 "%s/usr/bin/%s through bubblewrap (the Debian 13 "
                 "root %s)",
                 rt->root, QEMU_NAME, rt->root);
        break;
    case QEMU_RT_OLD:
        snprintf(buf, len,
                 "%s (the host's, older than %d.%d: run `make deps` as root "
                 "to set up QEMU %d.%d)",
                 bin, QEMU_RT_MIN_MAJOR, QEMU_RT_MIN_MINOR, QEMU_RT_MIN_MAJOR,
                 QEMU_RT_MIN_MINOR);
        break;
    }
}
