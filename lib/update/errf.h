/* The message of a refusal, for the caller's error buffer. Internal to
 * lib/update: each file wraps it with the result it returns, e.g.
 * #define io_fail(...) ((enum vupd_reason)vupd_errf(VUPD_IO, __VA_ARGS__)). */
#ifndef VIGIL_UPDATE_ERRF_H
#define VIGIL_UPDATE_ERRF_H

#include <stddef.h>

/* Format into @err when it has room (@errlen > 0); returns @ret. */
int vupd_errf(int ret, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
