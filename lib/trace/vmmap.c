/* Thread groups' executable mappings (see vmmap.h). Each group's map is
 * one allocation: the regions sorted by address, then their names. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace/vmmap.h"

#define BUCKETS 256

struct map {
    struct map *next;
    int32_t tgid;
    uint32_t flags; /* VRAW_VMAS_* */
    uint64_t mm;    /* the group's mm_struct in the guest */
    size_t n;
    struct vmmap_region r[]; /* names follow the regions */
};

struct vmmap {
    struct map *b[BUCKETS];
    uint64_t gen; /* counts changes */
};

static struct map **slot(struct vmmap *m, int32_t tgid)
{
    struct map **pp = &m->b[(uint32_t)tgid % BUCKETS];
    while (*pp != NULL && (*pp)->tgid != tgid)
        pp = &(*pp)->next;
    return pp;
}

static const struct map *get(const struct vmmap *m, int32_t tgid)
{
    const struct map *p = m->b[(uint32_t)tgid % BUCKETS];
    while (p != NULL && p->tgid != tgid)
        p = p->next;
    return p;
}

int vmmap_new(struct vmmap **out)
{
    *out = calloc(1, sizeof **out);
    return *out != NULL ? 0 : -ENOMEM;
}

void vmmap_free(struct vmmap *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < BUCKETS; i++)
        while (m->b[i] != NULL) {
            struct map *p = m->b[i];
            m->b[i] = p->next;
            free(p);
        }
    free(m);
}

void vmmap_drop(struct vmmap *m, int32_t tgid)
{
    m->gen++;
    struct map **pp = slot(m, tgid);
    struct map *p = *pp;
    if (p != NULL) {
        *pp = p->next;
        free(p);
    }
}

/* One pass over the record's entries: checks them, and counts regions and
 * name bytes. With @map, also fills it. */
static int entries(const struct vraw_vmas *r, struct map *map, size_t *n,
                   size_t *names)
{
    const uint8_t *p = (const uint8_t *)(r + 1);
    const uint8_t *end = (const uint8_t *)r + r->h.size;
    char *str = map != NULL ? (char *)(map->r + *n) : NULL;
    size_t k = 0, used = 0;
    uint64_t last = 0;
    for (uint32_t i = 0; i < r->nvmas; i++) {
        const struct vraw_vma *e = (const void *)p;
        if ((size_t)(end - p) < sizeof *e ||
            (size_t)(end - p) - sizeof *e < VRAW_ALIGN(e->path_len) ||
            e->end <= e->start || e->start < last)
            return -EINVAL;
        last = e->end;
        const char *path = (const char *)(e + 1);
        size_t len = e->path_len;
        if (map != NULL) {
            struct vmmap_region *g = &map->r[k];
            g->start = e->start;
            g->end = e->end;
            g->pgoff = e->pgoff;
            g->flags = e->flags;
            g->anon = e->file == 0;
            memcpy(str + used, path, len);
            str[used + len] = '\0';
            g->name = str + used;
        }
        used += len + 1;
        k++;
        p += sizeof *e + VRAW_ALIGN(e->path_len);
    }
    *n = k;
    *names = used;
    return 0;
}

/* Names of regions without a path of their own: the file's earlier entry
 * (same struct file), else what the kernel calls the region. */
/* The system call wrappers' code (libc, ld.so, the vDSO): a frame there
 * is not the caller (docs/callers.md). Decided once per map, not per
 * frame of every event. */
static bool wrapper(const char *module)
{
    const char *base = strrchr(module, '/');
    base = base != NULL ? base + 1 : module;
    return !strcmp(module, "[vdso]") || !strncmp(base, "libc.so", 7) ||
           !strncmp(base, "libc-", 5) || !strncmp(base, "ld-linux", 8) ||
           !strncmp(base, "libpthread.so", 13);
}

static void name_regions(struct map *map, const struct vraw_vmas *r)
{
    const uint8_t *p = (const uint8_t *)(r + 1);
    uint64_t files[64] = {0};
    const char *names[64] = {0};
    size_t nf = 0;
    for (size_t i = 0; i < map->n; i++) {
        const struct vraw_vma *e = (const void *)p;
        struct vmmap_region *g = &map->r[i];
        p += sizeof *e + VRAW_ALIGN(e->path_len);
        if (g->anon) {
            g->name = r->vdso >= g->start && r->vdso < g->end ? "[vdso]"
                      : r->start_stack >= g->start && r->start_stack < g->end
                          ? "[stack]"
                          : "[anon]";
            continue;
        }
        if (e->path_len > 0) {
            if (nf < 64) {
                files[nf] = e->file;
                names[nf++] = g->name;
            }
            continue;
        }
        for (size_t j = 0; j < nf; j++)
            if (files[j] == e->file)
                g->name = names[j];
        if (g->name[0] == '\0')
            g->name = "[file]"; /* its path was not sent */
    }
    for (size_t i = 0; i < map->n; i++)
        map->r[i].wrapper = wrapper(map->r[i].name);
}

int vmmap_apply(struct vmmap *m, const struct vraw_vmas *r)
{
    size_t n, names;
    if (r->h.size < sizeof *r || entries(r, NULL, &n, &names) < 0)
        return -EINVAL;
    m->gen++;
    struct map **pp = slot(m, r->tgid);
    struct map *old = *pp;
    struct map *map = malloc(sizeof *map + n * sizeof map->r[0] + names);
    if (map == NULL) {
        if (old != NULL) {
            *pp = old->next;
            free(old);
        }
        return -ENOMEM;
    }
    map->tgid = r->tgid;
    map->flags = r->flags;
    map->mm = r->mm;
    map->n = n;
    entries(r, map, &n, &names);
    name_regions(map, r);
    map->next = old != NULL ? old->next : NULL;
    *pp = map;
    free(old);
    return 0;
}

const struct vmmap_region *vmmap_find(const struct vmmap *m, int32_t tgid,
                                      uint64_t addr)
{
    const struct map *p = get(m, tgid);
    if (p == NULL)
        return NULL;
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (addr < p->r[mid].start)
            hi = mid;
        else if (addr >= p->r[mid].end)
            lo = mid + 1;
        else
            return &p->r[mid];
    }
    return NULL;
}

bool vmmap_known(const struct vmmap *m, int32_t tgid, uint32_t *flags)
{
    const struct map *p = get(m, tgid);
    if (p != NULL && flags != NULL)
        *flags = p->flags;
    return p != NULL;
}

int32_t vmmap_owner(const struct vmmap *m, uint64_t mm)
{
    if (mm == 0)
        return 0;
    for (size_t i = 0; i < BUCKETS; i++)
        for (const struct map *p = m->b[i]; p != NULL; p = p->next)
            if (p->mm == mm)
                return p->tgid;
    return 0;
}

uint64_t vmmap_gen(const struct vmmap *m)
{
    return m != NULL ? m->gen : 0;
}
