/* What vigil asks the plugin to change in the guest: the active-control
 * configuration, written by vigil into the channel header (ring.h) before
 * QEMU starts and read once by the plugin at install. docs/runtime.md
 * describes the control layer that carries it out.
 */
#ifndef VIGIL_ACT_H
#define VIGIL_ACT_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/consumer.h"
#include "vigil/syscalls.h"

#define VACT_RULES_MAX            32
#define VACT_HIDE_MAX             4
#define VACT_CALLERS_BRANCHES_MAX 1024
#define VACT_CALLERS_CHAIN_MAX    64

/* vact_config.flags */
enum {
    VACT_HCALL = 1 << 0,     /* answer user-mode vmcall (vigil's hypercalls) */
    VACT_INJECT = 1 << 1,    /* rules below: fail or fake chosen calls */
    VACT_TRACE = 1 << 2,     /* record system calls; without it the channel
                                carries only hypercalls */
    VACT_CALLERS = 1 << 3,   /* --callers: which code made each call: branch
                                history, return addresses, memory maps */
    VACT_RING_WAIT = 1 << 4, /* --ring-full wait: a full ring waits for the
                                consumer (VACT_RING_WAIT_MS) */
};
/* How long a vCPU waits for room in a full ring under VACT_RING_WAIT. */
#define VACT_RING_WAIT_MS 10000

/* One --inject rule (strace's -e inject=SET:error=|retval=:when=): the
 * calls it names return `ret` without reaching the guest kernel, on the
 * first'th call of each thread and then every step'th up to the last'th,
 * counting each system call of each thread on its own. */
struct vact_rule {
    int64_t ret;    /* -errno for error=, the value for retval= */
    uint32_t first; /* >= 1 */
    uint32_t last;  /* 0: no bound */
    uint32_t step;  /* 0: the first'th call only */
    uint32_t reserved;
};

struct vact_config {
    uint32_t flags;
    uint32_t nrules;
    struct vact_rule rule[VACT_RULES_MAX];
    /* The rule for each 64-bit call number: 0 none, else index + 1. A later
     * --inject naming the same call wins, as in strace. */
    uint8_t rule_of[VSYS_NR_MAX + 1];
    /* Which threads the rules act on: the --trace selection. */
    struct vigil_select sel;
    /* --hide: processes whose socket calls vigil runs (docs/hide.md). */
    struct vigil_select hide[VACT_HIDE_MAX];
    uint32_t nhide;
    /* --callers=N and --callers-chain=K (docs/callers.md), with
     * VACT_CALLERS. */
    uint16_t callers_branches; /* 1..VACT_CALLERS_BRANCHES_MAX */
    uint16_t callers_chain;    /* 0..VACT_CALLERS_CHAIN_MAX */
};

/**
 * vigil_inject_parse() - add one --inject rule to @act.
 * @spec: strace's -e inject= syntax, SET:error=ERRNO|:retval=N[:when=EXPR]:
 *        SET is a comma-separated list of 64-bit call names, or all of
 *        them but those after a leading '!'; ERRNO a name (ENOENT) or a
 *        number; EXPR is FIRST, FIRST+, FIRST+STEP, FIRST..LAST or
 *        FIRST..LAST+STEP (1 to 65535).
 * Sets VACT_INJECT. A call named by an earlier rule is taken over by this
 * one, as in strace.
 * Return: 0, or -EINVAL with one line in @err (the spec is untrusted text:
 * every malformed part is refused, nothing is half applied), -ENOSPC when
 * VACT_RULES_MAX rules exist.
 */
int vigil_inject_parse(const char *spec, struct vact_config *act, char *err,
                       size_t errlen);

#endif
