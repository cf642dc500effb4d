/* A growable, NULL-terminated vector of owned strings, for building argv.
 * Allocation failures are sticky: check strvec_ok() once at the end. */
#ifndef VIGIL_STRVEC_H
#define VIGIL_STRVEC_H

#include <stdbool.h>
#include <stddef.h>

struct strvec {
    char **v; /* NULL-terminated */
    size_t len, cap;
    bool failed;
};

void strvec_init(struct strvec *sv);
void strvec_free(struct strvec *sv);
void strvec_push(struct strvec *sv, const char *s);
/* Push each argument up to a terminating NULL. */
void strvec_pushl(struct strvec *sv, ...) __attribute__((sentinel));
void strvec_pushf(struct strvec *sv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
bool strvec_ok(const struct strvec *sv);

#endif
