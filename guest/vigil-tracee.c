/* A guest program with a known sequence of system calls, for comparing
 * vigil's trace with strace's (tests/test-trace-strace.sh):
 *   - creates a known file and writes known bytes, reads them back;
 *   - a thread blocks in read() on a pipe while the main thread works, and
 *     is released by a write from the main thread;
 *   - forks a child that execs another program;
 *   - makes a call that fails with a known errno (ENOENT).
 * With --int80 it makes i386 calls instead; with --shared-tls two threads
 * that share their TLS (a clone without CLONE_SETTLS) take turns writing
 * to two pipes, so that only the kernel's own record of the running thread
 * tells them apart. With --jump one `syscall` instruction is reached two
 * ways: after `mov $39, %eax` (getpid), and by a jump onto it with 110
 * (getppid) in eax, which the number seen in the code before it must not
 * name.
 * Raw system calls keep libc from adding or merging any. Each step prints
 * what the test will look for, so the expected values come from the run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KNOWN_PATH   "/tmp/vigil-tracee.dat"
#define MISSING_PATH "/nonexistent/vigil-tracee"
static const char known[] = "vigil known bytes\n";

static int pipefd[2];

/* The i386 system call ABI from 64-bit code: int 0x80 with the 32-bit
 * numbers (getpid 20, write 4). Addresses must fit in 32 bits, which holds
 * for a static binary's data. */
static long int80(long nr, long a, long b, long c)
{
    long ret;
    __asm__ volatile("int $0x80"
                     : "=a"(ret)
                     : "a"(nr), "b"(a), "c"(b), "d"(c)
                     : "memory");
    return ret;
}

static const char int80_msg[] = "int80 says hi\n";

/* --jump: getpid falling through, getppid jumping past the mov. */
static long jump_syscall(long jump)
{
    long ret;
    __asm__ volatile("test %1, %1\n\t"
                     "jz 2f\n\t"
                     "mov $110, %%eax\n\t"
                     "jmp 1f\n"
                     "2:\n\t"
                     "mov $39, %%eax\n"
                     "1:\n\t"
                     "syscall"
                     : "=&a"(ret)
                     : "r"(jump)
                     : "rcx", "r11", "memory");
    return ret;
}

/* --shared-tls: the threads hand a token back and forth, TURNS times. */
#define TURNS 4
static int to_main[2], to_child[2];

/* Runs on the main thread's TLS: raw calls only, no errno on success. */
static int turner(void *arg)
{
    char c;
    (void)arg;
    for (int i = 0; i < TURNS; i++) {
        syscall(SYS_write, to_main[1], "c", 1);
        syscall(SYS_read, to_child[0], &c, 1);
    }
    syscall(SYS_exit, 0);
    return 0;
}

static int shared_tls(void)
{
    static char stack[64 * 1024] __attribute__((aligned(16)));
    if (pipe(to_main) != 0 || pipe(to_child) != 0)
        return 1;
    int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
                CLONE_THREAD | CLONE_SYSVSEM;
    long child = clone(turner, stack + sizeof stack, flags, NULL);
    if (child < 0)
        return 1;
    char c;
    for (int i = 0; i < TURNS; i++) {
        syscall(SYS_read, to_main[0], &c, 1);
        syscall(SYS_write, to_child[1], "m", 1);
    }
    printf("shared-tls main %ld child %ld writes %d %d\n",
           (long)syscall(SYS_gettid), child, to_child[1], to_main[1]);
    return 0;
}

static void *reader(void *arg)
{
    char buf[64];
    (void)arg;
    long n = syscall(SYS_read, pipefd[0], buf, sizeof buf);
    printf("thread %ld read %ld\n", (long)syscall(SYS_gettid), n);
    return NULL;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && !strcmp(argv[1], "--int80")) {
        long pid = int80(20, 0, 0, 0);
        long n = int80(4, 1, (long)(uintptr_t)int80_msg, sizeof int80_msg - 1);
        printf("int80 getpid %ld write %ld\n", pid, n);
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "--jump")) {
        long pid = jump_syscall(0), ppid = jump_syscall(1);
        printf("jump getpid %ld getppid %ld\n", pid, ppid);
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "--shared-tls"))
        return shared_tls();
    if (argc > 1 && !strcmp(argv[1], "--child")) {
        printf("child %ld\n", (long)syscall(SYS_getpid));
        return 0;
    }

    long fd = syscall(SYS_openat, AT_FDCWD, KNOWN_PATH,
                      O_WRONLY | O_CREAT | O_TRUNC, 0644);
    long w = syscall(SYS_write, fd, known, sizeof known - 1);
    syscall(SYS_close, fd);
    printf("wrote %ld to fd %ld\n", w, fd);

    char buf[64];
    fd = syscall(SYS_openat, AT_FDCWD, KNOWN_PATH, O_RDONLY);
    long r = syscall(SYS_read, fd, buf, sizeof buf);
    syscall(SYS_close, fd);
    printf("read %ld from fd %ld\n", r, fd);

    long e = syscall(SYS_openat, AT_FDCWD, MISSING_PATH, O_RDONLY);
    printf("missing %ld errno %d\n", e, errno);

    /* The thread blocks in read() until the main thread has done work. */
    if (pipe(pipefd) != 0)
        return 1;
    pthread_t t;
    pthread_create(&t, NULL, reader, NULL);
    struct timespec ts = {0, 200 * 1000 * 1000};
    syscall(SYS_nanosleep, &ts, NULL);
    for (int i = 0; i < 3; i++)
        syscall(SYS_getppid);
    syscall(SYS_write, pipefd[1], "go", 2);
    pthread_join(t, NULL);

    pid_t child = fork();
    if (child == 0) {
        char child_arg[] = "--child";
        char *args[] = {argv[0], child_arg, NULL};
        execv("/proc/self/exe", args);
        _exit(127);
    }
    int status;
    waitpid(child, &status, 0);
    printf("forked %d status %d\n", child, WEXITSTATUS(status));
    return 0;
}
