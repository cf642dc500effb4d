/* Copies of hidden host sockets, from vigil's executor to the plugin in
 * QEMU's process (share.c), so that a vCPU can answer the calls that
 * never block itself (plugin/hide-fast.c, docs/hide.md).
 *
 * They travel as SCM_RIGHTS over a SOCK_SEQPACKET unix socket whose path
 * lies in a directory only vigil's user may enter; the executor accepts
 * one connection, of its own user, and removes the path then. */
#ifndef VIGIL_LIB_HIDE_SHARE_H
#define VIGIL_LIB_HIDE_SHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a copy is of: descriptor @fd of guest process @tgid, as it was
 * at generation @gen (the plugin's count, vhide_slot.share_gen). */
struct hshare_msg {
    int32_t tgid, fd;
    uint64_t gen;
};

struct hshare;

/* Executor: listen at a new path, written to @path (@cap bytes). */
int hshare_listen(struct hshare **out, char *path, size_t cap);
/* Executor: send a copy of host descriptor @host, never waiting; false
 * when it was not sent (no plugin connected yet, its queue full). */
bool hshare_send(struct hshare *h, const struct hshare_msg *m, int host);
void hshare_free(struct hshare *h);

/* Plugin: connect to @path; the socket (non-blocking), or -errno. */
int hshare_connect(const char *path);
/* Plugin: the next copy on @sock (close-on-exec) and what it is, or -1
 * when none is queued (a message whose descriptor did not come, for want
 * of room, is skipped). */
int hshare_recv(int sock, struct hshare_msg *m);

#endif
