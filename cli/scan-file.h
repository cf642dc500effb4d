/* Handing the bytes of one scanned object to the matcher (`vigil scan`).
 *
 * Regular files are mapped a window at a time and fed from the mapping, so
 * the bytes are not copied into a buffer first; everything else (pipes,
 * stdin, devices, files that cannot be mapped) is read() into the caller's
 * buffer.  A mapped file that shrinks while it is scanned raises SIGBUS
 * when a page past its new end is touched: a handler puts zero pages in
 * place of the rest of the window, notes where the fault was, and the scan
 * of that file ends as "changed" instead of the process dying. */
#ifndef VIGIL_CLI_SCAN_FILE_H
#define VIGIL_CLI_SCAN_FILE_H

#include <stddef.h>
#include <stdint.h>

/* Called with consecutive pieces of the object, at most `feed` bytes each;
 * a non-zero return stops the feeding. */
typedef int (*scan_file_fn)(void *opaque, const uint8_t *p, size_t n);

/* Feed the object open on @fd to @fn.  @size: the size of a regular file
 * (it is mapped and at most @size bytes are fed even if it grew), or
 * UINT64_MAX for a stream of unknown size (read() until EOF).  @buf of
 * @feed bytes is used for read().  *@got: the bytes fed.
 * Return 0 when everything was fed, 1 when @fn stopped it, -ESTALE when a
 * regular file ended before @size bytes (it shrank while being scanned),
 * or -errno of a failed read(). */
int scan_file_feed(int fd, uint64_t size, uint8_t *buf, size_t feed,
                   scan_file_fn fn, void *opaque, uint64_t *got);

/* During a feed: the offset in the object before which every byte fed so
 * far is the file's (UINT64_MAX while no fault happened).  Past it the
 * matcher may have seen the zeros put in place of a truncated part. */
uint64_t scan_file_valid_end(void);

#endif
