/* struct stat and struct statx (x86-64 layouts), abbreviated as strace
 * shows them without -v; the JSON object carries every field read. */
#include <string.h>

#include "trace/decode.h"

#define STAT_SIZE  144
#define STATX_SIZE 144 /* up to stx_dev_minor: what the plan captures */

void vdec_mode(struct obuf *o, uint64_t mode)
{
    static const struct vsym types[] = {
        {0140000, "S_IFSOCK"}, {0120000, "S_IFLNK"}, {0100000, "S_IFREG"},
        {0060000, "S_IFBLK"},  {0040000, "S_IFDIR"}, {0020000, "S_IFCHR"},
        {0010000, "S_IFIFO"},
    };
    static const struct vsym special[] = {
        {04000, "S_ISUID"}, {02000, "S_ISGID"}, {01000, "S_ISVTX"}};
    const char *type = vsym_find(mode & 0170000, types, VSYS_ARRAY_SIZE(types));

    if (type) {
        ob_puts(o, type);
        ob_putc(o, '|');
        mode &= ~(uint64_t)0170000;
    }
    for (size_t i = 0; i < VSYS_ARRAY_SIZE(special); i++)
        if (mode & special[i].val) {
            ob_puts(o, special[i].name);
            ob_putc(o, '|');
            mode &= ~special[i].val;
        }
    ob_printf(o, "%#03llo", (unsigned long long)mode);
}

/* The kernel's dev_t encoding: 12 bits of major, 20 of minor, split. */
static void put_makedev(struct obuf *o, uint64_t dev)
{
    unsigned long long major = ((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfffull);
    unsigned long long minor = (dev & 0xff) | ((dev >> 12) & ~0xffull);

    ob_printf(o, "makedev(%#llx, %#llx)", major, minor);
}

static void put_jtime(struct obuf *o, const char *name, int64_t sec,
                      uint64_t nsec)
{
    ob_printf(o, ",\"%s\":{\"sec\":", name);
    ob_dec(o, sec);
    ob_puts(o, ",\"nsec\":");
    ob_udec(o, nsec);
    ob_putc(o, '}');
}

static void put_jmode(struct obuf *o, const char *name, uint64_t mode)
{
    ob_printf(o, "\"%s\":\"", name);
    vdec_mode(o, mode);
    ob_putc(o, '"');
}

bool vdec_stat(struct obuf *o, bool json, const uint8_t *d, size_t n)
{
    uint64_t mode, type;

    if (n < STAT_SIZE)
        return false;
    mode = rd32(d + 24);
    type = mode & 0170000;
    if (!json) {
        ob_puts(o, "{st_mode=");
        vdec_mode(o, mode);
        if (type == 0020000 || type == 0060000) { /* S_IFCHR, S_IFBLK */
            ob_puts(o, ", st_rdev=");
            put_makedev(o, rd64(d + 40));
        } else {
            ob_puts(o, ", st_size=");
            ob_dec(o, (int64_t)rd64(d + 48));
        }
        ob_puts(o, ", ...}");
        return true;
    }
    ob_putc(o, '{');
    put_jmode(o, "st_mode", mode);
    ob_printf(o,
              ",\"st_dev\":%llu,\"st_ino\":%llu,\"st_nlink\":%llu,"
              "\"st_uid\":%u,\"st_gid\":%u,\"st_rdev\":%llu,\"st_size\":%lld,"
              "\"st_blksize\":%lld,\"st_blocks\":%lld",
              (unsigned long long)rd64(d), (unsigned long long)rd64(d + 8),
              (unsigned long long)rd64(d + 16), (unsigned)rd32(d + 28),
              (unsigned)rd32(d + 32), (unsigned long long)rd64(d + 40),
              (long long)rd64(d + 48), (long long)rd64(d + 56),
              (long long)rd64(d + 64));
    put_jtime(o, "st_atime", (int64_t)rd64(d + 72), rd64(d + 80));
    put_jtime(o, "st_mtime", (int64_t)rd64(d + 88), rd64(d + 96));
    put_jtime(o, "st_ctime", (int64_t)rd64(d + 104), rd64(d + 112));
    ob_putc(o, '}');
    return true;
}

/* In strace's order (by value). */
static const struct vsym statx_attrs[] = {
    {0x4, "STATX_ATTR_COMPRESSED"},    {0x10, "STATX_ATTR_IMMUTABLE"},
    {0x20, "STATX_ATTR_APPEND"},       {0x40, "STATX_ATTR_NODUMP"},
    {0x800, "STATX_ATTR_ENCRYPTED"},   {0x1000, "STATX_ATTR_AUTOMOUNT"},
    {0x2000, "STATX_ATTR_MOUNT_ROOT"}, {0x100000, "STATX_ATTR_VERITY"},
    {0x200000, "STATX_ATTR_DAX"},
};

bool vdec_statx(struct obuf *o, bool json, const uint8_t *d, size_t n)
{
    const char *q = json ? "\"" : "";

    if (n < STATX_SIZE)
        return false;
    ob_printf(o, json ? "{\"stx_mask\":%s" : "{stx_mask=%s", q);
    ob_symbolic(o, 'z', rd32(d));
    ob_printf(o, json ? "%s,\"stx_attributes\":%s" : "%s, stx_attributes=%s", q,
              q);
    ob_flags(o, rd64(d + 8), statx_attrs, VSYS_ARRAY_SIZE(statx_attrs), NULL);
    ob_printf(o, json ? "%s,\"stx_mode\":%s" : "%s, stx_mode=%s", q, q);
    vdec_mode(o, (uint16_t)(d[28] | d[29] << 8));
    if (!json) {
        ob_puts(o, ", stx_size=");
        ob_udec(o, rd64(d + 40));
        ob_puts(o, ", ...}");
        return true;
    }
    ob_printf(
        o,
        "\",\"stx_blksize\":%u,\"stx_nlink\":%u,\"stx_uid\":%u,"
        "\"stx_gid\":%u,\"stx_ino\":%llu,\"stx_size\":%llu,"
        "\"stx_blocks\":%llu",
        (unsigned)rd32(d + 4), (unsigned)rd32(d + 16), (unsigned)rd32(d + 20),
        (unsigned)rd32(d + 24), (unsigned long long)rd64(d + 32),
        (unsigned long long)rd64(d + 40), (unsigned long long)rd64(d + 48));
    put_jtime(o, "stx_atime", (int64_t)rd64(d + 64), rd32(d + 72));
    put_jtime(o, "stx_btime", (int64_t)rd64(d + 80), rd32(d + 88));
    put_jtime(o, "stx_ctime", (int64_t)rd64(d + 96), rd32(d + 104));
    put_jtime(o, "stx_mtime", (int64_t)rd64(d + 112), rd32(d + 120));
    ob_printf(o,
              ",\"stx_rdev_major\":%u,\"stx_rdev_minor\":%u,"
              "\"stx_dev_major\":%u,\"stx_dev_minor\":%u}",
              (unsigned)rd32(d + 128), (unsigned)rd32(d + 132),
              (unsigned)rd32(d + 136), (unsigned)rd32(d + 140));
    return true;
}
