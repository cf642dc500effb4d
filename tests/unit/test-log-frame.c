/* Unit tests of the log transport's framing (TCP frames, record lengths,
 * the drops record) and the sender's record queue. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "log/queue.h"
#include "vigil/log.h"

static void test_frames(void)
{
    uint8_t buf[3 * (VLOG_FRAME_HDR + 100)];
    memset(buf, 0xaa, sizeof buf);
    vlog_frame_put(buf, 100);
    vlog_frame_put(buf + 104, 64);
    const uint8_t *pkt;
    size_t len, used;
    CHECK(vlog_frame_next(buf, 3, &pkt, &len, &used) == 0,
          "frame: a partial prefix needs more bytes");
    CHECK(vlog_frame_next(buf, 103, &pkt, &len, &used) == 0,
          "frame: a partial packet needs more bytes");
    CHECK(vlog_frame_next(buf, 104, &pkt, &len, &used) == 1 && pkt == buf + 4 &&
              len == 100 && used == 104,
          "frame: a whole frame");
    CHECK(vlog_frame_next(buf + 104, 68, &pkt, &len, &used) == 1 && len == 64 &&
              used == 68,
          "frame: the smallest packet");
    vlog_frame_put(buf, VLOG_OVERHEAD - 1);
    CHECK(vlog_frame_next(buf, sizeof buf, &pkt, &len, &used) == -EBADMSG,
          "frame: below a packet's size is lost framing");
    vlog_frame_put(buf, VLOG_MTU_MAX + 1);
    CHECK(vlog_frame_next(buf, sizeof buf, &pkt, &len, &used) == -EBADMSG,
          "frame: above the largest packet is lost framing");
}

static void test_record_put(void)
{
    uint8_t p[2];
    vlog_record_put(p, 300, false);
    CHECK(p[0] == 1 && p[1] == 44, "record length 300");
    vlog_record_put(p, 300, true);
    CHECK(p[0] == 0x81 && p[1] == 44, "record length with the truncated bit");
}

static void test_drops(void)
{
    char b[128];
    int n = vlog_drops_record(b, sizeof b, 3, 10, "log queue full");
    CHECK(n > 0 && !strcmp(b, "{\"type\":\"drops\",\"records\":3,\"total\":10,"
                              "\"reason\":\"log queue full\"}"),
          "drops record with a reason");
    n = vlog_drops_record(b, sizeof b, 1, 1, NULL);
    CHECK(n > 0 && !strcmp(b, "{\"type\":\"drops\",\"records\":1,\"total\":1}"),
          "drops record without");
    CHECK(vlog_drops_record(b, 10, 1, 1, NULL) == -ENOSPC,
          "drops record: no room");
}

/* Fill the queue until it refuses, drain it, and check that what comes
 * out is what went in, with drops records (small: they fit where a large
 * record did not) accounting for every record refused. */
static void test_queue(void)
{
    struct vlog_queue q;
    CHECK(vlog_queue_init(&q, 1) == 0 && q.cap >= 2 * VLOG_QUEUE_REC_MAX,
          "queue: at least room for the largest record twice");
    static char rec[60000];
    memset(rec, 'r', sizeof rec);
    int pushed = 0, refused = 0;
    for (int i = 0; i < 200; i++) {
        rec[0] = (char)('a' + i % 26);
        if (vlog_queue_push(&q, rec, sizeof rec) == 0)
            pushed++;
        else
            refused++;
    }
    CHECK(pushed > 0 && refused > 0 && pushed + refused == 200 &&
              q.dropped == (uint64_t)refused && q.queued == (uint64_t)pushed,
          "queue: full queue refuses and counts (%d in, %d dropped)", pushed,
          refused);
    struct vlog_queue_cursor c;
    vlog_queue_begin(&q, &c);
    int out = 0, in_order = 1;
    unsigned long long reported = 0, n, total;
    uint32_t len;
    const char *r;
    while ((r = vlog_queue_peek(&q, &c, &len)) != NULL) {
        if (sscanf(r, "{\"type\":\"drops\",\"records\":%llu,\"total\":%llu", &n,
                   &total) == 2) {
            reported += n;
        } else {
            in_order &= len == sizeof rec && r[0] == (char)('a' + out % 26);
            out++;
        }
        vlog_queue_next(&q, &c);
    }
    vlog_queue_commit(&q, &c);
    CHECK(out == pushed && in_order, "queue: records out in order (%d)", out);
    CHECK(vlog_queue_empty(&q), "queue: empty after the commit");
    vlog_queue_push_drops(&q);
    vlog_queue_begin(&q, &c);
    r = vlog_queue_peek(&q, &c, &len);
    if (r != NULL &&
        sscanf(r, "{\"type\":\"drops\",\"records\":%llu,\"total\":%llu", &n,
               &total) == 2)
        reported += n;
    CHECK(reported == (unsigned long long)refused,
          "queue: drops records report every refused record (%llu)", reported);
    vlog_queue_fini(&q);
}

int main(void)
{
    test_frames();
    test_record_put();
    test_drops();
    test_queue();
    return failures != 0;
}
