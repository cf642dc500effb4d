/* Replacing a file whole: the project's one writer of files that readers
 * (another run, a watcher, a crash restart) must never see half written. */
#ifndef VIGIL_REPLACE_H
#define VIGIL_REPLACE_H

#include <stddef.h>
#include <sys/types.h>

/* Make @path hold exactly the @len bytes of @data: they are written to a
 * temporary file beside it (@path.tmp.PID, created with @mode, so two
 * processes replacing the same file do not share one), synced, and that
 * file is renamed over @path.  Returns 0 or the -errno of the step that
 * failed; then @path is as it was and the temporary file is removed.
 * The directory itself is not synced: the rename is atomic for readers,
 * not durable across a power cut. */
int vigil_replace_file(const char *path, const void *data, size_t len,
                       mode_t mode);

#endif
