/* vigil-hidden in parts: the suite (suite.c) and the modes beside it
 * (../vigil-hidden.c) share these. */
#ifndef VIGIL_GUEST_HIDDEN_H
#define VIGIL_GUEST_HIDDEN_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>

#define HIDDEN_BASE (1 << 30) /* vigil's hidden descriptors (vigil/hide.h) */

/* The echo server the suite and the bench talk to (tests/echo.py). */
extern struct sockaddr_in server;

/* Lines of @path after its header: sockets the guest kernel knows. */
int proc_lines(const char *path);
/* Entries of /proc/self/fd that are sockets. */
int socket_fds(void);
/* A TCP connection to `server`, or -1 with errno. */
int tcp_to_server(void);
/* Exactly @len bytes from @fd: NULL, or why not. */
const char *read_all(int fd, char *buf, size_t len);

/* A case's failure: FAILF("...") returns the text from the case, TRY(x)
 * fails when x is negative, with errno's text. */
extern char why[256];
#define FAILF(...)                                                             \
    do {                                                                       \
        snprintf(why, sizeof why, __VA_ARGS__);                                \
        return why;                                                            \
    } while (0)
#define TRY(x)                                                                 \
    do {                                                                       \
        if ((x) < 0)                                                           \
            FAILF("%s: %s", #x, strerror(errno));                              \
    } while (0)

/* The cases that wait for a hidden socket (waits.c): NULL or why not. */
const char *t_poll(int fd);
const char *t_poll_mixed(int fd);
const char *t_epoll(int fd);
const char *t_slow(int fd);
const char *t_signal(int fd);

/* Every socket call a service makes against the echo server at IP:PORT,
 * one "ok NAME" or "FAIL NAME: why" line each; @self is the program, run
 * again by the exec case (after_exec). The exit status. */
int suite(const char *self, const char *ip, int port);
int after_exec(int keep, int gone);

#endif
