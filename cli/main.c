/* vigil: entry point and subcommand table. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "vigil/version.h"
#include "vigil/clock.h"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"run", cmd_run, "run a command in a monitored guest"},
    {"profile", cmd_profile, "derive a kernel profile from a bzImage"},
    {"scan", cmd_scan, "scan files against ClamAV-format signatures"},
    {"logd", cmd_logd, "receive event streams from vigil run --log"},
    {"doctor", cmd_doctor, "which QEMU vigil runs and what it allows"},
    {"update", cmd_update, "build, check, apply and send signed updates"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: vigil COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n`vigil COMMAND --help` describes each command.\n");
}

static void vmsg(const char *kind, const char *fmt, va_list ap)
{
    fprintf(stderr, "vigil: %s", kind);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg("error: ", fmt, ap);
    va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg("warning: ", fmt, ap);
    va_end(ap);
}

uint64_t cli_now_ns(clockid_t clock)
{
    return vigil_now_ns(clock);
}

const char *cli_self_dir(void)
{
    static char dir[PATH_MAX];
    if (dir[0] == '\0') {
        ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
        if (n <= 0) {
            snprintf(dir, sizeof dir, ".");
        } else {
            dir[n] = '\0';
            char *slash = strrchr(dir, '/');
            if (slash != NULL)
                *slash = '\0';
        }
    }
    return dir;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return VIGIL_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
        !strcmp(argv[1], "help")) {
        usage(stdout);
        return VIGIL_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("vigil %s\n", VIGIL_VERSION);
        return VIGIL_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    cli_error("unknown command '%s'", argv[1]);
    usage(stderr);
    return VIGIL_EXIT_USAGE;
}
