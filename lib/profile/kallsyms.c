/* Recover the kernel's kallsyms tables from a vmlinux data section.
 *
 * scripts/kallsyms.c emits these tables, each label 8-byte aligned:
 *   kallsyms_num_syms       u32 count N
 *   kallsyms_names          N entries: length (1 byte, or 2 bytes when the
 *                           first has bit 7 set: low 7 bits + next byte << 7)
 *                           then that many token numbers; expanded, the
 *                           first character is the nm type letter
 *   kallsyms_markers        u32 (or, on old kernels, pointer-sized) offset
 *                           into kallsyms_names of every 256th entry
 *   kallsyms_token_table    256 NUL-terminated strings
 *   kallsyms_token_index    256 u16 offsets into the token table
 *   kallsyms_offsets        N s32, decoded against
 *   kallsyms_relative_base  u64
 *   kallsyms_seqs_of_names  (6.2+) 3-byte indexes in name order
 * Their order has changed between releases (6.2 added seqs_of_names, later
 * releases moved the offsets after the token index), so each table is found
 * by its own structure and cross-checked against the others:
 *   1. token table + index: 256 increasing offsets that land exactly on the
 *      starts of 256 NUL-terminated printable strings just before the index;
 *   2. count + names: N names that expand to printable strings starting
 *      with a type letter, followed by markers that agree with them;
 *   3. offsets + base: N values that decode to non-decreasing addresses
 *      (symbols are sorted by address).
 * With CONFIG_KALLSYMS_ABSOLUTE_PERCPU (x86-64 SMP kernels up to 6.14), a
 * non-negative offset is an absolute value (per-CPU symbols) and a
 * negative one means base - 1 - offset; otherwise address = base +
 * (u32)offset. */
#include <errno.h>
#include <stdlib.h>

#include "profile/internal.h"

#define MIN_SYMS         256
#define MAX_SYMS         (1u << 22)
#define MAX_NAME         1024
#define MAX_TOKEN        256
#define TOKEN_INDEX_SIZE 512
/* Units of work (bytes or entries examined) one scan may spend: a real
 * kernel needs a few million; crafted input must not make the candidate
 * searches quadratic. */
#define SCAN_BUDGET ((uint64_t)1 << 28)

struct vprof_ksyms {
    size_t n;
    uint64_t *addr;
    uint32_t *name; /* offsets into pool */
    char *type;
    char *pool;
    struct vprof_index byname;
    struct vprof_ksyms_layout layout;
};

/* The region being scanned. */
struct region {
    const uint8_t *p;
    size_t len;
    uint64_t va;
    uint64_t *budget;
};

/* Charge @n units of work; false once the budget is spent. */
static bool spend(const struct region *r, uint64_t n)
{
    if (*r->budget < n) {
        *r->budget = 0;
        return false;
    }
    *r->budget -= n;
    return true;
}

struct tokens {
    size_t table; /* position of kallsyms_token_table */
    size_t index; /* position of kallsyms_token_index */
    uint32_t off[256];
    uint8_t len[256];
};

struct names {
    size_t count_pos; /* kallsyms_num_syms */
    size_t start;     /* kallsyms_names */
    size_t end;
    size_t markers;
    size_t markers_end;
    uint32_t n;
};

static bool aligned8(const struct region *r, size_t pos)
{
    return ((r->va + pos) & 7) == 0;
}

static size_t first_aligned(const struct region *r)
{
    return (size_t)((8 - (r->va & 7)) & 7);
}

static size_t align_up8(const struct region *r, size_t pos)
{
    while (!aligned8(r, pos))
        pos++;
    return pos;
}

static bool printable(uint8_t c)
{
    return c >= 0x20 && c < 0x7f;
}

/* Does a token index at @pos describe a token table just before it? */
static bool check_tokens(const struct region *r, size_t pos, struct tokens *t)
{
    const uint8_t *p = r->p;
    if (le16(p + pos) != 0 || !spend(r, 1))
        return false;
    uint16_t idx[256];
    idx[0] = 0;
    for (int i = 1; i < 256; i++) {
        idx[i] = le16(p + pos + 2 * i);
        if (idx[i] <= idx[i - 1] || idx[i] - idx[i - 1] > MAX_TOKEN)
            return spend(r, (uint64_t)i) && false;
    }
    /* Walk back over the alignment padding and the last token's NUL. */
    size_t j = pos, zeros = 0;
    while (j > 0 && p[j - 1] == 0 && zeros < 8) {
        j--;
        zeros++;
    }
    if (zeros == 0 || j == 0 || p[j - 1] == 0)
        return false;
    size_t s = j - 1;
    while (s > 0 && p[s - 1] != 0 && j - s < MAX_TOKEN)
        s--;
    if (s < idx[255])
        return false;
    size_t table = s - idx[255];
    if (!aligned8(r, table) || !spend(r, idx[255]))
        return false;
    for (int i = 0; i < 256; i++) {
        size_t start = table + idx[i];
        size_t end = i < 255 ? table + idx[i + 1] - 1 : j;
        if (p[end] != 0)
            return false;
        for (size_t k = start; k < end; k++)
            if (!printable(p[k]))
                return false;
        t->off[i] = (uint32_t)(start - table);
        t->len[i] = (uint8_t)(end - start);
    }
    t->table = table;
    t->index = pos;
    return true;
}

static bool find_tokens(const struct region *r, struct tokens *t)
{
    for (size_t pos = first_aligned(r); pos + TOKEN_INDEX_SIZE <= r->len;
         pos += 8)
        if (check_tokens(r, pos, t))
            return true;
    return false;
}

/* Read the length prefix of the names entry at *pos. */
static bool entry_len(const struct region *r, size_t *pos, size_t *len)
{
    if (*pos >= r->len)
        return false;
    size_t l = r->p[*pos];
    if (l & 0x80) {
        if (*pos + 1 >= r->len)
            return false;
        l = (l & 0x7f) | (size_t)r->p[*pos + 1] << 7;
        *pos += 2;
    } else {
        *pos += 1;
    }
    *len = l;
    return l > 0 && r->len - *pos >= l;
}

/* Check that the entry at @pos expands to a sane "<type><name>". */
static bool entry_ok(const struct region *r, const struct tokens *t, size_t pos,
                     size_t len)
{
    const uint8_t *tok = r->p + t->table;
    uint8_t c = tok[t->off[r->p[pos]]];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '?'))
        return false;
    size_t total = 0;
    for (size_t k = 0; k < len; k++)
        total += t->len[r->p[pos + k]];
    return total >= 2 && total <= MAX_NAME;
}

/* Markers of width @w at @m agree with the entry offsets in @mk? */
static bool markers_match(const struct region *r, size_t m, unsigned w,
                          const uint32_t *mk, size_t nm)
{
    if (!vprof_in_bounds(m, (uint64_t)nm * w, r->len))
        return false;
    for (size_t k = 0; k < nm; k++) {
        uint64_t v = w == 4 ? le32(r->p + m + 4 * k) : le64(r->p + m + 8 * k);
        if (v != mk[k])
            return false;
    }
    return true;
}

static bool check_names(const struct region *r, const struct tokens *t,
                        size_t q, struct names *nm, uint32_t *mk)
{
    uint32_t n = le32(r->p + q);
    if (n < MIN_SYMS || n > MAX_SYMS || le32(r->p + q + 4) != 0)
        return false;
    size_t pos = q + 8;
    for (uint32_t i = 0; i < n; i++) {
        if ((i & 0xff) == 0) {
            mk[i >> 8] = (uint32_t)(pos - (q + 8));
            if (!spend(r, 256))
                return false;
        }
        size_t len;
        if (!entry_len(r, &pos, &len))
            return false;
        /* Full check on early entries; later ones only need to parse. */
        if ((i < 64 || (i & 0xff) == 0) && !entry_ok(r, t, pos, len))
            return false;
        pos += len;
    }
    size_t nmark = ((size_t)n + 255) / 256;
    size_t m = align_up8(r, pos);
    unsigned w = 4;
    if (!markers_match(r, m, 4, mk, nmark)) {
        if (!markers_match(r, m, 8, mk, nmark))
            return false;
        w = 8;
    }
    nm->count_pos = q;
    nm->start = q + 8;
    nm->end = pos;
    nm->markers = m;
    nm->markers_end = m + nmark * w;
    nm->n = n;
    return true;
}

static int find_names(const struct region *r, const struct tokens *t,
                      struct names *nm)
{
    uint32_t *mk = malloc((MAX_SYMS / 256 + 1) * sizeof *mk);
    if (mk == NULL)
        return -ENOMEM;
    int rc = -ENOENT;
    for (size_t q = first_aligned(r); q + 16 <= r->len; q += 8)
        if (check_names(r, t, q, nm, mk)) {
            rc = 0;
            break;
        }
    free(mk);
    return rc;
}

static uint64_t decode_addr(int32_t off, uint64_t base, bool abs_percpu)
{
    if (!abs_percpu)
        return base + (uint32_t)off;
    if (off >= 0)
        return (uint64_t)off;
    return base - 1 - (uint64_t)(int64_t)off;
}

/* Offsets at @o with the relative base right after them? */
static bool check_offsets(const struct region *r, size_t o, uint32_t n,
                          size_t *base_pos, uint64_t *base, bool *abs_percpu)
{
    uint64_t tlen = (uint64_t)n * 4;
    if (!vprof_in_bounds(o, tlen, r->len))
        return false;
    size_t b = align_up8(r, o + (size_t)tlen);
    if (!vprof_in_bounds(b, 8, r->len))
        return false;
    uint64_t bv = le64(r->p + b);
    /* The base is a kernel-half address. */
    if ((bv >> 47) != 0x1ffff)
        return false;
    /* Decode in both modes at once so that a wrong candidate fails fast;
     * any negative offset means the absolute-per-CPU encoding. */
    bool ok_abs = true, ok_rel = true, neg = false;
    uint64_t prev_abs = 0, prev_rel = 0;
    for (uint32_t i = 0; i < n && (ok_abs || ok_rel); i++) {
        if ((i & 0xff) == 0xff && !spend(r, 256))
            return false;
        int32_t off = (int32_t)le32(r->p + o + 4 * (size_t)i);
        uint64_t a = decode_addr(off, bv, true);
        uint64_t l = decode_addr(off, bv, false);
        neg |= off < 0;
        ok_abs = ok_abs && a >= prev_abs;
        ok_rel = ok_rel && l >= prev_rel;
        prev_abs = a;
        prev_rel = l;
    }
    if (!spend(r, 1) || (neg ? !ok_abs : !ok_rel))
        return false;
    *base_pos = b;
    *base = bv;
    *abs_percpu = neg;
    return true;
}

/* Is there a kallsyms_seqs_of_names (a permutation of 0..n-1 in 3-byte
 * big-endian entries) at @pos? */
static bool check_seqs(const struct region *r, size_t pos, uint32_t n,
                       uint8_t *seen)
{
    if (!vprof_in_bounds(pos, (uint64_t)n * 3, r->len))
        return false;
    memset(seen, 0, ((size_t)n + 7) / 8);
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = r->p + pos + 3 * (size_t)i;
        uint32_t v = (uint32_t)e[0] << 16 | (uint32_t)e[1] << 8 | e[2];
        if (v >= n || (seen[v / 8] & (1u << (v % 8))))
            return false;
        seen[v / 8] |= (uint8_t)(1u << (v % 8));
    }
    return true;
}

struct table_pos {
    const char *name;
    size_t pos;
};

static int cmp_pos(const void *a, const void *b)
{
    const struct table_pos *x = a, *y = b;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* nm convention: lower-case types are local symbols. */
static bool is_local(char type)
{
    return type >= 'a' && type <= 'z';
}

static const char *sym_key(const void *ctx, uint32_t entry)
{
    const struct vprof_ksyms *ks = ctx;
    return ks->pool + ks->name[entry];
}

void vprof_ksyms_free(struct vprof_ksyms *ks)
{
    if (ks == NULL)
        return;
    vprof_index_release(&ks->byname);
    free(ks->addr);
    free(ks->name);
    free(ks->type);
    free(ks->pool);
    free(ks);
}

/* Expand every name into the string pool. */
static int expand_names(struct vprof_ksyms *ks, const struct region *r,
                        const struct tokens *t, const struct names *nm)
{
    size_t cap = (nm->end - nm->start) * 3 + 64, used = 0;
    ks->pool = malloc(cap);
    if (ks->pool == NULL)
        return -ENOMEM;
    size_t pos = nm->start;
    for (uint32_t i = 0; i < nm->n; i++) {
        size_t len;
        if (!entry_len(r, &pos, &len)) /* parsed once already */
            return -EINVAL;
        if (cap - used < MAX_NAME * 2 + 1) {
            char *np = realloc(ks->pool, cap * 2);
            if (np == NULL)
                return -ENOMEM;
            ks->pool = np;
            cap *= 2;
        }
        size_t start = used;
        for (size_t k = 0; k < len && used - start <= MAX_NAME; k++) {
            uint8_t b = r->p[pos + k];
            memcpy(ks->pool + used, r->p + t->table + t->off[b], t->len[b]);
            used += t->len[b];
        }
        if (used - start < 2 || used - start > MAX_NAME)
            return -EINVAL;
        ks->pool[used++] = '\0';
        ks->type[i] = ks->pool[start];
        ks->name[i] = (uint32_t)(start + 1);
        if (used > UINT32_MAX - 2 * MAX_NAME)
            return -EINVAL;
        pos += len;
    }
    return 0;
}

static int too_complex(struct vprof_diag *d)
{
    return vprof_fail(d, E2BIG,
                      "kallsyms search gave up: the data is too irregular");
}

/* Where the offsets table is (step 3): next to the other tables first,
 * then anywhere.  False when no place holds one consistent with @nm. */
struct offsets {
    size_t pos, base_pos;
    uint64_t base;
    bool absp;
};

static bool find_offsets(struct region *r, const struct tokens *t,
                         const struct names *nm, struct offsets *of)
{
    size_t tlen8 = ((size_t)nm->n * 4 + 7) & ~(size_t)7;
    size_t cand[4];
    size_t ncand = 0;
    if (nm->count_pos >= 8 + tlen8) /* offsets, base, num_syms */
        cand[ncand++] = nm->count_pos - 8 - tlen8;
    cand[ncand++] = t->index + TOKEN_INDEX_SIZE; /* after token_index */
    cand[ncand++] = align_up8(r, nm->markers_end);
    if (t->table >= 8 + tlen8) /* offsets, base, token_table */
        cand[ncand++] = t->table - 8 - tlen8;
    for (size_t i = 0; i < ncand; i++)
        if (aligned8(r, cand[i]) &&
            check_offsets(r, cand[i], nm->n, &of->base_pos, &of->base,
                          &of->absp)) {
            of->pos = cand[i];
            return true;
        }
    for (size_t o = first_aligned(r); o + 8 <= r->len; o += 8)
        if (check_offsets(r, o, nm->n, &of->base_pos, &of->base, &of->absp)) {
            of->pos = o;
            return true;
        }
    return false;
}

/* The symbols: addresses, names, and the index by name.  0, -ENOMEM, or
 * -EINVAL when the names do not expand. */
static int build_symbols(struct vprof_ksyms *ks, struct region *r,
                         const struct tokens *t, const struct names *nm,
                         const struct offsets *of)
{
    ks->n = nm->n;
    ks->addr = malloc(nm->n * sizeof *ks->addr);
    ks->name = malloc(nm->n * sizeof *ks->name);
    ks->type = malloc(nm->n);
    if (ks->addr == NULL || ks->name == NULL || ks->type == NULL)
        return -ENOMEM;
    for (uint32_t i = 0; i < nm->n; i++)
        ks->addr[i] = decode_addr((int32_t)le32(r->p + of->pos + 4 * (size_t)i),
                                  of->base, of->absp);
    int rc = expand_names(ks, r, t, nm);
    if (rc < 0)
        return rc == -ENOMEM ? -ENOMEM : -EINVAL;
    if (vprof_index_init(&ks->byname, nm->n) < 0)
        return -ENOMEM;
    /* Names are not unique (static symbols); prefer the global one, as the
     * kernel's exports do, then the lowest address. */
    for (uint32_t i = 0; i < nm->n; i++) {
        uint32_t *slot =
            vprof_index_slot(&ks->byname, sym_key, ks, ks->pool + ks->name[i]);
        if (*slot == 0 ||
            (is_local(ks->type[*slot - 1]) && !is_local(ks->type[i])))
            *slot = i + 1;
    }
    return 0;
}

/* The tables in the order this kernel has them, including the optional
 * seqs_of_names. */
static int describe_layout(struct vprof_ksyms *ks, struct region *r,
                           const struct tokens *t, const struct names *nm,
                           const struct offsets *of)
{
    struct table_pos tp[8] = {
        {"kallsyms_offsets", of->pos},
        {"kallsyms_relative_base", of->base_pos},
        {"kallsyms_num_syms", nm->count_pos},
        {"kallsyms_names", nm->start},
        {"kallsyms_markers", nm->markers},
        {"kallsyms_token_table", t->table},
        {"kallsyms_token_index", t->index},
    };
    size_t ntp = 7;
    uint8_t *seen = malloc(((size_t)nm->n + 7) / 8);
    if (seen == NULL)
        return -ENOMEM;
    size_t seq_cand[3] = {align_up8(r, nm->markers_end),
                          align_up8(r, of->base_pos + 8),
                          t->index + TOKEN_INDEX_SIZE};
    for (size_t i = 0; i < 3; i++)
        if (check_seqs(r, seq_cand[i], nm->n, seen)) {
            tp[ntp++] =
                (struct table_pos){"kallsyms_seqs_of_names", seq_cand[i]};
            break;
        }
    free(seen);
    qsort(tp, ntp, sizeof tp[0], cmp_pos);
    memset(&ks->layout, 0, sizeof ks->layout);
    for (size_t i = 0; i < ntp; i++)
        ks->layout.order[i] = tp[i].name;
    ks->layout.relative_base = of->base;
    ks->layout.absolute_percpu = of->absp;
    return 0;
}

int vprof_ksyms_scan(struct vprof_ksyms **out, const void *data, size_t len,
                     uint64_t va, struct vprof_diag *d)
{
    uint64_t budget = SCAN_BUDGET;
    struct region r = {.p = data, .len = len, .va = va, .budget = &budget};
    struct tokens t;
    if (!find_tokens(&r, &t))
        return budget == 0
                   ? too_complex(d)
                   : vprof_fail(d, ENOENT, "no kallsyms token table found");
    struct names nm;
    int rc = find_names(&r, &t, &nm);
    if (rc == -ENOMEM)
        return vprof_fail(d, ENOMEM, "out of memory");
    if (rc < 0 && budget == 0)
        return too_complex(d);
    if (rc < 0)
        return vprof_fail(d, ENOENT,
                          "kallsyms token table found, but no symbol names "
                          "table consistent with it");
    struct offsets of = {0};
    if (!find_offsets(&r, &t, &nm, &of))
        return budget == 0
                   ? too_complex(d)
                   : vprof_fail(d, ENOENT,
                                "kallsyms names found (%u symbols), but no "
                                "address table consistent with them",
                                nm.n);
    struct vprof_ksyms *ks = calloc(1, sizeof *ks);
    if (ks == NULL)
        return vprof_fail(d, ENOMEM, "out of memory");
    rc = build_symbols(ks, &r, &t, &nm, &of);
    if (rc == 0)
        rc = describe_layout(ks, &r, &t, &nm, &of);
    if (rc < 0) {
        vprof_ksyms_free(ks);
        return rc == -ENOMEM ? vprof_fail(d, ENOMEM, "out of memory")
                             : vprof_fail(d, EINVAL,
                                          "kallsyms names table is "
                                          "inconsistent");
    }
    *out = ks;
    return 0;
}

size_t vprof_ksyms_count(const struct vprof_ksyms *ks)
{
    return ks->n;
}

int vprof_ksyms_get(const struct vprof_ksyms *ks, size_t i,
                    struct vprof_ksym *out)
{
    if (i >= ks->n)
        return -ERANGE;
    out->addr = ks->addr[i];
    out->type = ks->type[i];
    out->name = ks->pool + ks->name[i];
    return 0;
}

int vprof_ksyms_lookup(const struct vprof_ksyms *ks, const char *name,
                       struct vprof_ksym *out)
{
    int64_t i = vprof_index_find(&ks->byname, sym_key, ks, name);
    if (i < 0)
        return -ENOENT;
    return vprof_ksyms_get(ks, (size_t)i, out);
}

void vprof_ksyms_layout(const struct vprof_ksyms *ks,
                        struct vprof_ksyms_layout *out)
{
    *out = ks->layout;
}
