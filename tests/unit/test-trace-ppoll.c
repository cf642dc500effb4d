/* ppoll's PPOLL captures (laid out as vigil/syscalls.h says, built here as
 * plugin/capture-poll.c lays them out) formatted as strace 6.1 showed the
 * same calls on the host: the array, timeout and signal mask at entry,
 * and after the result the revents and the time left at the return;
 * unreadable parts, a sigsetsize other than 8, more descriptors than a
 * capture holds and a malformed capture. */
#undef NDEBUG
#include <stdio.h>
#include <string.h>

#include "vigil/event.h"

#include "check.h"
#include "evcheck.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

/* One capture: up to 20 struct pollfd {fd, events, revents}, the
 * timespec and the sigset; `have`/`fault` as in struct vsys_ppoll. */
struct pp_spec {
    struct {
        int32_t fd;
        uint16_t events, revents;
    } fds[20];
    int64_t t[2];
    uint64_t sigset;
    uint8_t have, fault;
    int16_t fds_len; /* -1: as the plugin computes it from nfds */
};

#define FD (1u << VSYS_PP_FDS)
#define TO (1u << VSYS_PP_TIMEOUT)
#define SS (1u << VSYS_PP_SIGSET)

static size_t build(uint8_t *out, uint64_t nfds, const struct pp_spec *s)
{
    uint32_t len =
        nfds > VSYS_POLL_MAX ? 8 * VSYS_POLL_MAX : 8 * (uint32_t)nfds;
    struct vsys_ppoll h = {0, s->have, s->fault, 0};

    if (s->fds_len >= 0)
        len = (uint32_t)s->fds_len;
    h.fds_len = (uint16_t)len;
    memcpy(out, &h, sizeof h);
    memcpy(out + sizeof h, s->fds, len < sizeof s->fds ? len : sizeof s->fds);
    memcpy(out + sizeof h + len, s->t, 16);
    memcpy(out + sizeof h + len + 16, &s->sigset, 8);
    return sizeof h + len + 24;
}

struct row {
    int64_t ret;
    uint64_t a[5];
    const struct pp_spec *in, *out; /* NULL: not captured */
    const char *text;
    const char *json; /* a fragment, or NULL */
};

#define A  0x7ffd1000ull /* the array */
#define T  0x7ffd1100ull
#define SM 0x7ffd1200ull

static const struct pp_spec in1 = {.fds = {{3, 1, 0}, {4, 5, 0}, {-1, 1, 0}},
                                   .t = {1, 500},
                                   .sigset = 1u << 9,
                                   .have = FD | TO | SS,
                                   .fds_len = -1};
static const struct pp_spec out1 = {.fds = {{3, 1, 1}, {4, 5, 4}, {-1, 1, 0}},
                                    .t = {0, 999997415},
                                    .have = FD | TO,
                                    .fds_len = -1};
static const struct pp_spec in2 = {
    .fds = {{4, 1, 0}}, .have = FD | TO, .fds_len = -1};
static const struct pp_spec in3 = {
    .fds = {{3, 1, 0}, {4, 5, 0}}, .have = FD, .fds_len = -1};
static const struct pp_spec out3 = {
    .fds = {{3, 1, 1}, {4, 5, 4}}, .have = FD, .fds_len = -1};
static const struct pp_spec bad_fds = {.have = TO, .fault = FD, .fds_len = -1};
static const struct pp_spec bad_t = {
    .fds = {{3, 1, 0}}, .have = FD, .fault = TO, .fds_len = -1};
static const struct pp_spec bad_ss = {
    .fds = {{4, 1, 0}}, .have = FD | TO, .fault = SS, .fds_len = -1};
static const struct pp_spec in1ms = {.fds = {{4, 1, 0}},
                                     .t = {0, 1000000},
                                     .sigset = 1u << 9,
                                     .have = FD | TO | SS,
                                     .fds_len = -1};
static const struct pp_spec in2s = {
    .fds = {{4, 1, 0}}, .t = {0, 2000000000}, .have = FD | TO, .fds_len = -1};
static const struct pp_spec only_t = {.have = TO, .fds_len = -1};
static const struct pp_spec in20 = {.fds = {{3, 1, 0},
                                            {3, 1, 0},
                                            {3, 1, 0},
                                            {3, 1, 0},
                                            {3, 1, 0},
                                            {3, 1, 0},
                                            {3, 1, 0},
                                            {3, 1, 0},
                                            {3, 1, 0},
                                            {3, 1, 0},
                                            {3, 1, 0},
                                            {3, 1, 0},
                                            {3, 1, 0},
                                            {3, 1, 0},
                                            {3, 1, 0},
                                            {3, 1, 0}},
                                    .have = FD | TO,
                                    .fds_len = -1};
static const struct pp_spec out20 = {.fds = {{3, 1, 1},
                                             {3, 1, 1},
                                             {3, 1, 1},
                                             {3, 1, 1},
                                             {3, 1, 1},
                                             {3, 1, 1},
                                             {3, 1, 1},
                                             {3, 1, 1},
                                             {3, 1, 1},
                                             {3, 1, 1},
                                             {3, 1, 1},
                                             {3, 1, 1},
                                             {3, 1, 1},
                                             {3, 1, 1},
                                             {3, 1, 1},
                                             {3, 1, 1}},
                                     .have = FD | TO,
                                     .fds_len = -1};
/* malformed: an array length that is not the rest of the capture */
static const struct pp_spec lying = {
    .fds = {{3, 1, 0}}, .have = FD | TO, .fds_len = 200};

#define P16                                                                    \
    "{fd=3, events=POLLIN}, {fd=3, events=POLLIN}, {fd=3, events=POLLIN}, "    \
    "{fd=3, events=POLLIN}, {fd=3, events=POLLIN}, {fd=3, events=POLLIN}, "    \
    "{fd=3, events=POLLIN}, {fd=3, events=POLLIN}, {fd=3, events=POLLIN}, "    \
    "{fd=3, events=POLLIN}, {fd=3, events=POLLIN}, {fd=3, events=POLLIN}, "    \
    "{fd=3, events=POLLIN}, {fd=3, events=POLLIN}, {fd=3, events=POLLIN}, "    \
    "{fd=3, events=POLLIN}"
#define R16                                                                    \
    "{fd=3, revents=POLLIN}, {fd=3, revents=POLLIN}, {fd=3, "                  \
    "revents=POLLIN}, {fd=3, revents=POLLIN}, {fd=3, revents=POLLIN}, "        \
    "{fd=3, revents=POLLIN}, {fd=3, revents=POLLIN}, {fd=3, "                  \
    "revents=POLLIN}, {fd=3, revents=POLLIN}, {fd=3, revents=POLLIN}, "        \
    "{fd=3, revents=POLLIN}, {fd=3, revents=POLLIN}, {fd=3, "                  \
    "revents=POLLIN}, {fd=3, revents=POLLIN}, {fd=3, revents=POLLIN}, "        \
    "{fd=3, revents=POLLIN}"

static const struct row rows[] = {
    {2,
     {A, 3, T, SM, 8},
     &in1,
     &out1,
     "ppoll([{fd=3, events=POLLIN}, {fd=4, events=POLLIN|POLLOUT}, "
     "{fd=-1}], 3, {tv_sec=1, tv_nsec=500}, [USR1], 8) = 2 ([{fd=3, "
     "revents=POLLIN}, {fd=4, revents=POLLOUT}], left {tv_sec=0, "
     "tv_nsec=999997415})",
     "\"decoded\":[[{\"fd\":3,\"events\":\"POLLIN\",\"revents\":\"POLLIN\"},"
     "{\"fd\":4,\"events\":\"POLLIN|POLLOUT\",\"revents\":\"POLLOUT\"},{"
     "\"fd\":-1,\"events\":\"POLLIN\",\"revents\":\"0\"}],3,{\"sec\":1,"
     "\"nsec\":500},[\"SIGUSR1\"],8]"},
    {0,
     {A, 1, T, 0, 8},
     &in2,
     &in2,
     "ppoll([{fd=4, events=POLLIN}], 1, {tv_sec=0, tv_nsec=0}, NULL, 8) = 0 "
     "(Timeout)",
     NULL},
    {2,
     {A, 2, 0, 0, 8},
     &in3,
     &out3,
     "ppoll([{fd=3, events=POLLIN}, {fd=4, events=POLLIN|POLLOUT}], 2, NULL, "
     "NULL, 8) = 2 ([{fd=3, revents=POLLIN}, {fd=4, revents=POLLOUT}])",
     "\"decoded\":[[{\"fd\":3,\"events\":\"POLLIN\",\"revents\":\"POLLIN\"},"
     "{\"fd\":4,\"events\":\"POLLIN|POLLOUT\",\"revents\":\"POLLOUT\"}],2,"
     "null,null,8]"},
    {-14,
     {8, 1, T, 0, 8},
     &bad_fds,
     NULL,
     "ppoll(0x8, 1, {tv_sec=0, tv_nsec=0}, NULL, 8) = -1 EFAULT (Bad "
     "address)",
     NULL},
    {-14,
     {A, 1, 8, 0, 8},
     &bad_t,
     NULL,
     "ppoll([{fd=3, events=POLLIN}], 1, 0x8, NULL, 8) = -1 EFAULT (Bad "
     "address)",
     NULL},
    {-14,
     {A, 1, T, 8, 8},
     &bad_ss,
     NULL,
     "ppoll([{fd=4, events=POLLIN}], 1, {tv_sec=0, tv_nsec=0}, 0x8, 8) = -1 "
     "EFAULT (Bad address)",
     NULL},
    /* strace reads a sigset only of the kernel's size */
    {-22,
     {A, 1, T, 0x7ffd0aec0cb8, 4},
     &in2,
     NULL,
     "ppoll([{fd=4, events=POLLIN}], 1, {tv_sec=0, tv_nsec=0}, "
     "0x7ffd0aec0cb8, 4) = -1 EINVAL (Invalid argument)",
     NULL},
    {0,
     {0, 0, T, 0, 8},
     &only_t,
     &only_t,
     "ppoll(NULL, 0, {tv_sec=0, tv_nsec=0}, NULL, 8) = 0 (Timeout)",
     NULL},
    {0,
     {A, 1, T, SM, 8},
     &in1ms,
     &in1ms,
     "ppoll([{fd=4, events=POLLIN}], 1, {tv_sec=0, tv_nsec=1000000}, [USR1], "
     "8) = 0 (Timeout)",
     NULL},
    {-22,
     {A, 1, T, 0, 8},
     &in2s,
     NULL,
     "ppoll([{fd=4, events=POLLIN}], 1, {tv_sec=0, tv_nsec=2000000000}, "
     "NULL, 8) = -1 EINVAL (Invalid argument)",
     NULL},
    /* 20 descriptors: a capture holds 16 (strace shows all 20) */
    {20,
     {A, 20, T, 0, 8},
     &in20,
     &out20,
     "ppoll([" P16 ", ...], 20, {tv_sec=0, tv_nsec=0}, NULL, 8) = 20 ([" R16
     ", ...], left {tv_sec=0, tv_nsec=0})",
     NULL},
    /* no capture at the return (the ring was full): no comment */
    {2,
     {A, 3, T, SM, 8},
     &in1,
     NULL,
     "ppoll([{fd=3, events=POLLIN}, {fd=4, events=POLLIN|POLLOUT}, "
     "{fd=-1}], 3, {tv_sec=1, tv_nsec=500}, [USR1], 8) = 2",
     NULL},
    {1,
     {A, 1, T, 0, 8},
     &lying,
     &lying,
     "ppoll(0x7ffd1000, 1, 0x7ffd1100, NULL, 8) = 1",
     NULL},
};

static void test_rows(void)
{
    static uint8_t bin[1024], bout[1024];

    for (size_t i = 0; i < NROWS(rows); i++) {
        const struct row *r = &rows[i];
        struct vigil_syscall ev;

        row_event(&ev, 271, r->ret, r->a, NROWS(r->a));
        if (r->in)
            row_capture(&ev, 0, VSYS_CAP_PPOLL, false, bin,
                        build(bin, (uint32_t)r->a[1], r->in));
        if (r->out)
            row_capture(&ev, 0, VSYS_CAP_PPOLL, true, bout,
                        build(bout, (uint32_t)r->a[1], r->out));
        check_event(&ev, i, r->text, r->json);
    }
}

int main(void)
{
    test_rows();
    return failures != 0;
}
