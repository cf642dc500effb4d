/* Whether bytes of x86-64 code end with a call instruction: what tells a
 * return address from other words on a stack (--callers' stack walk,
 * plugin/stackwalk.c; docs/callers.md). */
#ifndef VIGIL_CALLINSN_H
#define VIGIL_CALLINSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether the @n bytes at @b, which end just before a candidate return
 * address, end with a call: e8 rel32, or ff /2 in any of its 2- to 7-byte
 * forms (register, memory, SIB, 8- or 32-bit displacement, RIP-relative; a
 * REX prefix before it changes nothing). */
bool vigil_after_call(const uint8_t *b, size_t n);

#endif
