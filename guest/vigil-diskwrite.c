/* vigil-diskwrite: write a file holding a signature the way programs do, in
 * several write() calls, for the disk-scanning tests
 * (tests/test-disk-guest.sh).
 *
 *   vigil-diskwrite [--direct] FILE SIZE AT SIGNATURE [SPLIT...]
 *
 * FILE gets SIZE bytes: byte i is 'a' + i % 26 (so the host can check that
 * everything but the signature arrived as written), with SIGNATURE placed at
 * offset AT.  The bytes are written by one write() per piece, the pieces
 * ending at each SPLIT offset and at SIZE; then the file is fsync()ed.  With
 * --direct the file is opened O_DIRECT, so every write() reaches the disk as
 * its own request (SPLIT and SIZE must then be multiples of 4096).
 *
 * Prints one line per call, "write 0+510 ok" or "fsync Input/output error",
 * and exits 1 when any call failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned long number(const char *s, const char *what)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 0);
    if (errno || end == s || *end) {
        fprintf(stderr, "vigil-diskwrite: bad %s '%s'\n", what, s);
        exit(2);
    }
    return v;
}

static void report(const char *what, unsigned long off, unsigned long len,
                   int err)
{
    if (len)
        printf("%s %lu+%lu %s\n", what, off, len, err ? strerror(err) : "ok");
    else
        printf("%s %s\n", what, err ? strerror(err) : "ok");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int direct = argc > 1 && !strcmp(argv[1], "--direct");
    if (argc - direct < 5) {
        fprintf(stderr, "usage: vigil-diskwrite [--direct] FILE SIZE AT "
                        "SIGNATURE [SPLIT...]\n");
        return 2;
    }
    char **a = argv + 1 + direct;
    const char *path = a[0], *sig = a[3];
    unsigned long size = number(a[1], "size"), at = number(a[2], "offset");
    size_t siglen = strlen(sig);
    if (size == 0 || size > (64ul << 20) || at > size || siglen > size - at) {
        fprintf(stderr, "vigil-diskwrite: the signature must fit in SIZE\n");
        return 2;
    }

    unsigned char *buf;
    if (posix_memalign((void **)&buf, 4096, (size + 4095) & ~4095ul)) {
        fprintf(stderr, "vigil-diskwrite: out of memory\n");
        return 1;
    }
    for (unsigned long i = 0; i < size; i++)
        buf[i] = 'a' + i % 26;
    memcpy(buf + at, sig, siglen);

    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | (direct ? O_DIRECT : 0),
                  0644);
    if (fd < 0) {
        fprintf(stderr, "vigil-diskwrite: %s: %s\n", path, strerror(errno));
        return 1;
    }
    int failed = 0;
    unsigned long pos = 0;
    for (int i = 4; pos < size; i++) {
        unsigned long end = a[i] ? number(a[i], "split") : size;
        if (end <= pos || end > size) {
            fprintf(stderr, "vigil-diskwrite: splits must increase within "
                            "SIZE\n");
            return 2;
        }
        ssize_t n = pwrite(fd, buf + pos, end - pos, pos);
        int err = n < 0 ? errno : (unsigned long)n != end - pos ? EIO : 0;
        report("write", pos, end - pos, err);
        failed |= err != 0;
        pos = end;
        if (!a[i])
            break;
    }
    int err = fsync(fd) < 0 ? errno : 0;
    report("fsync", 0, 0, err);
    failed |= err != 0;
    err = close(fd) < 0 ? errno : 0;
    if (err)
        report("close", 0, 0, err);
    free(buf);
    return failed || err;
}
