/* Calls recognised from the bytes before a return address (callinsn.h). */
#include "vigil/callinsn.h"

/* The length of ff /r starting at @b (ff, ModRM, [SIB], [displacement]),
 * or 0 when @n bytes do not hold its ModRM and SIB. */
static size_t ff_len(const uint8_t *b, size_t n)
{
    if (n < 2)
        return 0;
    unsigned mod = b[1] >> 6, rm = b[1] & 7;
    if (mod == 3)
        return 2;
    size_t len = 2;
    if (rm == 4) {
        if (n < 3)
            return 0;
        len++;
        if (mod == 0 && (b[2] & 7) == 5)
            return len + 4; /* no base: disp32 */
    } else if (mod == 0 && rm == 5) {
        return len + 4; /* rip-relative */
    }
    return len + (mod == 1 ? 1 : mod == 2 ? 4 : 0);
}

bool vigil_after_call(const uint8_t *b, size_t n)
{
    if (n >= 5 && b[n - 5] == 0xe8)
        return true;
    for (size_t k = 2; k <= 7 && k <= n; k++) {
        const uint8_t *p = b + n - k;
        if (p[0] == 0xff && ((p[1] >> 3) & 7) == 2 && ff_len(p, k) == k)
            return true;
    }
    return false;
}
