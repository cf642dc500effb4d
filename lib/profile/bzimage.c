/* The x86 boot setup header (Documentation/arch/x86/boot.rst): locate the
 * compressed kernel payload inside a bzImage. */
#include <errno.h>

#include "profile/internal.h"

/* Offsets into the image (the setup header starts at 0x1f1). */
#define HDR_SETUP_SECTS 0x1f1
#define HDR_BOOT_FLAG   0x1fe
#define HDR_MAGIC       0x202
#define HDR_VERSION     0x206
#define HDR_PAYLOAD_OFF 0x248
#define HDR_PAYLOAD_LEN 0x24c
#define HDR_END         0x250

/* payload_offset/payload_length appeared in boot protocol 2.08. */
#define MIN_PROTOCOL 0x0208

int vprof_bzimage_parse(const uint8_t *buf, size_t len,
                        struct vprof_bzimage *bz, struct vprof_diag *d)
{
    if (len < HDR_END)
        return vprof_fail(d, EINVAL,
                          "not a bzImage: %zu bytes is too short for the x86 "
                          "boot setup header",
                          len);
    if (memcmp(buf + HDR_MAGIC, "HdrS", 4) != 0)
        return vprof_fail(d, EINVAL,
                          "not a bzImage: no \"HdrS\" setup header magic at "
                          "offset 0x%x",
                          HDR_MAGIC);
    if (le16(buf + HDR_BOOT_FLAG) != 0xaa55)
        return vprof_fail(d, EINVAL, "not a bzImage: boot flag is not 0xaa55");
    bz->protocol = le16(buf + HDR_VERSION);
    if (bz->protocol < MIN_PROTOCOL)
        return vprof_fail(d, EINVAL,
                          "boot protocol %u.%02u is too old: payload fields "
                          "need 2.08",
                          bz->protocol >> 8, bz->protocol & 0xff);
    unsigned sects = buf[HDR_SETUP_SECTS];
    if (sects == 0) /* historical meaning: 4 */
        sects = 4;
    uint64_t pm_start = (uint64_t)(sects + 1) * 512;
    uint64_t off = pm_start + le32(buf + HDR_PAYLOAD_OFF);
    uint64_t plen = le32(buf + HDR_PAYLOAD_LEN);
    if (plen == 0)
        return vprof_fail(d, EINVAL, "bzImage declares an empty payload");
    if (!vprof_in_bounds(off, plen, len))
        return vprof_fail(d, EINVAL,
                          "bzImage is truncated: payload at offset %llu + "
                          "%llu bytes, file has %zu",
                          (unsigned long long)off, (unsigned long long)plen,
                          len);
    bz->payload_off = (size_t)off;
    bz->payload_len = (size_t)plen;
    bz->comp = vprof_comp_detect(buf + off, (size_t)plen);
    return 0;
}
