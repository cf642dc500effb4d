/* Symbolic names of flag and enum arguments, as strace shows them (the
 * sockets' in symbols-net.c), and how each signature character is shown. The
 * values are those of the x86 Linux ABI (the same for x86-64 and i386). */
#include "trace/decode.h"
#include "trace/internal.h"
#include "trace/symbols.h"

#define OB_FLAGS(o, v, t, zero) ob_flags(o, v, t, VSYS_ARRAY_SIZE(t), zero)

const char *vsym_find(uint64_t v, const struct vsym *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].val == v)
            return t[i].name;
    return NULL;
}

void ob_flags(struct obuf *o, uint64_t v, const struct vsym *t, size_t n,
              const char *zero)
{
    bool first = true;

    if (v == 0) {
        ob_puts(o, zero ? zero : "0");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (t[i].val && (v & t[i].val) == t[i].val) {
            if (!first)
                ob_putc(o, '|');
            ob_puts(o, t[i].name);
            first = false;
            v &= ~t[i].val;
        }
    }
    if (v) {
        if (!first)
            ob_putc(o, '|');
        ob_hex(o, v);
    }
}

/* A type in the low four bits, then flags: mmap's MAP_SHARED|...,
 * socket's SOCK_STREAM|SOCK_CLOEXEC. */
static void ob_type_flags(struct obuf *o, uint64_t v, const struct vsym *types,
                          size_t ntypes, const struct vsym *flags,
                          size_t nflags)
{
    const char *type = vsym_find(v & 0xf, types, ntypes);
    uint64_t rest = v & ~(uint64_t)0xf;

    if (type)
        ob_puts(o, type);
    else
        ob_hex(o, v & 0xf);
    if (rest) {
        ob_putc(o, '|');
        ob_flags(o, rest, flags, nflags, NULL);
    }
}
void ob_enum(struct obuf *o, uint64_t v, const struct vsym *t, size_t n)
{
    const char *name = vsym_find(v, t, n);

    if (name)
        ob_puts(o, name);
    else
        ob_dec(o, (int64_t)v);
}

/* ---- open(2) ---- */

/* In strace's order. O_SYNC and O_TMPFILE are two bits each: listed before
 * their parts (O_DSYNC, O_DIRECTORY), which they consume. */
static const struct vsym open_bits[] = {
    S(0100, "O_CREAT"),        S(0200, "O_EXCL"),
    S(0400, "O_NOCTTY"),       S(01000, "O_TRUNC"),
    S(02000, "O_APPEND"),      S(04000, "O_NONBLOCK"),
    S(04010000, "O_SYNC"),     S(010000, "O_DSYNC"),
    S(040000, "O_DIRECT"),     S(0100000, "O_LARGEFILE"),
    S(0400000, "O_NOFOLLOW"),  S(01000000, "O_NOATIME"),
    S(02000000, "O_CLOEXEC"),  S(010000000, "O_PATH"),
    S(020200000, "O_TMPFILE"), S(0200000, "O_DIRECTORY"),
    S(020000, "FASYNC"),
};

void ob_open_flags(struct obuf *o, uint64_t v, bool accmode)
{
    static const char *const acc[] = {"O_RDONLY", "O_WRONLY", "O_RDWR",
                                      "O_ACCMODE"};
    uint64_t rest = v;

    if (accmode) {
        ob_puts(o, acc[v & 3]);
        rest &= ~(uint64_t)3;
        if (rest == 0)
            return;
        ob_putc(o, '|');
    }
    OB_FLAGS(o, rest, open_bits, NULL);
}

/* ---- file modes ---- */

void ob_mode(struct obuf *o, uint64_t v)
{
    static const struct vsym types[] = {
        S(0140000, "S_IFSOCK"), S(0120000, "S_IFLNK"), S(0100000, "S_IFREG"),
        S(0060000, "S_IFBLK"),  S(0040000, "S_IFDIR"), S(0020000, "S_IFCHR"),
        S(0010000, "S_IFIFO"),
    };
    const char *type = vsym_find(v & 0170000, types, VSYS_ARRAY_SIZE(types));

    if (type) {
        ob_puts(o, type);
        ob_putc(o, '|');
        v &= ~(uint64_t)0170000;
    }
    ob_printf(o, "%#03llo", (unsigned long long)v);
}

/* ---- *at(2) ---- */

static const struct vsym at_flags[] = {
    S(0x100, "AT_SYMLINK_NOFOLLOW"), S(0x200, "AT_REMOVEDIR"),
    S(0x400, "AT_SYMLINK_FOLLOW"),   S(0x800, "AT_NO_AUTOMOUNT"),
    S(0x1000, "AT_EMPTY_PATH"),      S(0x2000, "AT_STATX_FORCE_SYNC"),
    S(0x4000, "AT_STATX_DONT_SYNC"), S(0x8000, "AT_RECURSIVE"),
};

/* statx: the sync type is a two-bit field, 0 being AT_STATX_SYNC_AS_STAT */
static void ob_statx_flags(struct obuf *o, uint64_t v)
{
    static const struct vsym rest[] = {
        S(0x100, "AT_SYMLINK_NOFOLLOW"),
        S(0x800, "AT_NO_AUTOMOUNT"),
        S(0x1000, "AT_EMPTY_PATH"),
    };
    static const char *const sync[] = {"AT_STATX_SYNC_AS_STAT",
                                       "AT_STATX_FORCE_SYNC",
                                       "AT_STATX_DONT_SYNC", "0x6000"};

    ob_puts(o, sync[(v >> 13) & 3]);
    v &= ~(uint64_t)0x6000;
    if (v) {
        ob_putc(o, '|');
        OB_FLAGS(o, v, rest, NULL);
    }
}

/* STATX_ALL before STATX_BASIC_STATS, as strace (0x1fff is
 * STATX_ALL|STATX_MNT_ID). */
static const struct vsym statx_mask[] = {
    S(0xfff, "STATX_ALL"),
    S(0x7ff, "STATX_BASIC_STATS"),
    S(0x1, "STATX_TYPE"),
    S(0x2, "STATX_MODE"),
    S(0x4, "STATX_NLINK"),
    S(0x8, "STATX_UID"),
    S(0x10, "STATX_GID"),
    S(0x20, "STATX_ATIME"),
    S(0x40, "STATX_MTIME"),
    S(0x80, "STATX_CTIME"),
    S(0x100, "STATX_INO"),
    S(0x200, "STATX_SIZE"),
    S(0x400, "STATX_BLOCKS"),
    S(0x800, "STATX_BTIME"),
    S(0x1000, "STATX_MNT_ID"),
    S(0x2000, "STATX_DIOALIGN"),
    S(0x4000, "STATX_MNT_ID_UNIQUE"),
    S(0x8000, "STATX_SUBVOL"),
    S(0x10000, "STATX_WRITE_ATOMIC"),
    S(0x20000, "STATX_DIO_READ_ALIGN"),
};

static const struct vsym rename_flags[] = {
    S(1, "RENAME_NOREPLACE"),
    S(2, "RENAME_EXCHANGE"),
    S(4, "RENAME_WHITEOUT"),
};

static const struct vsym faccessat_flags[] = {
    S(0x100, "AT_SYMLINK_NOFOLLOW"),
    S(0x200, "AT_EACCESS"),
    S(0x1000, "AT_EMPTY_PATH"),
};

static const struct vsym access_modes[] = {
    S(4, "R_OK"),
    S(2, "W_OK"),
    S(1, "X_OK"),
};

/* ---- mmap(2) ---- */

static const struct vsym prot_bits[] = {
    S(1, "PROT_READ"),
    S(2, "PROT_WRITE"),
    S(4, "PROT_EXEC"),
    S(8, "PROT_SEM"),
    S(0x01000000, "PROT_GROWSDOWN"),
    S(0x02000000, "PROT_GROWSUP"),
};

static const struct vsym map_types[] = {
    S(1, "MAP_SHARED"),
    S(2, "MAP_PRIVATE"),
    S(3, "MAP_SHARED_VALIDATE"),
};

static const struct vsym map_bits[] = {
    S(0x10, "MAP_FIXED"),
    S(0x20, "MAP_ANONYMOUS"),
    S(0x40, "MAP_32BIT"),
    S(0x100, "MAP_GROWSDOWN"),
    S(0x800, "MAP_DENYWRITE"),
    S(0x1000, "MAP_EXECUTABLE"),
    S(0x2000, "MAP_LOCKED"),
    S(0x4000, "MAP_NORESERVE"),
    S(0x8000, "MAP_POPULATE"),
    S(0x10000, "MAP_NONBLOCK"),
    S(0x20000, "MAP_STACK"),
    S(0x40000, "MAP_HUGETLB"),
    S(0x80000, "MAP_SYNC"),
    S(0x100000, "MAP_FIXED_NOREPLACE"),
    S(0x4000000, "MAP_UNINITIALIZED"),
};

/* ---- processes ---- */

static const struct vsym clone_bits[] = {
    S(0x100, "CLONE_VM"),
    S(0x200, "CLONE_FS"),
    S(0x400, "CLONE_FILES"),
    S(0x800, "CLONE_SIGHAND"),
    S(0x1000, "CLONE_PIDFD"),
    S(0x2000, "CLONE_PTRACE"),
    S(0x4000, "CLONE_VFORK"),
    S(0x8000, "CLONE_PARENT"),
    S(0x10000, "CLONE_THREAD"),
    S(0x20000, "CLONE_NEWNS"),
    S(0x40000, "CLONE_SYSVSEM"),
    S(0x80000, "CLONE_SETTLS"),
    S(0x100000, "CLONE_PARENT_SETTID"),
    S(0x200000, "CLONE_CHILD_CLEARTID"),
    S(0x400000, "CLONE_DETACHED"),
    S(0x800000, "CLONE_UNTRACED"),
    S(0x1000000, "CLONE_CHILD_SETTID"),
    S(0x2000000, "CLONE_NEWCGROUP"),
    S(0x4000000, "CLONE_NEWUTS"),
    S(0x8000000, "CLONE_NEWIPC"),
    S(0x10000000, "CLONE_NEWUSER"),
    S(0x20000000, "CLONE_NEWPID"),
    S(0x40000000, "CLONE_NEWNET"),
    S(0x80000000, "CLONE_IO"),
};

/* Clone flags; the low byte is the signal sent to the parent on exit. */
static void ob_clone_flags(struct obuf *o, uint64_t v)
{
    uint64_t sig = v & 0xff;
    uint64_t rest = v & ~(uint64_t)0xff;
    const char *name;

    if (rest || !sig)
        OB_FLAGS(o, rest, clone_bits, NULL);
    if (sig) {
        if (rest)
            ob_putc(o, '|');
        name = vsys_signal_name((int)sig);
        if (name)
            ob_puts(o, name);
        else
            ob_udec(o, sig);
    }
}

static const struct vsym wait_opts[] = {
    S(1, "WNOHANG"),          S(2, "WUNTRACED"),
    S(4, "WEXITED"),          S(8, "WCONTINUED"),
    S(0x01000000, "WNOWAIT"), S(0x20000000, "__WNOTHREAD"),
    S(0x40000000, "__WALL"),  S(0x80000000, "__WCLONE"),
};

static const struct vsym sigprocmask_hows[] = {
    S(0, "SIG_BLOCK"),
    S(1, "SIG_UNBLOCK"),
    S(2, "SIG_SETMASK"),
};

static const struct vsym arch_prctl_codes[] = {
    S(0x1001, "ARCH_SET_GS"),           S(0x1002, "ARCH_SET_FS"),
    S(0x1003, "ARCH_GET_FS"),           S(0x1004, "ARCH_GET_GS"),
    S(0x1011, "ARCH_GET_CPUID"),        S(0x1012, "ARCH_SET_CPUID"),
    S(0x1021, "ARCH_GET_XCOMP_SUPP"),   S(0x1022, "ARCH_GET_XCOMP_PERM"),
    S(0x1023, "ARCH_REQ_XCOMP_PERM"),   S(0x2001, "ARCH_MAP_VDSO_X32"),
    S(0x2002, "ARCH_MAP_VDSO_32"),      S(0x2003, "ARCH_MAP_VDSO_64"),
    S(0x4001, "ARCH_GET_UNTAG_MASK"),   S(0x4002, "ARCH_ENABLE_TAGGED_ADDR"),
    S(0x4003, "ARCH_GET_MAX_TAG_BITS"), S(0x4004, "ARCH_FORCE_TAGGED_SVA"),
    S(0x5001, "ARCH_SHSTK_ENABLE"),     S(0x5002, "ARCH_SHSTK_DISABLE"),
    S(0x5003, "ARCH_SHSTK_LOCK"),       S(0x5004, "ARCH_SHSTK_UNLOCK"),
    S(0x5005, "ARCH_SHSTK_STATUS"),
};

static const struct vsym rlimits[] = {
    S(0, "RLIMIT_CPU"),       S(1, "RLIMIT_FSIZE"),  S(2, "RLIMIT_DATA"),
    S(3, "RLIMIT_STACK"),     S(4, "RLIMIT_CORE"),   S(5, "RLIMIT_RSS"),
    S(6, "RLIMIT_NPROC"),     S(7, "RLIMIT_NOFILE"), S(8, "RLIMIT_MEMLOCK"),
    S(9, "RLIMIT_AS"),        S(10, "RLIMIT_LOCKS"), S(11, "RLIMIT_SIGPENDING"),
    S(12, "RLIMIT_MSGQUEUE"), S(13, "RLIMIT_NICE"),  S(14, "RLIMIT_RTPRIO"),
    S(15, "RLIMIT_RTTIME"),
};

/* ---- time ---- */

static const struct vsym clocks[] = {
    S(0, "CLOCK_REALTIME"),
    S(1, "CLOCK_MONOTONIC"),
    S(2, "CLOCK_PROCESS_CPUTIME_ID"),
    S(3, "CLOCK_THREAD_CPUTIME_ID"),
    S(4, "CLOCK_MONOTONIC_RAW"),
    S(5, "CLOCK_REALTIME_COARSE"),
    S(6, "CLOCK_MONOTONIC_COARSE"),
    S(7, "CLOCK_BOOTTIME"),
    S(8, "CLOCK_REALTIME_ALARM"),
    S(9, "CLOCK_BOOTTIME_ALARM"),
    S(11, "CLOCK_TAI"),
};

static const struct vsym timer_flags[] = {
    S(1, "TIMER_ABSTIME"),
};

/* ---- files ---- */

static const struct vsym whences[] = {
    S(0, "SEEK_SET"),  S(1, "SEEK_CUR"),  S(2, "SEEK_END"),
    S(3, "SEEK_DATA"), S(4, "SEEK_HOLE"),
};

static const struct vsym fcntl_cmds[] = {
    S(0, "F_DUPFD"),
    S(1, "F_GETFD"),
    S(2, "F_SETFD"),
    S(3, "F_GETFL"),
    S(4, "F_SETFL"),
    S(5, "F_GETLK"),
    S(6, "F_SETLK"),
    S(7, "F_SETLKW"),
    S(8, "F_SETOWN"),
    S(9, "F_GETOWN"),
    S(10, "F_SETSIG"),
    S(11, "F_GETSIG"),
    S(12, "F_GETLK64"),
    S(13, "F_SETLK64"),
    S(14, "F_SETLKW64"),
    S(15, "F_SETOWN_EX"),
    S(16, "F_GETOWN_EX"),
    S(17, "F_GETOWNER_UIDS"),
    S(36, "F_OFD_GETLK"),
    S(37, "F_OFD_SETLK"),
    S(38, "F_OFD_SETLKW"),
    S(1024, "F_SETLEASE"),
    S(1025, "F_GETLEASE"),
    S(1026, "F_NOTIFY"),
    S(1030, "F_DUPFD_CLOEXEC"),
    S(1031, "F_SETPIPE_SZ"),
    S(1032, "F_GETPIPE_SZ"),
    S(1033, "F_ADD_SEALS"),
    S(1034, "F_GET_SEALS"),
    S(1035, "F_GET_RW_HINT"),
    S(1036, "F_SET_RW_HINT"),
    S(1037, "F_GET_FILE_RW_HINT"),
    S(1038, "F_SET_FILE_RW_HINT"),
};

static const struct vsym ioctls[] = {
    S(0x5401, "TCGETS"),     S(0x5402, "TCSETS"),    S(0x5403, "TCSETSW"),
    S(0x5404, "TCSETSF"),    S(0x540b, "TCFLSH"),    S(0x540e, "TIOCSCTTY"),
    S(0x540f, "TIOCGPGRP"),  S(0x5410, "TIOCSPGRP"), S(0x5413, "TIOCGWINSZ"),
    S(0x5414, "TIOCSWINSZ"), S(0x541b, "FIONREAD"),  S(0x5421, "FIONBIO"),
    S(0x5450, "FIONCLEX"),   S(0x5451, "FIOCLEX"),   S(0x5452, "FIOASYNC"),
};

static const struct vsym grnd_flags[] = {
    S(1, "GRND_NONBLOCK"),
    S(2, "GRND_RANDOM"),
    S(4, "GRND_INSECURE"),
};

static const struct vsym mfd_flags[] = {
    S(1, "MFD_CLOEXEC"),     S(2, "MFD_ALLOW_SEALING"), S(4, "MFD_HUGETLB"),
    S(8, "MFD_NOEXEC_SEAL"), S(0x10, "MFD_EXEC"),
};

static const struct vsym madvices[] = {
    S(0, "MADV_NORMAL"),          S(1, "MADV_RANDOM"),
    S(2, "MADV_SEQUENTIAL"),      S(3, "MADV_WILLNEED"),
    S(4, "MADV_DONTNEED"),        S(8, "MADV_FREE"),
    S(9, "MADV_REMOVE"),          S(10, "MADV_DONTFORK"),
    S(11, "MADV_DOFORK"),         S(12, "MADV_MERGEABLE"),
    S(13, "MADV_UNMERGEABLE"),    S(14, "MADV_HUGEPAGE"),
    S(15, "MADV_NOHUGEPAGE"),     S(16, "MADV_DONTDUMP"),
    S(17, "MADV_DODUMP"),         S(18, "MADV_WIPEONFORK"),
    S(19, "MADV_KEEPONFORK"),     S(20, "MADV_COLD"),
    S(21, "MADV_PAGEOUT"),        S(22, "MADV_POPULATE_READ"),
    S(23, "MADV_POPULATE_WRITE"), S(24, "MADV_DONTNEED_LOCKED"),
    S(25, "MADV_COLLAPSE"),       S(100, "MADV_HWPOISON"),
    S(101, "MADV_SOFT_OFFLINE"),
};

static const struct vsym fadvices[] = {
    S(0, "POSIX_FADV_NORMAL"),     S(1, "POSIX_FADV_RANDOM"),
    S(2, "POSIX_FADV_SEQUENTIAL"), S(3, "POSIX_FADV_WILLNEED"),
    S(4, "POSIX_FADV_DONTNEED"),   S(5, "POSIX_FADV_NOREUSE"),
};

/* ---- futexes ---- */

static const struct vsym futex_cmds[] = {
    S(0, "FUTEX_WAIT"),
    S(1, "FUTEX_WAKE"),
    S(2, "FUTEX_FD"),
    S(3, "FUTEX_REQUEUE"),
    S(4, "FUTEX_CMP_REQUEUE"),
    S(5, "FUTEX_WAKE_OP"),
    S(6, "FUTEX_LOCK_PI"),
    S(7, "FUTEX_UNLOCK_PI"),
    S(8, "FUTEX_TRYLOCK_PI"),
    S(9, "FUTEX_WAIT_BITSET"),
    S(10, "FUTEX_WAKE_BITSET"),
    S(11, "FUTEX_WAIT_REQUEUE_PI"),
    S(12, "FUTEX_CMP_REQUEUE_PI"),
    S(13, "FUTEX_LOCK_PI2"),
};

static void ob_futex_op(struct obuf *o, uint64_t v)
{
    const char *cmd =
        vsym_find(v & 0x7f, futex_cmds, VSYS_ARRAY_SIZE(futex_cmds));

    if (!cmd) {
        ob_hex(o, v);
        return;
    }
    ob_puts(o, cmd);
    if (v & 128)
        ob_puts(o, "_PRIVATE");
    if (v & 256)
        ob_puts(o, "|FUTEX_CLOCK_REALTIME");
    if (v & ~(uint64_t)0x1ff) {
        ob_putc(o, '|');
        ob_hex(o, v & ~(uint64_t)0x1ff);
    }
}

static void ob_open_accmode(struct obuf *o, uint64_t v)
{
    ob_open_flags(o, v, true);
}

static void ob_open_noacc(struct obuf *o, uint64_t v)
{
    ob_open_flags(o, v, false);
}

static void ob_signal(struct obuf *o, uint64_t v)
{
    const char *name = vsys_signal_name((int)v);
    if (name && v <= 64)
        ob_puts(o, name);
    else
        ob_dec(o, (int32_t)v);
}

static const struct symbolic symbolics[] = {
    {.sig = 'o', .kind = SK_FN, .fn = ob_open_accmode},
    {.sig = 'O', .kind = SK_FN, .fn = ob_open_noacc},
    {.sig = 'm', .kind = SK_FN, .fn = ob_mode},
    {'a', SK_FLAGS, SYM_T(at_flags), NULL, 0, NULL, NULL},
    {'E', SK_FLAGS, SYM_T(faccessat_flags), NULL, 0, NULL, NULL},
    {'A', SK_FLAGS, SYM_T(access_modes), NULL, 0, "F_OK", NULL},
    {'P', SK_FLAGS, SYM_T(prot_bits), NULL, 0, "PROT_NONE", NULL},
    {'M', SK_TYPE_FLAGS, SYM_T(map_types), SYM_T(map_bits), NULL, NULL},
    {.sig = 'C', .kind = SK_FN, .fn = ob_clone_flags},
    {.sig = 'S', .kind = SK_FN, .fn = ob_signal},
    {'w', SK_ENUM, SYM_T(whences), NULL, 0, NULL, NULL},
    {'n', SK_ENUM, SYM_T(fcntl_cmds), NULL, 0, NULL, NULL},
    {'c', SK_ENUM, SYM_T(clocks), NULL, 0, NULL, NULL},
    {'j', SK_FLAGS, SYM_T(timer_flags), NULL, 0, NULL, NULL},
    {'H', SK_ENUM, SYM_T(sigprocmask_hows), NULL, 0, NULL, NULL},
    {.sig = 'X', .kind = SK_FN, .fn = ob_futex_op},
    {'R', SK_NAME_OR_HEX, SYM_T(arch_prctl_codes), NULL, 0, NULL, NULL},
    {'Z', SK_FLAGS, SYM_T(wait_opts), NULL, 0, NULL, NULL},
    {'r', SK_ENUM, SYM_T(rlimits), NULL, 0, NULL, NULL},
    {'G', SK_FLAGS, SYM_T(grnd_flags), NULL, 0, NULL, NULL},
    {'Q', SK_FLAGS, SYM_T(mfd_flags), NULL, 0, NULL, NULL},
    {'I', SK_NAME_OR_HEX, SYM_T(ioctls), NULL, 0, NULL, NULL},
    {'U', SK_ENUM, SYM_T(madvices), NULL, 0, NULL, NULL},
    {'J', SK_ENUM, SYM_T(fadvices), NULL, 0, NULL, NULL},
    {.sig = 'g', .kind = SK_FN, .fn = ob_statx_flags},
    {'z', SK_FLAGS, SYM_T(statx_mask), NULL, 0, NULL, NULL},
    {'q', SK_FLAGS, SYM_T(rename_flags), NULL, 0, NULL, NULL},
    {.sig = 'L', .kind = SK_FN, .fn = vdec_prctl_op},
};

static const struct symbolic *symbolic(char sig)
{
    for (size_t i = 0; i < VSYS_ARRAY_SIZE(symbolics); i++)
        if (symbolics[i].sig == sig)
            return &symbolics[i];
    for (size_t i = 0; i < vsym_net_nsymbolics; i++)
        if (vsym_net_symbolics[i].sig == sig)
            return &vsym_net_symbolics[i];
    return NULL;
}

bool vsys_sig_is_symbolic(char sig)
{
    return symbolic(sig) != NULL;
}

void ob_symbolic(struct obuf *o, char sig, uint64_t v)
{
    const struct symbolic *d = symbolic(sig);
    const char *name;
    switch (d != NULL ? d->kind : SK_NAME_OR_HEX) {
    case SK_FLAGS:
        ob_flags(o, v, d->t, d->n, d->zero);
        break;
    case SK_ENUM:
        ob_enum(o, v, d->t, d->n);
        break;
    case SK_TYPE_FLAGS:
        ob_type_flags(o, v, d->t, d->n, d->t2, d->n2);
        break;
    case SK_FN:
        d->fn(o, v);
        break;
    case SK_NAME_OR_HEX:
        name = d != NULL ? vsym_find(v, d->t, d->n) : NULL;
        if (name)
            ob_puts(o, name);
        else
            ob_hex(o, v);
        break;
    }
}
