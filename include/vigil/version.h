/* vigil's version: what `vigil --version` prints and what the guest reads
 * back through the identify hypercall (docs/runtime.md). */
#ifndef VIGIL_VERSION_H
#define VIGIL_VERSION_H

#define VIGIL_VERSION "0.10.0"

#endif
