/* Guest program for tests/test-origin.sh: injects code into a running
 * process with ptrace, as an attacker would: attach, write shellcode with
 * PTRACE_POKETEXT, point the thread's RIP at it with PTRACE_SETREGS, let
 * it run to its int3, then put the code and registers back and detach.
 *
 *   vigil-inject-ptrace PID ADDR   (ADDR: where to write, in hex)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>

#include "vigil-inject-shellcode.h"

#define WORDS 8 /* 64 bytes */

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: vigil-inject-ptrace PID ADDR\n");
        return 2;
    }
    pid_t pid = (pid_t)atoi(argv[1]);
    uint64_t addr = strtoull(argv[2], NULL, 16);
    unsigned char sc[WORDS * 8] = {0};
    if (shellcode(sc, 0xcc) > sizeof sc)
        return 2;
    int status;
    if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) < 0 ||
        waitpid(pid, &status, 0) != pid) {
        perror("attach");
        return 1;
    }
    struct user_regs_struct saved, regs;
    if (ptrace(PTRACE_GETREGS, pid, NULL, &saved) < 0)
        return 1;
    long orig[WORDS];
    for (int i = 0; i < WORDS; i++) {
        errno = 0;
        orig[i] = ptrace(PTRACE_PEEKTEXT, pid, addr + 8 * i, NULL);
        long w;
        memcpy(&w, sc + 8 * i, 8);
        if (errno != 0 ||
            ptrace(PTRACE_POKETEXT, pid, addr + 8 * i, (void *)w) < 0) {
            perror("poke");
            return 1;
        }
    }
    regs = saved;
    regs.rip = addr;
    regs.orig_rax = (unsigned long long)-1; /* no system call restart */
    if (ptrace(PTRACE_SETREGS, pid, NULL, &regs) < 0 ||
        ptrace(PTRACE_CONT, pid, NULL, NULL) < 0 ||
        waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) {
        perror("run");
        return 1;
    }
    for (int i = 0; i < WORDS; i++)
        ptrace(PTRACE_POKETEXT, pid, addr + 8 * i, (void *)orig[i]);
    if (ptrace(PTRACE_SETREGS, pid, NULL, &saved) < 0 ||
        ptrace(PTRACE_DETACH, pid, NULL, NULL) < 0) {
        perror("restore");
        return 1;
    }
    printf("ptrace injected into %d at %#llx\n", pid, (unsigned long long)addr);
    return 0;
}
