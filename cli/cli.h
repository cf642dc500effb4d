/* The vigil command line: one cmd-<name>.c per subcommand, dispatched from a
 * table in main.c. Only cli/ may print to the terminal or exit. */
#ifndef VIGIL_CLI_H
#define VIGIL_CLI_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "vigil/file.h"

/* Exit codes shared by all subcommands that do not define their own. */
enum {
    VIGIL_EXIT_OK = 0,
    VIGIL_EXIT_USAGE = 2,
    /* `vigil run`: the guest or QEMU failed before the command reported its
     * status. Chosen outside the range a shell command normally uses. */
    VIGIL_EXIT_GUEST = 125,
    /* `vigil run`: the command ran, but the trace asked for is not whole
     * (not written, the plugin never attached, threads that could not be
     * read): its reasons were printed. */
    VIGIL_EXIT_TRACE = 123,
};

int cmd_profile(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_logd(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_update(int argc, char **argv);

/* Print "vigil: <msg>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* clock_gettime(@clock) in nanoseconds. */
uint64_t cli_now_ns(clockid_t clock);

/* Directory holding the vigil binary, to find the plugin and guest image. */
const char *cli_self_dir(void);

#endif
