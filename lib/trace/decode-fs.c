/* File system structures: struct statfs (statfs, fstatfs) and utimensat's
 * pair of timespec, as strace 6.1 shows them, and as JSON objects. */
#include <string.h>
#include <time.h>

#include "trace/decode.h"

/* The x86-64 struct statfs through f_flags (what the plan captures; the
 * spare words after it mean nothing). */
#define STATFS_SIZE 88

#define UTIME_NOW  ((1l << 30) - 1l)
#define UTIME_OMIT ((1l << 30) - 2l)

/* The magic numbers of the file systems a guest is likely to have, by
 * strace's names (which are linux/magic.h's). */
static const struct vsym fs_magics[] = {
    {0xef53, "EXT2_SUPER_MAGIC"},        {0x9fa0, "PROC_SUPER_MAGIC"},
    {0x01021994, "TMPFS_MAGIC"},         {0x62656572, "SYSFS_MAGIC"},
    {0x1cd1, "DEVPTS_SUPER_MAGIC"},      {0x858458f6, "RAMFS_MAGIC"},
    {0x63677270, "CGROUP2_SUPER_MAGIC"}, {0x27e0eb, "CGROUP_SUPER_MAGIC"},
    {0x73717368, "SQUASHFS_MAGIC"},      {0x794c7630, "OVERLAYFS_SUPER_MAGIC"},
    {0x9123683e, "BTRFS_SUPER_MAGIC"},   {0x58465342, "XFS_SUPER_MAGIC"},
    {0x4d44, "MSDOS_SUPER_MAGIC"},       {0x6969, "NFS_SUPER_MAGIC"},
    {0x65735546, "FUSE_SUPER_MAGIC"},    {0x64626720, "DEBUGFS_MAGIC"},
    {0x73636673, "SECURITYFS_MAGIC"},    {0x74726163, "TRACEFS_MAGIC"},
    {0xcafe4a11, "BPF_FS_MAGIC"},        {0x9660, "ISOFS_SUPER_MAGIC"},
    {0x19800202, "MQUEUE_MAGIC"},        {0x958458f6, "HUGETLBFS_MAGIC"},
    {0x6e736673, "NSFS_MAGIC"},          {0x01021997, "V9FS_MAGIC"},
    {0x62656570, "CONFIGFS_MAGIC"},      {0x0187, "AUTOFS_SUPER_MAGIC"},
    {0xde5e81e4, "EFIVARFS_MAGIC"},      {0x6165676c, "PSTOREFS_MAGIC"},
};

/* strace's order: ST_VALID first. */
static const struct vsym st_flags[] = {
    {0x0020, "ST_VALID"},    {0x0001, "ST_RDONLY"},
    {0x0002, "ST_NOSUID"},   {0x0004, "ST_NODEV"},
    {0x0008, "ST_NOEXEC"},   {0x0010, "ST_SYNCHRONOUS"},
    {0x0040, "ST_MANDLOCK"}, {0x0080, "ST_WRITE"},
    {0x0100, "ST_APPEND"},   {0x0200, "ST_IMMUTABLE"},
    {0x0400, "ST_NOATIME"},  {0x0800, "ST_NODIRATIME"},
    {0x1000, "ST_RELATIME"}, {0x2000, "ST_NOSYMFOLLOW"},
};

bool vdec_statfs(struct obuf *o, bool json, const uint8_t *d, size_t n)
{
    static const char *const counts[] = {"f_blocks", "f_bfree", "f_bavail",
                                         "f_files", "f_ffree"};
    uint64_t type;
    const char *name;

    if (n < STATFS_SIZE)
        return false;
    type = rd64(d);
    name = vsym_find(type, fs_magics, VSYS_ARRAY_SIZE(fs_magics));
    ob_puts(o, json ? "{\"f_type\":" : "{f_type=");
    if (json)
        ob_putc(o, '"');
    if (name)
        ob_puts(o, name);
    else
        ob_hex(o, type);
    ob_puts(o, json ? "\",\"f_bsize\":" : ", f_bsize=");
    ob_dec(o, (int64_t)rd64(d + 8));
    for (size_t i = 0; i < VSYS_ARRAY_SIZE(counts); i++)
        ob_printf(o, json ? ",\"%s\":%llu" : ", %s=%llu", counts[i],
                  (unsigned long long)rd64(d + 16 + 8 * i));
    if (json) {
        ob_printf(o, ",\"f_fsid\":[%u,%u]", (unsigned)rd32(d + 56),
                  (unsigned)rd32(d + 60));
    } else {
        ob_puts(o, ", f_fsid={val=[");
        ob_hex(o, rd32(d + 56));
        ob_puts(o, ", ");
        ob_hex(o, rd32(d + 60));
        ob_puts(o, "]}");
    }
    ob_puts(o, json ? ",\"f_namelen\":" : ", f_namelen=");
    ob_dec(o, (int64_t)rd64(d + 64));
    ob_puts(o, json ? ",\"f_frsize\":" : ", f_frsize=");
    ob_dec(o, (int64_t)rd64(d + 72));
    ob_puts(o, json ? ",\"f_flags\":\"" : ", f_flags=");
    ob_flags(o, rd64(d + 80), st_flags, VSYS_ARRAY_SIZE(st_flags), "0");
    ob_puts(o, json ? "\"}" : "}");
    return true;
}

/* strace's comment after a valid time: the date in UTC (strace uses the
 * local zone, which is UTC in the guests vigil watches), nanoseconds only
 * when there are some. */
static void put_date(struct obuf *o, int64_t sec, int64_t nsec)
{
    struct tm tm;
    time_t t = (time_t)sec;
    char buf[64];

    if (nsec < 0 || nsec >= 1000000000 || !gmtime_r(&t, &tm) ||
        !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm))
        return;
    ob_printf(o, " /* %s", buf);
    if (nsec)
        ob_printf(o, ".%09lld", (long long)nsec);
    ob_puts(o, "+0000 */");
}

static void put_utime(struct obuf *o, bool json, const uint8_t *d)
{
    int64_t sec = (int64_t)rd64(d), nsec = (int64_t)rd64(d + 8);

    if (nsec == UTIME_NOW || nsec == UTIME_OMIT) {
        vdec_name(o, json, nsec == UTIME_NOW ? "UTIME_NOW" : "UTIME_OMIT");
        return;
    }
    ob_printf(o,
              json ? "{\"sec\":%lld,\"nsec\":%lld}"
                   : "{tv_sec=%lld, tv_nsec=%lld}",
              (long long)sec, (long long)nsec);
    if (!json)
        put_date(o, sec, nsec);
}

bool vdec_utimes(struct obuf *o, bool json, const uint8_t *d, size_t n)
{
    if (n < 32)
        return false;
    ob_putc(o, '[');
    put_utime(o, json, d);
    ob_puts(o, json ? "," : ", ");
    put_utime(o, json, d + 16);
    ob_putc(o, ']');
    return true;
}
