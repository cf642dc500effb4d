/* prctl: how strace shows each operation's arguments. Operations not
 * listed show all four in hex, as strace does for those it does not
 * decode (docs/events.md lists the ones vigil shows otherwise). */
#include "trace/decode.h"

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
