/* vigil run: the QEMU child (see run.h). */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* One shell word per argument, single-quoted, for the guest's /bin/sh. */
static char *shell_quote_argv(char **argv)
{
    size_t len = 1;
    for (char **a = argv; *a != NULL; a++)
        len += strlen(*a) * 4 + 3;
    char *out = malloc(len), *p = out;
    if (out == NULL)
        return NULL;
    for (char **a = argv; *a != NULL; a++) {
        if (a != argv)
            *p++ = ' ';
        *p++ = '\'';
        for (const char *c = *a; *c != '\0'; c++) {
            if (*c == '\'') {
                memcpy(p, "'\\''", 4);
                p += 4;
            } else {
                *p++ = *c;
            }
        }
        *p++ = '\'';
    }
    *p = '\0';
    return out;
}

static char *base64(const char *in)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(in);
    char *out = malloc((n + 2) / 3 * 4 + 1), *p = out;
    if (out == NULL)
        return NULL;
    const unsigned char *s = (const unsigned char *)in;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = s[i] << 16;
        if (i + 1 < n)
            v |= s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        *p++ = tab[(v >> 18) & 63];
        *p++ = tab[(v >> 12) & 63];
        *p++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        *p++ = i + 2 < n ? tab[v & 63] : '=';
    }
    *p = '\0';
    return out;
}

char *run_encode_command(char **argv)
{
    char *script = shell_quote_argv(argv);
    char *enc = script ? base64(script) : NULL;
    free(script);
    return enc;
}

/* ttyS0, the kernel console: into console.log, or --console. */
static void push_console(const struct run_opts *o, const char *rundir,
                         struct strvec *av)
{
    strvec_push(av, "-chardev");
    if (o->console == NULL)
        strvec_pushf(av, "file,id=con,path=%s/console.log", rundir);
    else if (!strcmp(o->console, "-"))
        strvec_push(av, "file,id=con,path=/dev/stderr");
    else
        strvec_pushf(av, "file,id=con,path=%s", o->console);
    strvec_pushl(av, "-serial", "chardev:con", NULL);
}

/* The test guest's serial ports (see guest/init). */
static void push_serial_ports(const struct run_opts *o, const char *rundir,
                              struct strvec *av)
{
    /* ttyS0: kernel console. */
    push_console(o, rundir, av);
    /* ttyS1: the command's terminal. */
    strvec_pushl(av, "-chardev", "stdio,id=io,signal=on", "-serial",
                 "chardev:io", NULL);
    /* ttyS2: the exit status. */
    strvec_push(av, "-chardev");
    strvec_pushf(av, "file,id=status,path=%s/status", rundir);
    strvec_pushl(av, "-serial", "chardev:status", NULL);
}

/* --image: a distribution's console on ttyS0, on the terminal when there
 * is no command; a command goes through the guest agent's virtio-serial
 * port, whose host end is a unix socket in the run directory. */
static void push_image_ports(const struct run_opts *o, const char *rundir,
                             struct strvec *av)
{
    if (o->command == NULL) {
        strvec_pushl(av, "-chardev", "stdio,id=con,signal=on", "-serial",
                     "chardev:con", NULL);
        return;
    }
    push_console(o, rundir, av);
    strvec_pushl(av, "-device", "virtio-serial-pci,id=vser0", "-chardev", NULL);
    strvec_pushf(av, "socket,id=qga0,path=%s/qga.sock,server=on,wait=off",
                 rundir);
    strvec_pushl(av, "-device",
                 "virtserialport,bus=vser0.0,chardev=qga0,"
                 "name=org.qemu.guest_agent.0",
                 NULL);
}

int run_qemu_ram(unsigned memory_mb, char *path, size_t len)
{
    int fd = memfd_create("vigil-guest-ram", MFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (ftruncate(fd, (off_t)memory_mb << 20) < 0 ||
        (size_t)snprintf(path, len, "/proc/%d/fd/%d", (int)getpid(), fd) >=
            len) {
        int err = errno ? -errno : -ENAMETOOLONG;
        close(fd);
        return err;
    }
    return fd;
}

int run_qemu_argv(const struct run_opts *o, const char *rundir,
                  const char *cmdline, const char *plugin_arg,
                  const char *ram_path, struct strvec *av)
{
    for (size_t i = 0; i < o->qemu_rt->argv.len; i++)
        strvec_push(av, o->qemu_rt->argv.v[i]);
    if (ram_path != NULL) {
        strvec_push(av, "-object");
        strvec_pushf(av,
                     "memory-backend-file,id=vigil-ram,size=%uM,mem-path=%s,"
                     "share=on",
                     o->memory_mb, ram_path);
        strvec_pushl(av, "-M", "pc,memory-backend=vigil-ram", NULL);
    } else {
        strvec_pushl(av, "-M", "pc", NULL);
    }
    strvec_pushl(av, "-nodefaults", "-no-reboot", "-display", "none", NULL);
    strvec_push(av, "-m");
    strvec_pushf(av, "%u", o->memory_mb);
    strvec_push(av, "-smp");
    strvec_pushf(av, "%u", o->smp);
    strvec_pushl(av, "-accel", o->accel, "-pidfile", NULL);
    strvec_pushf(av, "%s/qemu.pid", rundir);
    if (!strcmp(o->accel, "kvm"))
        strvec_pushl(av, "-cpu", "host", NULL);
    strvec_pushl(av, "-kernel", o->kernel, "-initrd", o->initrd, "-append",
                 cmdline, NULL);

    if (o->image != NULL)
        push_image_ports(o, rundir, av);
    else
        push_serial_ports(o, rundir, av);

    for (unsigned i = 0; i < o->ndisks; i++)
        strvec_pushl(av, "-drive", o->drive[i], NULL);
    /* A user-mode network reaches every service on the host's loopback
     * (10.0.2.2) and beyond, logd and update listeners included: a
     * monitored guest gets none of it unless asked (--net user-open). */
    if (o->net)
        strvec_pushl(av, "-netdev",
                     o->net_open ? "user,id=net0" : "user,id=net0,restrict=on",
                     "-device", "virtio-net-pci,netdev=net0", NULL);
    /* QMP: how the disk filter cuts the network (cut-net). */
    strvec_push(av, "-qmp");
    strvec_pushf(av, "unix:%s/qmp.sock,server=on,wait=off", rundir);

    if (!o->no_plugin) {
        strvec_push(av, "-plugin");
        if (plugin_arg[0] != '\0')
            strvec_pushf(av, "%s,%s", o->plugin, plugin_arg);
        else
            strvec_push(av, o->plugin);
        strvec_pushl(av, "-d", "plugin", "-D", NULL);
        strvec_pushf(av, "%s/qemu.log", rundir);
    }
    return strvec_ok(av) ? 0 : -ENOMEM;
}

/* Print the last `lines` lines of a file to stderr, indented. */
void run_show_tail(const char *path, int lines, const char *what)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    char *ring[64] = {0};
    size_t cap[64] = {0};
    int n = 0;
    if (lines > 64)
        lines = 64;
    while (getline(&ring[n % lines], &cap[n % lines], f) > 0)
        n++;
    fclose(f);
    if (n > 0)
        fprintf(stderr, "vigil: %s (last %d lines):\n", what,
                n < lines ? n : lines);
    for (int i = n < lines ? 0 : n - lines; i < n; i++)
        fprintf(stderr, "  | %s", ring[i % lines]);
    for (int i = 0; i < lines; i++)
        free(ring[i]);
}

/* Read "vigil-exit N" from the status file; -1 if it is not there. */
int run_read_status(const char *rundir)
{
    char path[PATH_BUF], line[64];
    snprintf(path, sizeof path, "%s/status", rundir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    int rc = -1;
    unsigned v;
    if (fgets(line, sizeof line, f) != NULL &&
        sscanf(line, "vigil-exit %u", &v) == 1 && v <= 255)
        rc = (int)v;
    fclose(f);
    return rc;
}

static double now_s(void)
{
    return (double)cli_now_ns(CLOCK_MONOTONIC) / 1e9;
}

void run_remove_rundir(const char *rundir)
{
    static const char *files[] = {"status",   "console.log",   "qemu.log",
                                  "qemu.err", "qmp.sock",      "qemu.pid",
                                  "qga.sock", "image-vmlinuz", "image-initrd"};
    char path[PATH_BUF];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", rundir, files[i]);
        unlink(path);
    }
    rmdir(rundir);
}

pid_t run_qemu_spawn(char **argv, const char *errpath, const sigset_t *oldmask,
                     const int *keep, size_t nkeep)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* Child: QEMU must die with us, and gets its stderr in a file so that
     * we can say why it failed. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    sigprocmask(SIG_SETMASK, oldmask, NULL);
    int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0)
        dup2(fd, 2);
    for (size_t i = 0; i < nkeep; i++)
        fcntl(keep[i], F_SETFD, 0);
    execvp(argv[0], argv);
    fprintf(stderr, "cannot execute %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* QEMU's own pid, once it wrote its pid file; else @child. */
static pid_t qemu_pid(const char *rundir, pid_t child)
{
    char path[PATH_BUF];
    snprintf(path, sizeof path, "%s/qemu.pid", rundir);
    FILE *f = fopen(path, "r");
    long v = 0;
    if (f != NULL) {
        if (fscanf(f, "%ld", &v) != 1)
            v = 0;
        fclose(f);
    }
    return v > 1 ? (pid_t)v : child;
}

int run_qemu_wait(pid_t pid, const char *rundir, unsigned timeout_s,
                  enum stop_reason *why)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    double deadline = timeout_s ? now_s() + timeout_s : 0, kill_at = 0;
    *why = STOP_NONE;
    for (;;) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR)
            return -1;
        double t = now_s();
        if (deadline && t >= deadline && *why == STOP_NONE) {
            *why = STOP_TIMEOUT;
            kill(qemu_pid(rundir, pid), SIGTERM);
            kill_at = t + 5;
        }
        if (kill_at && t >= kill_at) {
            kill(qemu_pid(rundir, pid), SIGKILL);
            kill(pid, SIGKILL);
            kill_at = 0;
        }
        struct timespec ts = {0, 200 * 1000 * 1000};
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
            if (*why == STOP_NONE) {
                *why = STOP_SIGNAL;
                kill(qemu_pid(rundir, pid), SIGTERM);
                kill_at = now_s() + 5;
            }
        }
    }
}
