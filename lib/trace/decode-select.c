/* select's and pselect6's fd sets, timeout and signal mask as strace 6.1
 * shows them: "[3 100]", "{tv_sec=1, tv_usec=500}", "{sigmask=[USR1],
 * sigsetsize=8}", and after the result "(in [3], out [4], left {...})".
 * The capture (VSYS_CAP_FDSETS) is guest-controlled: its set length is
 * checked against its size before anything is read. */
#include "trace/decode.h"

struct fdsets {
    struct vsys_fdsets h;
    const uint8_t *sets, *timeout, *sigarg, *sigset;
};

static bool split(struct fdsets *s, const uint8_t *d, size_t n)
{
    if (!d || n < sizeof s->h)
        return false;
    memcpy(&s->h, d, sizeof s->h);
    if (s->h.set_len > VSYS_FDSET_MAX ||
        n != sizeof s->h + 3u * s->h.set_len + 40)
        return false;
    s->sets = d + sizeof s->h;
    s->timeout = s->sets + 3u * s->h.set_len;
    s->sigarg = s->timeout + 16;
    s->sigset = s->sigarg + 16;
    return true;
}

static bool has(const struct fdsets *s, unsigned bit)
{
    return s->h.have & (1u << bit);
}

/* The descriptors set among the first nfds bits: "[3 100]" or [3,100];
 * at most *left of them when left is not NULL (strace stops after as
 * many as the call returned). */
static void put_set(struct obuf *o, bool json, const uint8_t *set, uint32_t len,
                    int32_t nfds, int64_t *left)
{
    uint32_t bits = (uint32_t)nfds < 8 * len ? (uint32_t)nfds : 8 * len;
    bool first = true;

    ob_putc(o, '[');
    for (uint32_t b = 0; b < bits && !o->full && (!left || *left > 0); b++) {
        if (!(set[b / 8] & (1u << (b % 8))))
            continue;
        if (!first)
            ob_putc(o, json ? ',' : ' ');
        first = false;
        ob_udec(o, b);
        if (left)
            (*left)--;
    }
    ob_putc(o, ']');
}

static void put_timeout(struct obuf *o, bool json, bool pselect,
                        const uint8_t *t)
{
    if (pselect)
        vdec_timespec(o, json, t, 16);
    else
        vdec_timeval(o, json, t, 16);
}

/* pselect6's { const sigset_t *ss; size_t ss_len; } */
static void put_sigarg(struct obuf *o, bool json, const struct fdsets *s)
{
    uint64_t ss = rd64(s->sigarg), len = rd64(s->sigarg + 8);

    ob_puts(o, json ? "{\"sigmask\":" : "{sigmask=");
    if (ss == 0) {
        ob_puts(o, json ? "null" : "NULL");
    } else if (has(s, VSYS_FDS_SIGSET)) {
        vdec_sigset(o, json, s->sigset, 8);
    } else {
        if (json)
            ob_putc(o, '"');
        ob_hex(o, ss);
        if (json)
            ob_putc(o, '"');
    }
    ob_puts(o, json ? ",\"sigsetsize\":" : ", sigsetsize=");
    ob_udec(o, len);
    ob_putc(o, '}');
}

bool vdec_select_arg(struct obuf *o, bool json, unsigned i, uint64_t addr,
                     int32_t nfds, bool pselect, const uint8_t *d, size_t n)
{
    struct fdsets s;

    if (addr == 0 || i < 1 || i > 5 || !split(&s, d, n))
        return false;
    if (i <= 3) {
        if (nfds < 0 || !has(&s, i - 1))
            return false;
        put_set(o, json, s.sets + (i - 1) * s.h.set_len, s.h.set_len, nfds,
                NULL);
    } else if (i == 4) {
        if (!has(&s, VSYS_FDS_TIMEOUT))
            return false;
        put_timeout(o, json, pselect, s.timeout);
    } else {
        if (!has(&s, VSYS_FDS_SIGARG))
            return false;
        put_sigarg(o, json, &s);
    }
    return true;
}

/* ", " between the parts of the result's comment, " (" before the first. */
static void sep(struct obuf *o, bool *first)
{
    ob_puts(o, *first ? " (" : ", ");
    *first = false;
}

void vdec_select_result(struct obuf *o, int64_t ret, const uint64_t args[6],
                        bool pselect, const uint8_t *d, size_t n)
{
    static const char *const names[] = {"in ", "out ", "except "};
    int32_t nfds = (int32_t)args[0];
    struct fdsets s;
    bool first = true;
    int64_t left = ret;

    if (ret == 0) {
        ob_puts(o, " (Timeout)");
        return;
    }
    if (ret < 0 || nfds < 0 || !split(&s, d, n))
        return;
    for (unsigned k = 0; k < 3; k++) {
        const uint8_t *set = s.sets + k * s.h.set_len;
        uint32_t bits = (uint32_t)nfds < 8u * s.h.set_len ? (uint32_t)nfds
                                                          : 8u * s.h.set_len;
        bool any = false;

        if (args[1 + k] == 0 || !has(&s, k) || left <= 0)
            continue;
        for (uint32_t b = 0; b < bits && !any; b++)
            any = set[b / 8] & (1u << (b % 8));
        if (!any)
            continue;
        sep(o, &first);
        ob_puts(o, names[k]);
        put_set(o, false, set, s.h.set_len, nfds, &left);
    }
    if (args[4] != 0 && has(&s, VSYS_FDS_TIMEOUT)) {
        sep(o, &first);
        ob_puts(o, "left ");
        put_timeout(o, false, pselect, s.timeout);
    }
    if (!first)
        ob_putc(o, ')');
}
