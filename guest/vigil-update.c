/* vigil-update: hand a signed update bundle to vigil from inside the guest
 * (the seed's VMCALL, RAX=2; docs/updates.md).
 *
 *   vigil-update FILE
 *
 * Prints vigil's answer ("accepted: DB version N" or "refused: REASON:
 * ...") and exits 0 when the update was accepted, 1 when it was refused or
 * could not be handed over, 2 when no vigil answers (vmcall raised #UD).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hypercall.h"

#define MSG_MAX 256

static void no_vigil(int sig)
{
    (void)sig;
    static const char m[] = "vigil-update: no vigil answers (vmcall is an "
                            "invalid instruction here)\n";
    if (write(2, m, sizeof m - 1) < 0)
        _exit(2);
    _exit(2);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: vigil-update FILE\n");
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        fprintf(stderr, "vigil-update: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    char *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
    size_t got = 0;
    while (buf != NULL && got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n <= 0) {
            fprintf(stderr, "vigil-update: %s: read failed\n", argv[1]);
            return 1;
        }
        got += (size_t)n;
    }
    close(fd);
    signal(SIGILL, no_vigil);
    char msg[MSG_MAX] = "";
    long r = vigil_hypercall(2, buf, (long)got, msg);
    if (msg[0] != '\0')
        printf("%s\n", msg);
    else
        printf("vigil: error %ld (%s)\n", r,
               r < 0 && r > -4096 ? strerror((int)-r) : "?");
    return r > 0 ? 0 : 1;
}
