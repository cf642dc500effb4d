/* For the decoder tests that build one event per table row: the row's
 * event must print as strace's @text exactly, and its JSON must hold
 * @json (NULL: not checked). Include after check.h. */
#ifndef VIGIL_TESTS_EVCHECK_H
#define VIGIL_TESTS_EVCHECK_H

#include <stdio.h>
#include <string.h>

#include "vigil/event.h"

static inline void check_event(const struct vigil_syscall *ev, size_t row,
                               const char *text, const char *json)
{
    char got[4096], want[4096];
    snprintf(want, sizeof want, "[pid %5d] %s", ev->tid, text);
    int n = vigil_syscall_text(ev, got, sizeof got);
    bool ok = n >= 0 && !strcmp(got, want);
    CHECK(ok, "row %zu text: %s%s%s", row, want,
          ok ? "" : "\n    got: ", ok ? "" : got);
    if (json == NULL)
        return;
    n = vigil_syscall_json(ev, got, sizeof got);
    ok = n >= 0 && strstr(got, json);
    CHECK(ok, "row %zu JSON has %s%s%s", row, json,
          ok ? "" : "\n    got: ", ok ? "" : got);
}

#endif
