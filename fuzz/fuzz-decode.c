/* libFuzzer: the structure decoders (lib/trace/decode-*.c) on arbitrary
 * capture bytes. The input picks one of the calls whose captures are
 * decoded, its arguments and result, and for each capture of the call's
 * plan (argument, kind and phase as the plugin records them) any bytes,
 * shorter or longer than the structure, faulted or truncated; the event is
 * then formatted both ways into a heap buffer of an input-chosen size, so
 * that ASan sees any read past a capture or write past the buffer. The
 * output must be the same as into a large buffer, or -ENOSPC. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format-input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* x86-64 numbers of the calls with decoded structures. */
static const uint16_t calls[] = {
    4,   5,   6,   13,  14,  15,  35,  43,  51,  52, 56,  61,  63,  96,  97,
    157, 217, 228, 229, 230, 262, 288, 302, 332, 16, 41,  59,  115, 116, 137,
    138, 280, 322, 7,   98,  54,  55,  46,  47,  23, 270, 271, 45,
};

/* Each capture's bytes are copied to a buffer of exactly their length. */
static uint8_t *copies[2 * VSYS_MAX_CAPS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    struct vigil_syscall ev;
    struct vsys_cap plan[VSYS_MAX_CAPS];
    unsigned nplan;
    size_t outsize;

    memset(&ev, 0, sizeof(ev));
    ev.nr = calls[take(&in, 1) % (sizeof(calls) / sizeof(calls[0]))];
    ev.state = VIGIL_SC_DONE;
    for (int i = 0; i < 6; i++) {
        /* small values reach the operations (prctl, sigsetsize) */
        uint8_t sel = (uint8_t)take(&in, 1);
        ev.args[i] = sel & 1 ? take(&in, 8) : sel >> 1;
    }
    ev.ret = (int64_t)(int16_t)take(&in, 2);
    ev.tid = 1;
    outsize = (size_t)take(&in, 2) % 4096;
    nplan = vsys_captures(ev.nr, false, plan);
    for (unsigned k = 0; k < nplan; k++) {
        struct vigil_capture *c = &ev.caps[ev.ncaps];
        uint8_t cf = (uint8_t)take(&in, 1);
        size_t len = (size_t)take(&in, 2) % 512;

        if (cf & 0x80)
            continue; /* not captured (NULL, or a failed call) */
        if (len > in.n)
            len = in.n;
        free(copies[ev.ncaps]);
        copies[ev.ncaps] = malloc(len ? len : 1);
        if (!copies[ev.ncaps])
            return 0;
        memcpy(copies[ev.ncaps], in.p, len);
        in.p += len;
        in.n -= len;
        c->argi = plan[k].argi;
        c->kind = plan[k].kind;
        c->at_exit = plan[k].at_exit;
        c->fault = cf & 1;
        c->trunc = cf & 2;
        c->len = (uint16_t)len;
        c->data = copies[ev.ncaps];
        ev.ncaps++;
    }
    check(&ev, outsize, false);
    check(&ev, outsize, true);
    return 0;
}
