/* Return addresses on a user stack (see stackwalk.h). */
#include "stackwalk.h"

#include "vigil/callinsn.h"

/* Candidates checked per walk, each a guest memory read: a bound on the
 * cost of a stack full of pointers. */
#define MAX_PROBES 128
/* Words pointing this close to the stack pointer point into the stack
 * itself, never at code. */
#define STACK_NEAR (1ull << 20)

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
    return vigil_after_call(b, n);
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
