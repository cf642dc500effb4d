/* For the decoder tests that build one event per table row: the row's
 * event (row_event, then row_capture for each capture it carries) must
 * print as strace's @text exactly, and its JSON must hold @json (NULL:
 * not checked). Include after check.h. */
#ifndef VIGIL_TESTS_EVCHECK_H
#define VIGIL_TESTS_EVCHECK_H

#include <stdio.h>
#include <string.h>

#include "vigil/event.h"

/* A table row's call: thread 42's call @nr, finished with @ret, its first
 * @nargs arguments from @args, no captures yet. */
static inline void row_event(struct vigil_syscall *ev, uint64_t nr, int64_t ret,
                             const uint64_t *args, size_t nargs)
{
    memset(ev, 0, sizeof *ev);
    ev->tid = ev->tgid = 42;
    ev->nr = nr;
    ev->ret = ret;
    ev->state = VIGIL_SC_DONE;
    memcpy(ev->args, args, nargs * sizeof *args);
}

/* Append a capture of argument @argi: @len bytes at @data (borrowed, as
 * in an event). Returned for the rows that mark it faulted. */
static inline struct vigil_capture *
row_capture(struct vigil_syscall *ev, unsigned argi, enum vsys_cap_kind kind,
            bool at_exit, const uint8_t *data, size_t len)
{
    struct vigil_capture *c = &ev->caps[ev->ncaps++];

    *c = (struct vigil_capture){.argi = (uint8_t)argi,
                                .kind = (uint8_t)kind,
                                .at_exit = at_exit,
                                .len = (uint16_t)len,
                                .data = data};
    return c;
}

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
