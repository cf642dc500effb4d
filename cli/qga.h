/* A client of the QEMU guest agent (qemu-guest-agent in the guest) on the
 * host end of its virtio-serial port, a unix socket: the agent's JSON
 * protocol, one command at a time. */
#ifndef VIGIL_CLI_QGA_H
#define VIGIL_CLI_QGA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/qga-reply.h"

struct qga;

/* Connect to the socket at @path.  0 or -errno (-ENOENT, -ECONNREFUSED
 * while QEMU has not created it yet). */
int qga_connect(struct qga **out, const char *path);

/* Resynchronise with the agent (guest-sync-delimited), waiting at most
 * @timeout_ms for its answer.  Until the agent runs in the guest QEMU
 * holds what we send, so the caller repeats this until it answers; an
 * answer to an earlier attempt is skipped.  0, -ETIMEDOUT, or another
 * -errno when the connection failed. */
int qga_sync(struct qga *g, int timeout_ms);

/* guest-exec of @argv (argv[0] looked up in the guest's PATH) with its
 * output captured; *pid receives the guest's pid.  0 or -errno; -EPROTO
 * when the agent refused, with its reason in qga_error(); -EBADMSG when
 * its reply was malformed (why in qga_error()). */
int qga_exec(struct qga *g, char *const *argv, int timeout_ms, int64_t *pid);

/* guest-exec-status of @pid into @st (free it with qga_status_free()).
 * 0 or -errno as qga_exec(). */
int qga_exec_status(struct qga *g, int64_t pid, int timeout_ms,
                    struct qga_status *st);

/* guest-shutdown (powerdown).  The agent does not answer it; 0 when sent. */
int qga_shutdown(struct qga *g);

/* Ask QEMU itself, on its QMP socket at @path (the same JSON framing),
 * for an ACPI powerdown (system_powerdown): the guest's power button.
 * 0 when QEMU accepted it, else -errno (-EPROTO: QEMU refused). */
int qga_qmp_powerdown(const char *path, int timeout_ms);

/* The agent's last error description, or "". */
const char *qga_error(const struct qga *g);

void qga_close(struct qga *g);

#endif
