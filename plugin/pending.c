#include <string.h>

#include "pending.h"

#define SLOTS     8192 /* power of two; threads blocked in calls at once */
#define MAX_PROBE 64
#define EMPTY     0
#define DELETED   1

static struct pending_call table[SLOTS];

static unsigned slot_of(uint64_t task)
{
    /* task_structs are slab-aligned: mix the high bits down. */
    return (unsigned)((task * 0x9e3779b97f4a7c15ull) >> 51) & (SLOTS - 1);
}

bool pending_put(uint64_t task, uint64_t nr, const uint64_t args[6],
                 bool compat, uint8_t retry, bool vfork)
{
    unsigned s = slot_of(task);
    int free_slot = -1;
    for (unsigned k = 0; k < MAX_PROBE; k++, s = (s + 1) & (SLOTS - 1)) {
        uint64_t key = __atomic_load_n(&table[s].task, __ATOMIC_ACQUIRE);
        if (key == task) {
            free_slot = (int)s;
            break;
        }
        if (key == DELETED && free_slot < 0)
            free_slot = (int)s;
        if (key == EMPTY) {
            if (free_slot < 0)
                free_slot = (int)s;
            break;
        }
    }
    while (free_slot >= 0) {
        struct pending_call *p = &table[free_slot];
        uint64_t key = __atomic_load_n(&p->task, __ATOMIC_ACQUIRE);
        if (key == task ||
            ((key == EMPTY || key == DELETED) &&
             __atomic_compare_exchange_n(&p->task, &key, task, false,
                                         __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))) {
            p->nr = nr;
            memcpy(p->args, args, sizeof p->args);
            p->compat = compat;
            p->retry = retry;
            p->vfork = vfork;
            return true;
        }
        /* Lost the slot to another thread: look further along. */
        free_slot = -1;
        for (unsigned k = 0; k < MAX_PROBE; k++, s = (s + 1) & (SLOTS - 1)) {
            key = __atomic_load_n(&table[s].task, __ATOMIC_ACQUIRE);
            if (key == EMPTY || key == DELETED) {
                free_slot = (int)s;
                break;
            }
        }
    }
    return false;
}

bool pending_take(uint64_t task, struct pending_call *out)
{
    unsigned s = slot_of(task);
    for (unsigned k = 0; k < MAX_PROBE; k++, s = (s + 1) & (SLOTS - 1)) {
        uint64_t key = __atomic_load_n(&table[s].task, __ATOMIC_ACQUIRE);
        if (key == EMPTY)
            return false;
        if (key == task) {
            *out = table[s];
            __atomic_store_n(&table[s].task, DELETED, __ATOMIC_RELEASE);
            return true;
        }
    }
    return false;
}
