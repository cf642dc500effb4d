/* One event as JSON or as a line of strace-like text. Both forms walk the
 * call's signature (internal.h) and share the argument rendering
 * (format-args.c, format-ops.c); `json` selects the representation of each
 * value. The schema is documented in docs/events.md. */
#include <errno.h>
#include <string.h>

#include "trace/decode.h"
#include "trace/format.h"

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
        const struct vigil_capture *c = vfmt_find_cap(&f, 2, VSYS_CAP_STRUCT);
        vdec_clone_text(&o, ev->args, c ? c->data : NULL, c ? c->len : 0);
        f.nargs = 0;
    }
    for (unsigned i = 0, n = vfmt_text_nargs(&f); i < n && !o.full; i++) {
        size_t mark = o.pos;

        if (!first)
            ob_puts(&o, ", ");
        if (vfmt_arg(&o, &f, i, f.sig[i]))
            first = false;
        else
            o.pos = mark;
    }
    ob_puts(&o, ") = ");
    put_ret_text(&o, ev, e);
    vfmt_ret_suffix(&o, &f);
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
        ob_udec(&o, vfmt_argval(&f, i));
    }
    ob_puts(&o, "],\"decoded\":[");
    for (unsigned i = 0; i < f.nargs && !o.full; i++) {
        if (i)
            ob_putc(&o, ',');
        vfmt_arg(&o, &f, i, f.sig[i]);
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
    ob_callers_json(&o, ev->callers);
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
