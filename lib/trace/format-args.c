/* One argument of an event, rendered by its signature character
 * (syscalls/tables.h) as strace text or as a JSON value; the structure
 * decoders are in decode-*.c. */
#include <string.h>

#include "trace/decode.h"
#include "trace/format.h"

/* The first capture of argument @i of @kind taken at the entry (@when 0),
 * at the return (1) or either (-1). */
static const struct vigil_capture *find_cap(const struct fctx *f, unsigned i,
                                            unsigned kind, int when)
{
    const struct vigil_syscall *ev = f->ev;
    unsigned n = ev->ncaps < VSYS_ARRAY_SIZE(ev->caps)
                     ? ev->ncaps
                     : (unsigned)VSYS_ARRAY_SIZE(ev->caps);

    for (unsigned k = 0; k < n; k++) {
        const struct vigil_capture *c = &ev->caps[k];
        if (c->argi == i && c->kind == kind &&
            (when < 0 || c->at_exit == (when > 0)) && (c->data || c->len == 0))
            return c;
    }
    return NULL;
}

const struct vigil_capture *vfmt_find_cap(const struct fctx *f, unsigned i,
                                          unsigned kind)
{
    return find_cap(f, i, kind, -1);
}

const struct vigil_capture *vfmt_struct_cap(const struct fctx *f, unsigned i,
                                            bool at_exit)
{
    return find_cap(f, i, VSYS_CAP_STRUCT, at_exit);
}

const struct vigil_capture *vfmt_cap_at(const struct fctx *f, unsigned i,
                                        unsigned kind, bool at_exit)
{
    return find_cap(f, i, kind, at_exit);
}

/* ---- scalar pieces ---- */

void vfmt_ptr(struct obuf *o, bool json, uint64_t v)
{
    vdec_ptr(o, json, v);
}

void vfmt_hexval(struct obuf *o, bool json, uint64_t v)
{
    if (json)
        ob_putc(o, '"');
    ob_hex(o, v);
    if (json)
        ob_putc(o, '"');
}

void vfmt_symbolic(struct obuf *o, bool json, char sig, uint64_t v)
{
    if (json)
        ob_putc(o, '"');
    ob_symbolic(o, sig, v);
    if (json)
        ob_putc(o, '"');
}

void vfmt_fault(struct obuf *o, bool json, uint64_t addr)
{
    if (!json) {
        ob_hex(o, addr);
        return;
    }
    ob_puts(o, "{\"addr\":\"");
    ob_hex(o, addr);
    ob_puts(o, "\",\"error\":\"unreadable\"}");
}

bool vfmt_as_address(struct obuf *o, const struct fctx *f, uint64_t addr,
                     const struct vigil_capture *c)
{
    if (addr == 0 || !c) {
        vfmt_ptr(o, f->json, addr);
        return true;
    }
    if (c->fault && c->len == 0) {
        vfmt_fault(o, f->json, addr);
        return true;
    }
    return false;
}

/* How many gids an array holds: getgroups (']') writes as many as it
 * returns, setgroups ('[') reads its first argument's count. */
static uint64_t gid_count(const struct fctx *f, char sig)
{
    if (sig == '[')
        return vfmt_argval(f, 0);
    return f->ev->state == VIGIL_SC_DONE && f->ev->ret > 0
               ? (uint64_t)f->ev->ret
               : 0;
}

/* An argument that points to guest memory: its capture, or the address. */
/* The kind of capture that holds what argument @i (signature @sig) points
 * at. */
static unsigned cap_kind(const struct fctx *f, unsigned i, char sig)
{
    switch (sig) {
    case 's':
        return VSYS_CAP_STR;
    case 'b':
    case 'B':
        return VSYS_CAP_BUF;
    case 'v':
        /* the plugin's strace-shaped form, or the older whole strings */
        return vfmt_find_cap(f, i, VSYS_CAP_STRV) ? VSYS_CAP_STRV
                                                  : VSYS_CAP_ARGV;
    case '*':
        return VSYS_CAP_COUNT;
    case 'k':
        return VSYS_CAP_SOCKADDR;
    case '8':
        return VSYS_CAP_DIRENTS;
    case '!':
        return VSYS_CAP_FRAME_MASK;
    default:
        return VSYS_CAP_STRUCT;
    }
}

void vfmt_mem(struct obuf *o, struct fctx *f, unsigned i, char sig)
{
    uint64_t addr = vfmt_argval(f, i);
    bool json = f->json, trunc;
    unsigned kind = cap_kind(f, i, sig);
    const struct vigil_capture *c = addr ? vfmt_find_cap(f, i, kind) : NULL;
    if (vfmt_as_address(o, f, addr, c))
        return;
    trunc = c->trunc || c->fault;
    if (trunc && i < 64)
        f->truncated |= (uint64_t)1 << i;

    switch (sig) {
    case 's': {
        const uint8_t *nul = memchr(c->data, 0, c->len);
        size_t len = nul ? (size_t)(nul - c->data) : c->len;
        vdec_bytes(o, json, c->data, len, trunc);
        return;
    }
    case 'b':
    case 'B':
        vdec_bytes_as(o, json, c->data, c->len, trunc, sig == 'B');
        return;
    case 'v':
        if (kind == VSYS_CAP_ARGV) {
            vdec_argv(o, json, c->data, c->len, trunc);
        } else if (vdec_strv(o, json, c->data, c->len, trunc) && i < 64) {
            f->truncated |= (uint64_t)1 << i;
        }
        return;
    case '*':
        if (c->len >= 4) {
            vdec_envc(o, json, addr, c->data);
            return;
        }
        break;
    case 'k': {
        /* The kernel writes no more of the address than the buffer's
         * length before the call (the next argument): strace shows as
         * much, whatever the length after says. */
        const struct vigil_capture *in =
            c->at_exit && i + 1 < f->nargs && f->sig[i + 1] == '9'
                ? vfmt_struct_cap(f, i + 1, false)
                : NULL;
        size_t n = c->len;

        if (in && !in->fault && in->len >= 4 && (int32_t)rd32(in->data) >= 0 &&
            (size_t)(int32_t)rd32(in->data) < n) {
            n = (size_t)(int32_t)rd32(in->data);
            trunc = false;
        }
        vdec_sockaddr(o, json, c->data, n, trunc);
        return;
    }
    case 'i':
        if (c->len >= 8) {
            vdec_fds(o, json, c->data);
            return;
        }
        break;
    case '[':
    case ']':
        if (vdec_gids(o, json, c->data, c->len, gid_count(f, sig)))
            return;
        break;
    case 'W':
        if (c->len >= 4) {
            vdec_wstatus(o, json, rd32(c->data));
            return;
        }
        break;
    case 't':
        if (c->len >= 8) {
            vdec_timespec(o, json, c->data, c->len);
            return;
        }
        break;
    case 'h':
        if (c->len >= 24) {
            vdec_open_how(o, json, c->data);
            return;
        }
        break;
    default:
        if (vdec_struct(o, json, sig, addr, c->data, c->len))
            return;
        break;
    }
    /* Too short for its type: only the address means anything. */
    vfmt_ptr(o, json, addr);
}

/* A socket address length: the int before the call and after it, shown
 * as strace does ([16], or [128 => 16] when the kernel changed it). */
static void put_socklen(struct obuf *o, const struct fctx *f, unsigned i)
{
    const struct vigil_capture *in = NULL, *out = NULL;
    const struct vigil_syscall *ev = f->ev;
    uint64_t addr = vfmt_argval(f, i);
    unsigned n = ev->ncaps < VSYS_ARRAY_SIZE(ev->caps)
                     ? ev->ncaps
                     : (unsigned)VSYS_ARRAY_SIZE(ev->caps);

    for (unsigned k = 0; k < n; k++) {
        const struct vigil_capture *c = &ev->caps[k];
        if (c->argi != i || c->kind != VSYS_CAP_STRUCT || c->len < 4 ||
            !c->data)
            continue;
        if (c->at_exit)
            out = c;
        else
            in = c;
    }
    if (addr == 0 || (!in && !out)) {
        vfmt_ptr(o, f->json, addr);
        return;
    }
    if (f->json) {
        ob_putc(o, '{');
        if (in)
            ob_printf(o, "\"in\":%d", (int)rd32(in->data));
        if (out)
            ob_printf(o, "%s\"out\":%d", in ? "," : "", (int)rd32(out->data));
        ob_putc(o, '}');
        return;
    }
    ob_printf(o, "[%d", (int)rd32((in ? in : out)->data));
    if (in && out && rd32(in->data) != rd32(out->data))
        ob_printf(o, " => %d", (int)rd32(out->data));
    ob_putc(o, ']');
}

/* rt_sigreturn({mask=[...]}): the mask the frame restores; without it,
 * nothing (the call has no arguments). */
static void put_frame_mask(struct obuf *o, struct fctx *f, unsigned i)
{
    const struct vigil_capture *c = vfmt_find_cap(f, i, VSYS_CAP_FRAME_MASK);

    if (!c || c->len < 8) {
        if (f->json)
            ob_puts(o, "null");
        return;
    }
    ob_puts(o, f->json ? "{\"mask\":" : "{mask=");
    vdec_sigset(o, f->json, c->data, c->len);
    ob_putc(o, '}');
}

/* socket's protocol: IPPROTO_* for the inet families, NETLINK_* for
 * netlink (strace marks an unknown one), else the number. */
static void put_protocol(struct obuf *o, bool json, uint64_t fam, uint64_t v)
{
    const char *name = NULL;

    if (fam == 2 || fam == 10)
        name = vsys_ipproto_name(v);
    else if (fam == 16)
        name = vsys_netlink_name(v);
    if (name) {
        vdec_name(o, json, name);
    } else if (fam == 16 && !json) {
        ob_hex(o, (uint32_t)v);
        ob_puts(o, " /* NETLINK_??? */");
    } else {
        ob_dec(o, (int32_t)v);
    }
}

/* A number or a name, from the register alone. */
static void put_value(struct obuf *o, struct fctx *f, unsigned i, char sig)
{
    uint64_t v = vfmt_argval(f, i);
    bool json = f->json;

    switch (sig) {
    case 'd':
    case 'f':
        ob_dec(o, (int32_t)v);
        break;
    case 'l':
        ob_dec(o, vfmt_argsigned(f, i));
        break;
    case 'u':
        ob_udec(o, v);
        break;
    case 'x':
        vfmt_hexval(o, json, v);
        break;
    case 'p':
    case '^':
        vfmt_ptr(o, json, v);
        break;
    case 'D':
        if ((int32_t)v == -100)
            vdec_name(o, json, "AT_FDCWD");
        else
            ob_dec(o, (int32_t)v);
        break;
    case '<': /* getrusage's who */
        if ((int32_t)v == 0 || (int32_t)v == -1 || (int32_t)v == 1)
            vdec_name(o, json,
                      (int32_t)v == 0    ? "RUSAGE_SELF"
                      : (int32_t)v == -1 ? "RUSAGE_CHILDREN"
                                         : "RUSAGE_THREAD");
        else
            ob_dec(o, (int32_t)v);
        break;
    case '@':
        vdec_sol(o, json, v);
        break;
    case '$':
        /* getsockopt's fifth argument is its length's address */
        vdec_sockopt_name(o, json, vfmt_argval(f, 1), v,
                          f->nargs > 4 && f->sig[4] == '9');
        break;
    case '?':
        vdec_epoll_op(o, json, v);
        break;
    case '+':
        vdec_epoll_flags(o, json, v);
        break;
    case 'Y':
        put_protocol(o, json, vfmt_argval(f, 0), v);
        break;
    case 'I':
        /* strace names the numbers OSS's sequencer shares with the
         * terminal requests by both */
        if (!json && (uint32_t)v >= 0x5402 && (uint32_t)v <= 0x5404) {
            static const char *const tmr[] = {"START", "STOP", "CONTINUE"};
            ob_printf(o, "SNDCTL_TMR_%s or ", tmr[(uint32_t)v - 0x5402]);
        }
        vfmt_symbolic(o, json, sig, v);
        break;
    default:
        if (vsys_sig_is_symbolic(sig))
            vfmt_symbolic(o, json, sig, v);
        else
            vfmt_hexval(o, json, v);
        break;
    }
}

/* Signatures whose argument points at memory captured as it is (strings,
 * buffers, fixed structures): vfmt_mem prints them. */
static const char mem_sigs[] = "sbBvkiWth0123457"
                               "8*#%()";

/* What the argument points at, decoded from its capture; false when @sig
 * is not such an argument. */
static bool put_pointed(struct obuf *o, struct fctx *f, unsigned i, char sig)
{
    uint64_t v = vfmt_argval(f, i);

    if (sig != '\0' && strchr(mem_sigs, sig) != NULL) {
        vfmt_mem(o, f, i, sig);
        return true;
    }
    switch (sig) {
    case '[':
    case ']':
        /* strace reads nothing for none: "[]" whatever the address */
        if (v != 0 && gid_count(f, sig) == 0 &&
            (sig == '[' || (f->ev->state == VIGIL_SC_DONE && f->ev->ret == 0)))
            ob_puts(o, "[]");
        else
            vfmt_mem(o, f, i, sig);
        return true;
    case '&':
        vfmt_ioctl_arg(o, f, i);
        return true;
    case '{':
        vfmt_poll_arg(o, f, i);
        return true;
    case '~':
        vfmt_sockopt_arg(o, f, i);
        return true;
    case '}':
        vfmt_epoll_arg(o, f, i);
        return true;
    case '=':
        vfmt_msghdr_arg(o, f, i);
        return true;
    case ':':
    case ';':
    case '|':
        vfmt_select_arg(o, f, i);
        return true;
    case '>':
        vfmt_ppoll_arg(o, f, i);
        return true;
    case '!':
        put_frame_mask(o, f, i);
        return true;
    case '6':
        /* strace reads a sigset only of the kernel's size (the last
         * argument); any other size leaves the address. */
        if (vfmt_argval(f, f->nargs - 1) != 8)
            vfmt_ptr(o, f->json, v);
        else
            vfmt_mem(o, f, i, sig);
        return true;
    case '9':
        put_socklen(o, f, i);
        return true;
    default:
        return false;
    }
}

/* One argument; false when it is left out. */
bool vfmt_arg(struct obuf *o, struct fctx *f, unsigned i, char sig)
{
    switch (sig) {
    case 'e':
        return vfmt_prctl_arg(o, f, i);
    case 'N':
        return vfmt_fcntl_arg(o, f, i);
    case 'm':
        /* open's mode means nothing without O_CREAT or O_TMPFILE: strace
         * leaves it out, and so does the text form. */
        if (!f->json && i > 0 && f->sig[i - 1] == 'o' &&
            !(vfmt_argval(f, i - 1) & (0100 | 020000000)))
            return false;
        vfmt_symbolic(o, f->json, 'm', vfmt_argval(f, i));
        return true;
    default:
        if (!put_pointed(o, f, i, sig))
            put_value(o, f, i, sig);
        return true;
    }
}
