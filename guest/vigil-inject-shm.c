/* Guest program for tests/test-origin.sh: hands a process code through
 * System V shared memory. Creates a segment, attaches it writable, writes
 * the shellcode into it and detaches, then names the segment in
 * /tmp/victim-shm, where vigil-victim's worker thread finds it, attaches
 * it executable and runs it. Removes the segment once the victim has taken
 * it (the victim's attachment keeps it alive).
 *
 *   vigil-inject-shm
 *
 * Prints "shm injected SHMID by OWNPID".
 */
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

#include "vigil-inject-shellcode.h"

int main(void)
{
    int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    if (id < 0) {
        perror("shmget");
        return 1;
    }
    unsigned char *p = shmat(id, NULL, 0);
    if (p == (void *)-1) {
        perror("shmat");
        shmctl(id, IPC_RMID, NULL);
        return 1;
    }
    shellcode(p, 0xc3); /* ret: back into the victim's loop */
    shmdt(p);
    FILE *f = fopen("/tmp/victim-shm.new", "w");
    if (f == NULL || fprintf(f, "%d\n", id) < 0 || fclose(f) != 0 ||
        rename("/tmp/victim-shm.new", "/tmp/victim-shm") != 0) {
        perror("/tmp/victim-shm");
        shmctl(id, IPC_RMID, NULL);
        return 1;
    }
    struct timespec ts = {0, 20 * 1000 * 1000};
    for (int i = 0; i < 500 && access("/tmp/victim-shm", F_OK) == 0; i++)
        nanosleep(&ts, NULL);
    shmctl(id, IPC_RMID, NULL);
    printf("shm injected %d by %d\n", id, getpid());
    return 0;
}
