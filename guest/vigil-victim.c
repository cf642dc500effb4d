/* Guest program for tests/test-origin.sh (--callers: caller attribution
 * and injected / self-generated code).
 *
 *   vigil-victim static   write() from main: the caller is this program's
 *                         own copy of libc's write (checked with nm)
 *   vigil-victim jit      maps a page RW, writes getpid code into it, makes
 *                         it RX and calls it: self-generated code
 *   vigil-victim spoof    as jit, but the generated code makes the call
 *                         through a `syscall` instruction in this
 *                         program's text, with a made-up return address
 *                         on the stack (call-stack spoofing): only the
 *                         branch history shows where the call came from
 *   vigil-victim patch    patches its own file-backed code: mprotect RW on
 *                         a page of its text, writes getpid code there,
 *                         mprotect RX, calls it (code patching, as
 *                         hollowing or hooking does)
 *   vigil-victim wait     a victim for vigil-inject-ptrace and
 *                         vigil-inject-pvw: prints "victim PID PAD HOOK
 *                         ARENA" (a never-run stretch of its own code, a
 *                         function pointer its worker thread calls, and an
 *                         RWX page it keeps, as a JIT would) once it has
 *                         made one getppid() call of its own, then makes
 *                         more of them until /tmp/victim-stop
 *                         exists (at most 60 s). Its worker thread
 *                         also runs what other processes hand it:
 *                         when /tmp/victim-move exists as it is about to
 *                         call `hook`, it first moves the arena with
 *                         mremap (the call follows to the new address);
 *                         when /tmp/victim-shm holds a SysV shared memory
 *                         id, it attaches that segment executable
 *                         (SHM_EXEC, read-only), calls its start and
 *                         detaches it.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* mov eax, 39 (getpid); syscall; ret */
static const unsigned char getpid_code[] = {0xb8, 0x27, 0x00, 0x00,
                                            0x00, 0x0f, 0x05, 0xc3};

static void benign(void)
{
}

/* Called through by the worker thread: what vigil-inject-pvw rewrites. */
void (*volatile hook)(void) = benign;

/* Never run: room for vigil-inject-ptrace's shellcode in the program's
 * own (file-backed) code, away from everything the victim runs itself. */
__attribute__((noinline, used, aligned(64))) static void pad(void)
{
    __asm__ volatile(".fill 256, 1, 0x90");
}

/* A page of its own in the program's text, never run unpatched: patching
 * it cannot pull the running code's page from under it. */
__attribute__((noinline, used, aligned(4096))) static void patch_page(void)
{
    __asm__ volatile(".fill 4096, 1, 0xc3");
}

static int patch(void)
{
    unsigned char *p = (unsigned char *)(uintptr_t)patch_page;
    if (mprotect(p, 4096, PROT_READ | PROT_WRITE) < 0)
        return 1;
    memcpy(p, getpid_code, sizeof getpid_code);
    if (mprotect(p, 4096, PROT_READ | PROT_EXEC) < 0)
        return 1;
    long pid = ((long (*)(void))(uintptr_t)p)();
    printf("patched getpid %ld at %p\n", pid, (void *)p);
    return pid == getpid() ? 0 : 1;
}

static int jit(void)
{
    unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 1;
    memcpy(p, getpid_code, sizeof getpid_code);
    if (mprotect(p, 4096, PROT_READ | PROT_EXEC) < 0)
        return 1;
    long pid = ((long (*)(void))(uintptr_t)p)();
    printf("jit getpid %ld at %p\n", pid, (void *)p);
    return pid == getpid() ? 0 : 1;
}

/* A `syscall` instruction in this program's text; the word above the
 * return address (the made-up one) is dropped on the way back. */
__asm__(".text\n"
        ".globl victim_gadget\n"
        "victim_gadget:\n"
        "    syscall\n"
        "    add $8, %rsp\n"
        "    ret\n");
extern char victim_gadget[];

static int spoof(void)
{
    uint64_t fake; /* an address just after a call instruction here */
    __asm__ volatile("call 1f\n1: pop %0" : "=r"(fake));
    uint64_t gadget = (uint64_t)(uintptr_t)victim_gadget;
    unsigned char code[64], *c = code;
    /* lea rax, [rip + back]; push rax; mov rax, fake; push rax;
     * mov eax, 39 (getpid); mov r11, gadget; jmp r11; back: ret */
    static const unsigned char lea[] = {0x48, 0x8d, 0x05, 0x1e, 0, 0, 0, 0x50};
    memcpy(c, lea, sizeof lea), c += sizeof lea;
    *c++ = 0x48, *c++ = 0xb8, memcpy(c, &fake, 8), c += 8, *c++ = 0x50;
    *c++ = 0xb8, *c++ = 39, *c++ = 0, *c++ = 0, *c++ = 0;
    *c++ = 0x49, *c++ = 0xbb, memcpy(c, &gadget, 8), c += 8;
    *c++ = 0x41, *c++ = 0xff, *c++ = 0xe3;
    *c++ = 0xc3;
    unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 1;
    memcpy(p, code, (size_t)(c - code));
    if (mprotect(p, 4096, PROT_READ | PROT_EXEC) < 0)
        return 1;
    long pid = ((long (*)(void))(uintptr_t)p)();
    printf("spoof getpid %ld at %p from %p\n", pid, (void *)victim_gadget,
           (void *)p);
    return pid == getpid() ? 0 : 1;
}

static int stop_requested(void)
{
    return access("/tmp/victim-stop", F_OK) == 0;
}

static unsigned char *arena; /* the RWX page vigil-inject-pvw writes */

/* Move the arena elsewhere (to a page reserved for it, so that it moves
 * for sure) and return where @f now is. */
static void (*move_arena(void (*f)(void)))(void)
{
    void *dst = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (dst == MAP_FAILED)
        return f;
    void *n = mremap(arena, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
    if (n == MAP_FAILED)
        return f;
    uintptr_t off = (uintptr_t)f - (uintptr_t)arena;
    printf("victim moved %p %p\n", (void *)arena, n);
    fflush(stdout);
    arena = n;
    return (void (*)(void))((uintptr_t)n + off);
}

/* Run the start of the shared memory segment named in /tmp/victim-shm. */
static void run_shm(void)
{
    FILE *f = fopen("/tmp/victim-shm", "r");
    int id = -1;
    if (f == NULL)
        return;
    if (fscanf(f, "%d", &id) != 1)
        id = -1;
    fclose(f);
    void *p = id >= 0 ? shmat(id, NULL, SHM_EXEC | SHM_RDONLY) : (void *)-1;
    unlink("/tmp/victim-shm");
    if (p == (void *)-1)
        return;
    ((void (*)(void))(uintptr_t)p)();
    shmdt(p);
}

/* The thread vigil-inject-pvw hijacks: it calls whatever `hook` holds. */
static void *worker(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 20 * 1000 * 1000};
    for (int i = 0; i < 3000 && !stop_requested(); i++) {
        void (*f)(void) = hook;
        if (f != benign) {
            if (access("/tmp/victim-move", F_OK) == 0) {
                f = move_arena(f);
                unlink("/tmp/victim-move");
            }
            f();
            hook = benign;
        }
        run_shm();
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static int wait_mode(void)
{
    arena = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (arena == MAP_FAILED)
        return 1;
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0)
        return 1;
    /* One call of its own before the line that lets injectors in: the
     * test needs the victim's own calls on both sides of the injections. */
    syscall(SYS_getppid);
    printf("victim %d %p %p %p\n", getpid(), (void *)(uintptr_t)pad,
           (void *)(uintptr_t)&hook, (void *)arena);
    fflush(stdout);
    struct timespec ts = {0, 20 * 1000 * 1000};
    for (int i = 0; i < 3000 && !stop_requested(); i++) {
        syscall(SYS_getppid); /* the victim's own call */
        nanosleep(&ts, NULL);
    }
    pthread_join(t, NULL);
    syscall(SYS_getppid);
    printf("victim done\n");
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "static")) {
        static const char msg[] = "static write\n";
        return write(1, msg, sizeof msg - 1) == sizeof msg - 1 ? 0 : 1;
    }
    if (!strcmp(mode, "jit"))
        return jit();
    if (!strcmp(mode, "spoof"))
        return spoof();
    if (!strcmp(mode, "patch"))
        return patch();
    if (!strcmp(mode, "wait"))
        return wait_mode();
    fprintf(stderr, "usage: vigil-victim static|jit|spoof|patch|wait\n");
    return 2;
}
