/* The thread selection rule (see vigil_select_event in consumer.h). One
 * definition, because the consumer (what is reported) and the plugin
 * (where --inject acts) must agree on every thread. */
#include <string.h>

#include "vigil/consumer.h"

bool vigil_select_event(const struct vigil_select *s, int32_t tgid,
                        const char *comm, bool exec_matched, bool tgid_chosen,
                        bool ppid_chosen, bool *add)
{
    *add = false;
    switch (s->kind) {
    case VIGIL_SEL_ALL:
        return true;
    case VIGIL_SEL_PID:
        *add = tgid == s->pid;
        break;
    case VIGIL_SEL_COMM:
        if (!strncmp(comm, s->name, 15)) {
            /* Without children the name selects, call by call. */
            if (!s->follow_children)
                return true;
            *add = true;
        }
        break;
    case VIGIL_SEL_EXE:
        *add = exec_matched;
        break;
    }
    if (s->follow_children && ppid_chosen)
        *add = true;
    return *add || tgid_chosen;
}
