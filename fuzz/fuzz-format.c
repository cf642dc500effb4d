/* libFuzzer: build a struct vigil_syscall from the input (number, ABI,
 * arguments, result, state and up to six captures of arbitrary bytes and
 * lengths) and format it both ways into a heap buffer of an input-chosen
 * size, so that ASan sees any write past it. The output must be the same
 * as into a large buffer, or -ENOSPC. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format-input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Arguments: a selector byte picks a small, negative or full-width value so
 * that short inputs still reach the symbolic decoders. */
static uint64_t take_arg(struct input *in)
{
    uint8_t sel = (uint8_t)take(in, 1);

    switch (sel & 3) {
    case 0:
        return sel >> 2;
    case 1:
        return (uint64_t) - (int64_t)(sel >> 2);
    case 2:
        return take(in, 4);
    default:
        return take(in, 8);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    struct vigil_syscall ev;
    uint8_t flags;
    size_t outsize;

    memset(&ev, 0, sizeof(ev));
    flags = (uint8_t)take(&in, 1);
    ev.compat = flags & 1;
    ev.state = (enum vigil_sc_state)((flags >> 1) % 3);
    ev.nr = flags & 0x80 ? take(&in, 8) : take(&in, 2) % 512;
    for (int i = 0; i < 6; i++)
        ev.args[i] = take_arg(&in);
    ev.ret = (int64_t)take_arg(&in);
    ev.tid = (int32_t)take(&in, 2);
    ev.tgid = ev.tid;
    ev.ts_enter_ns = take(&in, 2);
    ev.ts_exit_ns = take(&in, 2);
    ev.ip = take(&in, 3);
    memcpy(ev.comm, "fuzz\xff\"", 7);
    outsize = (size_t)take(&in, 2) % 4096;
    ev.ncaps = (unsigned)take(&in, 1) % 7;
    for (unsigned k = 0; k < ev.ncaps; k++) {
        struct vigil_capture *c = &ev.caps[k];
        uint8_t cf = (uint8_t)take(&in, 1);
        size_t len = (size_t)take(&in, 2) % 1024;

        c->argi = (uint8_t)take(&in, 1) % 8;
        c->kind = (uint8_t)(cf % 7);
        c->at_exit = cf & 0x10;
        c->fault = cf & 0x20;
        c->trunc = cf & 0x40;
        if (len > in.n)
            len = in.n;
        c->len = (uint16_t)len;
        c->data = in.p;
        in.p += len;
        in.n -= len;
    }
    check(&ev, outsize, false);
    check(&ev, outsize, true);
    return 0;
}
