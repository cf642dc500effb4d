/* Inside the symbolic names (symbols.c, symbols-net.c): how a table of
 * names is written, and how a signature character is shown. */
#ifndef VIGIL_TRACE_SYMBOLS_H
#define VIGIL_TRACE_SYMBOLS_H

#include "trace/internal.h"

#define S(v, n)                                                                \
    {                                                                          \
        (v), (n)                                                               \
    }

/* How each symbolic signature character (syscalls/tables.h) is shown:
 * flags (with the name of zero, if any), an enumeration, a type in the
 * low bits with flags above (types, then flags), a name or hex, or a
 * decoder of its own. */
enum sym_kind { SK_FLAGS, SK_ENUM, SK_TYPE_FLAGS, SK_NAME_OR_HEX, SK_FN };

#define SYM_T(t) (t), VSYS_ARRAY_SIZE(t)
struct symbolic {
    char sig;
    enum sym_kind kind;
    const struct vsym *t;
    size_t n;
    const struct vsym *t2; /* SK_TYPE_FLAGS: the flags */
    size_t n2;
    const char *zero; /* SK_FLAGS */
    void (*fn)(struct obuf *o, uint64_t v);
};

/* The sockets' characters (symbols-net.c). */
extern const struct symbolic vsym_net_symbolics[];
extern const size_t vsym_net_nsymbolics;

#endif
