/* A minimal QMP client: just enough to take a guest's network link down. */
#ifndef VIGIL_NBD_QMP_H
#define VIGIL_NBD_QMP_H

#include <stdbool.h>
#include <stddef.h>

/*
 * nbd_qmp_set_link: connect to the QMP unix socket @path, negotiate
 * capabilities and run {"execute":"set_link","arguments":{"name":@netdev,
 * "up":@up}}.  Every read and write waits at most @timeout_ms.
 * @err, @errlen: on failure, a one-line reason (QEMU's error description
 * when QEMU refused).
 * Return: 0, -ETIMEDOUT, -EPROTO (unexpected reply or QMP error), -ENOMEM,
 * or the -errno of the socket call that failed.
 */
int nbd_qmp_set_link(const char *path, const char *netdev, bool up,
                     int timeout_ms, char *err, size_t errlen);

#endif
