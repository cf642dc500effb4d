/* .cvd / .cld containers: a 512-byte text header, then a tar archive that is
 * gzip-compressed (.cvd, and .cld written by some tools) or plain.
 *
 * Header: "ClamAV-VDB:time:version:sigs:flevel:md5:dsig:builder:stime",
 * space padded.  The MD5 covers everything after the header, and the
 * publisher's RSA signature (dsig) covers the MD5 (dsig.c): a container
 * whose MD5 or dsig does not verify is refused, .cld included (fail
 * closed; docs/signatures.md). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "sig/dsig.h"
#include "vigil/hex.h"
#include "sig/sig-int.h"

#define CVD_HDR          512
#define CVD_MAX_UNPACKED (1ull << 30)
#define TAR_BLOCK        512

/* Field @idx of the colon-separated header, or NULL. */
static const char *hdr_field(const char *h, size_t hl, int idx, size_t *len)
{
    size_t start = 0;
    int n = 0;

    for (size_t i = 0; i <= hl; i++) {
        if (i == hl || h[i] == ':') {
            if (n == idx) {
                *len = i - start;
                return h + start;
            }
            n++;
            start = i + 1;
        }
    }
    return NULL;
}

static int gunzip(const uint8_t *in, size_t inlen, uint8_t **out,
                  size_t *outlen, struct vs_err *e)
{
    z_stream z;
    size_t cap = inlen * 4 + 4096, n = 0;
    uint8_t *buf;
    int zr;

    if (cap > CVD_MAX_UNPACKED)
        cap = CVD_MAX_UNPACKED;
    if ((buf = malloc(cap)) == NULL)
        return -ENOMEM;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 16) != Z_OK) {
        free(buf);
        return -ENOMEM;
    }
    z.next_in = (Bytef *)(uintptr_t)in;
    for (;;) {
        if (n == cap) {
            if (cap >= CVD_MAX_UNPACKED) {
                vs_errf(e, "container unpacks to more than 1 GiB");
                zr = Z_MEM_ERROR;
                break;
            }
            size_t ncap =
                cap * 2 > CVD_MAX_UNPACKED ? CVD_MAX_UNPACKED : cap * 2;
            uint8_t *nb = realloc(buf, ncap);
            if (nb == NULL) {
                inflateEnd(&z);
                free(buf);
                return -ENOMEM;
            }
            buf = nb;
            cap = ncap;
        }
        /* zlib counts in uInt: feed at most 1 GiB at a time. */
        size_t left_in = inlen - (size_t)(z.next_in - in);
        z.avail_in = left_in > (1u << 30) ? (1u << 30) : (uInt)left_in;
        size_t room = cap - n;
        z.avail_out = room > (1u << 30) ? (1u << 30) : (uInt)room;
        z.next_out = buf + n;
        uInt before = z.avail_out;
        zr = inflate(&z, Z_NO_FLUSH);
        n += before - z.avail_out;
        if (zr == Z_STREAM_END)
            break;
        if (zr != Z_OK && !(zr == Z_BUF_ERROR && z.avail_out == 0)) {
            vs_errf(e, "gzip data is corrupt (%s)",
                    z.msg ? z.msg : "truncated");
            break;
        }
        if (zr == Z_BUF_ERROR && z.avail_in == 0) {
            vs_errf(e, "gzip data is truncated");
            break;
        }
    }
    inflateEnd(&z);
    if (zr != Z_STREAM_END) {
        free(buf);
        return -EINVAL;
    }
    *out = buf;
    *outlen = n;
    return 0;
}

static int octal(const uint8_t *p, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;

    while (i < len && p[i] == ' ')
        i++;
    size_t digits = 0;
    for (; i < len && p[i] >= '0' && p[i] <= '7'; i++, digits++) {
        if (v > (UINT64_MAX >> 3))
            return -EINVAL;
        v = v << 3 | (uint64_t)(p[i] - '0');
    }
    for (; i < len; i++)
        if (p[i] != ' ' && p[i] != '\0')
            return -EINVAL;
    if (digits == 0)
        return -EINVAL;
    *out = v;
    return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static int untar(const uint8_t *t, size_t len, vs_member_fn fn, void *opaque,
                 struct vs_err *e)
{
    size_t pos = 0;
    int r;

    while (pos + TAR_BLOCK <= len) {
        const uint8_t *h = t + pos;
        if (all_zero(h, TAR_BLOCK))
            return 0;
        uint64_t size, sum;
        if (octal(h + 124, 12, &size) < 0 || octal(h + 148, 8, &sum) < 0) {
            vs_errf(e, "bad tar header at offset %zu", pos);
            return -EINVAL;
        }
        uint64_t calc = 0;
        for (size_t i = 0; i < TAR_BLOCK; i++)
            calc += (i >= 148 && i < 156) ? ' ' : h[i];
        if (calc != sum) {
            vs_errf(e, "tar header checksum mismatch at offset %zu", pos);
            return -EINVAL;
        }
        pos += TAR_BLOCK;
        if (size > len - pos) {
            vs_errf(e, "tar member larger than the archive");
            return -EINVAL;
        }
        char name[101];
        memcpy(name, h, 100);
        name[100] = '\0';
        uint8_t type = h[156];
        if (type == '0' || type == '\0' || type == '7') {
            const char *base = strrchr(name, '/');
            base = base ? base + 1 : name;
            if (*base != '\0' &&
                (r = fn(opaque, base, t + pos, (size_t)size)) < 0)
                return r;
        }
        uint64_t padded = (size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
        if (padded > len - pos)
            return 0; /* last member without padding */
        pos += (size_t)padded;
    }
    if (pos != len && !all_zero(t + pos, len - pos)) {
        vs_errf(e, "trailing garbage after tar archive");
        return -EINVAL;
    }
    return 0;
}

int vs_cvd_unpack(const uint8_t *buf, size_t len, bool is_cld, vs_member_fn fn,
                  void *opaque, struct vs_err *e, bool *md5_checked,
                  const char *key)
{
    *md5_checked = false;
    if (len < CVD_HDR || memcmp(buf, "ClamAV-VDB:", 11) != 0) {
        vs_errf(e, "not a ClamAV container (no ClamAV-VDB header)");
        return -EINVAL;
    }
    const char *h = (const char *)buf;
    size_t hl = CVD_HDR;
    while (hl > 0 &&
           (h[hl - 1] == ' ' || h[hl - 1] == '\0' || h[hl - 1] == '\n'))
        hl--;
    size_t ml;
    const char *md5 = hdr_field(h, hl, 5, &ml);
    if (md5 == NULL || ml != 32) {
        vs_errf(e, "container header lacks an MD5 field");
        return -EINVAL;
    }
    uint8_t want[16], got[16];
    for (int i = 0; i < 16; i++) {
        int a = vigil_hexval(md5[2 * i]), b = vigil_hexval(md5[2 * i + 1]);
        if (a < 0 || b < 0) {
            vs_errf(e, "bad MD5 in container header");
            return -EINVAL;
        }
        want[i] = (uint8_t)(a << 4 | b);
    }
    const uint8_t *body = buf + CVD_HDR;
    size_t blen = len - CVD_HDR;
    vs_md5(body, blen, got);
    if (memcmp(want, got, 16) != 0) {
        /* freshclam's .cld keeps the header of the .cvd it was patched
         * from: its body is then covered by no signature at all. */
        vs_errf(e, is_cld ? "MD5 of the .cld body does not match its header: "
                            "an updated .cld is not signed, use the .cvd"
                          : "MD5 of the container body does not match its "
                            "header");
        return -EINVAL;
    }
    *md5_checked = true;
    size_t sl;
    const char *dsig = hdr_field(h, hl, 6, &sl);
    int r = dsig ? vs_dsig_verify(dsig, sl, want, key, e) : -EINVAL;
    if (dsig == NULL)
        vs_errf(e, "container header lacks a dsig field");
    if (r < 0)
        return r;
    if (blen >= 2 && body[0] == 0x1f && body[1] == 0x8b) {
        uint8_t *tar;
        size_t tlen;
        if ((r = gunzip(body, blen, &tar, &tlen, e)) < 0)
            return r;
        r = untar(tar, tlen, fn, opaque, e);
        free(tar);
        return r;
    }
    return untar(body, blen, fn, opaque, e);
}
