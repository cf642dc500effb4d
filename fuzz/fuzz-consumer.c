/* libFuzzer: the consumer's reading of raw records (lib/trace/consumer.c)
 * as the plugin leaves them in the shared rings (lib/ring/ring.c). Each
 * input is a sequence of records pushed into one of two rings of a real
 * channel file, drained by a fresh consumer between pushes and at the end;
 * every event it hands out is formatted both ways, so the captures it
 * builds from the records are read to their last byte.
 *
 * Record: 1 byte selector (ring index, whether to keep the input's own
 * header or write a plausible one: an entry, exit, note, callers record or
 * memory map (--callers) and size = the record's length), 2 bytes length,
 * then that many bytes (short inputs pad with zeros). Entries and exits pair
 * by the task and tid fields in the data. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil/consumer.h"
#include "vigil/event.h"
#include "vigil/rawrec.h"
#include "vigil/ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NRINGS     2
#define RING_BYTES 65536
#define MAX_REC    (RING_BYTES / 4)

static struct vring_map *ring;
static char line[1 << 18];

static void on_event(const struct vigil_syscall *ev, void *ctx)
{
    (void)ctx;
    if (vigil_syscall_json(ev, line, sizeof line) < 0 ||
        vigil_syscall_text(ev, line, sizeof line) < 0)
        abort(); /* every event fits a 256 KiB line (--callers' branches
                    and the captures of a 16 KiB entry record together) */
}

static struct vring_map *make_ring(void)
{
    char path[] = "/tmp/fuzz-consumer.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    close(fd);
    unlink(path); /* vring_create wants to create it */
    struct vring_map *m = NULL;
    if (vring_create(path, NRINGS, RING_BYTES, NULL, &m) < 0)
        m = NULL;
    unlink(path); /* the mapping stays */
    return m;
}

static void push(struct vcons *c, unsigned i, const uint8_t *rec, uint32_t len,
                 uint8_t sel)
{
    uint8_t buf[MAX_REC];
    memset(buf, 0, sizeof buf);
    memcpy(buf, rec, len);
    len = VRAW_ALIGN(len < sizeof(struct vraw_hdr) ? sizeof(struct vraw_hdr)
                                                   : len);
    if (len > MAX_REC)
        len = MAX_REC;
    if (!(sel & 0x80)) { /* a header the ring accepts */
        struct vraw_hdr *h = (struct vraw_hdr *)buf;
        static const uint16_t types[] = {VRAW_SYS_ENTER, VRAW_SYS_EXIT,
                                         VRAW_NOTE, VRAW_CALLERS, VRAW_VMAS};
        h->type = types[(sel >> 1) % 5];
        h->size = (uint16_t)len;
    }
    void *dst = vring_reserve(ring, i, len);
    if (dst == NULL) { /* full: drain, then once more */
        vcons_poll(c);
        dst = vring_reserve(ring, i, len);
        if (dst == NULL)
            return;
    }
    memcpy(dst, buf, len);
    vring_commit(ring, i, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (ring == NULL && (ring = make_ring()) == NULL)
        return 0;
    struct vigil_select sel = {
        .kind = VIGIL_SEL_ALL, .pid = 0, .name = {0}, .follow_children = 0};
    if (size > 0 && data[0] < 0x40) { /* sometimes a selection by name */
        sel.kind = VIGIL_SEL_EXE;
        snprintf(sel.name, sizeof sel.name, "/bin/sh");
    }
    struct vcons *c = NULL;
    if (vcons_new(&c, ring, &sel, on_event, NULL) < 0)
        return 0;
    size_t pos = 0;
    while (pos + 3 <= size) {
        uint8_t s = data[pos];
        uint32_t len = (uint32_t)data[pos + 1] | (uint32_t)data[pos + 2] << 8;
        pos += 3;
        if (len > MAX_REC)
            len %= MAX_REC;
        if (len > size - pos)
            len = (uint32_t)(size - pos);
        push(c, s & 1, data + pos, len, s);
        pos += len;
        if (s & 0x40)
            vcons_poll(c);
    }
    vcons_finish(c);
    struct vcons_stats st;
    vcons_stats(c, &st);
    vcons_free(c);
    return 0;
}
