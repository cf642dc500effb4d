/* The unit tests' reproducible pseudo-random numbers: xorshift64 (13, 7,
 * 17), one state per test file, seeded by the test. */
#ifndef VIGIL_TESTS_XORSHIFT_H
#define VIGIL_TESTS_XORSHIFT_H

#include <stdint.h>

static inline uint64_t xorshift64(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

#endif
