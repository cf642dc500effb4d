/* A thread selection on the plugin's side (psel.c): the rule of --trace
 * (vigil_select_event, shared with the consumer) over the identity of the
 * running thread, with the chosen processes in a lock-free set, so that a
 * decision needs no round trip to vigil. --inject and --hide each keep
 * one. */
#ifndef VIGIL_PLUGIN_PSEL_H
#define VIGIL_PLUGIN_PSEL_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu.h"
#include "vigil/consumer.h"
#include "vigil/rawrec.h"

#define PSEL_CHOSEN 4096 /* power of two */

struct psel {
    struct vigil_select sel;
    size_t name_len;
    int nr_execve;
    int32_t chosen[PSEL_CHOSEN]; /* thread group ids; 0: free */
    uint32_t gen;                /* counts the processes chosen */
};

void psel_init(struct psel *p, const struct vigil_select *sel);

/* Whether thread @t is selected now (choosing its process when the rule
 * says so). */
bool psel_thread(struct psel *p, const struct vraw_task *t);

/* exe=: whether the execve (@nr, @args) about to run names the selected
 * program; after it succeeded, psel_exec_done() chooses the process. */
bool psel_exec_wanted(const struct psel *p, struct vcpu *v, uint64_t nr,
                      const uint64_t args[6]);
void psel_exec_done(struct psel *p, int32_t tgid);

/* Changes whenever a process is chosen: until then a thread that was not
 * selected stays so, unless its own identity (name, parent) changes. */
uint32_t psel_gen(const struct psel *p);

#endif
