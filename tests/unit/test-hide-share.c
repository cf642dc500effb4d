/* lib/hide/share.c: copies of host sockets from the executor to the
 * plugin, over a real unix socket, with real descriptors. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "hide/share.h"

int main(void)
{
    struct hshare *h = NULL;
    char path[112] = "";
    CHECK(hshare_listen(&h, path, sizeof path) == 0 && path[0] == '/',
          "the executor listens at %s", path);
    struct stat st;
    char dir[112];
    snprintf(dir, sizeof dir, "%.*s", (int)(strrchr(path, '/') - path), path);
    CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700,
          "in a directory only its user may enter");

    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0)
        return 1;
    struct hshare_msg m = {.tgid = 42, .fd = (1 << 30) + 3, .gen = 7}, got;
    CHECK(!hshare_send(h, &m, pair[0]),
          "nothing is sent before a plugin connects");

    int sock = hshare_connect(path);
    CHECK(sock >= 0, "the plugin connects");
    CHECK(hshare_recv(sock, &got) < 0, "nothing queued: -1 at once");
    CHECK(hshare_send(h, &m, pair[0]), "a copy is sent");
    CHECK(access(path, F_OK) < 0 && access(dir, F_OK) < 0,
          "the path is gone once the plugin is connected");
    CHECK(hshare_connect(path) < 0, "nobody else can connect");

    int copy = hshare_recv(sock, &got);
    CHECK(copy >= 0 && copy != pair[0] && got.tgid == 42 &&
              got.fd == (1 << 30) + 3 && got.gen == 7,
          "the copy arrives with what it is of");
    char c = 0;
    CHECK(copy >= 0 && write(copy, "x", 1) == 1 && read(pair[1], &c, 1) == 1 &&
              c == 'x',
          "the copy is the same socket");
    CHECK(copy >= 0 && (fcntl(copy, F_GETFD) & FD_CLOEXEC),
          "the copy is close-on-exec");
    CHECK(hshare_recv(sock, &got) < 0, "and only one was queued");

    if (copy >= 0)
        close(copy);
    close(sock);
    close(pair[0]);
    close(pair[1]);
    hshare_free(h);
    return failures != 0;
}
