/* The plugin's compound captures (plugin/capture-msg.c, capture-select.c,
 * capture-poll.c) follow pointers the guest controls: a msghdr's name,
 * iovec array, each iovec and the control buffer; select's three sets,
 * timeout and pselect6's mask and its sigset; ppoll's array, timeout and
 * sigset (the same six registers). Here the guest's memory is the input:
 * the first 64 bytes are the arguments (a capture's address, recvmsg's
 * result and select's six registers), the rest is readable guest memory at
 * GUEST_BASE; everything else faults. Every capture must stay within the
 * room it asked for. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../plugin/capture-msg.c"
#include "../plugin/capture-poll.c"
#include "../plugin/capture-select.c"

#define GUEST_BASE 0x10000ull

static const uint8_t *guest;
static size_t guest_len;

static bool inside(uint64_t addr, uint64_t len)
{
    return addr >= GUEST_BASE && len <= guest_len &&
           addr - GUEST_BASE <= guest_len - len;
}

/* The plugin's reads, from the fuzzer's guest memory. */
uint32_t capture_read(struct vcpu *v, uint64_t addr, uint8_t *dst, uint32_t max,
                      bool stop_at_nul, bool *fault)
{
    (void)v;
    uint32_t got = 0;
    *fault = false;
    while (got < max) {
        if (!inside(addr + got, 1)) {
            *fault = true;
            break;
        }
        dst[got] = guest[addr + got - GUEST_BASE];
        if (stop_at_nul && dst[got++] == 0)
            break;
        if (!stop_at_nul)
            got++;
    }
    return got;
}

static uint8_t membuf[4096];

bool qemu_plugin_read_memory_vaddr(uint64_t addr, GByteArray *data, size_t len)
{
    if (len > sizeof membuf || !inside(addr, len))
        return false;
    memcpy(membuf, guest + (addr - GUEST_BASE), len);
    data->data = membuf;
    data->len = (guint)len;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum { BUF_MAX = 4096 };
    uint64_t a[8];
    if (size < sizeof a)
        return 0;
    memcpy(a, data, sizeof a);
    guest = data + sizeof a;
    guest_len = size - sizeof a;

    GByteArray buf = {NULL, 0};
    struct vcpu v;
    memset(&v, 0, sizeof v);
    v.buf = &buf;

    uint32_t room = capture_msghdr_room(BUF_MAX);
    uint8_t *out = malloc(room);
    bool fault;
    uint32_t n =
        capture_msghdr(&v, a[0], (int64_t)a[1], BUF_MAX, out, room, &fault);
    if (n > room)
        abort();
    free(out);

    room = capture_fdsets_room();
    out = malloc(room);
    n = capture_fdsets(&v, a + 2, (a[1] & 1) != 0, out, room);
    if (n > room)
        abort();
    free(out);

    room = capture_ppoll_room();
    out = malloc(room);
    n = capture_ppoll(&v, a + 2, (a[1] & 2) != 0, out, room);
    if (n > room)
        abort();
    free(out);
    return 0;
}
