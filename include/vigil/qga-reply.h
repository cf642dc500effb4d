/* The QEMU guest agent's replies, parsed.  The agent runs in the guest, so
 * every byte of its replies is the guest's: a reply is one line, bounded
 * in size and nesting, and each field is checked for its type and range
 * before use.  Pure: no I/O (cli/qga.c owns the socket). */
#ifndef VIGIL_QGA_REPLY_H
#define VIGIL_QGA_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest reply line: a guest-exec-status reply holds up to 16 MiB of
 * each stream, as base64 (4/3 larger), plus the JSON around them. */
#define QGA_LINE_MAX (48u << 20)
/* The deepest nesting of objects and arrays accepted in a reply: the
 * agent's replies nest at most 3 deep. */
#define QGA_DEPTH_MAX 16
/* The most output of one stream accepted, decoded: the agent's own limit. */
#define QGA_DATA_MAX (16u << 20)

/* Returned for a line that is not an answer to a command (not JSON, not
 * an object, a QMP event): the caller reads the next one. */
#define QGA_SKIP 1

/*
 * qga_frame: find the first complete line in @buf (@len bytes received).
 * What precedes the last 0xFF byte on the line is the rest of an earlier
 * answer (guest-sync-delimited prefixes its answer with 0xFF) and is left
 * out of *line.
 * Return: 1 with *line, *line_len (the line without its '\n') and *used
 * (bytes to drop from @buf, newline included); 0 when no line is complete
 * yet; -EMSGSIZE when @len reached QGA_LINE_MAX without a newline.
 */
int qga_frame(const char *buf, size_t len, const char **line, size_t *line_len,
              size_t *used);

/* The result of guest-exec-status. */
struct qga_status {
    bool exited;
    int exitcode;             /* 0..255; -1 if it was killed */
    int signal;               /* 1..127; -1 if it exited */
    unsigned char *out, *err; /* decoded, malloc'd; NULL when empty */
    size_t out_len, err_len;
    bool truncated; /* the agent dropped output beyond its limit */
};

void qga_status_free(struct qga_status *st);

/*
 * The parsers below take one reply line (from qga_frame).  Each returns
 * 0 for its answer, QGA_SKIP for a line to skip, -EPROTO when the agent
 * answered with an error object (its "desc", with control characters
 * replaced, in @err), or -EBADMSG for a malformed answer (too deep, a
 * field of the wrong type or out of range, bad base64; why in @err).
 * @err (@errlen bytes) always holds a string afterwards.
 */

/* guest-sync-delimited: 0 when the answer carries @id, QGA_SKIP for an
 * answer carrying another id (to an earlier attempt). */
int qga_parse_sync(const char *line, size_t len, uint32_t id, char *err,
                   size_t errlen);

/* guest-exec: *pid gets the guest's pid (1..INT32_MAX). */
int qga_parse_exec(const char *line, size_t len, int64_t *pid, char *err,
                   size_t errlen);

/* guest-exec-status into @st (free with qga_status_free(); left empty on
 * error).  out-data and err-data are decoded, each at most QGA_DATA_MAX. */
int qga_parse_exec_status(const char *line, size_t len, struct qga_status *st,
                          char *err, size_t errlen);

/* Any other command, of QEMU's QMP too (events are skipped): 0 for a
 * "return" whatever its value. */
int qga_parse_ack(const char *line, size_t len, char *err, size_t errlen);

#endif
