/* vigil run --image -- COMMAND: the command through the guest agent
 * (run-image.h, qga.h). */
#include "run-image.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "qga.h"
#include "vigil/clock.h"

/* How long one agent request may take once the agent answers. */
#define REQUEST_MS 30000
/* Between two guest-sync attempts while the guest boots. */
#define SYNC_MS 2000

/* Why the session ended before the command's status was known. */
enum session_end { END_DONE, END_FAILED, END_TIMEOUT, END_SIGNAL };

struct session {
    const struct run_opts *o;
    pid_t pid;
    uint64_t deadline; /* --timeout, or 0 */
    struct qga *g;
};

static double now_s(void)
{
    return (double)vigil_now_ns(CLOCK_MONOTONIC) / 1e9;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Whether to give up now: QEMU gone (not reaped: run_qemu_wait does it),
 * a stop signal pending (left pending for run_qemu_wait), or --timeout. */
static int check_stop(const struct session *s, bool agent_answered)
{
    sigset_t pend;
    if (sigpending(&pend) == 0 &&
        (sigismember(&pend, SIGINT) || sigismember(&pend, SIGTERM) ||
         sigismember(&pend, SIGHUP)))
        return END_SIGNAL;
    if (s->deadline && vigil_now_ns(CLOCK_MONOTONIC) >= s->deadline)
        return END_TIMEOUT;
    siginfo_t si = {0};
    if (waitid(P_PID, (id_t)s->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        si.si_pid == s->pid) {
        if (agent_answered)
            cli_error("QEMU stopped before the command finished");
        else
            cli_error("the guest stopped before its agent answered (the "
                      "image needs the package qemu-guest-agent)");
        return END_FAILED;
    }
    return END_DONE;
}

/* Connect and resynchronise with the agent within --wait-boot. */
static int wait_agent(struct session *s, const char *rundir)
{
    char sock[PATH_BUF];
    snprintf(sock, sizeof sock, "%s/qga.sock", rundir);
    double until = now_s() + s->o->wait_boot_s;
    int err = 0;
    while (now_s() < until) {
        int stop = check_stop(s, false);
        if (stop != END_DONE)
            return stop;
        if (s->g == NULL && (err = qga_connect(&s->g, sock)) < 0) {
            sleep_ms(200);
            continue;
        }
        err = qga_sync(s->g, SYNC_MS);
        if (err == 0) {
            if (s->o->verbose) /* bench/boot-image times this line */
                fprintf(stderr, "vigil: guest agent ready\n");
            return END_DONE;
        }
        if (err != -ETIMEDOUT) {
            qga_close(s->g);
            s->g = NULL;
            sleep_ms(200);
        }
    }
    cli_error("the guest agent did not answer within %u s (--wait-boot): "
              "the image needs the package qemu-guest-agent, running%s%s",
              s->o->wait_boot_s, err && err != -ETIMEDOUT ? "; " : "",
              err && err != -ETIMEDOUT ? strerror(-err) : "");
    return END_FAILED;
}

static void write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* guest-exec, then guest-exec-status until it exited; *status as
 * run_image_command's. */
static int exec_command(struct session *s, int *status)
{
    int64_t gpid;
    int err = qga_exec(s->g, s->o->command, REQUEST_MS, &gpid);
    if (err == -EPROTO) {
        /* Not started (not found, not executable): as a shell says. */
        cli_error("guest-exec %s: %s", s->o->command[0], qga_error(s->g));
        *status = 127;
        return END_DONE;
    }
    if (err < 0) {
        cli_error("guest-exec %s: %s", s->o->command[0],
                  err == -EBADMSG ? qga_error(s->g) : strerror(-err));
        return END_FAILED;
    }
    for (long wait = 20;; wait = wait < 500 ? wait * 2 : 500) {
        struct qga_status st;
        err = qga_exec_status(s->g, gpid, REQUEST_MS, &st);
        if (err < 0) {
            cli_error("guest-exec-status: %s", err == -EPROTO || err == -EBADMSG
                                                   ? qga_error(s->g)
                                                   : strerror(-err));
            return END_FAILED;
        }
        if (st.exited) {
            write_all(1, st.out, st.out_len);
            write_all(2, st.err, st.err_len);
            if (st.truncated)
                cli_warn("the guest agent cut the command's output at its "
                         "limit");
            *status = st.signal > 0 ? 128 + st.signal : st.exitcode & 255;
            qga_status_free(&st);
            return END_DONE;
        }
        qga_status_free(&st);
        int stop = check_stop(s, true);
        if (stop != END_DONE)
            return stop;
        sleep_ms(wait);
    }
}

/* End the guest after the session ended with @end, and wait for QEMU.
 * A clean end asks the agent to power off (it does not answer that); a
 * guest without an agent gets the ACPI power button over QMP; both get
 * RUN_IMAGE_SHUTDOWN_S to power off, then QEMU is stopped.  A timeout
 * stops QEMU at once, and so does a pending signal (in run_qemu_wait). */
static int power_off(struct session *s, const char *rundir, int end,
                     enum stop_reason *why)
{
    unsigned wait_s = 1; /* stopped after it: reported as a timeout */
    if (end == END_DONE && qga_shutdown(s->g) == 0) {
        wait_s = RUN_IMAGE_SHUTDOWN_S;
    } else if (end == END_DONE || end == END_FAILED) {
        char qmp[PATH_BUF];
        snprintf(qmp, sizeof qmp, "%s/qmp.sock", rundir);
        if (qga_qmp_powerdown(qmp, 5000) == 0)
            wait_s = RUN_IMAGE_SHUTDOWN_S;
    }
    int wstatus = run_qemu_wait(s->pid, rundir, wait_s, why);
    if (end != END_TIMEOUT && *why == STOP_TIMEOUT) {
        if (wait_s > 1)
            cli_warn("the guest did not power off within %u s; QEMU was "
                     "stopped",
                     wait_s);
        *why = STOP_NONE;
    }
    return wstatus;
}

int run_image_command(const struct run_opts *o, const char *rundir, pid_t pid,
                      enum stop_reason *why, int *cmd_status)
{
    struct session s = {.o = o, .pid = pid, .deadline = 0, .g = NULL};
    if (o->timeout_s)
        s.deadline = vigil_now_ns(CLOCK_MONOTONIC) +
                     (uint64_t)o->timeout_s * 1000000000ull;
    *cmd_status = -1;
    int end = wait_agent(&s, rundir);
    if (end == END_DONE)
        end = exec_command(&s, cmd_status);
    int wstatus = power_off(&s, rundir, end, why);
    qga_close(s.g);
    return wstatus;
}
