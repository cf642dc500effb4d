/* A library vigil-dlopen loads with dlopen() (tests/test-origin.sh): one
 * call through libc's write(), and one system call made by the library's
 * own code, which --callers attributes to this file. */
#include <unistd.h>

long vigil_dl_write(const char *msg, unsigned long len);
long vigil_dl_raw_getppid(void);

/* Not a tail call: the library's frame must be on the stack while libc's
 * wrapper runs, as in most real code, so that --callers can name it. */
long vigil_dl_write(const char *msg, unsigned long len)
{
    long n = write(1, msg, len);
    __asm__ volatile("" ::: "memory");
    return n;
}

long vigil_dl_raw_getppid(void)
{
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(110L) /* getppid */
                     : "rcx", "r11", "memory");
    return ret;
}
