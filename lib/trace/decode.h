/* Decoders of the structures a call writes (or reads), as strace shows
 * them and as JSON objects (docs/events.md). Not part of the public API.
 *
 * Each takes the captured bytes `d` (n of them, guest-controlled) and
 * returns false, writing nothing, when they are too few for the structure:
 * the caller then shows the bare address, as strace does for a structure
 * it could not read. */
#ifndef VIGIL_TRACE_DECODE_H
#define VIGIL_TRACE_DECODE_H

#include <string.h>

#include "trace/internal.h"

/* Captured guest words (x86-64: little-endian, as the host), read without
 * alignment: captures land at any offset of the record. */
static inline uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* A name known to need no escaping, as a JSON string or bare. */
void vdec_name(struct obuf *o, bool json, const char *s);
/* An address as strace prints a pointer: NULL, or hex (a JSON string, or
 * null). */
void vdec_ptr(struct obuf *o, bool json, uint64_t v);

/* The structure of signature character `sig` (syscalls/tables.h: the
 * digits) at `addr`; '6' is a sigset of 8 bytes. */
bool vdec_struct(struct obuf *o, bool json, char sig, uint64_t addr,
                 const uint8_t *d, size_t n);

/* decode-mem.c: bytes quoted as strace (text, "..." when `trunc`, hex
 * escapes for every byte when `hex`) or as a JSON string. */
void vdec_bytes_as(struct obuf *o, bool json, const uint8_t *s, size_t n,
                   bool trunc, bool hex);
void vdec_bytes(struct obuf *o, bool json, const uint8_t *s, size_t n,
                bool trunc);
/* The strings of an argv capture, each NUL-terminated. */
void vdec_argv(struct obuf *o, bool json, const uint8_t *d, size_t n,
               bool trunc);
/* A STRV capture (syscalls.h): strings flagged as cut show "..."; `trunc`
 * (more strings than captured) adds strace's "..." element. True when
 * anything was cut. */
bool vdec_strv(struct obuf *o, bool json, const uint8_t *d, size_t n,
               bool trunc);
/* An environment's address and its COUNT capture (4 bytes): the address
 * then strace's comment with the number of variables, or
 * {"addr":...,"vars":6}. */
void vdec_envc(struct obuf *o, bool json, uint64_t addr, const uint8_t *d);
void vdec_sockaddr(struct obuf *o, bool json, const uint8_t *d, size_t n,
                   bool trunc);
void vdec_wstatus(struct obuf *o, bool json, uint32_t s);
/* 16 bytes (x86-64) or, when fewer, 8 (i386); n >= 8. */
void vdec_timespec(struct obuf *o, bool json, const uint8_t *d, size_t n);
void vdec_open_how(struct obuf *o, bool json, const uint8_t *d); /* 24 */
void vdec_fds(struct obuf *o, bool json, const uint8_t *d);      /* 8 */

/* decode-stat.c */
bool vdec_stat(struct obuf *o, bool json, const uint8_t *d, size_t n);
bool vdec_statx(struct obuf *o, bool json, const uint8_t *d, size_t n);
/* A file mode as stat shows it: S_IFDIR|S_ISVTX|0777. */
void vdec_mode(struct obuf *o, uint64_t mode);

/* decode-signal.c */
bool vdec_sigset(struct obuf *o, bool json, const uint8_t *d, size_t n);
bool vdec_sigaction(struct obuf *o, bool json, const uint8_t *d, size_t n);

/* decode-misc.c */
bool vdec_timeval(struct obuf *o, bool json, const uint8_t *d, size_t n);
bool vdec_rlimit(struct obuf *o, bool json, const uint8_t *d, size_t n);
bool vdec_utsname(struct obuf *o, bool json, const uint8_t *d, size_t n);
bool vdec_dirents(struct obuf *o, bool json, uint64_t addr, const uint8_t *d,
                  size_t n);

/* decode-fs.c: struct statfs (88 bytes), utimensat's timespec pair (32). */
bool vdec_statfs(struct obuf *o, bool json, const uint8_t *d, size_t n);
bool vdec_utimes(struct obuf *o, bool json, const uint8_t *d, size_t n);
/* decode-misc.c: struct winsize (8); `count` gids (false when the capture
 * holds fewer). */
bool vdec_winsize(struct obuf *o, bool json, const uint8_t *d, size_t n);
/* struct rusage (144 bytes) */
bool vdec_rusage(struct obuf *o, bool json, const uint8_t *d, size_t n);
bool vdec_gids(struct obuf *o, bool json, const uint8_t *d, size_t n,
               uint64_t count);

/* decode-poll.c: `nfds` struct pollfd as captured at entry (`in`) and at
 * the return (`out`, may be NULL); at most VDEC_POLL_MAX are captured
 * (more show strace's "..."). The argument, and the text after " = N". */
#define VDEC_POLL_MAX VSYS_POLL_MAX
bool vdec_pollfds(struct obuf *o, bool json, const uint8_t *in, size_t nin,
                  const uint8_t *out, size_t nout, uint64_t nfds);
void vdec_poll_result(struct obuf *o, int64_t ret, const uint8_t *out,
                      size_t nout, uint64_t nfds);

/* ppoll's arguments from its PPOLL capture at entry (`in`) and at the
 * return (`out`, may be NULL; the revents JSON shows): argument `i` (0
 * the array, 2 the timespec, 3 the sigset) of the call's arguments `a`;
 * false: the address. */
bool vdec_ppoll_arg(struct obuf *o, bool json, unsigned i, const uint64_t a[6],
                    const uint8_t *in, size_t nin, const uint8_t *out,
                    size_t nout);
/* The text after " = N": " (Timeout)", " ([{fd=3, revents=POLLIN}],
 * left {tv_sec=0, tv_nsec=999})" from the capture at the return. */
void vdec_ppoll_result(struct obuf *o, int64_t ret, const uint64_t a[6],
                       const uint8_t *d, size_t n);

/* decode-sockopt.c: getsockopt/setsockopt's level ('@'), option name
 * ('$', by level) and value ('~'): `d` holds n of the value's bytes (the
 * call's length `len` for setsockopt, *optlen at the return for
 * getsockopt; `trunc` when fewer were captured). False: the address. */
void vdec_sol(struct obuf *o, bool json, uint64_t level);
/* The level's name, or NULL. */
const char *vdec_sol_name(uint64_t level);
void vdec_sockopt_name(struct obuf *o, bool json, uint64_t level, uint64_t name,
                       bool get);
/* sockopt-ip.c: an option's name at SOL_IP, SOL_IPV6 or SOL_UDP (`get`:
 * getsockopt's, where netfilter's requests differ), or NULL; *unk is the
 * level's "IP_???" for an unknown option, NULL for another level. */
const char *vdec_ipopt_name(uint32_t level, uint32_t name, bool get,
                            const char **unk);
/* struct ip_mreq (8 bytes; false when fewer) */
bool vdec_ip_mreq(struct obuf *o, bool json, const uint8_t *d, size_t n);
bool vdec_sockopt(struct obuf *o, bool json, uint64_t level, uint64_t name,
                  bool get, int64_t len, const uint8_t *d, size_t n,
                  bool trunc);

/* decode-epoll.c: epoll_ctl's operation ('?') and struct epoll_event
 * ('}' at entry), and the `count` events epoll_wait/epoll_pwait returned
 * ('}' at exit; at most VDEC_EPOLL_MAX captured, more show "..."). */
#define VDEC_EPOLL_MAX VSYS_EPOLL_MAX
void vdec_epoll_op(struct obuf *o, bool json, uint64_t op);
/* epoll_create1's flags ('+'): EPOLL_CLOEXEC */
void vdec_epoll_flags(struct obuf *o, bool json, uint64_t v);
bool vdec_epoll_event(struct obuf *o, bool json, const uint8_t *d, size_t n);
bool vdec_epoll_events(struct obuf *o, bool json, const uint8_t *d, size_t n,
                       uint64_t count);

/* decode-msg.c: a MSGHDR capture (syscalls.h) as strace shows sendmsg's
 * and recvmsg's struct msghdr; `in` (n_in bytes, may be NULL) is
 * recvmsg's msg_name and msg_namelen read at entry. recvmsg_failed: the
 * "{msg_namelen=N}" strace shows for a failed recvmsg, from `in` alone. */
bool vdec_msghdr(struct obuf *o, bool json, const uint8_t *d, size_t n,
                 const uint8_t *in, size_t n_in);
bool vdec_msghdr_failed(struct obuf *o, bool json, const uint8_t *in,
                        size_t n_in);

/* decode-select.c: select's and pselect6's arguments from their FDSETS
 * capture `d` (n bytes, syscalls.h): argument `i` (1..3 a set of `nfds`
 * bits, 4 the timeout, 5 pselect6's mask argument) at `addr`; false: the
 * address. `pselect`: a timespec, else a timeval. */
bool vdec_select_arg(struct obuf *o, bool json, unsigned i, uint64_t addr,
                     int32_t nfds, bool pselect, const uint8_t *d, size_t n);
/* The text strace adds after the result: " (Timeout)", " (in [3], out
 * [4], left {...})" from the capture at the return (`d`, may be NULL). */
void vdec_select_result(struct obuf *o, int64_t ret, const uint64_t args[6],
                        bool pselect, const uint8_t *d, size_t n);

/* decode-termios.c: TCGETS's struct termios, its four flag words (16
 * bytes) as strace shows them without -v. */
bool vdec_termios(struct obuf *o, bool json, const uint8_t *d, size_t n);

/* prctl (decode-prctl.c): how many arguments strace shows for operation
 * `op` (the operation included), and how it shows the second: 's' a name
 * (PR_SET_NAME, PR_GET_NAME), or a signature character. */
unsigned vdec_prctl_nargs(uint64_t op);
char vdec_prctl_arg2(uint64_t op);
/* The operation's name, or hex. */
void vdec_prctl_op(struct obuf *o, uint64_t op);
/* PR_SET_DUMPABLE's argument: SUID_DUMP_DISABLE... */
void vdec_prctl_dumpable(struct obuf *o, uint64_t v);
/* clone's arguments (x86-64) in strace's named form (decode-clone.c). */
void vdec_clone_text(struct obuf *o, const uint64_t a[5], const uint8_t *ptid,
                     size_t n);
/* An int the call wrote, as [N] (signature '0'). */
bool vdec_int(struct obuf *o, bool json, const uint8_t *d, size_t n);

/* PR_SET_NAME and PR_GET_NAME: a task name is at most 15 bytes. */
#define VDEC_TASK_COMM 15

#endif
