/* The system call tables (lib/syscalls) as the trace decoder reads them.
 * Not part of the public API.
 *
 * Signature alphabet (struct vsys_ent.sig): the first character is the kind
 * of the return value, one character per argument follows.
 *
 *   return:  d signed decimal   x hex (addresses: mmap, brk)   o octal (umask)
 *
 *   plain:   d int (32 bits, signed)    l long (signed, ABI width)
 *            u unsigned long            x hex ("0" for 0)
 *            p pointer (NULL or hex)    f file descriptor
 *            D directory fd (AT_FDCWD)
 *            ^ pointer shown as p, read at entry (STRUCT capture) for
 *              --callers only: process_vm_writev's remote iovecs
 *   memory:  s string (STR capture)     b bytes (BUF capture)
 *            B bytes, shown in hex escapes (random data: getrandom)
 *            v argv (STRV or ARGV)      k socket address (SOCKADDR)
 *            * envp (COUNT capture: the address and how many)
 *            i int[2] (pipe fds)        W wait status (int)
 *            t timespec                 h struct open_how
 *   symbols: o open flags               O O_ flags without access mode
 *            m mode (octal, S_IF*)      a AT_* flags
 *            E faccessat2 AT_* flags    A access mode (R_OK...)
 *            P mmap prot                M mmap flags
 *            F address family           T socket type
 *            Y protocol (IPPROTO_*)     C clone flags
 *            S signal                   w whence
 *            n fcntl command            N fcntl argument (may be omitted)
 *            c clock id                 j TIMER_ABSTIME flags
 *            H sigprocmask how          X futex operation
 *            R arch_prctl code          Z wait options
 *            K SOCK_* flags (accept4)   r rlimit resource
 *            G getrandom flags          Q memfd flags
 *            I ioctl request            y shutdown how
 *            V MSG_* flags              U madvise advice
 *            J fadvise advice           g statx flags
 *            z statx mask               q renameat2 flags
 *            L prctl operation          e prctl's second argument, by
 *                                         operation (STR captures)
 *   structures at exit (STRUCT captures unless said), decoded in
 *   lib/trace/decode-*.c:
 *            1 struct stat              2 struct statx
 *            3 timeval                  4 rlimit (also at entry)
 *            5 struct utsname           6 sigset (also at entry; the
 *                                         size is the last argument)
 *            7 kernel sigaction (also at entry)
 *            8 getdents64 buffer (DIRENTS capture: a count)
 *            9 socklen: int at entry and at exit ("[128 => 16]")
 *            0 an int the call wrote, [N] (clone's parent_tid)
 *            ! rt_sigreturn's frame mask (FRAME_MASK capture; the
 *              "argument" is not a register but the frame)
 *            # struct statfs            % utimensat's timespec pair
 *                                         (at entry)
 *            ( struct winsize           [ gid_t array read by the call
 *                                         (the count is a0)
 *            ] gid_t array the call wrote (the count is the result)
 *            { poll's struct pollfd array (at entry; at exit for the
 *              revents strace adds after the result); the count is a1
 *            ) struct rusage (at exit)  < getrusage's who
 *            @ socket option level      $ socket option name (by the
 *                                         level, a1)
 *            ~ socket option value: bytes (BUF capture; at exit for
 *              getsockopt) shown by level and name
 *            + epoll_create1's flags
 *            ? epoll_ctl's operation    } struct epoll_event: one at
 *                                         entry (epoll_ctl), or the
 *                                         array the call returned
 *            & ioctl's third argument, by request (a structure for the
 *              requests whose plan captures it, else hex)
 *            : an fd set (select, pselect6: one FDSETS capture at a1
 *              holds the three sets, the timeout and pselect6's mask)
 *            ; select's timeval, pselect6's timespec (from that capture)
 *            | pselect6's {sigmask, sigsetsize} (from that capture)
 *            > ppoll's pollfd array (a0), timespec (a2) and sigset
 *              (a3), from one PPOLL capture at a0 (entry and exit)
 *            = struct msghdr (MSGHDR capture: sendmsg at entry, recvmsg
 *              at exit, with msg_namelen from entry)
 *   't' is read at entry or at exit, as the plan says.
 */
#ifndef VIGIL_SYSCALLS_TABLES_H
#define VIGIL_SYSCALLS_TABLES_H

#include <stdint.h>

#include "vigil/syscalls.h"

#define VSYS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- capture plans (plans.c) ---- */

/* The plans a table entry can name by index (struct vsys_ent.plan). */
enum vsys_plan_id {
    P_NONE = 0,
    P_S0,              /* string at a0 */
    P_S1,              /* string at a1 */
    P_S2,              /* string at a2 */
    P_S3,              /* string at a3 */
    P_S4,              /* string at a4 */
    P_S5,              /* string at a5 */
    P_S0S1,            /* two strings: a0, a1 */
    P_S0S2,            /* a0, a2 (symlinkat) */
    P_S1S3,            /* a1, a3 (renameat, linkat) */
    P_S0S1S2,          /* mount, request_key */
    P_S0S1_BIN2,       /* setxattr: path, name, value (len a3) */
    P_S1_BIN2,         /* fsetxattr: name, value (len a3) */
    P_S0S1_BOUT2,      /* getxattr: path, name, value at exit */
    P_S1_BOUT2,        /* fgetxattr */
    P_READLINK,        /* path a0, buffer a1 at exit (result) */
    P_READLINKAT,      /* path a1, buffer a2 at exit (result) */
    P_EXECVE,          /* path a0, argv a1 (STRV), envp a2 counted */
    P_EXECVEAT,        /* path a1, argv a2 (STRV), envp a3 counted */
    P_WRITE,           /* bytes a1 (len a2) at entry */
    P_READ,            /* bytes a1 at exit (result) */
    P_BIN0,            /* bytes a0 (len a1) at entry: sethostname */
    P_BOUT0,           /* bytes a0 at exit (result): getrandom */
    P_SENDTO,          /* bytes a1 (len a2), address a4 (len a5) */
    P_RECVFROM,        /* bytes a1 at exit, address a4 (len *a5) at exit,
                        *a5 at entry and at exit */
    P_ADDR_IN1,        /* address a1 (len a2): connect, bind */
    P_ADDR_OUT1,       /* address a1 (len *a2) at exit: accept, getsockname */
    P_FDS0,            /* int[2] at a0 at exit: pipe, pipe2 */
    P_FDS3,            /* int[2] at a3 at exit: socketpair */
    P_WSTATUS1,        /* int at a1 at exit: wait4, waitpid */
    P_TS0,             /* timespec (16 bytes) at a0: nanosleep */
    P_TS2,             /* timespec (16 bytes) at a2: clock_nanosleep */
    P_TS0_32,          /* i386 timespec (8 bytes) at a0 */
    P_TS2_32,          /* i386 timespec (8 bytes) at a2 */
    P_OPENAT2,         /* path a1, struct open_how a2 (24 bytes) */
    P_GETCWD,          /* string a0 at exit */
    P_STAT1,           /* struct stat at a1 at exit: fstat */
    P_S0_STAT1,        /* path a0, struct stat a1 at exit: stat, lstat */
    P_NEWFSTATAT,      /* path a1, struct stat a2 at exit */
    P_STATX,           /* path a1, struct statx a4 at exit */
    P_TS1_OUT,         /* timespec a1 at exit: clock_gettime, clock_getres */
    P_TV0_OUT,         /* timeval a0 at exit: gettimeofday */
    P_NANOSLEEP,       /* timespec a0; the remaining time a1 when it failed */
    P_CLOCK_NANOSLEEP, /* timespec a2; the remaining time a3 likewise */
    P_RLIM1_OUT,       /* rlimit a1 at exit: getrlimit */
    P_PRLIMIT,         /* new rlimit a2, old a3 at exit */
    P_UNAME,           /* struct utsname a0 at exit */
    P_SIGMASK,         /* sigset a1, old sigset a2 at exit */
    P_SIGACTION,       /* struct sigaction a1, old a2 at exit */
    P_DIRENTS1,        /* getdents64: the count of records at a1 */
    P_PRCTL,           /* the name a1 of PR_SET_NAME, or PR_GET_NAME's */
    P_CLONE,           /* the new thread's id at a2 at exit */
    P_SIGRETURN,       /* the signal frame's mask, through the stack */
    P_RIOV3,           /* process_vm_writev: the first 64 remote iovecs at
                          a3, for --callers' evidence (docs/callers.md) */
    P_STATFS,          /* path a0, struct statfs a1 at exit */
    P_FSTATFS,         /* struct statfs a1 at exit */
    P_UTIMENSAT,       /* path a1, the timespec pair a2 */
    P_IOCTL,           /* a2 at exit: TIOCGWINSZ, FIONREAD, TCGETS */
    P_GETGROUPS,       /* the gids a1 at exit (at most 64) */
    P_SETGROUPS,       /* the gids a1 at entry (at most 64) */
    P_WAIT4,           /* status a1, struct rusage a3, at exit */
    P_RUSAGE1,         /* struct rusage a1 at exit: getrusage */
    P_POLL,            /* struct pollfd a0 at entry and at exit (16) */
    P_SETSOCKOPT,      /* the value a3 (length a4, at most --bufsize) */
    P_EPOLL_CTL,       /* struct epoll_event a3 at entry */
    P_EPOLL_WAIT,      /* the events a1 at exit (16) */
    P_EPOLL_PWAIT,     /* the events a1 at exit (16), the sigset a4 */
    P_GETSOCKOPT,      /* the value a3 at exit (length *a4), and *a4
                          at entry and at exit */
    P_SENDMSG,         /* struct msghdr a1 and what it points to, at entry */
    P_RECVMSG,         /* msg_namelen a1 at entry, the msghdr at exit */
    P_SELECT,          /* the sets a1..a3 and timeout a4, entry and exit */
    P_PSELECT6,        /* the same and the sigmask argument a5 at entry */
    P_PPOLL,           /* pollfds a0, timespec a2, sigset a3: entry, exit */
    P_COUNT
};

struct vsys_plan {
    uint8_t n;
    struct vsys_cap c[VSYS_MAX_CAPS];
};

extern const struct vsys_plan vsys_plans[P_COUNT];

/* The tables (tab64.c, tab32.c): VSYS_NR_MAX + 1 entries each. */
extern const struct vsys_ent vsys_tab64[VSYS_NR_MAX + 1];
extern const struct vsys_ent vsys_tab32[VSYS_NR_MAX + 1];

/* Table entries: nargs follows from the signature. */
#define VSYS_E(n, s)                                                           \
    {                                                                          \
        .name = (n), .nargs = sizeof(s) - 2, .sig = (s)                        \
    }
#define VSYS_EP(n, s, p)                                                       \
    {                                                                          \
        .name = (n), .nargs = sizeof(s) - 2, .plan = (p), .sig = (s)           \
    }
#define VSYS_EN(n, s)                                                          \
    {                                                                          \
        .name = (n), .nargs = sizeof(s) - 2, .flags = VSYS_NORETURN,           \
        .sig = (s)                                                             \
    }

/* Calls 424 and up are the same in both tables (added for every ABI at once
 * since Linux 5.1). */
#define VSYS_COMMON_TAIL                                                       \
    [424] = VSYS_E("pidfd_send_signal", "dfSpx"),                              \
    [425] = VSYS_E("io_uring_setup", "dup"),                                   \
    [426] = VSYS_E("io_uring_enter", "dfuuxpu"),                               \
    [427] = VSYS_E("io_uring_register", "dfupu"),                              \
    [428] = VSYS_EP("open_tree", "dDsx", P_S1),                                \
    [429] = VSYS_EP("move_mount", "dDsDsx", P_S1S3),                           \
    [430] = VSYS_EP("fsopen", "dsx", P_S0),                                    \
    [431] = VSYS_EP("fsconfig", "dfdspd", P_S2),                               \
    [432] = VSYS_E("fsmount", "dfxx"),                                         \
    [433] = VSYS_EP("fspick", "dDsx", P_S1),                                   \
    [434] = VSYS_E("pidfd_open", "ddx"), [435] = VSYS_E("clone3", "dpu"),      \
    [436] = VSYS_E("close_range", "duux"),                                     \
    [437] = VSYS_EP("openat2", "dDshu", P_OPENAT2),                            \
    [438] = VSYS_E("pidfd_getfd", "dffx"),                                     \
    [439] = VSYS_EP("faccessat2", "dDsAE", P_S1),                              \
    [440] = VSYS_E("process_madvise", "dfpudx"),                               \
    [441] = VSYS_E("epoll_pwait2", "dfpdppu"),                                 \
    [442] = VSYS_EP("mount_setattr", "dDsxpu", P_S1),                          \
    [443] = VSYS_E("quotactl_fd", "dfxdp"),                                    \
    [444] = VSYS_E("landlock_create_ruleset", "dpux"),                         \
    [445] = VSYS_E("landlock_add_rule", "dfdpx"),                              \
    [446] = VSYS_E("landlock_restrict_self", "dfx"),                           \
    [447] = VSYS_E("memfd_secret", "dx"),                                      \
    [448] = VSYS_E("process_mrelease", "dfx"),                                 \
    [449] = VSYS_E("futex_waitv", "dpuxpc"),                                   \
    [450] = VSYS_E("set_mempolicy_home_node", "dpuux"),                        \
    [451] = VSYS_E("cachestat", "dfppx"),                                      \
    [452] = VSYS_EP("fchmodat2", "dDsma", P_S1),                               \
    [453] = VSYS_E("map_shadow_stack", "xpux"),                                \
    [454] = VSYS_E("futex_wake", "dpxdx"),                                     \
    [455] = VSYS_E("futex_wait", "dpxxxpc"),                                   \
    [456] = VSYS_E("futex_requeue", "dpxdd"),                                  \
    [457] = VSYS_E("statmount", "dppux"),                                      \
    [458] = VSYS_E("listmount", "dppux"),                                      \
    [459] = VSYS_E("lsm_get_self_attr", "ddppx"),                              \
    [460] = VSYS_E("lsm_set_self_attr", "ddpux"),                              \
    [461] = VSYS_E("lsm_list_modules", "dppx"),                                \
    [462] = VSYS_E("mseal", "dpux"),                                           \
    [463] = VSYS_EP("setxattrat", "dDsaspu", P_S1S3),                          \
    [464] = VSYS_EP("getxattrat", "dDsaspu", P_S1S3),                          \
    [465] = VSYS_EP("listxattrat", "dDsapu", P_S1),                            \
    [466] = VSYS_EP("removexattrat", "dDsas", P_S1S3),                         \
    [467] = VSYS_EP("open_tree_attr", "dDsxpu", P_S1),                         \
    [468] = VSYS_EP("file_getattr", "dDspua", P_S1),                           \
    [469] = VSYS_EP("file_setattr", "dDspua", P_S1),                           \
    [470] = VSYS_E("listns", "dppux")

#endif
