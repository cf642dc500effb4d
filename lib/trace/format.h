/* What the event formatter's modules share (not part of the public API):
 * format.c renders the whole event as JSON or text, format-args.c one
 * argument by its signature character, format-ops.c the arguments whose
 * meaning depends on an operation (prctl, fcntl, futex).
 *
 * Everything in an event is untrusted: the number and arguments come from
 * guest registers, captures from guest memory (any bytes, any length up to
 * the capture limits), so every read is bounded by the capture's own length
 * and every write goes through struct obuf. */
#ifndef VIGIL_TRACE_FORMAT_H
#define VIGIL_TRACE_FORMAT_H

#include "trace/internal.h"

struct fctx {
    const struct vigil_syscall *ev;
    const char *sig; /* argument characters (after the return kind) */
    unsigned nargs;
    bool json;
    uint64_t truncated; /* bit i: argument i's capture is incomplete */
};

static inline uint64_t vfmt_argval(const struct fctx *f, unsigned i)
{
    uint64_t v = f->ev->args[i];
    return f->ev->compat ? (uint32_t)v : v;
}

static inline int64_t vfmt_argsigned(const struct fctx *f, unsigned i)
{
    uint64_t v = f->ev->args[i];
    return f->ev->compat ? (int32_t)(uint32_t)v : (int64_t)v;
}

/* Argument i's capture of `kind` (with data, or empty), or NULL. */
const struct vigil_capture *vfmt_find_cap(const struct fctx *f, unsigned i,
                                          unsigned kind);
/* Argument @i's structure capture taken at the return (@at_exit) or at
 * the entry. */
const struct vigil_capture *vfmt_struct_cap(const struct fctx *f, unsigned i,
                                            bool at_exit);

/* Argument @i's capture of @kind taken at the return or at the entry. */
const struct vigil_capture *vfmt_cap_at(const struct fctx *f, unsigned i,
                                        unsigned kind, bool at_exit);

/* ---- scalar pieces (format-args.c) ---- */

/* NULL / null, or the address in hex (a JSON string). */
void vfmt_ptr(struct obuf *o, bool json, uint64_t v);
void vfmt_hexval(struct obuf *o, bool json, uint64_t v);
void vfmt_symbolic(struct obuf *o, bool json, char sig, uint64_t v);
/* An address whose memory could not be read. */
void vfmt_fault(struct obuf *o, bool json, uint64_t addr);
/* The start every decoder of a pointer argument shares: true when the
 * argument is already shown, as NULL or its address when there is no
 * capture @c, as unreadable when nothing of it could be read. */
bool vfmt_as_address(struct obuf *o, const struct fctx *f, uint64_t addr,
                     const struct vigil_capture *c);
/* An argument that points to guest memory: its capture, or the address. */
void vfmt_mem(struct obuf *o, struct fctx *f, unsigned i, char sig);

/* One argument by its signature character; false when it is left out. */
bool vfmt_arg(struct obuf *o, struct fctx *f, unsigned i, char sig);

/* ---- arguments by operation (format-ops.c) ---- */

/* prctl's second argument, by operation. */
bool vfmt_prctl_arg(struct obuf *o, struct fctx *f, unsigned i);
/* fcntl's third argument, by command; false when the command takes none
 * (text leaves it out, JSON shows the raw value). */
bool vfmt_fcntl_arg(struct obuf *o, const struct fctx *f, unsigned i);
/* ioctl's third argument, by request. */
void vfmt_ioctl_arg(struct obuf *o, struct fctx *f, unsigned i);
/* poll's array of pollfd, and the text strace adds after its result
 * (" (Timeout)", " ([{fd=3, revents=POLLIN}])"). */
void vfmt_poll_arg(struct obuf *o, struct fctx *f, unsigned i);
void vfmt_ret_suffix(struct obuf *o, const struct fctx *f);
/* getsockopt/setsockopt's value (its BUF capture, at exit for
 * getsockopt). */
void vfmt_sockopt_arg(struct obuf *o, struct fctx *f, unsigned i);
/* epoll_ctl's struct epoll_event, epoll_wait's returned events. */
void vfmt_epoll_arg(struct obuf *o, struct fctx *f, unsigned i);
/* select's and pselect6's sets (':'), timeout (';') and pselect6's
 * signal mask argument ('|'), from their FDSETS capture. */
void vfmt_select_arg(struct obuf *o, struct fctx *f, unsigned i);
/* ppoll's array, timespec and sigset ('>'), from its PPOLL capture. */
void vfmt_ppoll_arg(struct obuf *o, struct fctx *f, unsigned i);
/* sendmsg's and recvmsg's struct msghdr. */
void vfmt_msghdr_arg(struct obuf *o, struct fctx *f, unsigned i);
/* How many arguments the text form shows (prctl, futex by operation). */
unsigned vfmt_text_nargs(const struct fctx *f);

#endif
