/* Guest program for tests/test-origin.sh: injects code into a running
 * process without stopping it: process_vm_writev writes shellcode into
 * memory of the victim that is writable and executable, then overwrites a
 * function pointer one of its threads calls through (the hijacked thread).
 *
 *   vigil-inject-pvw PID HOOK ARENA   (addresses in hex)
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>

#include "vigil-inject-shellcode.h"

static int put(pid_t pid, uint64_t addr, void *data, size_t len)
{
    struct iovec local = {data, len};
    struct iovec remote = {(void *)(uintptr_t)addr, len};
    return process_vm_writev(pid, &local, 1, &remote, 1, 0) == (ssize_t)len
               ? 0
               : -1;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: vigil-inject-pvw PID HOOK ARENA\n");
        return 2;
    }
    pid_t pid = (pid_t)atoi(argv[1]);
    uint64_t hook = strtoull(argv[2], NULL, 16);
    uint64_t arena = strtoull(argv[3], NULL, 16);
    unsigned char sc[64];
    size_t n = shellcode(sc, 0xc3); /* ret: back into the thread's loop */
    if (put(pid, arena, sc, n) < 0 || put(pid, hook, &arena, 8) < 0) {
        perror("process_vm_writev");
        return 1;
    }
    printf("pvw injected into %d at %#llx\n", pid, (unsigned long long)arena);
    return 0;
}
