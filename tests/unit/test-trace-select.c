/* select's and pselect6's FDSETS captures (laid out as vigil/syscalls.h
 * says, built here as plugin/capture-select.c lays them out) formatted as
 * strace 6.1 showed the same calls on the host: the sets at entry, the
 * timeout, pselect6's mask argument, and after the result the sets and
 * time left at the return; unreadable parts and a malformed capture. */
#undef NDEBUG
#include <stdio.h>
#include <string.h>

#include "vigil/event.h"

#include "check.h"
#include "evcheck.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

/* One capture: the three sets (128 bits each here), the timeout, the
 * sigmask argument and set; `have`/`fault` as in struct vsys_fdsets. */
struct fds_spec {
    uint64_t set[3][2];
    int64_t t[2];
    uint64_t sigarg[2], sigset;
    uint8_t have, fault;
    int16_t set_len; /* -1: as the plugin computes it from nfds */
};

#define S0 (1u << 0)
#define S1 (1u << 1)
#define S2 (1u << 2)
#define TO (1u << VSYS_FDS_TIMEOUT)
#define SA (1u << VSYS_FDS_SIGARG)
#define SS (1u << VSYS_FDS_SIGSET)

static size_t build(uint8_t *out, int32_t nfds, const struct fds_spec *s)
{
    uint32_t len = nfds > 0 ? ((uint32_t)nfds + 63) / 64 * 8 : 0;
    struct vsys_fdsets h = {0, s->have, s->fault, 0};
    uint8_t *p = out + sizeof h;

    if (s->set_len >= 0)
        len = (uint32_t)s->set_len;
    h.set_len = (uint16_t)len;
    memcpy(out, &h, sizeof h);
    for (unsigned k = 0; k < 3; k++, p += len)
        memcpy(p, s->set[k], len < 16 ? len : 16);
    memcpy(p, s->t, 16);
    memcpy(p + 16, s->sigarg, 16);
    memcpy(p + 32, &s->sigset, 8);
    return sizeof h + 3 * len + 40;
}

struct row {
    uint64_t nr; /* 23 select, 270 pselect6 */
    int64_t ret;
    uint64_t a[6];
    const struct fds_spec *in, *out; /* NULL: not captured */
    const char *text;
    const char *json; /* a fragment, or NULL */
};

#define R  0x7ffd1000ull /* the sets' addresses */
#define W  0x7ffd1080ull
#define E  0x7ffd1100ull
#define T  0x7ffd1180ull
#define SM 0x7ffd1200ull

static const struct fds_spec in1 = {.set = {{8}, {16}, {1}},
                                    .t = {1, 500},
                                    .have = S0 | S1 | S2 | TO,
                                    .set_len = -1};
static const struct fds_spec out1 = {.set = {{8}, {16}, {0}},
                                     .t = {1, 495},
                                     .have = S0 | S1 | S2 | TO,
                                     .set_len = -1};
static const struct fds_spec in2 = {
    .set = {{16}}, .t = {0, 1000}, .have = S0 | TO, .set_len = -1};
static const struct fds_spec only_t = {.have = TO, .set_len = -1};
static const struct fds_spec in4 = {.set = {{8}}, .have = S0, .set_len = -1};
static const struct fds_spec bad_set = {.fault = S0, .set_len = -1};
static const struct fds_spec bad_t = {
    .set = {{8}}, .have = S0, .fault = TO, .set_len = -1};
/* the kernel wrote back fewer longs than asked: bit 100 is still the
 * input's, and strace shows no more descriptors than the result */
static const struct fds_spec out100 = {
    .set = {{8, 1ull << 36}}, .have = S0 | TO, .set_len = -1};
static const struct fds_spec in100 = {
    .set = {{8, 1ull << 36}}, .have = S0 | TO, .set_len = -1};
static const struct fds_spec p_in = {.set = {{8}},
                                     .t = {0, 5000},
                                     .sigarg = {0x7ffd2000, 8},
                                     .sigset = 1u << 9,
                                     .have = S0 | TO | SA | SS,
                                     .set_len = -1};
static const struct fds_spec p_out = {
    .set = {{8}}, .t = {0, 3687}, .have = S0 | TO, .set_len = -1};
static const struct fds_spec p_nomask = {
    .set = {{16}}, .t = {0, 3687}, .have = S0 | TO, .set_len = -1};
static const struct fds_spec p_nullss = {
    .t = {0, 0}, .sigarg = {0, 8}, .have = S0 | TO | SA, .set_len = -1};
static const struct fds_spec p_badss = {
    .sigarg = {8, 8}, .have = S0 | TO | SA, .fault = SS, .set_len = -1};
static const struct fds_spec p_badarg = {
    .have = S0 | TO, .fault = SA, .set_len = -1};
static const struct fds_spec p_two = {
    .set = {{8}, {2}}, .have = S0 | S1, .set_len = -1};
/* malformed: a set longer than VSYS_FDSET_MAX */
static const struct fds_spec lying = {.set = {{8}}, .have = S0, .set_len = 200};

static const struct row rows[] = {
    {23,
     2,
     {5, R, W, E, T},
     &in1,
     &out1,
     "select(5, [3], [4], [0], {tv_sec=1, tv_usec=500}) = 2 (in [3], out "
     "[4], left {tv_sec=1, tv_usec=495})",
     "\"decoded\":[5,[3],[4],[0],{\"sec\":1,\"usec\":500}]"},
    {23,
     0,
     {5, R, 0, 0, T},
     &in2,
     &only_t,
     "select(5, [4], NULL, NULL, {tv_sec=0, tv_usec=1000}) = 0 (Timeout)",
     NULL},
    {23,
     0,
     {0, 0, 0, 0, T},
     &only_t,
     &only_t,
     "select(0, NULL, NULL, NULL, {tv_sec=0, tv_usec=0}) = 0 (Timeout)",
     NULL},
    {23,
     1,
     {4, R, 0, 0, 0},
     &in4,
     &in4,
     "select(4, [3], NULL, NULL, NULL) = 1 (in [3])",
     NULL},
    {23,
     -14,
     {4, 8, 0, 0, 0},
     &bad_set,
     NULL,
     "select(4, 0x8, NULL, NULL, NULL) = -1 EFAULT (Bad address)",
     NULL},
    {23,
     -14,
     {4, R, 0, 0, 8},
     &bad_t,
     NULL,
     "select(4, [3], NULL, NULL, 0x8) = -1 EFAULT (Bad address)",
     NULL},
    {23,
     -22,
     {(uint32_t)-1, 0x7fffd96a9030, 0, 0, 0},
     &only_t,
     NULL,
     "select(-1, 0x7fffd96a9030, NULL, NULL, NULL) = -1 EINVAL (Invalid "
     "argument)",
     NULL},
    {23,
     -9,
     {101, R, 0, 0, T},
     &in100,
     NULL,
     "select(101, [3 100], NULL, NULL, {tv_sec=0, tv_usec=0}) = -1 EBADF "
     "(Bad file descriptor)",
     "[101,[3,100],null,null,{\"sec\":0,\"usec\":0}]"},
    {23,
     1,
     {101, R, 0, 0, T},
     &in100,
     &out100,
     "select(101, [3 100], NULL, NULL, {tv_sec=0, tv_usec=0}) = 1 (in [3], "
     "left {tv_sec=0, tv_usec=0})",
     NULL},
    {270,
     1,
     {4, R, 0, 0, T, SM},
     &p_in,
     &p_out,
     "pselect6(4, [3], NULL, NULL, {tv_sec=0, tv_nsec=5000}, "
     "{sigmask=[USR1], sigsetsize=8}) = 1 (in [3], left {tv_sec=0, "
     "tv_nsec=3687})",
     "{\"sigmask\":[\"SIGUSR1\"],\"sigsetsize\":8}"},
    {270,
     0,
     {5, R, 0, 0, T, 0},
     &p_nomask,
     &p_nomask,
     "pselect6(5, [4], NULL, NULL, {tv_sec=0, tv_nsec=3687}, NULL) = 0 "
     "(Timeout)",
     NULL},
    {270,
     0,
     {5, R, 0, 0, T, SM},
     &p_nullss,
     &p_nullss,
     "pselect6(5, [], NULL, NULL, {tv_sec=0, tv_nsec=0}, {sigmask=NULL, "
     "sigsetsize=8}) = 0 (Timeout)",
     NULL},
    {270,
     -14,
     {5, R, 0, 0, T, SM},
     &p_badss,
     NULL,
     "pselect6(5, [], NULL, NULL, {tv_sec=0, tv_nsec=0}, {sigmask=0x8, "
     "sigsetsize=8}) = -1 EFAULT (Bad address)",
     NULL},
    {270,
     -14,
     {5, R, 0, 0, T, 8},
     &p_badarg,
     NULL,
     "pselect6(5, [], NULL, NULL, {tv_sec=0, tv_nsec=0}, 0x8) = -1 EFAULT "
     "(Bad address)",
     NULL},
    {270,
     2,
     {4, R, W, 0, 0, 0},
     &p_two,
     &p_two,
     "pselect6(4, [3], [1], NULL, NULL, NULL) = 2 (in [3], out [1])",
     NULL},
    /* no capture at the return (the ring was full): no comment */
    {23,
     1,
     {4, R, 0, 0, 0},
     &in4,
     NULL,
     "select(4, [3], NULL, NULL, NULL) = 1",
     NULL},
    {23,
     1,
     {4, R, 0, 0, 0},
     &lying,
     &lying,
     "select(4, 0x7ffd1000, NULL, NULL, NULL) = 1",
     NULL},
};

static void test_rows(void)
{
    static uint8_t bin[1024], bout[1024];

    for (size_t i = 0; i < NROWS(rows); i++) {
        const struct row *r = &rows[i];
        struct vigil_syscall ev;

        row_event(&ev, r->nr, r->ret, r->a, NROWS(r->a));
        if (r->in)
            row_capture(&ev, 1, VSYS_CAP_FDSETS, false, bin,
                        build(bin, (int32_t)r->a[0], r->in));
        if (r->out)
            row_capture(&ev, 1, VSYS_CAP_FDSETS, true, bout,
                        build(bout, (int32_t)r->a[0], r->out));
        check_event(&ev, i, r->text, r->json);
    }
}

int main(void)
{
    test_rows();
    return failures != 0;
}
