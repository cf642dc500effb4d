/* prctl: how strace shows each operation's arguments. Operations not
 * listed show all four in hex, as strace does for those it does not
 * decode (docs/strace.md says which vigil does not). */
#include "trace/decode.h"

static const struct vsym prctl_ops[] = {
    {1, "PR_SET_PDEATHSIG"},
    {2, "PR_GET_PDEATHSIG"},
    {3, "PR_GET_DUMPABLE"},
    {4, "PR_SET_DUMPABLE"},
    {5, "PR_GET_UNALIGN"},
    {6, "PR_SET_UNALIGN"},
    {7, "PR_GET_KEEPCAPS"},
    {8, "PR_SET_KEEPCAPS"},
    {9, "PR_GET_FPEMU"},
    {10, "PR_SET_FPEMU"},
    {11, "PR_GET_FPEXC"},
    {12, "PR_SET_FPEXC"},
    {13, "PR_GET_TIMING"},
    {14, "PR_SET_TIMING"},
    {15, "PR_SET_NAME"},
    {16, "PR_GET_NAME"},
    {19, "PR_GET_ENDIAN"},
    {20, "PR_SET_ENDIAN"},
    {21, "PR_GET_SECCOMP"},
    {22, "PR_SET_SECCOMP"},
    {23, "PR_CAPBSET_READ"},
    {24, "PR_CAPBSET_DROP"},
    {25, "PR_GET_TSC"},
    {26, "PR_SET_TSC"},
    {27, "PR_GET_SECUREBITS"},
    {28, "PR_SET_SECUREBITS"},
    {29, "PR_SET_TIMERSLACK"},
    {30, "PR_GET_TIMERSLACK"},
    {31, "PR_TASK_PERF_EVENTS_DISABLE"},
    {32, "PR_TASK_PERF_EVENTS_ENABLE"},
    {33, "PR_MCE_KILL"},
    {34, "PR_MCE_KILL_GET"},
    {35, "PR_SET_MM"},
    {36, "PR_SET_CHILD_SUBREAPER"},
    {37, "PR_GET_CHILD_SUBREAPER"},
    {38, "PR_SET_NO_NEW_PRIVS"},
    {39, "PR_GET_NO_NEW_PRIVS"},
    {40, "PR_GET_TID_ADDRESS"},
    {41, "PR_SET_THP_DISABLE"},
    {42, "PR_GET_THP_DISABLE"},
    {43, "PR_MPX_ENABLE_MANAGEMENT"},
    {44, "PR_MPX_DISABLE_MANAGEMENT"},
    {45, "PR_SET_FP_MODE"},
    {46, "PR_GET_FP_MODE"},
    {47, "PR_CAP_AMBIENT"},
    {50, "PR_SVE_SET_VL"},
    {51, "PR_SVE_GET_VL"},
    {52, "PR_GET_SPECULATION_CTRL"},
    {53, "PR_SET_SPECULATION_CTRL"},
    {54, "PR_PAC_RESET_KEYS"},
    {55, "PR_SET_TAGGED_ADDR_CTRL"},
    {56, "PR_GET_TAGGED_ADDR_CTRL"},
    {57, "PR_SET_IO_FLUSHER"},
    {58, "PR_GET_IO_FLUSHER"},
    {59, "PR_SET_SYSCALL_USER_DISPATCH"},
    {0x53564d41, "PR_SET_VMA"},
    {0x59616d61, "PR_SET_PTRACER"},
};

void vdec_prctl_op(struct obuf *o, uint64_t op)
{
    const char *name = vsym_find(op, prctl_ops, VSYS_ARRAY_SIZE(prctl_ops));

    if (name)
        ob_puts(o, name);
    else
        ob_hex(o, op);
}

static const struct {
    uint32_t op;
    uint8_t nargs; /* shown, the operation included */
    char arg2;     /* 's' name, 'S' signal, 'p' pointer, 'u' decimal,
                      'D' dumpable mode */
} prctl_shapes[] = {
    {1, 2, 'S'},  /* PR_SET_PDEATHSIG */
    {2, 2, 'p'},  /* PR_GET_PDEATHSIG */
    {3, 1, 'x'},  /* PR_GET_DUMPABLE */
    {4, 2, 'D'},  /* PR_SET_DUMPABLE */
    {7, 1, 'x'},  /* PR_GET_KEEPCAPS */
    {8, 2, 'u'},  /* PR_SET_KEEPCAPS */
    {15, 2, 's'}, /* PR_SET_NAME */
    {16, 2, 's'}, /* PR_GET_NAME */
    {21, 1, 'x'}, /* PR_GET_SECCOMP */
    {27, 1, 'x'}, /* PR_GET_SECUREBITS */
    {29, 2, 'u'}, /* PR_SET_TIMERSLACK */
    {30, 1, 'x'}, /* PR_GET_TIMERSLACK */
    {36, 2, 'u'}, /* PR_SET_CHILD_SUBREAPER */
    {37, 2, 'p'}, /* PR_GET_CHILD_SUBREAPER */
    {38, 5, 'u'}, /* PR_SET_NO_NEW_PRIVS */
    {39, 1, 'x'}, /* PR_GET_NO_NEW_PRIVS */
    {40, 2, 'p'}, /* PR_GET_TID_ADDRESS */
    {42, 1, 'x'}, /* PR_GET_THP_DISABLE */
};

static int shape(uint64_t op)
{
    for (size_t i = 0; i < VSYS_ARRAY_SIZE(prctl_shapes); i++)
        if (prctl_shapes[i].op == (uint32_t)op && op <= UINT32_MAX)
            return (int)i;
    return -1;
}

unsigned vdec_prctl_nargs(uint64_t op)
{
    int i = shape(op);
    return i < 0 ? 5 : prctl_shapes[i].nargs;
}

char vdec_prctl_arg2(uint64_t op)
{
    int i = shape(op);
    return i < 0 ? 'x' : prctl_shapes[i].arg2;
}

void vdec_prctl_dumpable(struct obuf *o, uint64_t v)
{
    static const struct vsym modes[] = {
        {0, "SUID_DUMP_DISABLE"},
        {1, "SUID_DUMP_USER"},
        {2, "SUID_DUMP_ROOT"},
    };
    ob_enum(o, v, modes, VSYS_ARRAY_SIZE(modes));
}
