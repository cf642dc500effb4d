/* Hex digits: the one decoder for every parser of hex text in vigil
 * (signatures, hashes, keys, the benchmarks).  Header-only so that programs
 * built outside the library (bench/scan-hs) can use it. */
#ifndef VIGIL_HEX_H
#define VIGIL_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Value of one hex digit (either case), or -1. */
static inline int vigil_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode the 2 * n hex digits at @s into n bytes; false at a non-digit
 * (@out is then partly written). */
static inline bool vigil_unhex(const char *s, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        int hi = vigil_hexval(s[2 * i]), lo = vigil_hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

#endif
