/* The parts of vigil-logsend (tools/logsend.c and tools/logsend/): the
 * helpers the main file shares and the modes that live apart from it. */
#ifndef VIGIL_TOOLS_LOGSEND_H
#define VIGIL_TOOLS_LOGSEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define EXIT_USAGE 2

/* "vigil-logsend: " and the message, on stderr. */
__attribute__((format(printf, 1, 2))) void cli_error(const char *fmt, ...);

/* A UDP socket connected to udp://ADDR:PORT @url; -errno (-EINVAL for a
 * URL that is not UDP) after saying why on stderr. */
int udp_to(const char *url, struct sockaddr_storage *ss, unsigned *sl);

/* Each returns the tool's exit status. */
int do_attack(const char *url, const uint8_t *key);
int do_attack_control(const char *url, const uint8_t *key);
int do_raw(const char *url, uint64_t count, uint64_t mtu, bool gso);
int do_raw_sink(const char *url, uint64_t idle_ms, uint64_t max_s);

#endif
