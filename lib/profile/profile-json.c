/* vigil-profile JSON: validation, saving, loading and queries.
 * The format is documented in docs/profile.md. */
#include <errno.h>
#include <stdlib.h>

#include "profile/internal.h"
#include "profile/model.h"

static bool is_hex_addr(const json_t *v)
{
    const char *s = json_string_value(v);
    if (s == NULL || s[0] != '0' || s[1] != 'x')
        return false;
    size_t n = strspn(s + 2, "0123456789abcdef");
    return n >= 1 && n <= 16 && s[2 + n] == '\0';
}

static bool is_uint(const json_t *v)
{
    return json_is_integer(v) && json_integer_value(v) >= 0;
}

static int bad(struct vprof_diag *d, const char *what, const char *key)
{
    return vprof_fail(d, EINVAL, "malformed profile: %s%s%s", what,
                      key != NULL ? " " : "", key != NULL ? key : "");
}

static int validate_member(const json_t *m, const char *type, const char *path,
                           struct vprof_diag *d)
{
    if (json_is_null(m))
        return 0;
    const json_t *bo = json_object_get(m, "bit_offset");
    const json_t *bs = json_object_get(m, "bit_size");
    if (!json_is_object(m) || !is_uint(json_object_get(m, "offset")) ||
        !is_uint(json_object_get(m, "size")) || (bo == NULL) != (bs == NULL) ||
        (bo != NULL && (!is_uint(bo) || json_integer_value(bo) > 7)) ||
        (bs != NULL && (!is_uint(bs) || json_integer_value(bs) < 1 ||
                        json_integer_value(bs) > 64)))
        return vprof_fail(d, EINVAL, "malformed profile: member %s.%s", type,
                          path);
    return 0;
}

static int validate_structs(const json_t *structs, struct vprof_diag *d)
{
    const char *type;
    const json_t *st;
    json_object_foreach((json_t *)(uintptr_t)structs, type, st)
    {
        if (json_is_null(st))
            continue;
        const json_t *members = json_object_get(st, "members");
        if (!json_is_object(st) || !is_uint(json_object_get(st, "size")) ||
            !json_is_object(members))
            return bad(d, "struct", type);
        const char *path;
        const json_t *m;
        json_object_foreach((json_t *)(uintptr_t)members, path, m)
        {
            int rc = validate_member(m, type, path, d);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

int vprof_model_validate(const json_t *root, struct vprof_diag *d)
{
    if (!json_is_object(root))
        return vprof_fail(d, EINVAL, "not a vigil profile: not a JSON object");
    const char *fmt = json_string_value(json_object_get(root, "format"));
    if (fmt == NULL || strcmp(fmt, VIGIL_PROFILE_FORMAT) != 0)
        return vprof_fail(d, ENOTSUP, "not a vigil profile (format \"%s\")",
                          fmt != NULL ? fmt : "?");
    const json_t *ver = json_object_get(root, "version");
    if (!json_is_integer(ver))
        return bad(d, "version", NULL);
    if (json_integer_value(ver) != VIGIL_PROFILE_VERSION)
        return vprof_fail(d, ENOTSUP,
                          "vigil profile version %lld is not supported "
                          "(this vigil reads version %d)",
                          (long long)json_integer_value(ver),
                          VIGIL_PROFILE_VERSION);
    const json_t *kernel = json_object_get(root, "kernel");
    static const char *const kstr[] = {"release", "banner", "compression"};
    if (!json_is_object(kernel))
        return bad(d, "kernel", NULL);
    for (size_t i = 0; i < sizeof kstr / sizeof kstr[0]; i++)
        if (!json_is_string(json_object_get(kernel, kstr[i])))
            return bad(d, "kernel", kstr[i]);

    const char *key;
    const json_t *v;
    const json_t *syms = json_object_get(root, "symbols");
    if (!json_is_object(syms))
        return bad(d, "symbols", NULL);
    json_object_foreach((json_t *)(uintptr_t)syms, key, v)
    {
        if (!json_is_null(v) && !is_hex_addr(v))
            return bad(d, "symbol", key);
    }
    const json_t *percpu = json_object_get(root, "percpu");
    if (!json_is_object(percpu))
        return bad(d, "percpu", NULL);
    json_object_foreach((json_t *)(uintptr_t)percpu, key, v)
    {
        if (!json_is_null(v) && !is_uint(v))
            return bad(d, "per-CPU offset", key);
    }
    const json_t *structs = json_object_get(root, "structs");
    if (!json_is_object(structs))
        return bad(d, "structs", NULL);
    int rc = validate_structs(structs, d);
    if (rc < 0)
        return rc;
    const json_t *notes = json_object_get(root, "notes");
    if (notes != NULL) {
        size_t i;
        if (!json_is_array(notes))
            return bad(d, "notes", NULL);
        json_array_foreach((json_t *)(uintptr_t)notes, i, v)
        {
            if (!json_is_string(v))
                return bad(d, "notes", NULL);
        }
    }
    return 0;
}

void vprof_free(struct vprof *p)
{
    if (p == NULL)
        return;
    json_decref(p->root);
    free(p);
}

char *vprof_to_json(const struct vprof *p, struct vprof_diag *d)
{
    char *s = json_dumps(p->root, JSON_INDENT(2));
    if (s == NULL)
        vprof_fail(d, ENOMEM, "out of memory");
    return s;
}

int vprof_load_json(struct vprof **out, const char *buf, size_t len,
                    struct vprof_diag *d)
{
    json_error_t err;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
    if (root == NULL)
        return vprof_fail(d, EINVAL, "profile is not valid JSON: %s (line %d)",
                          err.text, err.line);
    int rc = vprof_model_validate(root, d);
    struct vprof *p = rc == 0 ? malloc(sizeof *p) : NULL;
    if (rc == 0 && p == NULL)
        rc = vprof_fail(d, ENOMEM, "out of memory");
    if (rc < 0) {
        json_decref(root);
        return rc;
    }
    p->root = root;
    *out = p;
    return 0;
}

const char *vprof_string(const struct vprof *p, const char *obj,
                         const char *key)
{
    return json_string_value(
        json_object_get(json_object_get(p->root, obj), key));
}

static const char *kernel_str(const struct vprof *p, const char *key)
{
    return vprof_string(p, "kernel", key);
}

const char *vprof_release(const struct vprof *p)
{
    return kernel_str(p, "release");
}

const char *vprof_banner(const struct vprof *p)
{
    return kernel_str(p, "banner");
}

const char *vprof_compression(const struct vprof *p)
{
    return kernel_str(p, "compression");
}

int vprof_symbol(const struct vprof *p, const char *name, uint64_t *addr)
{
    const char *s = json_string_value(
        json_object_get(json_object_get(p->root, "symbols"), name));
    if (s == NULL)
        return -ENOENT;
    *addr = strtoull(s + 2, NULL, 16); /* validated: 0x + 1..16 hex digits */
    return 0;
}

int vprof_percpu(const struct vprof *p, const char *name, uint64_t *offset)
{
    const json_t *v = json_object_get(json_object_get(p->root, "percpu"), name);
    if (!json_is_integer(v))
        return -ENOENT;
    *offset = (uint64_t)json_integer_value(v);
    return 0;
}

int vprof_struct_size(const struct vprof *p, const char *name, uint64_t *size)
{
    const json_t *st =
        json_object_get(json_object_get(p->root, "structs"), name);
    if (!json_is_object(st))
        return -ENOENT;
    *size = (uint64_t)json_integer_value(json_object_get(st, "size"));
    return 0;
}

int vprof_member(const struct vprof *p, const char *type, const char *path,
                 struct vprof_member *out)
{
    const json_t *st =
        json_object_get(json_object_get(p->root, "structs"), type);
    const json_t *m = json_object_get(json_object_get(st, "members"), path);
    if (!json_is_object(m))
        return -ENOENT;
    out->offset = (uint64_t)json_integer_value(json_object_get(m, "offset"));
    out->size = (uint64_t)json_integer_value(json_object_get(m, "size"));
    out->bit_offset =
        (uint32_t)json_integer_value(json_object_get(m, "bit_offset"));
    out->bit_size =
        (uint32_t)json_integer_value(json_object_get(m, "bit_size"));
    return 0;
}

const char *vprof_note(const struct vprof *p, size_t i)
{
    return json_string_value(
        json_array_get(json_object_get(p->root, "notes"), i));
}
