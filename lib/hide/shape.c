/* The calls vigil runs for hidden processes, and how their arguments
 * travel (see vigil/hide.h). x86-64 numbers: the guest and the host share
 * the ABI, so the executor issues the same calls. */
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>

#include "vigil/hide.h"

#define FD(i) (1u << (i))
#define NOPTR                                                                  \
    {                                                                          \
        -1, 0, 0, 0, 0                                                         \
    }
#define BUF_IN(a, l)                                                           \
    {                                                                          \
        a, VHIDE_IN, VHIDE_LEN_ARG, l, 0                                       \
    }
#define BUF_OUT(a, l)                                                          \
    {                                                                          \
        a, VHIDE_OUT, VHIDE_LEN_ARG, l, 0                                      \
    }
#define ADDR_IN BUF_IN
#define ADDR_OUT(a, l)                                                         \
    {                                                                          \
        a, VHIDE_OUT, VHIDE_LEN_SOCKLEN, l, 0                                  \
    }
#define SOCKLEN(a)                                                             \
    {                                                                          \
        a, VHIDE_INOUT, VHIDE_LEN_FIXED, -1, 4                                 \
    }
#define FIXED_OUT(a, n)                                                        \
    {                                                                          \
        a, VHIDE_OUT, VHIDE_LEN_FIXED, -1, n                                   \
    }

static const struct vhide_shape shapes[] = {
    /* name      nargs fds   new   bounded ptrs */
    [SYS_read] = {"read", 3, FD(0), 0, 1, {BUF_OUT(1, 2), NOPTR, NOPTR}, 0},
    [SYS_write] = {"write", 3, FD(0), 0, 0, {BUF_IN(1, 2), NOPTR, NOPTR}, 0},
    [SYS_close] = {"close", 1, FD(0), 0, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [SYS_poll] = {"poll", 3, 0, 0, 0, {NOPTR, NOPTR, NOPTR}, 1},
    [SYS_ioctl] = {"ioctl", 3, FD(0), 0, 0, {FIXED_OUT(2, 4), NOPTR, NOPTR}, 0},
    [SYS_readv] = {"readv", 3, FD(0), 0, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [SYS_writev] = {"writev", 3, FD(0), 0, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [SYS_dup] = {"dup", 1, FD(0), 1, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [SYS_dup2] = {"dup2", 2, FD(0), 1, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [SYS_socket] = {"socket", 3, 0, 1, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [SYS_connect] =
        {"connect", 3, FD(0), 0, 0, {ADDR_IN(1, 2), NOPTR, NOPTR}, 0},
    [SYS_accept] =
        {"accept", 3, FD(0), 1, 0, {ADDR_OUT(1, 2), SOCKLEN(2), NOPTR}, 0},
    [SYS_sendto] =
        {"sendto", 6, FD(0), 0, 0, {BUF_IN(1, 2), ADDR_IN(4, 5), NOPTR}, 0},
    [SYS_recvfrom] = {"recvfrom",
                      6,
                      FD(0),
                      0,
                      1,
                      {BUF_OUT(1, 2), ADDR_OUT(4, 5), SOCKLEN(5)},
                      0},
    [SYS_sendmsg] = {"sendmsg", 3, FD(0), 0, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [SYS_recvmsg] = {"recvmsg", 3, FD(0), 0, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [SYS_shutdown] = {"shutdown", 2, FD(0), 0, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [SYS_bind] = {"bind", 3, FD(0), 0, 0, {ADDR_IN(1, 2), NOPTR, NOPTR}, 0},
    [SYS_listen] = {"listen", 2, FD(0), 0, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [51] =
        {"getsockname", 3, FD(0), 0, 0, {ADDR_OUT(1, 2), SOCKLEN(2), NOPTR}, 0},
    [52] =
        {"getpeername", 3, FD(0), 0, 0, {ADDR_OUT(1, 2), SOCKLEN(2), NOPTR}, 0},
    [SYS_setsockopt] =
        {"setsockopt", 5, FD(0), 0, 0, {BUF_IN(3, 4), NOPTR, NOPTR}, 0},
    [55] =
        {"getsockopt", 5, FD(0), 0, 0, {ADDR_OUT(3, 4), SOCKLEN(4), NOPTR}, 0},
    [SYS_fcntl] = {"fcntl", 3, FD(0), 0, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [SYS_epoll_wait] = {"epoll_wait", 4, 0, 0, 0, {NOPTR, NOPTR, NOPTR}, 1},
    [SYS_epoll_ctl] = {"epoll_ctl", 4, 0, 0, 0, {NOPTR, NOPTR, NOPTR}, 1},
    [SYS_ppoll] = {"ppoll", 5, 0, 0, 0, {NOPTR, NOPTR, NOPTR}, 1},
    [SYS_epoll_pwait] = {"epoll_pwait", 6, 0, 0, 0, {NOPTR, NOPTR, NOPTR}, 1},
    [SYS_accept4] =
        {"accept4", 4, FD(0), 1, 0, {ADDR_OUT(1, 2), SOCKLEN(2), NOPTR}, 0},
    [SYS_dup3] = {"dup3", 3, FD(0), 1, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [SYS_recvmmsg] = {"recvmmsg", 5, FD(0), 0, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [SYS_sendmmsg] = {"sendmmsg", 4, FD(0), 0, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [SYS_epoll_pwait2] = {"epoll_pwait2", 6, 0, 0, 0, {NOPTR, NOPTR, NOPTR}, 1},
};

static uint64_t pad8(uint64_t n)
{
    return (n + 7) & ~7ull;
}

bool vhide_msg_at(const uint8_t *data, uint64_t off, struct vhide_msg_at *at)
{
    struct vhide_msg h;
    if (off % 8 != 0 || off > VHIDE_DATA - sizeof h)
        return false;
    memcpy(&h, data + off, sizeof h);
    uint64_t name = off + pad8(sizeof h);
    uint64_t d = name + pad8(h.name_len);
    uint64_t control = d + pad8(h.data_len);
    uint64_t end = control + pad8(h.control_len);
    if (h.name_len > 128 || end > VHIDE_DATA)
        return false;
    *at = (struct vhide_msg_at){(uint32_t)name, (uint32_t)d, (uint32_t)control,
                                (uint32_t)end};
    return true;
}

const struct vhide_shape *vhide_shape(int64_t nr)
{
    if (nr < 0 || (size_t)nr >= sizeof shapes / sizeof *shapes ||
        shapes[nr].name == NULL)
        return NULL;
    return &shapes[nr];
}
