/* The unit tests' one assertion family. CHECK(cond, fmt, ...) prints
 * "ok: what" or "NOT OK: file:line: what" and counts the failures in
 * `failures`, so that one run shows every problem and main() returns
 * failures != 0. CHECK_QUIET is the same check for loops and long tables,
 * where a line per passing case would bury the result: it prints only a
 * failure. Both go through check_report, so a failure reads the same
 * whichever was used. Checks made from several threads count with an
 * atomic add. */
#ifndef VIGIL_TESTS_CHECK_H
#define VIGIL_TESTS_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int failures;

__attribute__((format(printf, 5, 6), unused)) static void
check_report(bool ok, bool quiet, const char *file, int line, const char *fmt,
             ...)
{
    if (ok && quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    flockfile(stdout); /* one line even when threads check at once */
    if (ok) {
        printf("ok: ");
    } else {
        printf("NOT OK: %s:%d: ", file, line);
        __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
    }
    vprintf(fmt, ap);
    printf("\n");
    funlockfile(stdout);
    va_end(ap);
}

#define CHECK(cond, ...)                                                       \
    check_report((cond), false, __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_QUIET(cond, ...)                                                 \
    check_report((cond), true, __FILE__, __LINE__, __VA_ARGS__)

#endif
