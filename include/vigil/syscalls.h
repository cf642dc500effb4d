/* The system call tables of the guest ABI (x86-64, and i386 for compat
 * calls), what guest memory to capture for each call, and how to render a
 * completed call as JSON or strace-like text.
 *
 * Pure data and formatting: no I/O, no globals that change, usable from the
 * plugin's hot path (vsys_lookup, vsys_captures) and from the consumer.
 */
#ifndef VIGIL_SYSCALLS_H
#define VIGIL_SYSCALLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VSYS_MAX_CAPS 4

/* What to read from guest memory for one argument. */
enum vsys_cap_kind {
    VSYS_CAP_STR = 1,        /* NUL-terminated string at args[argi] */
    VSYS_CAP_BUF = 2,        /* bytes at args[argi], length per len_from */
    VSYS_CAP_ARGV = 3,       /* NULL-terminated array of string pointers;
                                captured as the strings, each NUL-terminated */
    VSYS_CAP_SOCKADDR = 4,   /* socket address: length per len_from, or when
                                len_from == VSYS_LEN_PTR the int at the
                                address in args[len_arg] */
    VSYS_CAP_STRUCT = 5,     /* fixed-size struct (fixed_len bytes) */
    VSYS_CAP_DIRENTS = 6,    /* linux_dirent64 records in the `ret` bytes at
                                args[argi]: captured as their count only
                                (uint32), so the buffer is never copied */
    VSYS_CAP_FRAME_MASK = 7, /* rt_sigreturn: the signal mask (8 bytes) in
                                the x86-64 signal frame at the user stack
                                pointer; args[argi] is not used */
    VSYS_CAP_STRV = 8,       /* argv as strace shows it: at most str_max
                                strings, each cut at str_max bytes; each
                                element is a flag byte (1: cut) then the
                                string's bytes then a NUL */
    VSYS_CAP_COUNT = 9,      /* the number of pointers before the NULL of a
                                NULL-terminated array (envp), as a uint32;
                                the strings are not read */
    VSYS_CAP_MSGHDR = 10,    /* struct msghdr (x86-64) and what it points
                                to: the layout below */
    VSYS_CAP_FDSETS = 11,    /* select/pselect6: the three fd sets of
                                args[0] bits at args[1..3], the timeout at
                                args[4] and, when len_arg is 5, pselect6's
                                sigmask argument and its sigset: the
                                layout below */
    VSYS_CAP_PPOLL = 12,     /* ppoll: the args[1] struct pollfd at
                                args[0], the timespec at args[2] and, at
                                entry, the sigset at args[3] when args[4]
                                is 8: the layout below */
    VSYS_CAP_FILEMEM = 13,   /* not from a plan: the plugin's finding that
                                descriptor args[argi] of a write is open on
                                another process's memory (/proc/PID/mem),
                                read from the kernel's struct file:
                                struct vsys_filemem */
};

/* VSYS_CAP_FILEMEM's data (--callers, plugin/fdmem.c). */
struct vsys_filemem {
    uint64_t mm;   /* the file's mm_struct (its private_data) */
    uint64_t pos;  /* the file's position (f_pos) at the call's entry */
    int32_t owner; /* the tgid of mm->owner; 0 when not read */
    uint32_t reserved;
};

/* VSYS_CAP_PPOLL's data: struct vsys_ppoll, `fds_len` bytes of struct
 * pollfd (at most VSYS_POLL_MAX of them), the 16-byte timespec and the
 * 8-byte sigset (zeros when not read). */
struct vsys_ppoll {
    uint16_t fds_len;
    uint8_t have;  /* bit VSYS_PP_*: the part was read */
    uint8_t fault; /* bit VSYS_PP_*: the part could not be read */
    uint32_t reserved;
};

enum {
    VSYS_PP_FDS = 0,
    VSYS_PP_TIMEOUT = 1,
    VSYS_PP_SIGSET = 2,
};

/* VSYS_CAP_FDSETS's data: struct vsys_fdsets, then three sets of
 * `set_len` bytes (zeros when not read), the 16-byte timeout (timeval or
 * timespec), pselect6's 16-byte { sigset pointer, size } and its 8-byte
 * sigset. A set holds at most VSYS_FDSET_MAX bytes (1024 descriptors). */
#define VSYS_FDSET_MAX 128

struct vsys_fdsets {
    uint16_t set_len;
    uint8_t have;  /* bit VSYS_FDS_*: the part was read */
    uint8_t fault; /* bit VSYS_FDS_*: the part could not be read */
    uint32_t reserved;
};

enum {
    VSYS_FDS_TIMEOUT = 3, /* bits 0..2: the sets */
    VSYS_FDS_SIGARG = 4,
    VSYS_FDS_SIGSET = 5,
};

/* How many struct pollfd (poll) and struct epoll_event (epoll_wait,
 * epoll_pwait) a capture holds: the plans size their captures by these,
 * the decoders show "..." after as many. */
#define VSYS_POLL_MAX  16
#define VSYS_EPOLL_MAX 32 /* strace's default -s */

/* VSYS_CAP_MSGHDR's data: the struct msghdr as read (56 bytes), struct
 * vsys_msgcap, `name_len` bytes of msg_name, `niov` struct iovec as read
 * (16 bytes each) and `niov` struct vsys_msgiov, the iovecs' bytes one
 * after another, `ctl_len` bytes of msg_control. The parts are bounded:
 * the name by VSYS_MSG_NAME_MAX, the iovecs by VSYS_MSG_IOV_MAX, each
 * iovec's bytes by the buffer limit and all of them together by
 * VSYS_MSG_DATA_MAX, the control bytes by VSYS_MSG_CTL_MAX. At the
 * return, the iovecs' bytes are as many as the call's result. */
#define VSYS_MSGHDR_LEN   56
#define VSYS_MSG_NAME_MAX 128 /* sizeof(struct sockaddr_storage) */
#define VSYS_MSG_IOV_MAX  16
#define VSYS_MSG_DATA_MAX 4096
#define VSYS_MSG_CTL_MAX  256

struct vsys_msgcap {
    uint16_t name_len, ctl_len;
    uint8_t niov;
    uint8_t flags; /* VSYS_MSG_* */
    uint16_t reserved;
};

enum {
    VSYS_MSG_NAME_FAULT = 1 << 0, /* msg_name could not be read */
    VSYS_MSG_IOV_FAULT = 1 << 1,  /* msg_iov could not be read */
    VSYS_MSG_IOV_MORE = 1 << 2,   /* msg_iovlen exceeds the iovecs read */
    VSYS_MSG_CTL_FAULT = 1 << 3,  /* msg_control could not be read */
    VSYS_MSG_CTL_CUT = 1 << 4,    /* msg_controllen exceeds ctl_len */
};

/* One iovec's captured bytes. */
struct vsys_msgiov {
    uint16_t len;
    uint8_t flags; /* VSYS_MSG_DATA_* */
    uint8_t reserved;
};

enum {
    VSYS_MSG_DATA_FAULT = 1 << 0, /* iov_base could not be read */
    VSYS_MSG_DATA_CUT = 1 << 1,   /* more bytes than captured */
};

/* At rt_sigreturn's entry the restorer has popped the frame's return
 * address: the stack pointer is at the ucontext, whose uc_sigmask follows
 * uc_flags, uc_link, uc_stack (24 bytes) and uc_mcontext (256 bytes). */
#define VSYS_FRAME_MASK_OFF 296

/* When an exit capture is taken (struct vsys_cap.only_ok). */
enum vsys_when {
    VSYS_WHEN_ANY = 0,
    VSYS_WHEN_OK = 1,  /* only when the call succeeded */
    VSYS_WHEN_ERR = 2, /* only when it failed (nanosleep's remaining time) */
};

/* Where a capture's length comes from. */
enum vsys_len_from {
    VSYS_LEN_ARG = 1,      /* args[len_arg] */
    VSYS_LEN_RESULT = 2,   /* the return value (when > 0) */
    VSYS_LEN_PTR = 3,      /* *(int32_t *)args[len_arg] */
    VSYS_LEN_FIXED = 4,    /* fixed_len */
    VSYS_LEN_NUL = 5,      /* strings: up to the NUL */
    VSYS_LEN_RESULT_N = 6, /* the return value (when > 0) elements of
                              len_arg bytes, at most fixed_len bytes */
};

struct vsys_cap {
    uint8_t argi;     /* which argument holds the address */
    uint8_t kind;     /* enum vsys_cap_kind */
    uint8_t at_exit;  /* 0: read at entry (inputs); 1: at exit (outputs) */
    uint8_t len_from; /* enum vsys_len_from */
    uint8_t len_arg;
    uint8_t only_ok; /* at exit: enum vsys_when */
    uint16_t fixed_len;
    /* Only when argument cond_arg - 1 is cond_val .. cond_val + cond_span
     * in its low 32 bits (cond_arg 0: always): prctl's second argument is
     * a string for two of its operations only, ioctl's third a struct
     * termios for TCSETS, TCSETSW and TCSETSF. */
    uint8_t cond_arg;
    uint8_t cond_span;
    uint32_t cond_val;
};

/* Upper bounds on captured bytes, chosen by the consumer (`--strsize`). */
struct vsys_limits {
    uint32_t str_max;  /* strings, default 256 */
    uint32_t buf_max;  /* read/write buffers, default 64 */
    uint32_t argv_max; /* total bytes of an argv capture, default 1024 */
};

struct vsys_ent {
    const char *name; /* NULL for unused numbers */
    uint8_t nargs;
    uint8_t flags; /* VSYS_NORETURN, ... */
    uint8_t plan;  /* index of the capture plan (internal), 0: none */
    /* How to show the call: the return value's kind, then one character per
     * argument (so nargs == strlen(sig) - 1). The alphabet is documented in
     * lib/syscalls/tables.h; "d" is a signed decimal everywhere. */
    const char *sig;
};

enum {
    VSYS_NORETURN = 1 << 0, /* exit, exit_group: no return on success */
};

/* The entry for `nr` in the 64-bit (compat false) or i386 table; NULL when
 * there is no such call. */
const struct vsys_ent *vsys_lookup(uint64_t nr, bool compat);

/* Fill `out` with the captures for call `nr`; returns how many (0..
 * VSYS_MAX_CAPS). Cheap: called on the plugin's hot path. */
unsigned vsys_captures(uint64_t nr, bool compat,
                       struct vsys_cap out[VSYS_MAX_CAPS]);

/* The number of the 64-bit call `name`, or -1. */
int vsys_number(const char *name);

/* The number of the i386 call `name`, or -1. */
int vsys_number_compat(const char *name);

/* The highest number either table knows (for iterating over them). */
#define VSYS_NR_MAX 470

/* The symbolic name of a (positive) errno value as the guest kernel uses it,
 * e.g. "ENOENT", including kernel-internal codes such as "ERESTARTSYS";
 * NULL when unknown. */
const char *vsys_errno_name(int err);

/* Its description as strerror(3) gives it, e.g. "No such file or
 * directory"; NULL when unknown. */
const char *vsys_errno_desc(int err);

/* The name of signal `sig` ("SIGKILL", "SIGRTMIN", "SIGRT_3"); NULL when
 * out of range (0 or above 64). */
const char *vsys_signal_name(int sig);

#endif
