/* ioctl TCGETS: struct termios's four flag words as strace 6.1 shows
 * them without -v (the control characters left as "..."). Its quirks
 * are kept: a word of no flags is empty ("c_iflag=,"), and the delay and
 * size fields before c_oflag's and c_cflag's flags end in "|" even when
 * no flag follows. */
#include "trace/decode.h"

static const struct vsym iflags[] = {
    {0x1, "IGNBRK"},   {0x2, "BRKINT"},     {0x4, "IGNPAR"},   {0x8, "PARMRK"},
    {0x10, "INPCK"},   {0x20, "ISTRIP"},    {0x40, "INLCR"},   {0x80, "IGNCR"},
    {0x100, "ICRNL"},  {0x200, "IUCLC"},    {0x400, "IXON"},   {0x800, "IXANY"},
    {0x1000, "IXOFF"}, {0x2000, "IMAXBEL"}, {0x4000, "IUTF8"},
};
static const struct vsym oflags[] = {
    {0x1, "OPOST"},  {0x2, "OLCUC"},   {0x4, "ONLCR"},  {0x8, "OCRNL"},
    {0x10, "ONOCR"}, {0x20, "ONLRET"}, {0x40, "OFILL"}, {0x80, "OFDEL"},
};
static const struct vsym cflags[] = {
    {0x40, "CSTOPB"},       {0x80, "CREAD"},         {0x100, "PARENB"},
    {0x200, "PARODD"},      {0x400, "HUPCL"},        {0x800, "CLOCAL"},
    {0x40000000, "CMSPAR"}, {0x80000000, "CRTSCTS"},
};
static const struct vsym lflags[] = {
    {0x1, "ISIG"},        {0x2, "ICANON"},    {0x4, "XCASE"},
    {0x8, "ECHO"},        {0x10, "ECHOE"},    {0x20, "ECHOK"},
    {0x40, "ECHONL"},     {0x80, "NOFLSH"},   {0x8000, "IEXTEN"},
    {0x200, "ECHOCTL"},   {0x400, "ECHOPRT"}, {0x800, "ECHOKE"},
    {0x1000, "FLUSHO"},   {0x4000, "PENDIN"}, {0x100, "TOSTOP"},
    {0x10000, "EXTPROC"},
};
/* c_cflag & CBAUD: B0..B38400, then CBAUDEX's rates */
static const char *const bauds[32] = {
    "B0",       "B50",      "B75",      "B110",     "B134",     "B150",
    "B200",     "B300",     "B600",     "B1200",    "B1800",    "B2400",
    "B4800",    "B9600",    "B19200",   "B38400",   "BOTHER",   "B57600",
    "B115200",  "B230400",  "B460800",  "B500000",  "B576000",  "B921600",
    "B1000000", "B1152000", "B1500000", "B2000000", "B2500000", "B3000000",
    "B3500000", "B4000000",
};

#define CBAUD   0x100fu
#define CSIZE   0x30u
#define IBSHIFT 16

static const char *baud(uint32_t c)
{
    c &= CBAUD;
    return bauds[(c & 0xf) | (c & 0x1000 ? 16 : 0)];
}

static void put_oflag(struct obuf *o, uint32_t v)
{
    static const char *const tab[4] = {"TAB0", "TAB1", "TAB2", "XTABS"};

    ob_printf(o, "NL%u|CR%u|%s|BS%u|VT%u|FF%u|", (v >> 8) & 1, (v >> 9) & 3,
              tab[(v >> 11) & 3], (v >> 13) & 1, (v >> 14) & 1, (v >> 15) & 1);
    ob_flags(o, v & ~0xff00u, oflags, VSYS_ARRAY_SIZE(oflags), "");
}

static void put_cflag(struct obuf *o, uint32_t v)
{
    ob_printf(o, "%s|", baud(v));
    if ((v >> IBSHIFT) & CBAUD)
        ob_printf(o, "%s<<IBSHIFT|", baud(v >> IBSHIFT));
    ob_printf(o, "CS%u|", 5 + ((v & CSIZE) >> 4));
    ob_flags(o, v & ~(CBAUD | CSIZE | CBAUD << IBSHIFT), cflags,
             VSYS_ARRAY_SIZE(cflags), "");
}

bool vdec_termios(struct obuf *o, bool json, const uint8_t *d, size_t n)
{
    static const char *const names[4] = {"c_iflag", "c_oflag", "c_cflag",
                                         "c_lflag"};

    if (n < 16)
        return false;
    ob_putc(o, '{');
    for (unsigned k = 0; k < 4; k++) {
        uint32_t v = rd32(d + 4 * k);

        if (k)
            ob_puts(o, json ? "," : ", ");
        ob_printf(o, json ? "\"%s\":\"" : "%s=", names[k]);
        if (k == 0)
            ob_flags(o, v, iflags, VSYS_ARRAY_SIZE(iflags), "");
        else if (k == 1)
            put_oflag(o, v);
        else if (k == 2)
            put_cflag(o, v);
        else
            ob_flags(o, v, lflags, VSYS_ARRAY_SIZE(lflags), "");
        if (json)
            ob_putc(o, '"');
    }
    ob_puts(o, json ? "}" : ", ...}");
    return true;
}
