/* vigil run --disk: the disk option and the nbdkit process scanning it. */
#include "run-disk.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "run-image.h"
#include "strvec.h"

#define NBDKIT_START_S 10
/* The send buffer of QEMU's end of an nbdkit socket (below). */
#define NBD_SNDBUF (4 << 20)

struct run_disk {
    pid_t pid;  /* nbdkit's, or -1 when the disk is not scanned */
    pid_t qnbd; /* qemu-nbd's for a qcow2 image (run-image.h), or -1 */
    char qsock[4096];
    char sock[4096];
    int conn;          /* QEMU's end of the connection to nbdkit, or -1 */
    char status[4096]; /* where the filter says which database it scans with */
};

struct run_disks {
    unsigned n;
    unsigned seq[2]; /* disks so far per interface: [0] virtio, [1] IDE */
    bool scanned;
    struct run_disk *disk[RUN_DISKS_MAX];
    char drive[RUN_DISKS_MAX][4096 + 64];
};

static void disk_stop(struct run_disk *d);

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static bool valid_policy(const char *p)
{
    return !strcmp(p, "alert") || !strcmp(p, "deny") || !strcmp(p, "zero") ||
           !strcmp(p, "cut-net");
}

static pid_t spawn(char **argv, int keep_fd)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    if (keep_fd >= 0)
        fcntl(keep_fd, F_SETFD, 0); /* the one descriptor nbdkit inherits */
    /* Child: nbdkit dies with us and gets the default signal mask. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int fd = open("/dev/null", O_RDONLY);
    if (fd >= 0) {
        dup2(fd, 0);
        close(fd);
    }
    execvp(argv[0], argv);
    fprintf(stderr, "vigil: cannot execute %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Wait until nbdkit listens on d->sock, or exits. */
/*
 * Connect QEMU's end of the disk's connection (d->conn) to nbdkit once it
 * listens on d->sock; 0, or -1 after printing why.  QEMU's NBD client
 * writes each request into its socket, and with the default send buffer
 * (208 KiB) a 1 MiB write needs several rounds of QEMU's main loop, each
 * waiting for nbdkit to drain the socket.  vigil connects with a larger
 * buffer (as far as the system allows: net.core.wmem_max, or any size
 * with CAP_NET_ADMIN) and QEMU inherits the connected socket
 * (file.server.type=fd).
 */
static int connect_nbdkit(struct run_disk *d)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(d->sock) >= sizeof(sa.sun_path)) {
        cli_error("--disk: socket path too long: %s", d->sock);
        return -1;
    }
    strcpy(sa.sun_path, d->sock);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        cli_error("--disk: socket: %s", strerror(errno));
        return -1;
    }
    int v = NBD_SNDBUF;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) < 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
    /* The socket file appears at bind(), just before nbdkit listens. */
    for (int i = 0; i < NBDKIT_START_S * 50; i++) {
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            d->conn = fd;
            return 0;
        }
        if (errno != ECONNREFUSED && errno != EINTR && errno != ENOENT) {
            cli_error("--disk: cannot connect to nbdkit at %s: %s", d->sock,
                      strerror(errno));
            close(fd);
            return -1;
        }
        int status;
        if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
            d->pid = -1;
            cli_error("--disk: nbdkit exited before serving the disk");
            close(fd);
            return -1;
        }
        sleep_ms(20);
    }
    cli_error("--disk: nbdkit did not listen within %d s", NBDKIT_START_S);
    close(fd);
    return -1;
}

/* One --disk, as given: FILE[,if=...][,scan=...][,events=...][,policies=...]
 * (pointers into @copy, which the caller frees). */
struct disk_spec {
    char *copy;
    const char *file, *iface, *policy, *events, *policies;
};

static int parse_spec(struct disk_spec *sp, const char *spec)
{
    *sp = (struct disk_spec){.iface = "virtio"};
    sp->copy = strdup(spec);
    if (sp->copy == NULL) {
        cli_error("out of memory");
        return -1;
    }
    char *save;
    sp->file = strtok_r(sp->copy, ",", &save);
    for (char *opt = strtok_r(NULL, ",", &save); opt;
         opt = strtok_r(NULL, ",", &save)) {
        if (!strcmp(opt, "if=ide") || !strcmp(opt, "if=virtio")) {
            sp->iface = opt + 3;
        } else if (!strncmp(opt, "scan=", 5) && valid_policy(opt + 5)) {
            sp->policy = opt + 5;
        } else if (!strncmp(opt, "events=", 7) && opt[7]) {
            sp->events = opt + 7;
        } else if (!strncmp(opt, "policies=", 9) && opt[9]) {
            sp->policies = opt + 9;
        } else {
            cli_error("--disk: unknown option '%s' (if=virtio|ide, "
                      "scan=alert|deny|zero|cut-net, events=PATH, "
                      "policies=PATH)",
                      opt);
            return -1;
        }
    }
    if (!sp->file || access(sp->file, R_OK | W_OK) != 0) {
        cli_error("--disk: %s: %s", sp->file ? sp->file : "", strerror(errno));
        return -1;
    }
    return 0;
}

/* nbdkit's command line for disk @name served through vigil's filter. */
static int nbdkit_argv(struct strvec *av, const struct disk_spec *sp,
                       const char *name, const char *db, const char *rundir,
                       bool net, int events_fd, const struct run_disk *d)
{
    const char *nbdkit = getenv("VIGIL_NBDKIT");
    strvec_pushl(av, nbdkit ? nbdkit : "nbdkit", "-f", "--exit-with-parent",
                 "-U", d->sock, NULL);
    strvec_pushf(av, "--filter=%s/nbdkit-vigil-filter.so", cli_self_dir());
    /* A qcow2 image: its disk as qemu-nbd serves it, the guest's bytes. */
    if (d->qnbd > 0) {
        strvec_push(av, "nbd");
        strvec_pushf(av, "socket=%s", d->qsock);
    } else {
        strvec_pushl(av, "file", sp->file, NULL);
    }
    strvec_pushf(av, "vigil-db=%s", db);
    strvec_pushf(av, "vigil-policy=%s", sp->policy ? sp->policy : "alert");
    strvec_pushf(av, "vigil-disk=%s", name);
    if (sp->events)
        strvec_pushf(av, "vigil-events=%s", sp->events);
    if (sp->policies)
        strvec_pushf(av, "vigil-policy-file=%s", sp->policies);
    /* A new database is picked up when its file (or directory) changes:
     * replace it by rename (an update swaps a link), and the filter builds
     * it in the background, then scans with it; its status file says when
     * it does. */
    strvec_pushf(av, "vigil-db-reload=%s", db);
    strvec_pushf(av, "vigil-db-status=%s", d->status);
    if (events_fd >= 0)
        strvec_pushf(av, "vigil-events-fd=%d", events_fd);
    /* QEMU's QMP socket (cli/cmd-run.c); the filter connects only to cut. */
    if (net)
        strvec_pushf(av, "vigil-qmp=%s/qmp.sock", rundir);
    if (!strvec_ok(av)) {
        cli_error("out of memory");
        return -1;
    }
    return 0;
}

/* Start the nbdkit that serves disk @name (@d) and wait until it listens.
 * 0, or -1 after printing why. */
static int serve(struct run_disk *d, const struct disk_spec *sp,
                 const char *name, const char *db, const char *rundir, bool net,
                 int events_fd)
{
    snprintf(d->sock, sizeof(d->sock), "%s/disk-%s.sock", rundir, name);
    snprintf(d->status, sizeof(d->status), "%s/disk-%s.dbstatus", rundir, name);
    struct strvec av;
    strvec_init(&av);
    if (nbdkit_argv(&av, sp, name, db, rundir, net, events_fd, d) < 0) {
        strvec_free(&av);
        return -1;
    }
    d->pid = spawn(av.v, events_fd);
    strvec_free(&av);
    if (d->pid < 0) {
        cli_error("fork: %s", strerror(errno));
        return -1;
    }
    return connect_nbdkit(d);
}

/* A qcow2 image (by its magic) is served as raw by qemu-nbd: *d gets a
 * disk holding it (else NULL).  0, or -1 after printing why. */
static int serve_qcow2(struct run_disk **d, const char *file, const char *name,
                       const char *rundir)
{
    uint64_t size;
    *d = NULL;
    int q = run_qcow2_check(file, &size);
    if (q <= 0)
        return q;
    *d = calloc(1, sizeof(**d));
    if (*d == NULL) {
        cli_error("out of memory");
        return -1;
    }
    (*d)->pid = -1;
    (*d)->conn = -1;
    snprintf((*d)->qsock, sizeof((*d)->qsock), "%s/disk-%s-qcow2.sock", rundir,
             name);
    (*d)->qnbd = run_qnbd_start(file, (*d)->qsock);
    if ((*d)->qnbd < 0) {
        free(*d);
        *d = NULL;
        return -1;
    }
    return 0;
}

/* One --disk: parse @spec and start its nbdkit when it is scanned (*out
 * stays NULL otherwise); @seq names it.  0, or -1 after printing why. */
static int disk_start(struct run_disk **out, const char *spec, const char *db,
                      const char *rundir, bool net, int events_fd,
                      unsigned seq[2], char *drive, size_t drive_len)
{
    struct disk_spec sp;
    int rc = -1;
    *out = NULL;
    if (parse_spec(&sp, spec) < 0)
        goto done;
    /* Guest names in attach order: sda, sdb (ata_piix) / vda, vdb. */
    bool ide = !strcmp(sp.iface, "ide");
    if (seq[ide] >= RUN_DISK_MAX) {
        cli_error("--disk: at most %d disks per interface", RUN_DISK_MAX);
        goto done;
    }
    char name[8];
    snprintf(name, sizeof(name), "%s%c", ide ? "sd" : "vd", 'a' + seq[ide]++);
    struct run_disk *d = NULL;
    if (serve_qcow2(&d, sp.file, name, rundir) < 0)
        goto done;
    if (!sp.policy && !db && !sp.events && !sp.policies) {
        if (d != NULL)
            snprintf(drive, drive_len, "file=nbd:unix:%s,format=raw,if=%s",
                     d->qsock, sp.iface);
        else
            snprintf(drive, drive_len, "file=%s,format=raw,if=%s", sp.file,
                     sp.iface);
        *out = d;
        rc = 0;
        goto done;
    }
    if (!db) {
        cli_error("--disk: scanning needs --db PATH");
        goto fail;
    }
    if (sp.policy && !strcmp(sp.policy, "cut-net") && !net) {
        cli_error("--disk: scan=cut-net needs a guest network to cut "
                  "(--net user)");
        goto fail;
    }
    if (d == NULL && (d = calloc(1, sizeof(*d))) != NULL)
        d->qnbd = -1;
    if (d != NULL)
        d->conn = -1;
    if (d == NULL) {
        cli_error("out of memory");
        goto done;
    }
    if (serve(d, &sp, name, db, rundir, net, events_fd) < 0)
        goto fail;
    snprintf(drive, drive_len,
             "driver=raw,file.driver=nbd,file.server.type=fd,"
             "file.server.str=%d,if=%s",
             d->conn, sp.iface);
    *out = d;
    rc = 0;
    goto done;
fail:
    disk_stop(d);
done:
    free(sp.copy);
    return rc;
}

static void disk_stop(struct run_disk *d)
{
    if (!d)
        return;
    pid_t filter = d->pid; /* names its temporary status file */
    int status;
    if (d->pid > 0 && waitpid(d->pid, &status, WNOHANG) == d->pid) {
        /* Not stopped by us: the guest's disk failed from then on (QEMU
         * gets errors, nothing unscanned is written). */
        d->pid = -1;
        if (WIFSIGNALED(status))
            cli_warn("--disk: nbdkit died during the run (signal %d); the "
                     "guest's disk failed from then on",
                     WTERMSIG(status));
        else
            cli_warn("--disk: nbdkit exited during the run (status %d); the "
                     "guest's disk failed from then on",
                     WEXITSTATUS(status));
    }
    if (d->pid > 0) {
        kill(d->pid, SIGTERM);
        for (int i = 0; i < 500; i++) {
            if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
                d->pid = -1;
                break;
            }
            sleep_ms(10);
        }
        if (d->pid > 0) {
            kill(d->pid, SIGKILL);
            waitpid(d->pid, &status, 0);
        }
    }
    if (d->conn >= 0)
        close(d->conn);
    if (d->sock[0])
        unlink(d->sock);
    if (d->qnbd > 0)
        run_qnbd_stop(d->qnbd, d->qsock);
    if (d->status[0]) {
        /* and what a filter killed while replacing it left (vigil/replace.h) */
        char tmp[sizeof d->status + 32];
        unlink(d->status);
        snprintf(tmp, sizeof tmp, "%s.tmp.%d", d->status, (int)filter);
        unlink(tmp);
    }
    free(d);
}

int run_disks_start(struct run_disks **out, const char *const *specs,
                    unsigned n, const char *db, const char *rundir, bool net,
                    int events_fd, const char **drives)
{
    *out = NULL;
    if (n > RUN_DISKS_MAX) {
        cli_error("--disk: at most %d disks", RUN_DISKS_MAX);
        return -1;
    }
    struct run_disks *ds = calloc(1, sizeof(*ds));
    if (!ds) {
        cli_error("out of memory");
        return -1;
    }
    for (; ds->n < n; ds->n++) {
        unsigned i = ds->n;
        if (disk_start(&ds->disk[i], specs[i], db, rundir, net, events_fd,
                       ds->seq, ds->drive[i], sizeof(ds->drive[i])) < 0) {
            run_disks_stop(ds);
            return -1;
        }
        ds->scanned |= ds->disk[i] != NULL && ds->disk[i]->pid > 0;
        drives[i] = ds->drive[i];
    }
    *out = ds;
    return 0;
}

bool run_disks_scanned(const struct run_disks *ds)
{
    return ds && ds->scanned;
}

size_t run_disks_db_status(const struct run_disks *ds, const char **paths,
                           size_t max)
{
    size_t n = 0;
    for (unsigned i = 0; ds && i < ds->n && n < max; i++)
        if (ds->disk[i] && ds->disk[i]->status[0])
            paths[n++] = ds->disk[i]->status;
    return n;
}

size_t run_disks_fds(const struct run_disks *ds, int *fds, size_t max)
{
    size_t n = 0;
    for (unsigned i = 0; ds && i < ds->n && n < max; i++)
        if (ds->disk[i] && ds->disk[i]->conn >= 0)
            fds[n++] = ds->disk[i]->conn;
    return n;
}

void run_disks_stop(struct run_disks *ds)
{
    if (!ds)
        return;
    for (unsigned i = 0; i < ds->n; i++)
        disk_stop(ds->disk[i]);
    free(ds);
}
