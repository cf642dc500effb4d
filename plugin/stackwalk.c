/* Return addresses on a user stack (see stackwalk.h). */
#include "stackwalk.h"

/* Candidates checked per walk, each a guest memory read: a bound on the
 * cost of a stack full of pointers. */
#define MAX_PROBES 128
/* Words pointing this close to the stack pointer point into the stack
 * itself, never at code. */
#define STACK_NEAR (1ull << 20)

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

bool stackwalk_after_call(const uint8_t *b, size_t n)
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

static bool is_return_address(struct vcpu *v, uint64_t sp, uint64_t w,
                              unsigned *probes)
{
    if (w < PAGE || w >= USER_TOP ||
        (w > sp - STACK_NEAR && w < sp + STACK_NEAR))
        return false;
    if (++*probes > MAX_PROBES)
        return false;
    uint8_t b[8];
    /* The bytes before w may start on the page before w's: take what w's
     * own page has when that one cannot be read. */
    size_t n = sizeof b;
    if (!mem(v, w - n, b, n)) {
        n = w & (PAGE - 1);
        if (n == 0 || n > sizeof b || !mem(v, w - n, b, n))
            return false;
    }
    return stackwalk_after_call(b, n);
}

unsigned stackwalk(struct vcpu *v, uint64_t sp, unsigned k, uint64_t *out,
                   bool *trunc)
{
    uint64_t words[PAGE / 8];
    unsigned found = 0, probes = 0;
    *trunc = false;
    uint64_t at = (sp + 7) & ~7ull, end = at + STACKWALK_BYTES;
    if (sp == 0 || sp >= USER_TOP || end > USER_TOP) {
        *trunc = sp != 0;
        return 0;
    }
    while (at < end && found < k) {
        /* One read per page: a page that cannot be read ends the walk. */
        uint64_t chunk = PAGE - (at & (PAGE - 1));
        if (chunk > end - at)
            chunk = end - at;
        if (!mem(v, at, words, chunk)) {
            *trunc = true;
            break;
        }
        for (size_t i = 0; i < chunk / 8 && found < k; i++)
            if (is_return_address(v, sp, words[i], &probes))
                out[found++] = words[i];
        at += chunk;
    }
    return found;
}
