/* Shared by the lib/trace modules. Not part of the public API.  The
 * signature alphabet of the system call tables is in syscalls/tables.h. */
#ifndef VIGIL_TRACE_INTERNAL_H
#define VIGIL_TRACE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vigil/event.h"
#include "vigil/syscalls.h"
#include "syscalls/tables.h"

/* ---- output buffer (obuf.c) ---- */

/* Appends never write past `len`; once something did not fit, `full` stays
 * set and further appends are no-ops. One byte is always kept for the NUL. */
struct obuf {
    char *p;
    size_t len, pos;
    bool full;
};

void ob_init(struct obuf *o, char *buf, size_t len);

/* Room for n more bytes, keeping one for the NUL. The appends are inline:
 * an event is a few hundred of them, most of string literals whose length
 * the compiler then knows (calls and strlen were a sixth of the
 * consumer's time under --callers). */
static inline bool ob_room(struct obuf *o, size_t n)
{
    if (o->full)
        return false;
    if (n >= o->len - o->pos) {
        o->full = true;
        return false;
    }
    return true;
}

static inline void ob_putc(struct obuf *o, char c)
{
    if (ob_room(o, 1))
        o->p[o->pos++] = c;
}

static inline void ob_put(struct obuf *o, const char *s, size_t n)
{
    if (n && ob_room(o, n)) {
        memcpy(o->p + o->pos, s, n);
        o->pos += n;
    }
}

static inline void ob_puts(struct obuf *o, const char *s)
{
    ob_put(o, s, strlen(s));
}
void ob_printf(struct obuf *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ob_dec(struct obuf *o, int64_t v);
void ob_udec(struct obuf *o, uint64_t v);
/* "0" for 0, else 0x... */
void ob_hex(struct obuf *o, uint64_t v);
/* "0x..." quoted, "0x0" for 0 (JSON strings: numbers above 2^53 lose
 * precision in many readers). At most QHEX_MAX bytes. */
#define QHEX_MAX 20
void ob_qhex(struct obuf *o, uint64_t v);
/* The same at @d (room for QHEX_MAX); returns the bytes written. */
size_t qhex_at(char *d, uint64_t v);
/* The hex digits of @v, at least one, at @d (room for 16); returns how
 * many. */
size_t hex_digits(char *d, uint64_t v);
/* Bytes as strace quotes them, without the surrounding quotes. */
void ob_cquote(struct obuf *o, const uint8_t *s, size_t n);
/* Every byte as \xHH (strace's form for random data). */
void ob_xquote(struct obuf *o, const uint8_t *s, size_t n);
/* Bytes as a JSON string body: printable ASCII as is, every other byte as
 * \u00XX (so a decoder's code points are the bytes), without quotes. */
void ob_jquote(struct obuf *o, const uint8_t *s, size_t n);
/* Finish: NUL-terminate; the length, or -ENOSPC. */
int ob_finish(struct obuf *o);

/* ---- --callers (format-callers.c) ---- */

/* The JSON members of @c (NULL: none), each after a comma. */
void ob_callers_json(struct obuf *o, const struct vigil_callers *c);
/* A branch as `["0x..","0x.."]` at @d (room for BRANCH_JSON_MAX); returns
 * the bytes written. */
#define BRANCH_JSON_MAX (2 * QHEX_MAX + 3)
size_t branch_json_at(char *d, const struct vigil_branch *b);

/* ---- --callers (format-origin.c) ---- */

/* ,"caller":{...} and, for code not the process's own, ,"origin":...,
 * "evidence":{...}; nothing for NULL. */
void format_origin_json(struct obuf *o, const struct vigil_origin *org);

/* ---- symbols (symbols.c) ---- */

struct vsym {
    uint64_t val;
    const char *name;
};

/* Flags: names of the set bits in table order, then any rest in hex; `zero`
 * when v is 0 (NULL: "0"). */
void ob_flags(struct obuf *o, uint64_t v, const struct vsym *t, size_t n,
              const char *zero);
/* One value: its name, or the number in decimal. */
void ob_enum(struct obuf *o, uint64_t v, const struct vsym *t, size_t n);
const char *vsym_find(uint64_t v, const struct vsym *t, size_t n);

/* Decoders for the symbolic signature characters; `v` already cut to the
 * argument's width. `sig` is the signature character. */
void ob_symbolic(struct obuf *o, char sig, uint64_t v);
bool vsys_sig_is_symbolic(char sig);
const char *vsys_family_name(uint64_t v);
const char *vsys_ipproto_name(uint64_t v);
const char *vsys_netlink_name(uint64_t v);
void ob_open_flags(struct obuf *o, uint64_t v, bool accmode);
void ob_mode(struct obuf *o, uint64_t v);

#endif
