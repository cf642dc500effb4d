/* Which file a write goes to, asked of the guest kernel (--callers,
 * docs/callers.md): when a traced thread writes on a descriptor open on
 * another process's memory file (/proc/PID/mem), however it got the
 * descriptor (any path, a symbolic link, SCM_RIGHTS, before the trace
 * began), the entry record carries a VSYS_CAP_FILEMEM blob naming the
 * memory written (struct vsys_filemem). Runs on vCPU threads: bounded
 * guest reads, no locks, no allocation. */
#ifndef VIGIL_PLUGIN_FDMEM_H
#define VIGIL_PLUGIN_FDMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu.h"
#include "vigil/ring.h"

/* Off unless @on and the profile gave every offset (cfg->fdmem). */
void fdmem_setup(const struct vring_config *cfg, bool on);

/* Before each traced call's entry: calls that can make a task_struct
 * another's, or change its file table, renew what is remembered. */
void fdmem_before_call(uint64_t nr, bool compat);

/* Bytes the entry record of call @nr needs for the blob: 0 for every call
 * but the write family (write, pwrite64, writev, pwritev, pwritev2). */
uint32_t fdmem_room(uint64_t nr, bool compat);

/* For a call fdmem_room() gave room to: when descriptor @fd of @task is
 * /proc/PID/mem, writes the blob at @dst and returns its size; else (or
 * when guest memory cannot be read) 0. Costs two guest reads when the
 * descriptor is another file (task->files remembered per vCPU, one read
 * of files_struct from fdt to the entry, the file's f_op), three more
 * for a process with more descriptors than files_struct holds. */
uint32_t fdmem_capture(struct vcpu *v, uint64_t task, uint64_t fd,
                       uint8_t *dst);

#endif
