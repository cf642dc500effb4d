/* Shared by the formatter fuzzers (fuzz-format, fuzz-decode): reading
 * values from the input, and the one property both check. Included, not
 * linked: each fuzzer is one translation unit with the library. */
#ifndef VIGIL_FUZZ_FORMAT_INPUT_H
#define VIGIL_FUZZ_FORMAT_INPUT_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/event.h"

struct input {
    const uint8_t *p;
    size_t n;
};

/* @bytes little-endian bytes of the input; zeros once it is used up. */
static uint64_t take(struct input *in, size_t bytes)
{
    uint64_t v = 0;

    for (size_t i = 0; i < bytes; i++) {
        v |= (uint64_t)(in->n ? *in->p : 0) << (8 * i);
        if (in->n) {
            in->p++;
            in->n--;
        }
    }
    return v;
}

/* Formatted both ways into a heap buffer of exactly @size bytes (so that
 * ASan sees a write past it), the output is the same as into a large
 * buffer, or -ENOSPC. */
static void check(const struct vigil_syscall *ev, size_t size, bool json)
{
    static char big[65536];
    char *small = malloc(size ? size : 1);
    int n, m;

    if (!small)
        return;
    n = json ? vigil_syscall_json(ev, big, sizeof(big))
             : vigil_syscall_text(ev, big, sizeof(big));
    m = json ? vigil_syscall_json(ev, small, size)
             : vigil_syscall_text(ev, small, size);
    if (n < 0 || (size_t)n != strlen(big))
        abort();
    if (m >= 0 && (m != n || memcmp(small, big, (size_t)n + 1) != 0))
        abort();
    if (m < 0 && (m != -ENOSPC || size > (size_t)n))
        abort();
    free(small);
}

#endif
