/* One event as JSON or as a line of strace-like text. Both forms walk the
 * call's signature (internal.h) and share the decoders; `json` selects the
 * representation of each value. The schema is documented in docs/events.md.
 *
 * Everything in an event is untrusted: the number and arguments come from
 * guest registers, captures from guest memory (any bytes, any length up to
 * the capture limits), so every read below is bounded by the capture's own
 * length and every write goes through struct obuf. */
#include <errno.h>
#include <string.h>

#include "trace/decode.h"
#include "trace/internal.h"

struct fctx {
    const struct vigil_syscall *ev;
    const char *sig; /* argument characters (after the return kind) */
    unsigned nargs;
    bool json;
    uint64_t truncated; /* bit i: argument i's capture is incomplete */
};

static uint64_t argval(const struct fctx *f, unsigned i)
{
    uint64_t v = f->ev->args[i];
    return f->ev->compat ? (uint32_t)v : v;
}

static int64_t argsigned(const struct fctx *f, unsigned i)
{
    uint64_t v = f->ev->args[i];
    return f->ev->compat ? (int32_t)(uint32_t)v : (int64_t)v;
}

static const struct vigil_capture *find_cap(const struct fctx *f, unsigned i,
                                            unsigned kind)
{
    const struct vigil_syscall *ev = f->ev;
    unsigned n = ev->ncaps < VSYS_ARRAY_SIZE(ev->caps)
                     ? ev->ncaps
                     : (unsigned)VSYS_ARRAY_SIZE(ev->caps);

    for (unsigned k = 0; k < n; k++) {
        const struct vigil_capture *c = &ev->caps[k];
        if (c->argi == i && c->kind == kind && (c->data || c->len == 0))
            return c;
    }
    return NULL;
}

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* ---- scalar pieces ---- */

static void put_ptr(struct obuf *o, bool json, uint64_t v)
{
    if (v == 0) {
        ob_puts(o, json ? "null" : "NULL");
        return;
    }
    if (json)
        ob_putc(o, '"');
    ob_hex(o, v);
    if (json)
        ob_putc(o, '"');
}

static void put_hexval(struct obuf *o, bool json, uint64_t v)
{
    if (json)
        ob_putc(o, '"');
    ob_hex(o, v);
    if (json)
        ob_putc(o, '"');
}

/* A name known to need no escaping, as a JSON string or bare. */
static void put_name(struct obuf *o, bool json, const char *s)
{
    if (json)
        ob_putc(o, '"');
    ob_puts(o, s);
    if (json)
        ob_putc(o, '"');
}

static void put_symbolic(struct obuf *o, bool json, char sig, uint64_t v)
{
    if (json)
        ob_putc(o, '"');
    ob_symbolic(o, sig, v);
    if (json)
        ob_putc(o, '"');
}

static void put_fault(struct obuf *o, bool json, uint64_t addr)
{
    if (!json) {
        ob_hex(o, addr);
        return;
    }
    ob_puts(o, "{\"addr\":\"");
    ob_hex(o, addr);
    ob_puts(o, "\",\"error\":\"unreadable\"}");
}

/* An argument that points to guest memory: its capture, or the address. */
static void put_mem(struct obuf *o, struct fctx *f, unsigned i, char sig)
{
    unsigned kind;
    const struct vigil_capture *c;
    uint64_t addr = argval(f, i);
    bool json = f->json, trunc;

    switch (sig) {
    case 's':
        kind = VSYS_CAP_STR;
        break;
    case 'b':
    case 'B':
        kind = VSYS_CAP_BUF;
        break;
    case 'v':
        kind = VSYS_CAP_ARGV;
        break;
    case 'k':
        kind = VSYS_CAP_SOCKADDR;
        break;
    case '8':
        kind = VSYS_CAP_DIRENTS;
        break;
    case '!':
        kind = VSYS_CAP_FRAME_MASK;
        break;
    default:
        kind = VSYS_CAP_STRUCT;
        break;
    }
    if (addr == 0) {
        put_ptr(o, json, 0);
        return;
    }
    c = find_cap(f, i, kind);
    if (!c) {
        put_ptr(o, json, addr);
        return;
    }
    if (c->fault && c->len == 0) {
        put_fault(o, json, addr);
        return;
    }
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
        vdec_argv(o, json, c->data, c->len, trunc);
        return;
    case 'k':
        vdec_sockaddr(o, json, c->data, c->len, trunc);
        return;
    case 'i':
        if (c->len >= 8) {
            vdec_fds(o, json, c->data);
            return;
        }
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
    put_ptr(o, json, addr);
}

/* A socket address length: the int before the call and after it, shown
 * as strace does ([16], or [128 => 16] when the kernel changed it). */
static void put_socklen(struct obuf *o, const struct fctx *f, unsigned i)
{
    const struct vigil_capture *in = NULL, *out = NULL;
    const struct vigil_syscall *ev = f->ev;
    uint64_t addr = argval(f, i);
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
        put_ptr(o, f->json, addr);
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
    const struct vigil_capture *c = find_cap(f, i, VSYS_CAP_FRAME_MASK);

    if (!c || c->len < 8) {
        if (f->json)
            ob_puts(o, "null");
        return;
    }
    ob_puts(o, f->json ? "{\"mask\":" : "{mask=");
    vdec_sigset(o, f->json, c->data, c->len);
    ob_putc(o, '}');
}

/* PR_SET_NAME's and PR_GET_NAME's name: at most 15 bytes, as the kernel
 * keeps it. */
static void put_task_name(struct obuf *o, struct fctx *f, unsigned i)
{
    uint64_t addr = argval(f, i);
    const struct vigil_capture *c = find_cap(f, i, VSYS_CAP_STR);
    const uint8_t *nul;
    size_t len;
    bool trunc;

    if (addr == 0 || !c) {
        put_ptr(o, f->json, addr);
        return;
    }
    if (c->fault && c->len == 0) {
        put_fault(o, f->json, addr);
        return;
    }
    nul = memchr(c->data, 0, c->len);
    len = nul ? (size_t)(nul - c->data) : c->len;
    trunc = len > VDEC_TASK_COMM || (!nul && (c->trunc || c->fault));
    if (len > VDEC_TASK_COMM)
        len = VDEC_TASK_COMM;
    if (trunc && i < 64)
        f->truncated |= (uint64_t)1 << i;
    vdec_bytes(o, f->json, c->data, len, trunc);
}

static bool put_arg(struct obuf *o, struct fctx *f, unsigned i, char sig);

/* prctl's second argument, by operation (decode-prctl.c). */
static bool put_prctl_arg(struct obuf *o, struct fctx *f, unsigned i)
{
    char how = vdec_prctl_arg2(argval(f, 0));

    switch (how) {
    case 's':
        put_task_name(o, f, i);
        return true;
    case 'D':
        if (f->json)
            ob_putc(o, '"');
        vdec_prctl_dumpable(o, argval(f, i));
        if (f->json)
            ob_putc(o, '"');
        return true;
    default:
        return put_arg(o, f, i, how);
    }
}

/* fcntl's third argument, by command; false when the command takes none
 * (text leaves it out, JSON shows the raw value). */
static bool put_fcntl_arg(struct obuf *o, const struct fctx *f, unsigned i)
{
    int32_t cmd = i > 0 ? (int32_t)argval(f, i - 1) : -1;
    uint64_t v = argval(f, i);
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
        put_symbolic(o, json, 'o', v);
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
        put_ptr(o, json, v);
        return true;
    }
}

/* One argument; false when it is left out. */
static bool put_arg(struct obuf *o, struct fctx *f, unsigned i, char sig)
{
    uint64_t v = argval(f, i);
    bool json = f->json;

    switch (sig) {
    case 'd':
    case 'f':
        ob_dec(o, (int32_t)v);
        break;
    case 'l':
        ob_dec(o, argsigned(f, i));
        break;
    case 'u':
        ob_udec(o, v);
        break;
    case 'x':
        put_hexval(o, json, v);
        break;
    case 'p':
    case '^':
        put_ptr(o, json, v);
        break;
    case 'D':
        if ((int32_t)v == -100)
            put_name(o, json, "AT_FDCWD");
        else
            ob_dec(o, (int32_t)v);
        break;
    case 's':
    case 'b':
    case 'B':
    case 'v':
    case 'k':
    case 'i':
    case 'W':
    case 't':
    case 'h':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '7':
    case '8':
        put_mem(o, f, i, sig);
        break;
    case '!':
        put_frame_mask(o, f, i);
        break;
    case '6':
        /* strace reads a sigset only of the kernel's size (the last
         * argument); any other size leaves the address. */
        if (argval(f, f->nargs - 1) != 8)
            put_ptr(o, json, v);
        else
            put_mem(o, f, i, sig);
        break;
    case '9':
        put_socklen(o, f, i);
        break;
    case 'e':
        return put_prctl_arg(o, f, i);
    case 'N':
        return put_fcntl_arg(o, f, i);
    case 'm':
        /* open's mode means nothing without O_CREAT or O_TMPFILE: strace
         * leaves it out, and so does the text form. */
        if (!json && i > 0 && f->sig[i - 1] == 'o' &&
            !(argval(f, i - 1) & (0100 | 020000000)))
            return false;
        put_symbolic(o, json, 'm', v);
        break;
    case 'Y': {
        /* IPPROTO_* names only mean something for the inet families. */
        uint64_t fam = argval(f, 0);
        const char *name =
            (fam == 2 || fam == 10) ? vsys_ipproto_name(v) : NULL;
        if (name)
            put_name(o, json, name);
        else
            ob_dec(o, (int32_t)v);
        break;
    }
    default:
        if (vsys_sig_is_symbolic(sig))
            put_symbolic(o, json, sig, v);
        else
            put_hexval(o, json, v);
        break;
    }
    return true;
}

/* How many arguments the text form shows: strace shows a futex call's
 * arguments as far as its operation uses them. */
static unsigned text_nargs(const struct fctx *f)
{
    if (f->nargs == 5 && f->sig[0] == 'L')
        return vdec_prctl_nargs(argval(f, 0));
    if (f->nargs == 6 && f->sig[1] == 'X') {
        switch (argval(f, 1) & 0x7f) {
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

/* ---- the whole event ---- */

static const char *call_name(const struct vigil_syscall *ev,
                             const struct vsys_ent *e, char *tmp, size_t len)
{
    struct obuf o;

    if (e)
        return e->name;
    ob_init(&o, tmp, len);
    ob_puts(&o, "syscall_");
    ob_hex(&o, ev->nr);
    return ob_finish(&o) < 0 ? "syscall" : tmp;
}

static void fctx_init(struct fctx *f, const struct vigil_syscall *ev,
                      const struct vsys_ent *e, bool json)
{
    f->ev = ev;
    f->json = json;
    f->truncated = 0;
    if (e && e->sig && e->sig[0]) {
        f->sig = e->sig + 1;
        f->nargs = e->nargs <= 6 ? e->nargs : 6;
    } else {
        f->sig = "xxxxxx";
        f->nargs = 6;
    }
}

/* The error number of a failed return, or 0. */
static int ret_errno(const struct vigil_syscall *ev)
{
    int64_t r = ev->compat ? (int32_t)(uint32_t)ev->ret : ev->ret;
    return r < 0 && r >= -4095 ? (int)-r : 0;
}

static int64_t ret_value(const struct vigil_syscall *ev)
{
    return ev->compat ? (int32_t)(uint32_t)ev->ret : ev->ret;
}

static void put_ret_text(struct obuf *o, const struct vigil_syscall *ev,
                         const struct vsys_ent *e)
{
    int err;
    char kind = e && e->sig ? e->sig[0] : 'd';
    const char *name, *desc;

    if (ev->state != VIGIL_SC_DONE) {
        ob_putc(o, '?');
        return;
    }
    err = ret_errno(ev);
    if (err) {
        name = vsys_errno_name(err);
        desc = vsys_errno_desc(err);
        if (err >= 512 && name) {
            ob_printf(o, "? %s (%s)", name, desc);
        } else if (name) {
            ob_printf(o, "-1 %s (%s)", name, desc);
        } else {
            ob_printf(o, "-1 ERRNO_%d (Unknown error %d)", err, err);
        }
        return;
    }
    switch (kind) {
    case 'x':
        ob_hex(o, ev->compat ? (uint32_t)ev->ret : (uint64_t)ev->ret);
        break;
    case 'o':
        ob_printf(o, "%#03llo", (unsigned long long)ret_value(ev));
        break;
    default:
        ob_dec(o, ret_value(ev));
        break;
    }
}

int vigil_syscall_text(const struct vigil_syscall *ev, char *buf, size_t len)
{
    struct obuf o;
    struct fctx f;
    const struct vsys_ent *e;
    char tmp[32];
    bool first = true;

    if (!ev || !buf)
        return -EINVAL;
    e = vsys_lookup(ev->nr, ev->compat);
    fctx_init(&f, ev, e, false);
    ob_init(&o, buf, len);
    ob_printf(&o, "[pid %5d] ", (int)ev->tid);
    if (ev->compat)
        ob_puts(&o, "[i386] ");
    ob_puts(&o, call_name(ev, e, tmp, sizeof(tmp)));
    ob_putc(&o, '(');
    if (!ev->compat && ev->nr == 56) { /* clone */
        const struct vigil_capture *c = find_cap(&f, 2, VSYS_CAP_STRUCT);
        vdec_clone_text(&o, ev->args, c ? c->data : NULL, c ? c->len : 0);
        f.nargs = 0;
    }
    for (unsigned i = 0, n = text_nargs(&f); i < n && !o.full; i++) {
        size_t mark = o.pos;

        if (!first)
            ob_puts(&o, ", ");
        if (put_arg(&o, &f, i, f.sig[i]))
            first = false;
        else
            o.pos = mark;
    }
    ob_puts(&o, ") = ");
    put_ret_text(&o, ev, e);
    if (ev->injected && ev->state == VIGIL_SC_DONE)
        ob_puts(&o, " (INJECTED)");
    if (ev->hidden && ev->state == VIGIL_SC_DONE)
        ob_puts(&o, " (HIDDEN)");
    return ob_finish(&o);
}

int vigil_syscall_json(const struct vigil_syscall *ev, char *buf, size_t len)
{
    static const char *const states[] = {"done", "noreturn", "unfinished"};
    struct obuf o;
    struct fctx f;
    const struct vsys_ent *e;
    char tmp[32];
    const char *name;
    int err;

    if (!ev || !buf)
        return -EINVAL;
    e = vsys_lookup(ev->nr, ev->compat);
    fctx_init(&f, ev, e, true);
    ob_init(&o, buf, len);

    ob_puts(&o, "{\"type\":\"syscall\",\"ts\":");
    ob_udec(&o, ev->ts_enter_ns);
    ob_puts(&o, ",\"ts_exit\":");
    if (ev->state == VIGIL_SC_DONE && ev->ts_exit_ns)
        ob_udec(&o, ev->ts_exit_ns);
    else
        ob_puts(&o, "null");
    ob_puts(&o, ",\"vcpu\":");
    ob_udec(&o, ev->vcpu);
    ob_puts(&o, ",\"pid\":");
    ob_dec(&o, ev->tgid);
    ob_puts(&o, ",\"tid\":");
    ob_dec(&o, ev->tid);
    ob_puts(&o, ",\"ppid\":");
    ob_dec(&o, ev->ppid);
    ob_puts(&o, ",\"comm\":\"");
    ob_jquote(&o, (const uint8_t *)ev->comm, strnlen(ev->comm, 16));
    ob_puts(&o, ev->compat ? "\",\"abi\":\"i386\",\"nr\":"
                           : "\",\"abi\":\"x86_64\",\"nr\":");
    ob_udec(&o, ev->nr);
    ob_puts(&o, ",\"name\":\"");
    ob_puts(&o, call_name(ev, e, tmp, sizeof(tmp)));
    ob_puts(&o, "\",\"args\":[");
    for (unsigned i = 0; i < f.nargs; i++) {
        if (i)
            ob_putc(&o, ',');
        ob_udec(&o, argval(&f, i));
    }
    ob_puts(&o, "],\"decoded\":[");
    for (unsigned i = 0; i < f.nargs && !o.full; i++) {
        if (i)
            ob_putc(&o, ',');
        put_arg(&o, &f, i, f.sig[i]);
    }
    ob_puts(&o, "],\"ret\":");
    if (ev->state == VIGIL_SC_DONE) {
        ob_dec(&o, ret_value(ev));
        err = ret_errno(ev);
        if (err) {
            name = vsys_errno_name(err);
            ob_puts(&o, ",\"error\":\"");
            if (name)
                ob_puts(&o, name);
            else
                ob_printf(&o, "ERRNO_%d", err);
            ob_putc(&o, '"');
        }
        if (ev->injected)
            ob_puts(&o, ",\"injected\":true");
        if (ev->hidden)
            ob_puts(&o, ",\"hidden\":true");
    } else {
        ob_puts(&o, "null");
    }
    ob_puts(&o, ",\"state\":\"");
    ob_puts(&o, (unsigned)ev->state < VSYS_ARRAY_SIZE(states)
                    ? states[ev->state]
                    : "unknown");
    ob_puts(&o, "\",\"ip\":\"");
    ob_hex(&o, ev->ip);
    ob_putc(&o, '"');
    format_origin_json(&o, ev->origin);
    if (f.truncated) {
        bool first = true;

        ob_puts(&o, ",\"truncated\":[");
        for (unsigned i = 0; i < 6; i++) {
            if (f.truncated & ((uint64_t)1 << i)) {
                if (!first)
                    ob_putc(&o, ',');
                ob_udec(&o, i);
                first = false;
            }
        }
        ob_putc(&o, ']');
    }
    ob_putc(&o, '}');
    return ob_finish(&o);
}
