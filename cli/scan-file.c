/* Feeding a scanned object to the matcher with read().  See scan-file.h.
 *
 * Why not a mapping: feeding regular files from mmap() instead (windows of
 * 64 MiB, MAP_POPULATE or not, MADV_SEQUENTIAL, and a SIGBUS handler that
 * put zero pages in place of a part truncated while mapped) cost more CPU,
 * not less, on the development machine: 64 MiB of cached files with 1,000
 * signatures took 85-105 ms of task-clock against 59-77 ms with read(),
 * whatever the piece size.  Its kernel runs in a paravirtualised VM where
 * the first touch of each newly mapped page costs about 1.7 us (user time
 * rose by 25 ms for 16,384 pages while the saved copy was 12-16 ms of
 * system time); read() copies into one buffer whose pages stay mapped.  The
 * commit that added the mapping (6d72193) has the code and its tests. */
#include "scan-file.h"

#include <errno.h>
#include <unistd.h>

int scan_file_feed(int fd, uint64_t size, uint8_t *buf, size_t feed,
                   scan_file_fn fn, void *opaque, uint64_t *got)
{
    *got = 0;
    for (;;) {
        ssize_t n = read(fd, buf, feed);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        if (size != UINT64_MAX && *got + (uint64_t)n > size) {
            /* The file grew while we read it: scan what was declared. */
            n = (ssize_t)(size - *got);
            if (n == 0)
                break;
        }
        *got += (uint64_t)n;
        if (fn(opaque, buf, (size_t)n) != 0)
            return 1;
    }
    return size != UINT64_MAX && *got != size ? -ESTALE : 0;
}
