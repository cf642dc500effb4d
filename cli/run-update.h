/* Signed updates for a running vigil (run-update.c): the database under
 * update control, the trusted keys, the UDP listener and the counters.
 * Bundles arrive from the network listener's thread and from the guest's
 * hypercall; one lock orders them. */
#ifndef VIGIL_CLI_RUN_UPDATE_H
#define VIGIL_CLI_RUN_UPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/update.h"

struct run_update;

enum run_update_source { RUN_UPDATE_GUEST, RUN_UPDATE_NET, RUN_UPDATE_SOURCES };

/* Put @db under update control with the minisign public keys in @keys
 * (files), and listen on @listen ("udp://ADDR:PORT", or NULL). Prints why
 * on failure; returns 0 or -1. */
int run_update_start(struct run_update **out, const char *db, char *const *keys,
                     size_t nkeys, const char *listen, size_t max_bundle,
                     bool verbose);

/* The disk filters that scan with the database: after an update, the
 * sender is answered once each of them says (through its status file)
 * that it scans with the new one. @paths are borrowed. */
void run_update_set_filters(struct run_update *u, const char *const *paths,
                            size_t n);

/* Verify and apply one bundle; *version gets the version now in force, and
 * @msg one line saying what happened. Thread-safe. */
enum vupd_reason run_update_offer(struct run_update *u,
                                  enum run_update_source from, const void *buf,
                                  size_t len, uint64_t *version, char *msg,
                                  size_t msglen);

/* Stop the listener, print the counters (always: they are the record of
 * what was refused), free. NULL is ignored. */
void run_update_stop(struct run_update *u);

#endif
