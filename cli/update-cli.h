/* vigil update's subcommands, in cmd-update.c (bundles) and update-net.c
 * (the network), and the helpers they share. */
#ifndef VIGIL_CLI_UPDATE_CLI_H
#define VIGIL_CLI_UPDATE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vigil/update.h"

void update_usage(FILE *f);

/* Read @path (at most @max bytes) into a malloc'd *buf; on failure print
 * "@what @path: reason" and return a negative errno. */
int update_read_named(const char *what, const char *path, size_t max,
                      uint8_t **buf, size_t *len);

/* A decimal number without sign; false when @s is not one. */
bool update_parse_u64(const char *s, uint64_t *out);

/* The trusted minisign public keys in the @n files @paths; -1 after
 * printing why one is unusable. */
int update_load_keys(char *const *paths, size_t n, struct vupd_key *keys);

int cmd_update_send(int argc, char **argv);
int cmd_update_listen(int argc, char **argv);
int cmd_update_flood(int argc, char **argv);

#endif
