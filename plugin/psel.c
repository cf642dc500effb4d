/* Thread selections on the plugin's side (see psel.h). */
#include "psel.h"

#include <string.h>

#include "vigil/syscalls.h"

#define PROBE 64

static unsigned mix(uint64_t k)
{
    return (unsigned)((k * 0x9e3779b97f4a7c15ull) >> 40);
}

void psel_init(struct psel *p, const struct vigil_select *sel)
{
    memset(p, 0, sizeof *p);
    p->sel = *sel;
    p->sel.name[sizeof p->sel.name - 1] = '\0';
    p->name_len = strlen(p->sel.name);
    p->nr_execve = vsys_number("execve");
}

static bool has(const struct psel *p, int32_t tgid)
{
    if (tgid <= 0)
        return false;
    for (unsigned i = 0, s = mix((uint64_t)tgid); i < PROBE; i++, s++) {
        int32_t v = __atomic_load_n(&p->chosen[s & (PSEL_CHOSEN - 1)],
                                    __ATOMIC_ACQUIRE);
        if (v == tgid)
            return true;
        if (v == 0)
            return false;
    }
    return false;
}

static void add(struct psel *p, int32_t tgid)
{
    if (tgid <= 0)
        return;
    for (unsigned i = 0, s = mix((uint64_t)tgid); i < PROBE; i++, s++) {
        int32_t *slot = &p->chosen[s & (PSEL_CHOSEN - 1)];
        int32_t v = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
        if (v == tgid)
            return;
        if (v == 0 &&
            __atomic_compare_exchange_n(slot, &v, tgid, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            __atomic_fetch_add(&p->gen, 1, __ATOMIC_RELEASE);
            return;
        }
        if (v == tgid)
            return;
    }
}

bool psel_thread(struct psel *p, const struct vraw_task *t)
{
    char comm[sizeof t->comm + 1];
    memcpy(comm, t->comm, sizeof t->comm);
    comm[sizeof t->comm] = '\0';
    bool chosen;
    bool yes = vigil_select_event(&p->sel, t->tgid, comm, false,
                                  has(p, t->tgid), has(p, t->ppid), &chosen);
    if (chosen)
        add(p, t->tgid);
    return yes;
}

bool psel_exec_wanted(const struct psel *p, struct vcpu *v, uint64_t nr,
                      const uint64_t args[6])
{
    if (p->sel.kind != VIGIL_SEL_EXE || (int64_t)nr != p->nr_execve)
        return false;
    char path[sizeof p->sel.name];
    size_t n = p->name_len + 1;
    return n <= sizeof path && mem(v, args[0], path, n) &&
           !memcmp(path, p->sel.name, n);
}

void psel_exec_done(struct psel *p, int32_t tgid)
{
    add(p, tgid);
}

uint32_t psel_gen(const struct psel *p)
{
    return __atomic_load_n(&p->gen, __ATOMIC_ACQUIRE);
}
