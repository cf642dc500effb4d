#include "vigil/errf.h"

#include <stdarg.h>
#include <stdio.h>

int vigil_errf(int ret, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (errlen > 0)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return ret;
}
