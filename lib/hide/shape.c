/* The calls vigil runs for hidden processes, and how their arguments
 * travel (see vigil/hide.h). x86-64 numbers: the guest and the host share
 * the ABI, so the executor issues the same calls. */
#include <stddef.h>

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
#define ADDR_IN(a, l)                                                          \
    {                                                                          \
        a, VHIDE_IN, VHIDE_LEN_ARG, l, 0                                       \
    }
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
    [0] = {"read", 3, FD(0), 0, 1, {BUF_OUT(1, 2), NOPTR, NOPTR}, 0},
    [1] = {"write", 3, FD(0), 0, 0, {BUF_IN(1, 2), NOPTR, NOPTR}, 0},
    [3] = {"close", 1, FD(0), 0, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [7] = {"poll", 3, 0, 0, 0, {NOPTR, NOPTR, NOPTR}, 1},
    [16] = {"ioctl", 3, FD(0), 0, 0, {FIXED_OUT(2, 4), NOPTR, NOPTR}, 0},
    [19] = {"readv", 3, FD(0), 0, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [20] = {"writev", 3, FD(0), 0, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [32] = {"dup", 1, FD(0), 1, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [33] = {"dup2", 2, FD(0), 1, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [41] = {"socket", 3, 0, 1, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [42] = {"connect", 3, FD(0), 0, 0, {ADDR_IN(1, 2), NOPTR, NOPTR}, 0},
    [43] = {"accept", 3, FD(0), 1, 0, {ADDR_OUT(1, 2), SOCKLEN(2), NOPTR}, 0},
    [44] = {"sendto", 6, FD(0), 0, 0, {BUF_IN(1, 2), ADDR_IN(4, 5), NOPTR}, 0},
    [45] = {"recvfrom",
            6,
            FD(0),
            0,
            1,
            {BUF_OUT(1, 2), ADDR_OUT(4, 5), SOCKLEN(5)},
            0},
    [46] = {"sendmsg", 3, FD(0), 0, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [47] = {"recvmsg", 3, FD(0), 0, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [48] = {"shutdown", 2, FD(0), 0, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [49] = {"bind", 3, FD(0), 0, 0, {ADDR_IN(1, 2), NOPTR, NOPTR}, 0},
    [50] = {"listen", 2, FD(0), 0, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [51] =
        {"getsockname", 3, FD(0), 0, 0, {ADDR_OUT(1, 2), SOCKLEN(2), NOPTR}, 0},
    [52] =
        {"getpeername", 3, FD(0), 0, 0, {ADDR_OUT(1, 2), SOCKLEN(2), NOPTR}, 0},
    [54] = {"setsockopt", 5, FD(0), 0, 0, {BUF_IN(3, 4), NOPTR, NOPTR}, 0},
    [55] =
        {"getsockopt", 5, FD(0), 0, 0, {ADDR_OUT(3, 4), SOCKLEN(4), NOPTR}, 0},
    [72] = {"fcntl", 3, FD(0), 0, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [232] = {"epoll_wait", 4, 0, 0, 0, {NOPTR, NOPTR, NOPTR}, 1},
    [233] = {"epoll_ctl", 4, 0, 0, 0, {NOPTR, NOPTR, NOPTR}, 1},
    [271] = {"ppoll", 5, 0, 0, 0, {NOPTR, NOPTR, NOPTR}, 1},
    [281] = {"epoll_pwait", 6, 0, 0, 0, {NOPTR, NOPTR, NOPTR}, 1},
    [288] = {"accept4", 4, FD(0), 1, 0, {ADDR_OUT(1, 2), SOCKLEN(2), NOPTR}, 0},
    [292] = {"dup3", 3, FD(0), 1, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [299] = {"recvmmsg", 5, FD(0), 0, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [307] = {"sendmmsg", 4, FD(0), 0, 0, {NOPTR, NOPTR, NOPTR}, 0},
    [441] = {"epoll_pwait2", 6, 0, 0, 0, {NOPTR, NOPTR, NOPTR}, 1},
};

const struct vhide_shape *vhide_shape(int64_t nr)
{
    if (nr < 0 || (size_t)nr >= sizeof shapes / sizeof *shapes ||
        shapes[nr].name == NULL)
        return NULL;
    return &shapes[nr];
}
