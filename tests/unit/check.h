/* The unit tests' one assertion: CHECK(cond, fmt, ...) prints "ok: what"
 * or "NOT OK: what" and counts the failures in `failures`, so that one
 * run shows every problem and main() returns failures != 0. EXPECT is the
 * same for loops and long tables: it prints only a failure, with its
 * place. */
#ifndef VIGIL_TESTS_CHECK_H
#define VIGIL_TESTS_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (cond) {                                                            \
            printf("ok: ");                                                    \
        } else {                                                               \
            printf("NOT OK: ");                                                \
            failures++;                                                        \
        }                                                                      \
        printf(__VA_ARGS__);                                                   \
        printf("\n");                                                          \
    } while (0)

#define EXPECT(cond, ...)                                                      \
    do {                                                                       \
        if (!(cond)) {                                                         \
            printf("NOT OK: %s:%d: ", __FILE__, __LINE__);                     \
            printf(__VA_ARGS__);                                               \
            printf("\n");                                                      \
            failures++;                                                        \
        }                                                                      \
    } while (0)

#endif
