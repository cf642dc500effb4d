/* Arguments whose meaning depends on the call's operation: prctl's second
 * argument, fcntl's third, and how many arguments a futex or prctl call
 * shows in strace's text. */
#include <string.h>

#include "trace/decode.h"
#include "trace/format.h"

/* PR_SET_NAME's and PR_GET_NAME's name: at most 15 bytes, as the kernel
 * keeps it. */
static void put_task_name(struct obuf *o, struct fctx *f, unsigned i)
{
    uint64_t addr = vfmt_argval(f, i);
    const struct vigil_capture *c = vfmt_find_cap(f, i, VSYS_CAP_STR);
    const uint8_t *nul;
    size_t len;
    bool trunc;

    if (vfmt_as_address(o, f, addr, c))
        return;
    nul = memchr(c->data, 0, c->len);
    len = nul ? (size_t)(nul - c->data) : c->len;
    trunc = len > VDEC_TASK_COMM || (!nul && (c->trunc || c->fault));
    if (len > VDEC_TASK_COMM)
        len = VDEC_TASK_COMM;
    if (trunc && i < 64)
        f->truncated |= (uint64_t)1 << i;
    vdec_bytes(o, f->json, c->data, len, trunc);
}

/* prctl's second argument, by operation (decode-prctl.c). */
bool vfmt_prctl_arg(struct obuf *o, struct fctx *f, unsigned i)
{
    char how = vdec_prctl_arg2(vfmt_argval(f, 0));

    switch (how) {
    case 's':
        put_task_name(o, f, i);
        return true;
    case 'D':
        if (f->json)
            ob_putc(o, '"');
        vdec_prctl_dumpable(o, vfmt_argval(f, i));
        if (f->json)
            ob_putc(o, '"');
        return true;
    default:
        return vfmt_arg(o, f, i, how);
    }
}

/* fcntl's third argument, by command; false when the command takes none
 * (text leaves it out, JSON shows the raw value). */
bool vfmt_fcntl_arg(struct obuf *o, const struct fctx *f, unsigned i)
{
    int32_t cmd = i > 0 ? (int32_t)vfmt_argval(f, i - 1) : -1;
    uint64_t v = vfmt_argval(f, i);
    bool json = f->json;

    switch (cmd) {
    case 1:    /* F_GETFD */
    case 3:    /* F_GETFL */
    case 9:    /* F_GETOWN */
    case 11:   /* F_GETSIG */
    case 1025: /* F_GETLEASE */
    case 1032: /* F_GETPIPE_SZ */
    case 1034: /* F_GET_SEALS */
        if (!json)
            return false;
        ob_udec(o, v);
        return true;
    case 2: /* F_SETFD */
        if (json)
            ob_putc(o, '"');
        if (v & 1) {
            ob_puts(o, "FD_CLOEXEC");
            if (v & ~(uint64_t)1) {
                ob_putc(o, '|');
                ob_hex(o, v & ~(uint64_t)1);
            }
        } else {
            ob_hex(o, v);
        }
        if (json)
            ob_putc(o, '"');
        return true;
    case 4: /* F_SETFL */
        vfmt_symbolic(o, json, 'o', v);
        return true;
    case 0:    /* F_DUPFD */
    case 8:    /* F_SETOWN */
    case 10:   /* F_SETSIG */
    case 1024: /* F_SETLEASE */
    case 1026: /* F_NOTIFY */
    case 1030: /* F_DUPFD_CLOEXEC */
    case 1031: /* F_SETPIPE_SZ */
    case 1033: /* F_ADD_SEALS */
        ob_dec(o, (int32_t)v);
        return true;
    default:
        vfmt_ptr(o, json, v);
        return true;
    }
}

/* How many arguments the text form shows: strace shows a futex call's
 * arguments as far as its operation uses them. */
unsigned vfmt_text_nargs(const struct fctx *f)
{
    if (f->nargs == 5 && f->sig[0] == 'L')
        return vdec_prctl_nargs(vfmt_argval(f, 0));
    if (f->nargs == 6 && f->sig[1] == 'X') {
        switch (vfmt_argval(f, 1) & 0x7f) {
        case 0: /* FUTEX_WAIT: uaddr, op, val, timeout */
            return 4;
        case 1: /* FUTEX_WAKE */
        case 2: /* FUTEX_FD */
            return 3;
        case 3: /* FUTEX_REQUEUE: ... val2, uaddr2 */
            return 5;
        case 7: /* FUTEX_UNLOCK_PI */
        case 8: /* FUTEX_TRYLOCK_PI */
            return 2;
        default:
            break;
        }
    }
    return f->nargs;
}

/* ioctl's third argument: the structure of the requests whose output is
 * captured (their captures are conditional on the request), else hex. */
void vfmt_ioctl_arg(struct obuf *o, struct fctx *f, unsigned i)
{
    switch ((uint32_t)vfmt_argval(f, 1)) {
    case 0x5413: /* TIOCGWINSZ: struct winsize */
        vfmt_mem(o, f, i, '(');
        return;
    case 0x541b: /* FIONREAD: an int */
        vfmt_mem(o, f, i, '0');
        return;
    case 0x5401: /* TCGETS: struct termios's flags */
    case 0x5402: /* TCSETS, TCSETSW, TCSETSF: the same, at entry */
    case 0x5403:
    case 0x5404: {
        const struct vigil_capture *c = vfmt_find_cap(f, i, VSYS_CAP_STRUCT);
        uint64_t addr = vfmt_argval(f, i);

        if (!vfmt_as_address(o, f, addr, c) &&
            (c->fault || !vdec_termios(o, f->json, c->data, c->len)))
            vfmt_ptr(o, f->json, addr);
        return;
    }
    default:
        vfmt_hexval(o, f->json, vfmt_argval(f, i));
        return;
    }
}

/* poll's array: the events asked (the capture at entry), with the
 * revents in JSON (the capture at the return). */
void vfmt_poll_arg(struct obuf *o, struct fctx *f, unsigned i)
{
    uint64_t addr = vfmt_argval(f, i);
    const struct vigil_capture *in = vfmt_struct_cap(f, i, false);
    const struct vigil_capture *out = vfmt_struct_cap(f, i, true);

    if (vfmt_as_address(o, f, addr, in))
        return;
    if (out && out->fault)
        out = NULL;
    if (!vdec_pollfds(o, f->json, in->data, in->len, out ? out->data : NULL,
                      out ? out->len : 0, vfmt_argval(f, i + 1)))
        vfmt_ptr(o, f->json, addr);
}

void vfmt_ret_suffix(struct obuf *o, const struct fctx *f)
{
    const struct vigil_capture *out;

    if (f->nargs >= 5 && f->sig[1] == ':' && f->ev->state == VIGIL_SC_DONE) {
        out = vfmt_cap_at(f, 1, VSYS_CAP_FDSETS, true);
        if (out && out->fault)
            out = NULL;
        vdec_select_result(o, f->ev->ret, f->ev->args, f->nargs == 6,
                           out ? out->data : NULL, out ? out->len : 0);
        return;
    }

    if (f->nargs == 5 && f->sig[0] == '>' && f->ev->state == VIGIL_SC_DONE) {
        out = vfmt_cap_at(f, 0, VSYS_CAP_PPOLL, true);
        if (out && out->fault)
            out = NULL;
        vdec_ppoll_result(o, f->ev->ret, f->ev->args, out ? out->data : NULL,
                          out ? out->len : 0);
        return;
    }

    if (f->nargs < 2 || f->sig[0] != '{' || f->ev->state != VIGIL_SC_DONE)
        return;
    out = vfmt_struct_cap(f, 0, true);
    if (out && out->fault)
        out = NULL;
    vdec_poll_result(o, f->ev->ret, out ? out->data : NULL, out ? out->len : 0,
                     vfmt_argval(f, 1));
}

void vfmt_sockopt_arg(struct obuf *o, struct fctx *f, unsigned i)
{
    uint64_t addr = vfmt_argval(f, i);
    const struct vigil_capture *c = vfmt_find_cap(f, i, VSYS_CAP_BUF);

    if (vfmt_as_address(o, f, addr, c))
        return;
    if (c->fault) { /* a part: strace shows none of it */
        vfmt_fault(o, f->json, addr);
        return;
    }
    if (!vdec_sockopt(o, f->json, vfmt_argval(f, 1), vfmt_argval(f, 2),
                      c->at_exit, vfmt_argsigned(f, 4), c->data, c->len,
                      c->trunc))
        vfmt_ptr(o, f->json, addr);
}

/* epoll_ctl's event (read at entry; strace does not read it for
 * EPOLL_CTL_DEL), or the events epoll_wait/epoll_pwait returned. */
void vfmt_epoll_arg(struct obuf *o, struct fctx *f, unsigned i)
{
    uint64_t addr = vfmt_argval(f, i);
    const struct vigil_capture *in = vfmt_struct_cap(f, i, false);
    const struct vigil_capture *out = vfmt_struct_cap(f, i, true);
    const struct vigil_syscall *ev = f->ev;
    bool done = ev->state == VIGIL_SC_DONE;

    if (addr == 0) {
        vfmt_ptr(o, f->json, addr);
        return;
    }
    if (in && !in->fault && (uint32_t)vfmt_argval(f, 1) != 2 &&
        vdec_epoll_event(o, f->json, in->data, in->len))
        return;
    if (!in && done && ev->ret == 0) {
        ob_puts(o, "[]");
        return;
    }
    if (out && !out->fault && done && ev->ret > 0 &&
        vdec_epoll_events(o, f->json, out->data, out->len, (uint64_t)ev->ret))
        return;
    vfmt_ptr(o, f->json, addr);
}

/* sendmsg's and recvmsg's struct msghdr (its MSGHDR capture, with
 * recvmsg's msg_namelen from the entry); a failed recvmsg shows strace's
 * "{msg_namelen=N}". */
void vfmt_msghdr_arg(struct obuf *o, struct fctx *f, unsigned i)
{
    uint64_t addr = vfmt_argval(f, i);
    const struct vigil_capture *c = vfmt_find_cap(f, i, VSYS_CAP_MSGHDR);
    const struct vigil_capture *in = vfmt_struct_cap(f, i, false);
    const struct vigil_syscall *ev = f->ev;
    const uint8_t *ind = in && !in->fault ? in->data : NULL;
    size_t inn = ind ? in->len : 0;

    if ((addr == 0 || c) && vfmt_as_address(o, f, addr, c))
        return;
    if (c && vdec_msghdr(o, f->json, c->data, c->len, ind, inn))
        return;
    if (!c && ind && ev->state == VIGIL_SC_DONE && ev->ret < 0 &&
        vdec_msghdr_failed(o, f->json, ind, inn))
        return;
    vfmt_ptr(o, f->json, addr);
}

/* select's and pselect6's arguments, from their capture at entry. */
void vfmt_select_arg(struct obuf *o, struct fctx *f, unsigned i)
{
    uint64_t addr = vfmt_argval(f, i);
    const struct vigil_capture *c = vfmt_cap_at(f, 1, VSYS_CAP_FDSETS, false);

    if (c && !c->fault &&
        vdec_select_arg(o, f->json, i, addr, (int32_t)vfmt_argval(f, 0),
                        f->nargs == 6, c->data, c->len))
        return;
    vfmt_ptr(o, f->json, addr);
}

/* ppoll's array, timeout and sigset, from its capture at entry (and the
 * return's, for the revents in JSON). */
void vfmt_ppoll_arg(struct obuf *o, struct fctx *f, unsigned i)
{
    const struct vigil_capture *in = vfmt_cap_at(f, 0, VSYS_CAP_PPOLL, false);
    const struct vigil_capture *out = vfmt_cap_at(f, 0, VSYS_CAP_PPOLL, true);
    uint64_t a[6];

    for (unsigned k = 0; k < 6; k++)
        a[k] = vfmt_argval(f, k);
    if (out && out->fault)
        out = NULL;
    if (in && !in->fault &&
        vdec_ppoll_arg(o, f->json, i, a, in->data, in->len,
                       out ? out->data : NULL, out ? out->len : 0))
        return;
    vfmt_ptr(o, f->json, a[i]);
}
