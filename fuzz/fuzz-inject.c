/* libFuzzer target for vigil_inject_parse (lib/trace/inject.c): --inject
 * specs, strace's -e inject= syntax. Checks that a refused spec leaves the
 * configuration as it was, and that an accepted one names only rules that
 * exist with a usable when= range.
 *
 * Run: make fuzz && build/fuzz/fuzz-inject -max_total_time=60 \
 *          fuzz/corpus/inject */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/act.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *spec = malloc(size + 1);
    if (spec == NULL)
        return 0;
    memcpy(spec, data, size);
    spec[size] = '\0';
    static struct vact_config act, before;
    char err[160];
    memset(&act, 0, sizeof act);
    /* Twice: the second adds to (or takes calls over from) the first. */
    for (int round = 0; round < 2; round++) {
        before = act;
        int rc = vigil_inject_parse(spec, &act, err, sizeof err);
        if (rc < 0 && memcmp(&before, &act, sizeof act) != 0)
            abort(); /* a refused spec changed something */
        if (rc < 0 && strnlen(err, sizeof err) == 0)
            abort(); /* refused without saying why */
    }
    for (int nr = 0; nr <= VSYS_NR_MAX; nr++)
        if (act.rule_of[nr] > act.nrules)
            abort();
    for (uint32_t i = 0; i < act.nrules; i++) {
        const struct vact_rule *r = &act.rule[i];
        if (r->first < 1 || (r->last != 0 && r->last < r->first))
            abort();
    }
    free(spec);
    return 0;
}
