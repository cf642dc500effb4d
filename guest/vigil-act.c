/* A guest program for vigil's active-control tests (tests/test-act.sh).
 *
 *   vigil-act hcall      vigil's hypercall (vmcall, RAX=1 "identify") with
 *                        out-buffers in every kind of page: on the stack,
 *                        across a page boundary, never touched, shared
 *                        copy-on-write with a child, mapping the zero page,
 *                        read-only, unmapped, in the kernel; garbage
 *                        function numbers; and many calls while a timer
 *                        signal keeps interrupting.
 *   vigil-act calls N    N rounds of getppid, uname and an open/close of
 *                        /proc/version, printing each result.
 *   vigil-act threads N  two threads, one after the other, each making N
 *                        getppid calls and printing the results.
 *   vigil-act signals    a second signal handler entered on the way back
 *                        from the first one's rt_sigreturn.
 *   vigil-act rename     renames itself with prctl(PR_SET_NAME), then by a
 *                        write to /proc/self/comm, then by such a write
 *                        made through io_uring (no write call at all),
 *                        making a getppid call after each.
 *
 * Each line printed is what the test compares: with strace -e inject in
 * the guest and with vigil --inject from outside, the output must be the
 * same. Raw system calls keep libc from adding or merging any.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hypercall.h"

#define PAGE 4096

static long identify(void *buf, long len)
{
    return vigil_hypercall(1, buf, len, NULL);
}

static long vmcall(long fn, long a, long b, long c)
{
    return vigil_hypercall(fn, (void *)(uintptr_t)a, b, (void *)(uintptr_t)c);
}

/* The string written at p, or "-" when it does not start with "vigil". */
static const char *shown(const char *p)
{
    return strncmp(p, "vigil", 5) == 0 ? p : "-";
}

static char *fresh_pages(int n)
{
    char *p = mmap(NULL, (size_t)n * PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    return p;
}

static int all_zero(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

static volatile sig_atomic_t ticks;
static void on_alarm(int sig)
{
    (void)sig;
    ticks++;
}

/* Pages in the states the guest kernel has to fault in or copy first. */
static int hcall_pages(void)
{
    long n;
    /* Across a page boundary, both pages touched. */
    char *two = fresh_pages(2);
    memset(two, 'y', 2 * PAGE);
    n = identify(two + PAGE - 5, 64);
    printf("boundary: ret=%ld str=%s\n", n, shown(two + PAGE - 5));

    /* A page never touched: not yet in the page tables. */
    char *untouched = fresh_pages(1);
    n = identify(untouched, 64);
    printf("untouched: ret=%ld str=%s\n", n, shown(untouched));

    /* A page shared copy-on-write with a child: the child's copy stays. */
    char *cow = fresh_pages(1);
    memset(cow, 'P', PAGE);
    int go[2];
    if (pipe(go) < 0)
        return 1;
    pid_t child = fork();
    if (child == 0) {
        char c;
        if (read(go[0], &c, 1) != 1)
            _exit(2);
        printf("cow child: first=%c all-P=%d\n", cow[0],
               cow[0] == 'P' && cow[PAGE - 1] == 'P');
        _exit(0);
    }
    n = identify(cow, 64);
    printf("cow parent: ret=%ld str=%s\n", n, shown(cow));
    if (write(go[1], "g", 1) != 1)
        return 1;
    int status;
    waitpid(child, &status, 0);

    /* A page that maps the kernel's zero page (read, never written): the
     * write lands in a private copy and fresh pages still read zeros. */
    char *zero = fresh_pages(1);
    volatile char sink = zero[0];
    (void)sink;
    n = identify(zero, 64);
    printf("zero page: ret=%ld str=%s\n", n, shown(zero));
    char *other = fresh_pages(4);
    int z = 1;
    for (int i = 0; i < 4; i++)
        z &= other[i * PAGE] == 0 && all_zero(other + i * PAGE, PAGE);
    printf("fresh pages after: all-zero=%d\n", z);

    return 0;
}

/* Pages no user store may write, and a buffer running into one. */
static void hcall_faults(void)
{
    /* Pages no user store may write: each gets -EFAULT. */
    char *ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("read-only: ret=%ld\n", identify(ro, 64));
    char *gone = fresh_pages(1);
    gone[0] = 1;
    munmap(gone, PAGE);
    printf("unmapped: ret=%ld\n", identify(gone, 64));
    printf("null: ret=%ld\n", identify(NULL, 64));
    printf("kernel: ret=%ld\n", identify((void *)0xffffffff81000000ul, 64));
    printf("non-canonical: ret=%ld\n",
           identify((void *)0x0000800000000000ul, 64));
    /* The end of the buffer runs into an unmapped page. */
    char *edge = fresh_pages(2);
    munmap(edge + PAGE, PAGE);
    memset(edge, 'e', PAGE);
    printf("runs off the end: ret=%ld untouched=%d\n",
           identify(edge + PAGE - 4, 64), edge[PAGE - 4] == 'e');
}

static void hcall_unknown(char *stack)
{
    /* Functions vigil does not know, and garbage registers. */
    printf("fn 0: ret=%ld\n", vmcall(0, 0, 0, 0));
    printf("fn 12345: ret=%ld\n", vmcall(12345, 1, 2, 3));
    printf("fn -1: ret=%ld\n", vmcall(-1, -1, -1, -1));
    printf("huge length: ret=%ld\n", identify(stack, 1L << 40));
}

static void hcall_signals(long want)
{
    /* Many fresh pages while a timer signal interrupts: the faults vigil
     * has the guest kernel take may be cut short by a signal handler, and
     * the handler may run before the thread reaches the system call
     * instruction vigil borrowed for them, even run that very instruction
     * (its rt_sigreturn, when that was the last one the process used). */
    struct sigaction sa = {.sa_handler = on_alarm};
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 200}, {0, 200}};
    setitimer(ITIMER_REAL, &it, NULL);
    int bad = 0;
    for (int i = 0; i < 1000; i++) {
        char *p = fresh_pages(1);
        if (identify(p, 64) != want || strncmp(p, "vigil", 5) != 0)
            bad++;
        munmap(p, PAGE);
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    printf("under signals: bad=%d ticks>0=%d\n", bad, ticks > 0);
}

static int hcall(void)
{
    char stack[128];
    memset(stack, 'x', sizeof stack);
    long n = identify(stack, sizeof stack);
    printf("stack: ret=%ld str=%s\n", n, shown(stack));
    long want = n;

    /* A short buffer: the string is cut and NUL-terminated; the result is
     * still the whole length. */
    memset(stack, 'x', sizeof stack);
    n = identify(stack, 6);
    printf("short: ret=%ld str=%s after=%c\n", n, stack, stack[6]);
    n = identify(stack, 0);
    printf("zero-length: ret=%ld\n", n);

    if (hcall_pages() != 0)
        return 1;
    hcall_faults();
    hcall_unknown(stack);
    hcall_signals(want);
    return 0;
}

/* Read once, at the start: every later getppid is one the test counts. */
static long real_ppid;

static int calls(int n)
{
    for (int i = 1; i <= n; i++) {
        long pp = syscall(SYS_getppid);
        struct utsname u;
        long un = syscall(SYS_uname, &u);
        int une = un < 0 ? errno : 0;
        long fd = syscall(SYS_openat, AT_FDCWD, "/proc/version", O_RDONLY);
        int fde = fd < 0 ? errno : 0;
        if (fd >= 0)
            syscall(SYS_close, fd);
        printf("round %d: getppid=%s uname=%ld/%d open=%s/%d\n", i,
               pp == real_ppid ? "real" : "other", un, une,
               fd >= 0 ? "fd" : "-1", fde);
        if (pp != real_ppid)
            printf("  getppid returned %ld\n", pp);
    }
    return 0;
}

static int rounds;
static void *worker(void *arg)
{
    long id = (long)(intptr_t)arg;
    for (int i = 1; i <= rounds; i++) {
        long pp = syscall(SYS_getppid);
        printf("thread %ld round %d: getppid %s\n", id, i,
               pp == real_ppid ? "real" : "other");
        if (pp != real_ppid)
            printf("  thread %ld: %ld\n", id, pp);
    }
    return NULL;
}

static int threads(int n)
{
    rounds = n;
    for (long id = 1; id <= 2; id++) {
        pthread_t t;
        if (pthread_create(&t, NULL, worker, (void *)(intptr_t)id) != 0)
            return 1;
        pthread_join(t, NULL);
    }
    return 0;
}

static volatile sig_atomic_t got1, got2;
static void on_first(int sig)
{
    (void)sig;
    got1++;
    /* Blocked while this handler runs (sa_mask): due when it returns. */
    raise(SIGUSR2);
}
static void on_second(int sig)
{
    (void)sig;
    got2++;
}

/* A timer signal interrupts a loop that holds 4242 in rax; its handler
 * makes a second signal due as it returns, so the kernel enters the second
 * handler on rt_sigreturn's way back, and rt_sigreturn's result (the
 * restored rax, 4242) is only in the second handler's frame. */
static int signals(void)
{
    struct sigaction a = {.sa_handler = on_first},
                     b = {.sa_handler = on_second};
    sigemptyset(&a.sa_mask);
    sigaddset(&a.sa_mask, SIGUSR2);
    sigaction(SIGALRM, &a, NULL);
    sigaction(SIGUSR2, &b, NULL);
    struct itimerval it = {{0, 0}, {0, 20000}};
    setitimer(ITIMER_REAL, &it, NULL);
    long dummy;
    __asm__ volatile("1: movl $4242, %%eax\n\t"
                     "cmpl $0, %1\n\t"
                     "je 1b"
                     : "=&a"(dummy)
                     : "m"(got1)
                     : "cc");
    printf("handlers %d %d\n", (int)got1, (int)got2);
    return 0;
}

/* One write of @len bytes to @fd through an io_uring of one entry, set up
 * by hand (no liburing in the guest). Returns the write's result, or -1. */
static int uring_write(int fd, const void *buf, unsigned len)
{
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    int ring = (int)syscall(SYS_io_uring_setup, 1, &p);
    if (ring < 0)
        return -1;
    size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(uint32_t);
    size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    uint8_t *sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED, ring,
                       IORING_OFF_SQ_RING);
    uint8_t *cq = mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED, ring,
                       IORING_OFF_CQ_RING);
    struct io_uring_sqe *sqe = mmap(NULL, sizeof *sqe, PROT_READ | PROT_WRITE,
                                    MAP_SHARED, ring, IORING_OFF_SQES);
    if (sq == MAP_FAILED || cq == MAP_FAILED || sqe == MAP_FAILED)
        return -1;
    memset(sqe, 0, sizeof *sqe);
    sqe->opcode = IORING_OP_WRITE;
    sqe->fd = fd;
    sqe->addr = (uintptr_t)buf;
    sqe->len = len;
    uint32_t *tail = (uint32_t *)(sq + p.sq_off.tail);
    ((uint32_t *)(sq +
                  p.sq_off.array))[*tail &
                                   *(uint32_t *)(sq + p.sq_off.ring_mask)] = 0;
    __atomic_store_n(tail, *tail + 1, __ATOMIC_RELEASE);
    if (syscall(SYS_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL,
                0) != 1)
        return -1;
    uint32_t head =
        __atomic_load_n((uint32_t *)(cq + p.cq_off.head), __ATOMIC_ACQUIRE);
    struct io_uring_cqe *cqe = (struct io_uring_cqe *)(cq + p.cq_off.cqes) +
                               (head & *(uint32_t *)(cq + p.cq_off.ring_mask));
    int res = cqe->res;
    close(ring);
    return res;
}

static int rename_self(void)
{
    syscall(SYS_prctl, PR_SET_NAME, "act-prctl", 0, 0, 0);
    syscall(SYS_getppid);
    int fd = open("/proc/self/comm", O_WRONLY);
    if (fd < 0 || write(fd, "act-procfs", 10) != 10)
        return 1;
    syscall(SYS_getppid);
    int n = uring_write(fd, "act-uring", 9);
    if (n != 9)
        fprintf(stderr, "io_uring write: %d\n", n);
    syscall(SYS_getppid);
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    real_ppid = syscall(SYS_getppid);
    if (argc >= 2 && !strcmp(argv[1], "hcall"))
        return hcall();
    if (argc >= 3 && !strcmp(argv[1], "calls"))
        return calls(atoi(argv[2]));
    if (argc >= 3 && !strcmp(argv[1], "threads"))
        return threads(atoi(argv[2]));
    if (argc >= 2 && !strcmp(argv[1], "rename"))
        return rename_self();
    if (argc >= 2 && !strcmp(argv[1], "signals"))
        return signals();
    fprintf(
        stderr,
        "usage: vigil-act hcall | calls N | threads N | rename | signals\n");
    return 2;
}
