/* Handing the bytes of one scanned object to the matcher (`vigil scan`):
 * read() into the caller's buffer, a piece at a time, with the checks
 * against a regular file's size taken when it was opened (a file that
 * grows is scanned up to that size; one that shrinks is "changed"). */
#ifndef VIGIL_CLI_SCAN_FILE_H
#define VIGIL_CLI_SCAN_FILE_H

#include <stddef.h>
#include <stdint.h>

/* Called with consecutive pieces of the object, at most `feed` bytes each;
 * a non-zero return stops the feeding. */
typedef int (*scan_file_fn)(void *opaque, const uint8_t *p, size_t n);

/* Feed the object open on @fd to @fn through @buf of @feed bytes.  @size:
 * the size of a regular file (at most @size bytes are fed even if it
 * grew), or UINT64_MAX for a stream of unknown size (until EOF).  *@got:
 * the bytes fed.  Return 0 when everything was fed, 1 when @fn stopped
 * it, -ESTALE when a regular file ended before @size bytes (it shrank
 * while being scanned), or -errno of a failed read(). */
int scan_file_feed(int fd, uint64_t size, uint8_t *buf, size_t feed,
                   scan_file_fn fn, void *opaque, uint64_t *got);

#endif
