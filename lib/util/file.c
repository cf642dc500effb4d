/* Reading a whole file (see vigil/file.h). */
#include "vigil/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int vigil_read_file(const char *path, size_t max, uint8_t **buf, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    /* One byte past @max tells a file of exactly @max from a longer one. */
    size_t cap = 65536, n = 0;
    uint8_t *b = malloc(cap + 1);
    int err = b ? 0 : -ENOMEM;
    while (err == 0) {
        if (n > max) {
            err = -EFBIG;
            break;
        }
        if (n == cap) {
            uint8_t *nb = realloc(b, cap * 2 + 1);
            if (nb == NULL) {
                err = -ENOMEM;
                break;
            }
            b = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            err = -errno;
        else if (r == 0)
            break;
        else
            n += (size_t)r;
    }
    close(fd);
    if (err < 0) {
        free(b);
        return err;
    }
    b[n] = 0;
    *buf = b;
    *len = n;
    return 0;
}
