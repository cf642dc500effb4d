/* Error reporting and the string index shared by the profile modules. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "profile/internal.h"

int vprof_fail(struct vprof_diag *d, int err, const char *fmt, ...)
{
    if (d != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->msg, sizeof d->msg, fmt, ap);
        va_end(ap);
    }
    return -err;
}

int vprof_index_init(struct vprof_index *ix, size_t entries)
{
    size_t n = 16;
    while (n < entries * 2) {
        if (n > (SIZE_MAX / 4) || n >= ((size_t)1 << 31))
            return -ENOMEM;
        n *= 2;
    }
    ix->slot = calloc(n, sizeof *ix->slot);
    if (ix->slot == NULL)
        return -ENOMEM;
    ix->mask = (uint32_t)(n - 1);
    return 0;
}

void vprof_index_release(struct vprof_index *ix)
{
    free(ix->slot);
    ix->slot = NULL;
    ix->mask = 0;
}

uint32_t *vprof_index_slot(struct vprof_index *ix, vprof_key_fn key,
                           const void *ctx, const char *name)
{
    uint32_t i = vprof_hash(name) & ix->mask;
    /* The table is at least twice the number of entries: a free slot
     * always exists. */
    while (ix->slot[i] != 0) {
        if (!strcmp(key(ctx, ix->slot[i] - 1), name))
            break;
        i = (i + 1) & ix->mask;
    }
    return &ix->slot[i];
}

void vprof_index_add(struct vprof_index *ix, vprof_key_fn key, const void *ctx,
                     uint32_t entry, const char *name)
{
    uint32_t *slot = vprof_index_slot(ix, key, ctx, name);
    if (*slot == 0)
        *slot = entry + 1;
}

int64_t vprof_index_find(const struct vprof_index *ix, vprof_key_fn key,
                         const void *ctx, const char *name)
{
    if (ix->slot == NULL)
        return -1;
    uint32_t i = vprof_hash(name) & ix->mask;
    while (ix->slot[i] != 0) {
        if (!strcmp(key(ctx, ix->slot[i] - 1), name))
            return ix->slot[i] - 1;
        i = (i + 1) & ix->mask;
    }
    return -1;
}
