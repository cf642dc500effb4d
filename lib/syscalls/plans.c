/* Capture plans and table look-ups: what the plugin asks on every system
 * call, so everything here is a bounds check and an array index. */
#include <string.h>

#include "syscalls/tables.h"

/* One capture: read at entry. */
#define STR(i)                                                                 \
    {                                                                          \
        .argi = (i), .kind = VSYS_CAP_STR, .len_from = VSYS_LEN_NUL            \
    }
#define STR_OUT(i)                                                             \
    {                                                                          \
        .argi = (i), .kind = VSYS_CAP_STR, .at_exit = 1,                       \
        .len_from = VSYS_LEN_NUL, .only_ok = 1                                 \
    }
#define BUF_IN(i, l)                                                           \
    {                                                                          \
        .argi = (i), .kind = VSYS_CAP_BUF, .len_from = VSYS_LEN_ARG,           \
        .len_arg = (l)                                                         \
    }
#define BUF_OUT(i)                                                             \
    {                                                                          \
        .argi = (i), .kind = VSYS_CAP_BUF, .at_exit = 1,                       \
        .len_from = VSYS_LEN_RESULT, .only_ok = 1                              \
    }
/* bytes at exit, as many as the int at args[l] says then */
#define BUF_OUT_PTR(i, l)                                                      \
    {                                                                          \
        .argi = (i), .kind = VSYS_CAP_BUF, .at_exit = 1,                       \
        .len_from = VSYS_LEN_PTR, .len_arg = (l), .only_ok = 1                 \
    }
#define STRV(i)                                                                \
    {                                                                          \
        .argi = (i), .kind = VSYS_CAP_STRV, .len_from = VSYS_LEN_NUL           \
    }
#define COUNT(i)                                                               \
    {                                                                          \
        .argi = (i), .kind = VSYS_CAP_COUNT, .len_from = VSYS_LEN_FIXED,       \
        .fixed_len = 4                                                         \
    }
#define ADDR_IN(i, l)                                                          \
    {                                                                          \
        .argi = (i), .kind = VSYS_CAP_SOCKADDR, .len_from = VSYS_LEN_ARG,      \
        .len_arg = (l)                                                         \
    }
#define ADDR_OUT(i, l)                                                         \
    {                                                                          \
        .argi = (i), .kind = VSYS_CAP_SOCKADDR, .at_exit = 1,                  \
        .len_from = VSYS_LEN_PTR, .len_arg = (l), .only_ok = 1                 \
    }
#define STRUCT_IN(i, n)                                                        \
    {                                                                          \
        .argi = (i), .kind = VSYS_CAP_STRUCT, .len_from = VSYS_LEN_FIXED,      \
        .fixed_len = (n)                                                       \
    }
#define STRUCT_OUT(i, n)                                                       \
    {                                                                          \
        .argi = (i), .kind = VSYS_CAP_STRUCT, .at_exit = 1,                    \
        .len_from = VSYS_LEN_FIXED, .fixed_len = (n), .only_ok = 1             \
    }

#define STRUCT_ERR(i, n)                                                       \
    {                                                                          \
        .argi = (i), .kind = VSYS_CAP_STRUCT, .at_exit = 1,                    \
        .len_from = VSYS_LEN_FIXED, .fixed_len = (n), .only_ok = VSYS_WHEN_ERR \
    }
#define DIRENTS(i)                                                             \
    {                                                                          \
        .argi = (i), .kind = VSYS_CAP_DIRENTS, .at_exit = 1,                   \
        .len_from = VSYS_LEN_RESULT, .only_ok = 1                              \
    }
/* prctl's name (PR_SET_NAME 15 at entry, PR_GET_NAME 16 at exit) */
#define PRCTL_NAME(op, out)                                                    \
    {                                                                          \
        .argi = 1, .kind = VSYS_CAP_STR, .at_exit = (out),                     \
        .len_from = VSYS_LEN_NUL, .only_ok = (out), .cond_arg = 1,             \
        .cond_val = (op)                                                       \
    }

/* ioctl's argument at exit, for one request (args[1]) only */
#define IOCTL_OUT(req, n)                                                      \
    {                                                                          \
        .argi = 2, .kind = VSYS_CAP_STRUCT, .at_exit = 1,                      \
        .len_from = VSYS_LEN_FIXED, .fixed_len = (n), .only_ok = 1,            \
        .cond_arg = 2, .cond_val = (req)                                       \
    }

/* ioctl's argument at entry, for requests req .. req + span */
#define IOCTL_IN(req, span, n)                                                 \
    {                                                                          \
        .argi = 2, .kind = VSYS_CAP_STRUCT, .len_from = VSYS_LEN_FIXED,        \
        .fixed_len = (n), .cond_arg = 2, .cond_span = (span),                  \
        .cond_val = (req)                                                      \
    }

/* sendmsg's msghdr at entry, recvmsg's at a successful return */
#define MSGHDR_IN(i)                                                           \
    {                                                                          \
        .argi = (i), .kind = VSYS_CAP_MSGHDR, .len_from = VSYS_LEN_FIXED,      \
        .fixed_len = VSYS_MSGHDR_LEN                                           \
    }
#define MSGHDR_OUT(i)                                                          \
    {                                                                          \
        .argi = (i), .kind = VSYS_CAP_MSGHDR, .at_exit = 1,                    \
        .len_from = VSYS_LEN_FIXED, .fixed_len = VSYS_MSGHDR_LEN, .only_ok = 1 \
    }

/* select's and pselect6's sets and timeout (args[1..4]), and at entry
 * pselect6's signal mask (len_arg 5); read even when args[1] is NULL */
#define FDSETS_IN(sig)                                                         \
    {                                                                          \
        .argi = 1, .kind = VSYS_CAP_FDSETS, .len_from = VSYS_LEN_FIXED,        \
        .fixed_len = sizeof(struct vsys_fdsets), .len_arg = (sig)              \
    }
#define FDSETS_OUT                                                             \
    {                                                                          \
        .argi = 1, .kind = VSYS_CAP_FDSETS, .at_exit = 1,                      \
        .len_from = VSYS_LEN_FIXED, .fixed_len = sizeof(struct vsys_fdsets),   \
        .only_ok = 1                                                           \
    }

/* ppoll's array, timeout and (at entry) signal mask: args[0], [2], [3];
 * read even when args[0] is NULL */
#define PPOLL_IN                                                               \
    {                                                                          \
        .argi = 0, .kind = VSYS_CAP_PPOLL, .len_from = VSYS_LEN_FIXED,         \
        .fixed_len = sizeof(struct vsys_ppoll)                                 \
    }
#define PPOLL_OUT                                                              \
    {                                                                          \
        .argi = 0, .kind = VSYS_CAP_PPOLL, .at_exit = 1,                       \
        .len_from = VSYS_LEN_FIXED, .fixed_len = sizeof(struct vsys_ppoll),    \
        .only_ok = 1                                                           \
    }

#define FRAME_MASK                                                             \
    {                                                                          \
        .argi = 0, .kind = VSYS_CAP_FRAME_MASK, .len_from = VSYS_LEN_FIXED,    \
        .fixed_len = 8                                                         \
    }

/* Sizes of the x86-64 structures read at exit: only what strace shows and
 * the JSON form carries. */
#define STAT_LEN    144 /* struct stat, whole */
#define STATX_LEN   144 /* struct statx up to stx_dev_minor */
#define UTSNAME_LEN 390 /* six fields of 65 bytes */
#define STATFS_LEN  88  /* struct statfs through f_flags */
#define GROUPS_LEN  256 /* 64 gids: more are shown as the address */
#define RUSAGE_LEN  144 /* struct rusage, whole */
#define POLL_LEN    (8 * VSYS_POLL_MAX)   /* struct pollfd */
#define EPOLL_LEN   (12 * VSYS_EPOLL_MAX) /* packed struct epoll_event */

/* epoll_wait's events at exit: as many as the result says (12 bytes
 * each), at most EPOLL_LEN bytes */
#define EPOLL_OUT(i)                                                           \
    {                                                                          \
        .argi = (i), .kind = VSYS_CAP_STRUCT, .at_exit = 1,                    \
        .len_from = VSYS_LEN_RESULT_N, .len_arg = 12, .fixed_len = EPOLL_LEN,  \
        .only_ok = 1                                                           \
    }

#define PLAN1(a)                                                               \
    {                                                                          \
        .n = 1, .c = { a }                                                     \
    }
#define PLAN2(a, b)                                                            \
    {                                                                          \
        .n = 2, .c = { a, b }                                                  \
    }
#define PLAN3(a, b, c_)                                                        \
    {                                                                          \
        .n = 3, .c = { a, b, c_ }                                              \
    }
#define PLAN4(a, b, c_, d)                                                     \
    {                                                                          \
        .n = 4, .c = { a, b, c_, d }                                           \
    }

const struct vsys_plan vsys_plans[P_COUNT] = {
    [P_NONE] = {.n = 0},
    [P_S0] = PLAN1(STR(0)),
    [P_S1] = PLAN1(STR(1)),
    [P_S2] = PLAN1(STR(2)),
    [P_S3] = PLAN1(STR(3)),
    [P_S4] = PLAN1(STR(4)),
    [P_S5] = PLAN1(STR(5)),
    [P_S0S1] = PLAN2(STR(0), STR(1)),
    [P_S0S2] = PLAN2(STR(0), STR(2)),
    [P_S1S3] = PLAN2(STR(1), STR(3)),
    [P_S0S1S2] = PLAN3(STR(0), STR(1), STR(2)),
    [P_S0S1_BIN2] = PLAN3(STR(0), STR(1), BUF_IN(2, 3)),
    [P_S1_BIN2] = PLAN2(STR(1), BUF_IN(2, 3)),
    [P_S0S1_BOUT2] = PLAN3(STR(0), STR(1), BUF_OUT(2)),
    [P_S1_BOUT2] = PLAN2(STR(1), BUF_OUT(2)),
    [P_READLINK] = PLAN2(STR(0), BUF_OUT(1)),
    [P_READLINKAT] = PLAN2(STR(1), BUF_OUT(2)),
    [P_EXECVE] = PLAN3(STR(0), STRV(1), COUNT(2)),
    [P_EXECVEAT] = PLAN3(STR(1), STRV(2), COUNT(3)),
    [P_WRITE] = PLAN1(BUF_IN(1, 2)),
    [P_READ] = PLAN1(BUF_OUT(1)),
    [P_BIN0] = PLAN1(BUF_IN(0, 1)),
    [P_BOUT0] = PLAN1(BUF_OUT(0)),
    [P_SENDTO] = PLAN2(BUF_IN(1, 2), ADDR_IN(4, 5)),
    /* the bytes, the address, and its length before and after */
    [P_RECVFROM] =
        PLAN4(BUF_OUT(1), ADDR_OUT(4, 5), STRUCT_IN(5, 4), STRUCT_OUT(5, 4)),
    [P_ADDR_IN1] = PLAN1(ADDR_IN(1, 2)),
    /* the address, and its length before and after */
    [P_ADDR_OUT1] = PLAN3(ADDR_OUT(1, 2), STRUCT_IN(2, 4), STRUCT_OUT(2, 4)),
    [P_FDS0] = PLAN1(STRUCT_OUT(0, 8)),
    [P_FDS3] = PLAN1(STRUCT_OUT(3, 8)),
    [P_WSTATUS1] = PLAN1(STRUCT_OUT(1, 4)),
    [P_TS0] = PLAN1(STRUCT_IN(0, 16)),
    [P_TS2] = PLAN1(STRUCT_IN(2, 16)),
    [P_TS0_32] = PLAN1(STRUCT_IN(0, 8)),
    [P_TS2_32] = PLAN1(STRUCT_IN(2, 8)),
    [P_OPENAT2] = PLAN2(STR(1), STRUCT_IN(2, 24)),
    [P_GETCWD] = PLAN1(STR_OUT(0)),
    [P_STAT1] = PLAN1(STRUCT_OUT(1, STAT_LEN)),
    [P_S0_STAT1] = PLAN2(STR(0), STRUCT_OUT(1, STAT_LEN)),
    [P_NEWFSTATAT] = PLAN2(STR(1), STRUCT_OUT(2, STAT_LEN)),
    [P_STATX] = PLAN2(STR(1), STRUCT_OUT(4, STATX_LEN)),
    [P_TS1_OUT] = PLAN1(STRUCT_OUT(1, 16)),
    [P_TV0_OUT] = PLAN1(STRUCT_OUT(0, 16)),
    [P_NANOSLEEP] = PLAN2(STRUCT_IN(0, 16), STRUCT_ERR(1, 16)),
    [P_CLOCK_NANOSLEEP] = PLAN2(STRUCT_IN(2, 16), STRUCT_ERR(3, 16)),
    [P_RLIM1_OUT] = PLAN1(STRUCT_OUT(1, 16)),
    [P_PRLIMIT] = PLAN2(STRUCT_IN(2, 16), STRUCT_OUT(3, 16)),
    [P_UNAME] = PLAN1(STRUCT_OUT(0, UTSNAME_LEN)),
    [P_SIGMASK] = PLAN2(STRUCT_IN(1, 8), STRUCT_OUT(2, 8)),
    [P_SIGACTION] = PLAN2(STRUCT_IN(1, 32), STRUCT_OUT(2, 32)),
    [P_DIRENTS1] = PLAN1(DIRENTS(1)),
    [P_PRCTL] = PLAN2(PRCTL_NAME(15, 0), PRCTL_NAME(16, 1)),
    [P_CLONE] = PLAN1(STRUCT_OUT(2, 4)),
    [P_SIGRETURN] = PLAN1(FRAME_MASK),
    [P_RIOV3] = PLAN1(STRUCT_IN(3, 64 * 16)),
    [P_STATFS] = PLAN2(STR(0), STRUCT_OUT(1, STATFS_LEN)),
    [P_FSTATFS] = PLAN1(STRUCT_OUT(1, STATFS_LEN)),
    [P_UTIMENSAT] = PLAN2(STR(1), STRUCT_IN(2, 32)),
    /* TIOCGWINSZ: struct winsize; FIONREAD: an int; TCGETS: the flag
     * words of struct termios; at entry, TCSETS, TCSETSW, TCSETSF's */
    [P_IOCTL] = PLAN4(IOCTL_OUT(0x5413, 8), IOCTL_OUT(0x541b, 4),
                      IOCTL_OUT(0x5401, 16), IOCTL_IN(0x5402, 2, 16)),
    [P_GETGROUPS] = PLAN1(STRUCT_OUT(1, GROUPS_LEN)),
    [P_SETGROUPS] = PLAN1(STRUCT_IN(1, GROUPS_LEN)),
    [P_WAIT4] = PLAN2(STRUCT_OUT(1, 4), STRUCT_OUT(3, RUSAGE_LEN)),
    [P_RUSAGE1] = PLAN1(STRUCT_OUT(1, RUSAGE_LEN)),
    [P_POLL] = PLAN2(STRUCT_IN(0, POLL_LEN), STRUCT_OUT(0, POLL_LEN)),
    [P_EPOLL_CTL] = PLAN1(STRUCT_IN(3, 12)),
    [P_EPOLL_WAIT] = PLAN1(EPOLL_OUT(1)),
    [P_EPOLL_PWAIT] = PLAN2(EPOLL_OUT(1), STRUCT_IN(4, 8)),
    [P_SETSOCKOPT] = PLAN1(BUF_IN(3, 4)),
    /* the value as long as the kernel says, and that length before and
     * after */
    [P_GETSOCKOPT] =
        PLAN3(BUF_OUT_PTR(3, 4), STRUCT_IN(4, 4), STRUCT_OUT(4, 4)),
    [P_SENDMSG] = PLAN1(MSGHDR_IN(1)),
    /* msg_name and msg_namelen at entry ("msg_namelen=128 => 16"), the
     * msghdr with what the call wrote at the return */
    [P_RECVMSG] = PLAN2(STRUCT_IN(1, 16), MSGHDR_OUT(1)),
    [P_SELECT] = PLAN2(FDSETS_IN(0), FDSETS_OUT),
    [P_PSELECT6] = PLAN2(FDSETS_IN(5), FDSETS_OUT),
    [P_PPOLL] = PLAN2(PPOLL_IN, PPOLL_OUT),
};

const struct vsys_ent *vsys_lookup(uint64_t nr, bool compat)
{
    const struct vsys_ent *e;

    if (nr > VSYS_NR_MAX)
        return NULL;
    e = compat ? &vsys_tab32[nr] : &vsys_tab64[nr];
    return e->name ? e : NULL;
}

unsigned vsys_captures(uint64_t nr, bool compat,
                       struct vsys_cap out[VSYS_MAX_CAPS])
{
    const struct vsys_plan *p;
    const struct vsys_ent *e = vsys_lookup(nr, compat);

    if (!e || e->plan == P_NONE || e->plan >= P_COUNT)
        return 0;
    p = &vsys_plans[e->plan];
    memcpy(out, p->c, p->n * sizeof(p->c[0]));
    return p->n;
}

static int find_name(const struct vsys_ent *tab, const char *name)
{
    if (!name)
        return -1;
    for (int nr = 0; nr <= VSYS_NR_MAX; nr++)
        if (tab[nr].name && strcmp(tab[nr].name, name) == 0)
            return nr;
    return -1;
}

int vsys_number(const char *name)
{
    return find_name(vsys_tab64, name);
}

int vsys_number_compat(const char *name)
{
    return find_name(vsys_tab32, name);
}
