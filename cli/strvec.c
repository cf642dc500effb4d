#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strvec.h"

void strvec_init(struct strvec *sv)
{
    memset(sv, 0, sizeof *sv);
}

void strvec_free(struct strvec *sv)
{
    for (size_t i = 0; i < sv->len; i++)
        free(sv->v[i]);
    free(sv->v);
    strvec_init(sv);
}

static void append(struct strvec *sv, char *owned)
{
    if (owned == NULL) {
        sv->failed = true;
        return;
    }
    if (sv->len + 2 > sv->cap) {
        size_t cap = sv->cap ? sv->cap * 2 : 16;
        char **v = realloc(sv->v, cap * sizeof *v);
        if (v == NULL) {
            free(owned);
            sv->failed = true;
            return;
        }
        sv->v = v;
        sv->cap = cap;
    }
    sv->v[sv->len++] = owned;
    sv->v[sv->len] = NULL;
}

void strvec_push(struct strvec *sv, const char *s)
{
    append(sv, strdup(s));
}

void strvec_pushl(struct strvec *sv, ...)
{
    va_list ap;
    va_start(ap, sv);
    for (const char *s; (s = va_arg(ap, const char *)) != NULL;)
        strvec_push(sv, s);
    va_end(ap);
}

void strvec_pushf(struct strvec *sv, const char *fmt, ...)
{
    char *s;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    append(sv, s);
}

bool strvec_ok(const struct strvec *sv)
{
    return !sv->failed && sv->v != NULL;
}
