/* The message of a refusal, for a caller's error buffer: the one helper
 * behind every library function that returns an error code and a
 * message (`char *err, size_t errlen`). Files wrap it with the code they
 * return, e.g. #define fail(...) vigil_errf(-EINVAL, __VA_ARGS__). */
#ifndef VIGIL_ERRF_H
#define VIGIL_ERRF_H

#include <stddef.h>

/* Format into @err when it has room (@errlen > 0); returns @ret. */
int vigil_errf(int ret, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
