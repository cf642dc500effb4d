/* Guest memory behind system call arguments: strings, buffers, argv,
 * socket addresses, bounded by the limits in the ring header and read page
 * by page, so that an unmapped page cuts a capture short instead of losing
 * it. */
#include <string.h>

#include "capture-msg.h"
#include "capture-poll.h"
#include "capture-select.h"
#include "capture.h"

static struct {
    uint32_t str_max, buf_max, argv_max;
} limits;

void capture_setup(const struct vring_config *cfg)
{
    limits.str_max = cfg->str_max;
    limits.buf_max = cfg->buf_max;
    limits.argv_max = cfg->argv_max;
}

/* Read up to `max` bytes at addr, page by page, stopping after a NUL when
 * `stop_at_nul`. Returns bytes read; *fault when an unreadable page cut the
 * read short. */
uint32_t capture_read(struct vcpu *v, uint64_t addr, uint8_t *dst, uint32_t max,
                      bool stop_at_nul, bool *fault)
{
    uint32_t got = 0;
    *fault = false;
    while (got < max) {
        uint64_t a = addr + got;
        uint32_t chunk = (uint32_t)(PAGE - (a & (PAGE - 1)));
        if (chunk > max - got)
            chunk = max - got;
        if (a < addr || !mem(v, a, dst + got, chunk)) {
            *fault = true;
            return got;
        }
        if (stop_at_nul) {
            uint8_t *nul = memchr(dst + got, 0, chunk);
            if (nul != NULL)
                return got + (uint32_t)(nul - (dst + got)) + 1;
        }
        got += chunk;
    }
    return got;
}

/* Bytes a capture may take in a record, header included. */
uint32_t capture_room(const struct vsys_cap *c)
{
    uint32_t n;
    switch (c->kind) {
    case VSYS_CAP_STR:
        n = limits.str_max;
        break;
    case VSYS_CAP_ARGV:
    case VSYS_CAP_STRV:
        n = limits.argv_max;
        break;
    case VSYS_CAP_COUNT:
        n = 4;
        break;
    case VSYS_CAP_STRUCT:
        n = c->fixed_len;
        break;
    case VSYS_CAP_SOCKADDR:
        n = 128; /* sizeof(struct sockaddr_storage) */
        break;
    case VSYS_CAP_DIRENTS:
        n = 4; /* the count */
        break;
    case VSYS_CAP_FRAME_MASK:
        n = 8;
        break;
    case VSYS_CAP_MSGHDR:
        n = capture_msghdr_room(limits.buf_max);
        break;
    case VSYS_CAP_FDSETS:
        n = capture_fdsets_room();
        break;
    case VSYS_CAP_PPOLL:
        n = capture_ppoll_room();
        break;
    default:
        n = limits.buf_max;
        break;
    }
    return VRAW_ALIGN(sizeof(struct vraw_blob) + n);
}

static uint32_t cap_len(struct vcpu *v, const struct vsys_cap *c,
                        const uint64_t args[6], int64_t ret, uint32_t room,
                        bool *trunc)
{
    uint64_t want;
    int32_t ilen;
    switch (c->len_from) {
    case VSYS_LEN_ARG:
        want = args[c->len_arg % 6];
        break;
    case VSYS_LEN_RESULT:
        want = ret > 0 ? (uint64_t)ret : 0;
        break;
    case VSYS_LEN_PTR:
        want = mem(v, args[c->len_arg % 6], &ilen, 4) && ilen > 0
                   ? (uint64_t)ilen
                   : 0;
        break;
    case VSYS_LEN_FIXED:
        want = c->fixed_len;
        break;
    case VSYS_LEN_RESULT_N: /* ret is a count: at most a few thousand */
        want = ret > 0 && ret <= 65536 ? (uint64_t)ret * c->len_arg
               : ret > 0               ? UINT64_MAX
                                       : 0;
        break;
    default:
        want = room;
        break;
    }
    *trunc = want > room;
    return want > room ? room : (uint32_t)want;
}

/* Element @i of a NULL-terminated pointer array (argv, envp): 1 and *p,
 * 0 at the terminating NULL, -1 when it cannot be read. */
static int array_ptr(struct vcpu *v, uint64_t addr, bool compat, unsigned i,
                     uint64_t *p)
{
    unsigned psize = compat ? 4 : 8; /* i386 pointers: 4 bytes, little-endian */
    *p = 0;
    if (!mem(v, addr + (uint64_t)psize * i, p, psize))
        return -1;
    return *p != 0;
}

/* Capture an argv-style array: the strings, each NUL-terminated. */
static uint32_t cap_argv(struct vcpu *v, uint64_t addr, bool compat,
                         uint8_t *dst, uint32_t room, bool *fault, bool *trunc)
{
    uint32_t got = 0;
    *fault = *trunc = false;
    for (unsigned i = 0; i < 256; i++) {
        uint64_t p;
        int r = array_ptr(v, addr, compat, i, &p);
        if (r <= 0) {
            *fault = r < 0;
            return got;
        }
        if (got >= room) {
            *trunc = true;
            return got;
        }
        bool f;
        uint32_t n = capture_read(v, p, dst + got, room - got, true, &f);
        got += n;
        if (f) {
            *fault = true;
            return got;
        }
        if (n == 0 || dst[got - 1] != 0) {
            *trunc = true;
            return got;
        }
    }
    *trunc = true;
    return got;
}

/* An argv as strace shows it (VSYS_CAP_STRV): at most str_max strings,
 * each cut at str_max bytes, every one preceded by a flag byte (1: cut).
 * Only str_max + 1 bytes of a string are read: enough to know it is
 * longer. */
static uint32_t cap_strv(struct vcpu *v, uint64_t addr, bool compat,
                         uint8_t *dst, uint32_t room, bool *fault, bool *trunc)
{
    uint32_t got = 0, max = limits.str_max;
    *fault = *trunc = false;
    for (unsigned i = 0; i < 256; i++) {
        uint64_t p;
        int r = array_ptr(v, addr, compat, i, &p);
        if (r <= 0) {
            *fault = r < 0;
            return got;
        }
        if (i >= max || got + 2 > room) {
            *trunc = true;
            return got;
        }
        uint32_t want = room - got - 1;
        if (want > max + 1)
            want = max + 1;
        bool f;
        uint8_t *s = dst + got + 1;
        uint32_t n = capture_read(v, p, s, want, true, &f);
        dst[got] = 0;
        if (n > 0 && s[n - 1] == 0) { /* whole */
            got += 1 + n;
        } else if (!f && n == max + 1) { /* longer than max: cut */
            dst[got] = 1;
            s[max] = 0;
            got += 2 + max;
        } else { /* the room or the string's page ended */
            got += 1 + n;
            *fault = f;
            *trunc = !f;
            return got;
        }
    }
    *trunc = true;
    return got;
}

/* How many pointers precede the NULL of the array at addr (an
 * environment), read a page-bounded chunk at a time, at most 65536. */
static uint32_t cap_count(struct vcpu *v, uint64_t addr, bool compat,
                          uint8_t *dst, bool *fault, bool *trunc)
{
    unsigned psize = compat ? 4 : 8;
    uint32_t n = 0;
    uint8_t chunk[256];
    *fault = *trunc = false;
    while (n < 65536) {
        bool f;
        uint32_t got = capture_read(v, addr + (uint64_t)n * psize, chunk,
                                    sizeof chunk, false, &f);
        for (uint32_t k = 0; k + psize <= got; k += psize) {
            uint64_t p = 0;
            memcpy(&p, chunk + k, psize);
            if (p == 0) {
                memcpy(dst, &n, 4);
                return 4;
            }
            n++;
        }
        if (f) {
            *fault = true;
            return 0;
        }
    }
    *trunc = true;
    memcpy(dst, &n, 4);
    return 4;
}

/* Count the linux_dirent64 records in the `len` bytes at addr by their
 * d_reclen (16 bits at offset 16), reading two bytes per record instead of
 * copying the buffer. Stops at a record that does not fit, as strace does;
 * *trunc when the bound on records was reached first. */
#define DIRENTS_MAX 8192
static uint32_t cap_dirents(struct vcpu *v, uint64_t addr, uint64_t len,
                            uint8_t *dst, bool *fault, bool *trunc)
{
    uint32_t n = 0;
    uint64_t off = 0;
    *fault = *trunc = false;
    while (off + 19 < len) { /* ino, off, reclen, type, one name byte */
        uint16_t reclen;
        if (n == DIRENTS_MAX) {
            *trunc = true;
            break;
        }
        if (!mem(v, addr + off + 16, &reclen, 2)) {
            *fault = true;
            if (n == 0)
                return 0;
            break;
        }
        if (reclen == 0 || reclen > len - off)
            break;
        n++;
        off += reclen;
    }
    memcpy(dst, &n, 4);
    return 4;
}

/* Whether capture `c` applies to this call at this point. */
static bool cap_wanted(const struct vsys_cap *c, bool at_exit, bool late,
                       const uint64_t args[6], int64_t ret)
{
    if (c->cond_arg &&
        (uint32_t)args[(c->cond_arg - 1) % 6] - c->cond_val > c->cond_span)
        return false;
    if (late)
        return true;
    if (c->at_exit != at_exit)
        return false;
    if (!at_exit)
        return true;
    return c->only_ok == VSYS_WHEN_ANY ||
           (c->only_ok == VSYS_WHEN_OK ? ret >= 0 : ret < 0);
}

/* Append captures after `at`: at entry the inputs, at the return the
 * outputs plus the inputs in `retry` (bit i: caps[i] faulted at entry).
 * Returns the bytes written, counts blobs in *nblobs and sets bit i of
 * *faulted for each capture that hit an unreadable address. */
uint32_t capture(struct vcpu *v, uint8_t *at, bool at_exit,
                 const struct vsys_cap *caps, unsigned ncaps,
                 const uint64_t args[6], bool compat, int64_t ret,
                 uint8_t retry, uint32_t *nblobs, uint8_t *faulted)
{
    uint32_t used = 0;
    *faulted = 0;
    for (unsigned i = 0; i < ncaps; i++) {
        const struct vsys_cap *c = &caps[i];
        bool late = at_exit && !c->at_exit && (retry & (1u << i));
        if (!cap_wanted(c, at_exit, late, args, ret))
            continue;
        struct vraw_blob *b = (struct vraw_blob *)(at + used);
        uint8_t *data = (uint8_t *)(b + 1);
        uint32_t room = capture_room(c) - sizeof *b;
        uint64_t addr = args[c->argi % 6];
        bool fault = false, trunc = false;
        uint32_t n = 0;
        if (addr == 0 && c->kind != VSYS_CAP_FDSETS &&
            c->kind != VSYS_CAP_PPOLL) {
            continue; /* NULL: nothing to show but the value itself */
        } else if (c->kind == VSYS_CAP_STR) {
            n = capture_read(v, addr, data, room, true, &fault);
            trunc = !fault && (n == 0 || data[n - 1] != 0);
        } else if (c->kind == VSYS_CAP_ARGV) {
            n = cap_argv(v, addr, compat, data, room, &fault, &trunc);
        } else if (c->kind == VSYS_CAP_STRV) {
            n = cap_strv(v, addr, compat, data, room, &fault, &trunc);
        } else if (c->kind == VSYS_CAP_COUNT) {
            n = cap_count(v, addr, compat, data, &fault, &trunc);
        } else if (c->kind == VSYS_CAP_MSGHDR) {
            n = capture_msghdr(v, addr, c->at_exit ? ret : -1, limits.buf_max,
                               data, room, &fault);
        } else if (c->kind == VSYS_CAP_FDSETS) {
            n = capture_fdsets(v, args, !c->at_exit && c->len_arg == 5, data,
                               room);
        } else if (c->kind == VSYS_CAP_PPOLL) {
            n = capture_ppoll(v, args, !c->at_exit, data, room);
        } else if (c->kind == VSYS_CAP_DIRENTS) {
            n = cap_dirents(v, addr, ret > 0 ? (uint64_t)ret : 0, data, &fault,
                            &trunc);
        } else {
            uint32_t len = cap_len(v, c, args, ret, room, &trunc);
            n = capture_read(v, addr, data, len, false, &fault);
        }
        b->argi = c->argi;
        b->kind = c->kind;
        b->len = (uint16_t)n;
        b->flags = (fault ? VRAW_BLOB_FAULT : 0) |
                   (trunc ? VRAW_BLOB_TRUNC : 0) | (late ? VRAW_BLOB_LATE : 0);
        /* The frame mask's address is the entry's stack pointer, which
         * the return does not have: never retried. */
        if (fault && c->kind != VSYS_CAP_FRAME_MASK)
            *faulted |= (uint8_t)(1u << i);
        used += VRAW_ALIGN(sizeof *b + n);
        (*nblobs)++;
    }
    return used;
}

/* After a successful execve the path's old page is gone, but the kernel
 * copied the path onto the new stack: argc, argv[], NULL, envp[], NULL, then
 * the auxiliary vector, whose AT_EXECFN entry points at it. Append it as a
 * late capture of argument `argi`. */
#define AT_EXECFN 31
uint32_t capture_exec_path(struct vcpu *v, uint64_t sp, uint8_t argi,
                           uint8_t *at, uint32_t *nblobs)
{
    uint64_t w, p = sp + 8, fn = 0;
    if (!mem(v, sp, &w, 8) || w > 4096)
        return 0;
    p += 8 * (w + 1);                             /* argv and its NULL */
    for (unsigned i = 0; i < 8192; i++, p += 8) { /* envp */
        if (!mem(v, p, &w, 8))
            return 0;
        if (w == 0)
            break;
    }
    p += 8;
    for (unsigned i = 0; i < 64 && fn == 0; i++, p += 16) { /* auxv */
        uint64_t kv[2];
        if (!mem(v, p, kv, sizeof kv) || kv[0] == 0)
            return 0;
        if (kv[0] == AT_EXECFN)
            fn = kv[1];
    }
    struct vraw_blob *b = (struct vraw_blob *)at;
    bool fault;
    uint32_t n =
        capture_read(v, fn, (uint8_t *)(b + 1), limits.str_max, true, &fault);
    if (fault || n == 0)
        return 0;
    b->argi = argi;
    b->kind = VSYS_CAP_STR;
    b->len = (uint16_t)n;
    b->flags =
        VRAW_BLOB_LATE | (((uint8_t *)(b + 1))[n - 1] ? VRAW_BLOB_TRUNC : 0);
    (*nblobs)++;
    return VRAW_ALIGN(sizeof *b + n);
}
