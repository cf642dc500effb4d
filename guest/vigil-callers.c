/* A guest program for --callers (tests/test-callers.sh): write() called
 * through a known chain of functions, from the main thread and from a
 * second thread; a raw call made with the stack pointer on unmapped memory,
 * and one with a stack that ends after one return address, that stack's
 * page dropped and written again, then a return address into code not yet
 * read in; calls in a loop from a thread moved from vCPU to vCPU (its
 * records carry only what changed, per ring); then an execve
 * of another program, whose first calls must carry none of this program's
 * branches. The test finds the functions' addresses with nm: the program
 * is static and not position-independent.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KEEP __attribute__((noinline, noclone, used))

/* Each call is followed by work, so that none becomes a tail jump and
 * every function's return address stays on the stack. */
KEEP static long callers_inner(const char *msg)
{
    long r = write(1, msg, strlen(msg));
    __asm__ volatile("" ::: "memory");
    return r + 1;
}

KEEP static long callers_middle(const char *msg)
{
    long r = callers_inner(msg);
    __asm__ volatile("" ::: "memory");
    return r + 1;
}

KEEP static long callers_outer(const char *msg)
{
    long r = callers_middle(msg);
    __asm__ volatile("" ::: "memory");
    return r + 1;
}

static void *thread_main(void *arg)
{
    (void)arg;
    callers_outer("callers thread\n");
    return NULL;
}

/* getpid with the stack pointer at @sp: the kernel does not use the user
 * stack, so only vigil's walk of it sees the difference. */
KEEP static long getpid_on_stack(uint64_t sp)
{
    long ret;
    __asm__ volatile("mov %%rsp, %%r12\n\t"
                     "mov %2, %%rsp\n\t"
                     "syscall\n\t"
                     "mov %%r12, %%rsp"
                     : "=a"(ret)
                     : "a"((long)SYS_getpid), "r"(sp)
                     : "rcx", "r11", "r12", "memory");
    return ret;
}

/* A return address of this program: where callers_mark() returns to. */
KEEP static uintptr_t callers_mark(void)
{
    return (uintptr_t)__builtin_return_address(0);
}

/* Code not yet present: this program's file mapped again and not touched
 * (as a forked child's text is until it runs it), the return address
 * @mark of its copy on the stack at @top: vigil cannot read the call
 * before it, so no frame. Once the page is read in, and after enough other
 * calls for vigil to look again, the same stack has that frame. */
static int lazy_code(uint64_t *top, uintptr_t mark)
{
    extern const char __executable_start[];
    int fd = open("/proc/self/exe", O_RDONLY);
    off_t size = fd < 0 ? -1 : lseek(fd, 0, SEEK_END);
    uintptr_t off = mark - (uintptr_t)__executable_start;
    if (size < 0 || off >= (uintptr_t)size)
        return 1;
    /* Far from the stack page (vigil ignores words within 1 MiB of the
     * stack pointer). */
    const uint8_t *copy = mmap((void *)(1ull << 40), (size_t)size,
                               PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
    close(fd);
    if (copy == MAP_FAILED)
        return 1;
    uintptr_t lazy = (uintptr_t)copy + off;
    top[0] = lazy;
    top[1] = 0;
    long e = getpid_on_stack((uint64_t)(uintptr_t)top);
    volatile uint8_t touch = copy[off - 1];
    (void)touch;
    for (int i = 0; i < 100; i++)
        getppid();
    long f = getpid_on_stack((uint64_t)(uintptr_t)top);
    /* The copy must hold the same call as the original. */
    int same = !memcmp(copy + off - 5, (const void *)(mark - 5), 5);
    printf("lazycode %ld %ld %s %#lx\n", e, f, same ? "same" : "differs",
           (unsigned long)lazy);
    fflush(stdout);
    return 0;
}

/* getpgid in a loop, the thread moved to the other CPU every 5 calls. */
static void hop(void)
{
    for (int i = 0; i < 60; i++) {
        if (i % 5 == 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(i / 5 % 2, &set);
            sched_setaffinity(0, sizeof set, &set);
        }
        getpgid(0);
    }
    cpu_set_t all;
    CPU_ZERO(&all);
    CPU_SET(0, &all);
    CPU_SET(1, &all);
    sched_setaffinity(0, sizeof all, &all);
}

int main(void)
{
    pthread_t th;
    if (pthread_create(&th, NULL, thread_main, NULL) != 0 ||
        pthread_join(th, NULL) != 0)
        return 1;
    callers_outer("callers main\n");
    hop();

    /* Two pages, unmapped again: nothing is there. */
    uint8_t *p = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 1;
    munmap(p, 2 * 4096);
    long a = getpid_on_stack((uint64_t)(uintptr_t)(p + 4096));

    /* One page whose last two words are a return address and a zero, the
     * page after it unmapped: the walk finds one address, then stops. */
    p = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 1;
    munmap(p + 4096, 4096);
    uintptr_t mark = callers_mark();
    uint64_t *top = (uint64_t *)(p + 4096) - 2;
    top[0] = mark;
    top[1] = 0;
    long b = getpid_on_stack((uint64_t)(uintptr_t)top);

    /* The same page dropped (its next read finds nothing mapped, no page
     * behind it): a walk must not still read the page it read before (the
     * kernel invalidated the translation with invlpg, no cr3 write). Then
     * written again, with another return address. */
    madvise(p, 4096, MADV_DONTNEED);
    long c = getpid_on_stack((uint64_t)(uintptr_t)top);
    uintptr_t mark2 = callers_mark();
    top[0] = mark2;
    top[1] = 0;
    long d = getpid_on_stack((uint64_t)(uintptr_t)top);
    printf("badstack %ld %ld %ld %ld mark %#lx mark2 %#lx\n", a, b, c, d,
           (unsigned long)mark, (unsigned long)mark2);
    fflush(stdout);
    if (lazy_code(top, mark2) != 0)
        return 1;

    static char a0[] = "strace", a1[] = "-V";
    char *argv[] = {a0, a1, NULL};
    execv("/usr/bin/strace", argv);
    return 1;
}
