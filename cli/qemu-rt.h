/* Which QEMU vigil runs, and how it is started (qemu-rt.c).
 *
 * vigil's plugin needs QEMU's plugin API 7 (QEMU 11.1): earlier versions
 * can observe a guest but not change what it does. Where the host's own
 * QEMU is older (Debian 12 ships 7.2, bookworm-backports 10.0), setup
 * installs Debian 13's QEMU into a minimal Debian 13 root, and vigil starts
 * it through bubblewrap, which binds that root's /usr over the host's in a
 * private mount namespace: the host's files, devices and sockets stay where
 * they are, only the programs and libraries are Debian 13's.
 */
#ifndef VIGIL_CLI_QEMU_RT_H
#define VIGIL_CLI_QEMU_RT_H

#include <stddef.h>

#include "strvec.h"

#define QEMU_RT_ROOT_DEFAULT "/var/cache/vigil/qemu-root"
#define QEMU_RT_MIN_MAJOR    11
#define QEMU_RT_MIN_MINOR    1

enum qemu_rt_kind {
    QEMU_RT_GIVEN, /* --qemu or $VIGIL_QEMU: used as it is */
    QEMU_RT_HOST,  /* the host's qemu-system-x86_64, new enough */
    QEMU_RT_ROOT,  /* the Debian 13 root, through bubblewrap */
    QEMU_RT_OLD,   /* the host's, too old for the plugin: a last resort */
};

struct qemu_rt {
    enum qemu_rt_kind kind;
    struct strvec argv; /* the command that starts QEMU; its options follow */
    char root[256];     /* QEMU_RT_ROOT: the root */
};

/* Choose the QEMU: @given (NULL for none), else $VIGIL_QEMU, else the host's
 * if it is at least 11.1, else the root ($VIGIL_QEMU_ROOT or
 * QEMU_RT_ROOT_DEFAULT) when it holds QEMU and bubblewrap is installed, else
 * the host's whatever its version. Returns 0, -ENOENT when there is no QEMU
 * at all, or -ENOMEM; release with qemu_rt_free(). */
int qemu_rt_find(struct qemu_rt *rt, const char *given);
void qemu_rt_free(struct qemu_rt *rt);

/* The first line of `QEMU --version` into @line; the version numbers into
 * *major and *minor (0 when the line does not name one). Returns 0 or
 * -errno when QEMU could not be run. */
int qemu_rt_version(const struct qemu_rt *rt, char *line, size_t len,
                    int *major, int *minor);

/* One line saying which QEMU this is and how it is started. */
void qemu_rt_describe(const struct qemu_rt *rt, char *buf, size_t len);

/* Run @argv (NULL-terminated) with stdin from /dev/null and stdout and
 * stderr together into @out (NUL-terminated, cut at @len - 1 bytes).
 * Returns the exit status (0..255), -1 when it was killed, or -errno. */
int qemu_rt_capture(char *const *argv, char *out, size_t len);

#endif
