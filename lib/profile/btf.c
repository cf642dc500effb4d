/* BTF reader (format: the kernel's Documentation/bpf/btf.rst).
 *
 * The type section is walked once to validate every record's length and
 * string references and to index type ids; struct and union names go into
 * a hash index. Lookups then follow type ids with bounded depth. */
#include <errno.h>
#include <stdlib.h>

#include <linux/btf.h>

#include "profile/internal.h"

#define BTF_HDR_MIN    24
#define BTF_TYPE_SIZE  12
#define MAX_TYPE_HOPS  64
#define MAX_ANON_DEPTH 32
/* Members visited by one lookup; bounds hostile type graphs. */
#define SEARCH_BUDGET 1000000u

struct vprof_btf {
    const uint8_t *types;
    uint32_t types_len;
    const char *strs;
    uint32_t strs_len;
    uint32_t ntypes;
    uint32_t *off; /* off[id] = offset of type id in types; [0] unused */
    struct vprof_index structs;
};

/* A decoded type record. */
struct btype {
    uint32_t name_off;
    uint32_t kind;
    uint32_t vlen;
    bool kflag;
    uint32_t size_or_type;
    const uint8_t *extra; /* kind-specific data that follows */
};

static size_t extra_len(uint32_t kind, uint32_t vlen, bool *ok)
{
    *ok = true;
    switch (kind) {
    case BTF_KIND_INT:
    case BTF_KIND_VAR:
    case BTF_KIND_DECL_TAG:
        return 4;
    case BTF_KIND_ARRAY:
        return 12;
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
    case BTF_KIND_DATASEC:
    case BTF_KIND_ENUM64:
        return (size_t)vlen * 12;
    case BTF_KIND_ENUM:
    case BTF_KIND_FUNC_PROTO:
        return (size_t)vlen * 8;
    case BTF_KIND_PTR:
    case BTF_KIND_FWD:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_CONST:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_FUNC:
    case BTF_KIND_FLOAT:
    case BTF_KIND_TYPE_TAG:
        return 0;
    default:
        *ok = false;
        return 0;
    }
}

static void decode(const uint8_t *p, struct btype *t)
{
    uint32_t info = le32(p + 4);
    t->name_off = le32(p);
    t->kind = BTF_INFO_KIND(info);
    t->vlen = BTF_INFO_VLEN(info);
    t->kflag = BTF_INFO_KFLAG(info) != 0;
    t->size_or_type = le32(p + 8);
    t->extra = p + BTF_TYPE_SIZE;
}

/* Fetch type @id; false for void (0) and out-of-range ids. */
static bool get_type(const struct vprof_btf *btf, uint32_t id, struct btype *t)
{
    if (id == 0 || id > btf->ntypes)
        return false;
    decode(btf->types + btf->off[id], t);
    return true;
}

/* Name offsets were validated at parse time. */
static const char *str_at(const struct vprof_btf *btf, uint32_t off)
{
    return btf->strs + off;
}

static const char *struct_key(const void *ctx, uint32_t entry)
{
    const struct vprof_btf *btf = ctx;
    struct btype t;
    get_type(btf, entry, &t);
    return str_at(btf, t.name_off);
}

int vprof_btf_parse(struct vprof_btf **out, const void *data, size_t len,
                    struct vprof_diag *d)
{
    const uint8_t *p = data;
    if (len < BTF_HDR_MIN)
        return vprof_fail(d, EINVAL, "BTF is truncated (%zu bytes)", len);
    uint16_t magic = le16(p);
    if (magic == 0x9feb)
        return vprof_fail(d, EINVAL, "big-endian BTF is not supported");
    if (magic != BTF_MAGIC)
        return vprof_fail(d, EINVAL, "bad BTF magic 0x%04x", magic);
    if (p[2] != BTF_VERSION)
        return vprof_fail(d, EINVAL, "unsupported BTF version %u", p[2]);
    uint32_t hdr_len = le32(p + 4);
    if (hdr_len < BTF_HDR_MIN || hdr_len > len)
        return vprof_fail(d, EINVAL, "bad BTF header length %u", hdr_len);
    uint32_t type_off = le32(p + 8), type_len = le32(p + 12);
    uint32_t str_off = le32(p + 16), str_len = le32(p + 20);
    size_t dlen = len - hdr_len;
    if (!vprof_in_bounds(type_off, type_len, dlen) ||
        !vprof_in_bounds(str_off, str_len, dlen))
        return vprof_fail(d, EINVAL,
                          "BTF sections lie outside the data "
                          "(truncated?)");
    const char *strs = (const char *)p + hdr_len + str_off;
    if (str_len == 0 || strs[0] != '\0' || strs[str_len - 1] != '\0')
        return vprof_fail(d, EINVAL, "BTF string section is malformed");
    const uint8_t *types = p + hdr_len + type_off;

    /* Pass 1: validate and count. */
    uint32_t n = 0;
    for (size_t pos = 0; pos < type_len;) {
        if (type_len - pos < BTF_TYPE_SIZE)
            return vprof_fail(d, EINVAL, "BTF type %u is truncated", n + 1);
        struct btype t;
        decode(types + pos, &t);
        bool ok;
        size_t extra = extra_len(t.kind, t.vlen, &ok);
        if (!ok)
            return vprof_fail(d, EINVAL, "BTF type %u has unknown kind %u",
                              n + 1, t.kind);
        if (t.name_off >= str_len)
            return vprof_fail(d, EINVAL,
                              "BTF type %u names string %u, past the end",
                              n + 1, t.name_off);
        if (type_len - pos - BTF_TYPE_SIZE < extra)
            return vprof_fail(d, EINVAL, "BTF type %u is truncated", n + 1);
        if (t.kind == BTF_KIND_STRUCT || t.kind == BTF_KIND_UNION ||
            t.kind == BTF_KIND_ENUM || t.kind == BTF_KIND_ENUM64 ||
            t.kind == BTF_KIND_FUNC_PROTO) {
            size_t step =
                t.kind == BTF_KIND_ENUM || t.kind == BTF_KIND_FUNC_PROTO ? 8
                                                                         : 12;
            for (uint32_t i = 0; i < t.vlen; i++)
                if (le32(t.extra + i * step) >= str_len)
                    return vprof_fail(d, EINVAL,
                                      "BTF type %u: member %u names string "
                                      "past the end",
                                      n + 1, i);
        }
        if (++n > BTF_MAX_TYPE)
            return vprof_fail(d, EINVAL, "BTF has too many types");
        pos += BTF_TYPE_SIZE + extra;
    }

    struct vprof_btf *btf = calloc(1, sizeof *btf);
    if (btf == NULL)
        return vprof_fail(d, ENOMEM, "out of memory");
    btf->off = malloc(((size_t)n + 1) * sizeof *btf->off);
    if (btf->off == NULL || vprof_index_init(&btf->structs, n) < 0) {
        vprof_btf_free(btf);
        return vprof_fail(d, ENOMEM, "out of memory");
    }
    btf->types = types;
    btf->types_len = type_len;
    btf->strs = strs;
    btf->strs_len = str_len;
    btf->ntypes = n;

    /* Pass 2: index. */
    btf->off[0] = 0;
    uint32_t id = 1;
    for (size_t pos = 0; pos < type_len; id++) {
        struct btype t;
        bool ok;
        decode(types + pos, &t);
        btf->off[id] = (uint32_t)pos;
        if ((t.kind == BTF_KIND_STRUCT || t.kind == BTF_KIND_UNION) &&
            t.name_off != 0 && strs[t.name_off] != '\0')
            vprof_index_add(&btf->structs, struct_key, btf, id,
                            strs + t.name_off);
        pos += BTF_TYPE_SIZE + extra_len(t.kind, t.vlen, &ok);
    }
    *out = btf;
    return 0;
}

void vprof_btf_free(struct vprof_btf *btf)
{
    if (btf == NULL)
        return;
    vprof_index_release(&btf->structs);
    free(btf->off);
    free(btf);
}

uint32_t vprof_btf_type_count(const struct vprof_btf *btf)
{
    return btf->ntypes;
}

static bool is_modifier(uint32_t kind)
{
    return kind == BTF_KIND_TYPEDEF || kind == BTF_KIND_VOLATILE ||
           kind == BTF_KIND_CONST || kind == BTF_KIND_RESTRICT ||
           kind == BTF_KIND_TYPE_TAG;
}

/* Follow typedefs and qualifiers; id 0 when the chain is broken. */
static uint32_t skip_modifiers(const struct vprof_btf *btf, uint32_t id,
                               struct btype *t)
{
    for (int hops = 0; hops < MAX_TYPE_HOPS; hops++) {
        if (!get_type(btf, id, t))
            return 0;
        if (!is_modifier(t->kind))
            return id;
        id = t->size_or_type;
    }
    return 0;
}

/* Byte size of type @id. */
static int type_size(const struct vprof_btf *btf, uint32_t id, uint64_t *size)
{
    uint64_t mult = 1;
    for (int hops = 0; hops < MAX_TYPE_HOPS; hops++) {
        struct btype t;
        if (!get_type(btf, id, &t))
            return -EINVAL;
        switch (t.kind) {
        case BTF_KIND_INT:
        case BTF_KIND_ENUM:
        case BTF_KIND_ENUM64:
        case BTF_KIND_STRUCT:
        case BTF_KIND_UNION:
        case BTF_KIND_FLOAT:
        case BTF_KIND_DATASEC:
            if (__builtin_mul_overflow(mult, (uint64_t)t.size_or_type, size))
                return -EINVAL;
            return 0;
        case BTF_KIND_PTR:
            if (__builtin_mul_overflow(mult, (uint64_t)8, size))
                return -EINVAL;
            return 0;
        case BTF_KIND_ARRAY:
            if (__builtin_mul_overflow(mult, (uint64_t)le32(t.extra + 8),
                                       &mult))
                return -EINVAL;
            id = le32(t.extra);
            break;
        default:
            if (!is_modifier(t.kind))
                return -EINVAL;
            id = t.size_or_type;
            break;
        }
    }
    return -EINVAL;
}

static int find_struct(const struct vprof_btf *btf, const char *name,
                       uint32_t *id, struct vprof_diag *d)
{
    int64_t e = vprof_index_find(&btf->structs, struct_key, btf, name);
    if (e < 0)
        return vprof_fail(d, ENOENT, "no struct or union named '%s' in BTF",
                          name);
    *id = (uint32_t)e;
    return 0;
}

int vprof_btf_struct_size(const struct vprof_btf *btf, const char *name,
                          uint64_t *size, struct vprof_diag *d)
{
    uint32_t id = 0;
    int rc = find_struct(btf, name, &id, d);
    if (rc < 0)
        return rc;
    struct btype t;
    get_type(btf, id, &t);
    *size = t.size_or_type;
    return 0;
}

struct search {
    const struct vprof_btf *btf;
    const char *name;
    size_t name_len;
    unsigned budget;
};

/* Look for member s->name in struct/union @t (already resolved), whose
 * start lies @base bits into the outermost struct. Returns 0, -ENOENT,
 * -E2BIG or -EINVAL. */
static int search_members(struct search *s, const struct btype *t,
                          uint64_t base, int depth,
                          struct vprof_btf_member *out)
{
    if (depth > MAX_ANON_DEPTH)
        return -E2BIG;
    for (uint32_t i = 0; i < t->vlen; i++) {
        if (s->budget-- == 0)
            return -E2BIG;
        const uint8_t *m = t->extra + (size_t)i * 12;
        const char *mname = str_at(s->btf, le32(m));
        uint32_t mtype = le32(m + 4);
        uint32_t moff = le32(m + 8);
        uint64_t bit_off = t->kflag ? BTF_MEMBER_BIT_OFFSET(moff) : moff;
        uint32_t bit_size = t->kflag ? BTF_MEMBER_BITFIELD_SIZE(moff) : 0;
        if (mname[0] == '\0') {
            struct btype inner;
            if (skip_modifiers(s->btf, mtype, &inner) == 0)
                continue;
            if (inner.kind != BTF_KIND_STRUCT && inner.kind != BTF_KIND_UNION)
                continue;
            int rc = search_members(s, &inner, base + bit_off, depth + 1, out);
            if (rc != -ENOENT)
                return rc;
            continue;
        }
        if (strlen(mname) != s->name_len ||
            memcmp(mname, s->name, s->name_len) != 0)
            continue;
        out->bit_offset = base + bit_off;
        out->bit_size = bit_size;
        out->type_id = mtype;
        if (type_size(s->btf, mtype, &out->size) < 0)
            return -EINVAL;
        /* Old encoders describe bitfields in the INT type instead. */
        struct btype it;
        if (!t->kflag && get_type(s->btf, mtype, &it) &&
            it.kind == BTF_KIND_INT) {
            uint32_t enc = le32(it.extra);
            if (BTF_INT_OFFSET(enc) != 0 ||
                BTF_INT_BITS(enc) != it.size_or_type * 8) {
                out->bit_offset += BTF_INT_OFFSET(enc);
                out->bit_size = BTF_INT_BITS(enc);
            }
        }
        return 0;
    }
    return -ENOENT;
}

int vprof_btf_member(const struct vprof_btf *btf, const char *type,
                     const char *path, struct vprof_btf_member *out,
                     struct vprof_diag *d)
{
    uint32_t id = 0;
    int rc = find_struct(btf, type, &id, d);
    if (rc < 0)
        return rc;
    struct btype t;
    get_type(btf, id, &t);
    struct search s = {.btf = btf, .budget = SEARCH_BUDGET};
    uint64_t base = 0;
    const char *p = path;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);
        if (n == 0)
            return vprof_fail(d, EINVAL, "bad member path '%s'", path);
        s.name = p;
        s.name_len = n;
        rc = search_members(&s, &t, base, 0, out);
        if (rc == -ENOENT)
            return vprof_fail(d, ENOENT, "%s %s has no member '%.*s'",
                              t.kind == BTF_KIND_UNION ? "union" : "struct",
                              type, (int)n, p);
        if (rc == -E2BIG)
            return vprof_fail(d, E2BIG,
                              "BTF type graph of %s is too large "
                              "to search",
                              type);
        if (rc < 0)
            return vprof_fail(d, EINVAL, "malformed BTF for %s.%s", type, path);
        if (dot == NULL)
            return 0;
        /* Descend into the named member for the next component. */
        if (skip_modifiers(btf, out->type_id, &t) == 0 ||
            (t.kind != BTF_KIND_STRUCT && t.kind != BTF_KIND_UNION))
            return vprof_fail(d, EINVAL, "%s.%.*s is not a struct or union",
                              type, (int)(dot - path), path);
        base = out->bit_offset;
        p = dot + 1;
    }
}
