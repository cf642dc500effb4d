/* The JSON of --callers' module attribution and origin verdict
 * (docs/callers.md, docs/events.md). */
#include <string.h>

#include "internal.h"

static void jstr(struct obuf *o, const char *s)
{
    ob_putc(o, '"');
    ob_jquote(o, (const uint8_t *)s, strlen(s));
    ob_putc(o, '"');
}

void format_origin_json(struct obuf *o, const struct vigil_origin *org)
{
    if (org == NULL)
        return;
    ob_puts(o, ",\"caller\":");
    if (org->module == NULL) {
        ob_puts(o, "null");
    } else {
        ob_puts(o, "{\"module\":");
        jstr(o, org->module);
        ob_puts(o, ",\"offset\":");
        ob_qhex(o, org->offset);
        ob_puts(o, ",\"address\":");
        ob_qhex(o, org->addr);
        if (org->map_partial)
            ob_puts(o, ",\"map_partial\":true");
        ob_putc(o, '}');
    }
    if (org->kind == VIGIL_ORIGIN_NONE)
        return;
    ob_puts(o, org->kind == VIGIL_ORIGIN_INJECTED
                   ? ",\"origin\":\"injected\""
                   : ",\"origin\":\"self-generated\"");
    const struct vigil_evidence *e = &org->evidence;
    ob_puts(o, ",\"evidence\":{\"kind\":");
    jstr(o, e->kind != NULL ? e->kind : "");
    ob_puts(o, ",\"address\":");
    ob_qhex(o, e->addr);
    if (e->pid > 0) {
        ob_puts(o, ",\"pid\":");
        ob_dec(o, e->pid);
        ob_puts(o, ",\"comm\":");
        jstr(o, e->comm);
    }
    if (e->call != NULL) {
        ob_puts(o, ",\"call\":");
        jstr(o, e->call);
    }
    if (e->via_branch)
        ob_puts(o, ",\"via\":\"branch\"");
    ob_putc(o, '}');
}
