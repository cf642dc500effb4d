/* Growable arrays holding a database while it is being loaded. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sig/sig-int.h"

/* A database of 100,000 signatures touches over 100 MiB while it is
 * compiled; on 4 KiB pages that is some 30,000 page faults, a quarter of
 * the compile time on a paravirtualised kernel (about 5 us each). A huge
 * page costs one fault for 512 of them. Only a hint: the kernel may have
 * huge pages off or none free, and then nothing changes. */
#define HUGE_MIN (4u << 20)

void vs_huge(void *p, size_t bytes)
{
    if (p == NULL || bytes < HUGE_MIN)
        return;
    /* The pages around the array too: malloc's header lies in the first
     * one, and a mapping that madvise split in two could no longer be
     * moved whole by realloc's mremap (it fails, and realloc copies). */
    uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t from = (uintptr_t)p & ~(pg - 1);
    uintptr_t to = ((uintptr_t)p + bytes + pg - 1) & ~(pg - 1);
    (void)madvise((void *)from, to - from, MADV_HUGEPAGE);
}

/* Make room for @add more elements after @n; doubles the capacity. */
int vs_grow(void **p, size_t *cap, size_t n, size_t add, size_t elsz)
{
    size_t need, ncap, bytes;

    if (__builtin_add_overflow(n, add, &need))
        return -ENOMEM;
    if (need <= *cap)
        return 0;
    ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (__builtin_mul_overflow(ncap, 2, &ncap))
            return -ENOMEM;
    }
    if (__builtin_mul_overflow(ncap, elsz, &bytes))
        return -ENOMEM;
    void *np = realloc(*p, bytes);
    if (np == NULL)
        return -ENOMEM;
    vs_huge(np, bytes);
    *p = np;
    *cap = ncap;
    return 0;
}

void vs_store_free(struct vs_store *st)
{
    free(st->names);
    free(st->sigs);
    free(st->msigs);
    free(st->toks);
    free(st->sets);
    free(st->pool);
    free(st->ldbs);
    free(st->rpn);
    free(st->subs);
    for (int i = 0; i < VS_NALGO; i++)
        free(st->hashes[i]);
    free(st->plan.toks);
    free(st->plan.segs);
    free(st->plan.sgrp);
    free(st->plan.fxm);
    free(st->plan.fxv);
    free(st->plan.xchk);
    memset(st, 0, sizeof *st);
}

void vs_store_mark(const struct vs_store *st, struct vs_mark *m)
{
    m->nnames = st->nnames;
    m->nsigs = st->nsigs;
    m->nmsigs = st->nmsigs;
    m->ntoks = st->ntoks;
    m->nsets = st->nsets;
    m->npool = st->npool;
    m->nldbs = st->nldbs;
    m->nrpn = st->nrpn;
    m->nsubs = st->nsubs;
    m->nbody = st->nbody;
    for (int i = 0; i < VS_NALGO; i++)
        m->nhashes[i] = st->nhashes[i];
    m->p_toks = st->plan.ntoks;
    m->p_segs = st->plan.nsegs;
    m->p_fx = st->plan.nfxm;
    m->p_xchk = st->plan.nxchk;
}

void vs_store_rollback(struct vs_store *st, const struct vs_mark *m)
{
    st->nnames = m->nnames;
    st->nsigs = m->nsigs;
    st->nmsigs = m->nmsigs;
    st->ntoks = m->ntoks;
    st->nsets = m->nsets;
    st->npool = m->npool;
    st->nldbs = m->nldbs;
    st->nrpn = m->nrpn;
    st->nsubs = m->nsubs;
    st->nbody = m->nbody;
    for (int i = 0; i < VS_NALGO; i++)
        st->nhashes[i] = m->nhashes[i];
    st->plan.ntoks = m->p_toks;
    st->plan.nsegs = st->plan.nsgrp = m->p_segs;
    st->plan.nfxm = st->plan.nfxv = m->p_fx;
    st->plan.nxchk = m->p_xchk;
}

/* Append a NUL-terminated copy of a name; *out is its offset. */
int vs_store_name(struct vs_store *st, const char *s, size_t len, uint32_t *out)
{
    size_t add;

    if (__builtin_add_overflow(len, 1, &add) || st->nnames + add > UINT32_MAX)
        return -E2BIG;
    if (VS_RESERVE(st, names, add) < 0)
        return -ENOMEM;
    memcpy(st->names + st->nnames, s, len);
    st->names[st->nnames + len] = '\0';
    *out = (uint32_t)st->nnames;
    st->nnames += add;
    return 0;
}

void vs_errf(struct vs_err *e, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}

int vs_parse_u64(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;

    if (len == 0 || len > 20)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        if (__builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, (uint64_t)(s[i] - '0'), &v))
            return -EINVAL;
    }
    *out = v;
    return 0;
}

int vs_add_msig(struct vs_store *st, uint32_t tok, uint32_t ntok,
                const struct vs_offset *off, uint32_t owner, bool is_sub,
                uint8_t target, uint32_t *out)
{
    if (st->nmsigs >= UINT32_MAX - 1)
        return -E2BIG;
    if (VS_RESERVE(st, msigs, 1) < 0)
        return -ENOMEM;
    struct vs_msig *m = &st->msigs[st->nmsigs];
    memset(m, 0, sizeof *m);
    m->tok = tok;
    m->ntok = ntok;
    m->seg = VS_NONE;
    m->owner = owner;
    m->state = VS_NONE;
    m->off = *off;
    m->ref =
        st->hex_ref >= tok && st->hex_ref < tok + ntok ? st->hex_ref : VS_NONE;
    st->hex_ref = VS_NONE;
    m->is_sub = is_sub;
    m->target = target;
    if (out)
        *out = (uint32_t)st->nmsigs;
    st->nmsigs++;
    return 0;
}
