/* The project's one whole-file reader. */
#ifndef VIGIL_FILE_H
#define VIGIL_FILE_H

#include <stddef.h>
#include <stdint.h>

/* Read all of @path (at most @max bytes) into a malloc'd *buf, which gets
 * a NUL after the *len bytes so that text can be read as a string.
 * Returns 0, -EFBIG when the file holds more than @max bytes, -ENOMEM, or
 * the -errno of open or read. Reads until end of file, so pipes and files
 * that grow work too. */
int vigil_read_file(const char *path, size_t max, uint8_t **buf, size_t *len);

#endif
