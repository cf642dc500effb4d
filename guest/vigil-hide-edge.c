/* Edge cases of a hidden service's life, for tests/test-hide.sh (one boot
 * runs them one after the other; each prints what it saw):
 *
 *   vigil-hide-edge exit-last IP PORT  connect; the main thread ends by
 *                                      exit (not exit_group); the other
 *                                      thread, now the last, asks the
 *                                      server how many connections it
 *                                      has ("alive: conns N"), then ends
 *                                      by exit too
 *   vigil-hide-edge splice IP PORT     sendfile, splice, tee, vmsplice and
 *                                      copy_file_range with a hidden
 *                                      socket: "NAME: what it returned";
 *                                      then the socket still echoes
 *   vigil-hide-edge nofile IP PORT     RLIMIT_NOFILE raised to fs.nr_open;
 *                                      a child (not hidden) and the process
 *                                      itself try the hidden socket's
 *                                      number: what each got
 *   vigil-hide-edge intr-between IP PORT
 *                                      a blocking recv, and a signal whose
 *                                      handler has no SA_RESTART sent
 *                                      while the waiting thread is in user
 *                                      mode between two of its waits in
 *                                      the guest kernel: "recv: " what it
 *                                      returned
 *   vigil-hide-edge fast IP PORT       the calls a vCPU answers on its copy
 *                                      of the socket (getsockopt,
 *                                      getsockname, getpeername, FIONREAD):
 *                                      their answers, garbage pointers
 *                                      (EFAULT), and a close on one thread
 *                                      racing them on another: what the
 *                                      racing thread saw ("race: ...")
 *   vigil-hide-edge echo-server IP PORT
 *                                      an in-guest TCP echo server, one
 *                                      connection at a time (bench/hide's
 *                                      native round trip); "listening"
 *                                      once it is
 *
 * The server is tests/echo.py.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in server;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0)
        (void)!write(1, line,
                     (size_t)n < sizeof line ? (size_t)n : sizeof line);
}

static int tcp_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&server, sizeof server) < 0) {
        say("connect: %s\n", strerror(errno));
        return -1;
    }
    return fd;
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* ---- exit-last ---- */

static int exit_fd = -1;

/* Whether the process's first thread is a zombie: it ended, the process
 * lives on in this one. */
static int leader_gone(void)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)getpid());
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    return p != NULL && p[1] == ' ' && p[2] == 'Z';
}

static void *last_thread(void *unused)
{
    (void)unused;
    for (int i = 0; i < 500 && !leader_gone(); i++)
        nap_ms(10);
    say("leader %s\n", leader_gone() ? "gone" : "still there");
    char buf[64];
    ssize_t n = -1;
    if (write(exit_fd, "conns?", 6) == 6)
        n = read(exit_fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    say("alive: %s\n", n > 0 ? buf : strerror(errno));
    /* The last thread ends by exit: no exit_group anywhere. */
    syscall(SYS_exit, 0);
    return NULL;
}

static int exit_last(void)
{
    exit_fd = tcp_connect();
    if (exit_fd < 0)
        return 1;
    pthread_t th;
    if (pthread_create(&th, NULL, last_thread, NULL) != 0) {
        say("pthread_create failed\n");
        return 1;
    }
    syscall(SYS_exit, 0);
    return 1;
}

/* ---- splice ---- */

static void result(const char *name, ssize_t r)
{
    say("%s: %s\n", name, r < 0 ? strerror(errno) : "done");
}

static int splice_calls(void)
{
    int fd = tcp_connect(), p[2];
    int file =
        open("/tmp/vigil-hide-edge.txt", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || file < 0 || pipe(p) < 0 || write(file, "data", 4) != 4 ||
        write(p[1], "pipe", 4) != 4)
        return 1;
    off_t off = 0;
    loff_t o1 = 0;
    char vm[2] = "vm";
    struct iovec iov = {.iov_base = vm, .iov_len = 2};
    result("sendfile to it", sendfile(fd, file, &off, 4));
    result("sendfile from it", sendfile(file, fd, NULL, 4));
    result("splice to it", splice(p[0], NULL, fd, NULL, 4, 0));
    result("splice from it", splice(fd, NULL, p[1], NULL, 4, 0));
    result("tee to it", tee(p[0], fd, 4, 0));
    result("vmsplice", vmsplice(fd, &iov, 1, 0));
    result("copy_file_range to it", copy_file_range(file, &o1, fd, NULL, 4, 0));
    result("copy_file_range from it",
           copy_file_range(fd, NULL, file, &o1, 4, 0));
    char buf[16];
    ssize_t n = -1;
    if (write(fd, "after", 5) == 5)
        n = read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    say("afterwards: %s\n", n > 0 ? buf : strerror(errno));
    return 0;
}

/* ---- nofile ---- */

#define HIDDEN_BASE (1 << 30) /* vigil's hidden descriptors (vigil/hide.h) */

static const char *err_of(long r)
{
    return r < 0 ? strerror(errno) : "a descriptor";
}

/* Another process, not hidden, tries number @h with the highest limit the
 * kernel allows. */
static void other_tries(int h, long limit)
{
    prctl(PR_SET_NAME, "other");
    say("other dup2 onto it: %s\n", err_of(dup2(0, h)));
    say("other write to it: %s\n", err_of(write(h, "x", 1)));
    say("other fcntl on it: %s\n", err_of(fcntl(h, F_GETFD)));
    say("other dup2 onto the limit's last: %s\n",
        err_of(dup2(0, (int)limit - 1)));
}

static int nofile(void)
{
    long limit = 0;
    FILE *f = fopen("/proc/sys/fs/nr_open", "r");
    if (f == NULL || fscanf(f, "%ld", &limit) != 1)
        return 1;
    fclose(f);
    struct rlimit rl = {(rlim_t)limit, (rlim_t)limit};
    if (prlimit(0, RLIMIT_NOFILE, &rl, NULL) != 0)
        say("prlimit: %s\n", strerror(errno));
    getrlimit(RLIMIT_NOFILE, &rl);
    say("limit %s nr_open, %s the hidden numbers\n",
        (long)rl.rlim_cur == limit ? "at" : "below",
        rl.rlim_cur < HIDDEN_BASE ? "below" : "reaching");
    int fd = tcp_connect();
    if (fd < 0)
        return 1;
    say("socket at base+%d\n", fd - HIDDEN_BASE);
    pid_t child = fork();
    if (child == 0) {
        other_tries(fd, limit);
        _exit(0);
    }
    waitpid(child, NULL, 0);
    say("own dup2 of a guest descriptor onto it: %s\n", err_of(dup2(0, fd)));
    say("own dup2 of a guest descriptor onto a free hidden number: %s\n",
        err_of(dup3(0, fd + 7, 0)));
    char buf[16];
    ssize_t n = -1;
    if (write(fd, "still", 5) == 5)
        n = read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    say("afterwards: %s\n", n > 0 ? buf : strerror(errno));
    return 0;
}

/* ---- intr-between ---- */

static volatile sig_atomic_t handled;
static volatile pid_t waiter; /* the thread in recv */

static void on_usr1(int sig)
{
    (void)sig;
    handled++;
}

static void pin_cpu1(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(1, &set);
    sched_setaffinity(0, sizeof set, &set);
}

/* Whether /proc/self/task/TID/@what holds @word. */
static int task_says(pid_t tid, const char *what, const char *word)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/self/task/%d/%s", (int)tid, what);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, word) != NULL;
}

/* On the waiter's CPU, at a higher priority: each wake-up preempts the
 * waiter wherever it is. Most find it asleep in a wait in the guest
 * kernel; one that finds it preempted by an interrupt in user mode (on its
 * instruction, between two waits) signals it there. */
static void *catcher(void *unused)
{
    (void)unused;
    pin_cpu1();
    struct sched_param sp = {.sched_priority = 10};
    if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) != 0)
        say("catcher: no SCHED_FIFO\n");
    /* First the waiter waits in the guest kernel (its recv began). */
    for (int i = 0; i < 5000 && !task_says(waiter, "syscall", "7 0x0 0x0 0x1");
         i++)
        nap_ms(1);
    for (long i = 0; i < 40000; i++) {
        struct timespec ts = {0, 300000 + (i * 7919) % 900000};
        nanosleep(&ts, NULL);
        if (task_says(waiter, "stack", "irqentry_exit_to_user_mode")) {
            syscall(SYS_tgkill, getpid(), waiter, SIGUSR1);
            say("between: caught after %ld\n", i);
            return NULL;
        }
    }
    say("between: never caught\n");
    syscall(SYS_tgkill, getpid(), waiter, SIGUSR1);
    return NULL;
}

static int intr_between(void)
{
    struct sigaction sa = {.sa_handler = on_usr1}; /* no SA_RESTART */
    sigaction(SIGUSR1, &sa, NULL);
    pin_cpu1();
    int fd = tcp_connect();
    if (fd < 0)
        return 1;
    waiter = (pid_t)syscall(SYS_gettid);
    pthread_t th;
    const char *msg = "sleep:20000 late";
    if (write(fd, msg, strlen(msg)) != (ssize_t)strlen(msg) ||
        pthread_create(&th, NULL, catcher, NULL) != 0)
        return 1;
    char buf[64];
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    int err = errno;
    buf[n > 0 ? n : 0] = '\0';
    say("recv: %s (handled %d)\n", n >= 0 ? buf : strerror(err), (int)handled);
    pthread_join(th, NULL);
    return 0;
}

/* ---- fast ---- */

static int sock_type(int fd)
{
    int type = 0;
    socklen_t l = sizeof type;
    return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) < 0 ? -errno : type;
}

/* Each call twice: the first may go to vigil's executor (which then hands
 * the plugin its copy of the socket), the second runs on the copy. */
static int efaults(int fd)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a, small = 2;
    int n = 0, type;
    char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int i = 0; i < 2; i++) {
        n += getsockopt(fd, SOL_SOCKET, SO_TYPE, (void *)8, &al) < 0 &&
             errno == EFAULT;
        n += getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, (socklen_t *)8) < 0 &&
             errno == EFAULT;
        n += getsockname(fd, (struct sockaddr *)8, &al) < 0 && errno == EFAULT;
        n += getpeername(fd, (struct sockaddr *)&a, (socklen_t *)ro) < 0 &&
             errno == EFAULT;
        n += ioctl(fd, FIONREAD, (int *)8) < 0 && errno == EFAULT;
        n += getsockopt(fd, SOL_SOCKET, SO_TYPE, ro, &small) < 0 &&
             errno == EFAULT;
    }
    return n;
}

static int race_fd = -1, race_state; /* 0 open, 1 closed, 2 reopened */
static int race_stop, race_calls, race_wrong;

/* Ask, until told to stop, what the descriptor is; what the answer may be
 * depends on what the closing thread had done before the call. */
static void *racer(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&race_stop, __ATOMIC_ACQUIRE)) {
        int state = __atomic_load_n(&race_state, __ATOMIC_ACQUIRE);
        int t = sock_type(race_fd);
        struct sockaddr_in a;
        socklen_t al = sizeof a;
        int pr =
            getpeername(race_fd, (struct sockaddr *)&a, &al) < 0 ? -errno : 0;
        race_calls++;
        /* Closed: never the old connection again; reopened: the new one. */
        if ((state >= 1 && (t == SOCK_STREAM || pr == 0)) ||
            (state == 2 && t != SOCK_DGRAM))
            race_wrong++;
    }
    return NULL;
}

/* A connection closed while another thread asks about it, its number then
 * given to a new socket: rounds of it. */
static void race(int rounds)
{
    int reused = 0;
    for (int r = 0; r < rounds; r++) {
        race_fd = tcp_connect();
        if (race_fd < 0)
            return;
        __atomic_store_n(&race_state, 0, __ATOMIC_RELEASE);
        __atomic_store_n(&race_stop, 0, __ATOMIC_RELEASE);
        pthread_t th;
        if (pthread_create(&th, NULL, racer, NULL) != 0)
            return;
        nap_ms(3);
        close(race_fd);
        __atomic_store_n(&race_state, 1, __ATOMIC_RELEASE);
        int u = socket(AF_INET, SOCK_DGRAM, 0);
        reused += u == race_fd;
        __atomic_store_n(&race_state, 2, __ATOMIC_RELEASE);
        nap_ms(2);
        __atomic_store_n(&race_stop, 1, __ATOMIC_RELEASE);
        pthread_join(th, NULL);
        close(u);
    }
    say("race: %d rounds, number reused %d times, %d wrong answers\n", rounds,
        reused, race_wrong);
    say("race calls: %d\n", race_calls);
}

/* setsockopt, and sends and receives that cannot wait: on the copy too.
 * The echo server has sent the 5 bytes back already. */
static void dontwait(int fd)
{
    int one = 1, got = 0, n = 0;
    socklen_t gl = sizeof got;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &got, &gl);
    say("nodelay: %d\n", got != 0);
    char buf[16] = "";
    ssize_t n1 = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    ssize_t n2 = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    say("dontwait: %zd then %s\n", n1, n2 < 0 ? strerror(errno) : "data");
    int bad = send(fd, (void *)8, 4, MSG_DONTWAIT) < 0 && errno == EFAULT;
    if (send(fd, "abc", 3, MSG_DONTWAIT) != 3)
        return;
    for (int i = 0; i < 200 && (ioctl(fd, FIONREAD, &n) < 0 || n < 3); i++)
        nap_ms(10);
    bad += recv(fd, (void *)8, 3, MSG_DONTWAIT) < 0 && errno == EFAULT;
    memset(buf, 0, sizeof buf);
    n1 = recv(fd, buf, 3, MSG_DONTWAIT);
    say("dontwait efault: %d of 2, then %zd: %s\n", bad, n1, buf);
}

static int fast_calls(void)
{
    int fd = tcp_connect();
    if (fd < 0)
        return 1;
    int t1 = sock_type(fd), t2 = sock_type(fd);
    say("type: %s %s\n", t1 == SOCK_STREAM ? "stream" : "other",
        t2 == SOCK_STREAM ? "stream" : "other");
    struct sockaddr_in a, b;
    socklen_t al = sizeof a, bl = 2; /* cut short, its length whole */
    getpeername(fd, (struct sockaddr *)&a, &al);
    getpeername(fd, (struct sockaddr *)&b, &bl);
    say("peer: %s, cut %u of %u\n",
        a.sin_port == server.sin_port ? "the server" : "other", (unsigned)bl,
        (unsigned)al);
    int n = 0;
    if (write(fd, "12345", 5) != 5)
        return 1;
    for (int i = 0; i < 200 && (ioctl(fd, FIONREAD, &n) < 0 || n < 5); i++)
        nap_ms(10);
    say("fionread: %d\n", n);
    say("efault: %d of 12\n", efaults(fd));
    /* Output into a page never touched: the guest kernel faults it in. */
    int *fresh = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    socklen_t fl = sizeof *fresh;
    int r = getsockopt(fd, SOL_SOCKET, SO_TYPE, fresh, &fl);
    say("fresh page: %s\n",
        r == 0 && *fresh == SOCK_STREAM ? "stream" : strerror(errno));
    dontwait(fd);
    close(fd);
    race(20);
    return 0;
}

/* ---- echo-server ---- */

static int echo_server(void)
{
    int one = 1, ls = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ls < 0 || bind(ls, (struct sockaddr *)&server, sizeof server) < 0 ||
        listen(ls, 8) < 0) {
        say("echo-server: %s\n", strerror(errno));
        return 1;
    }
    say("listening\n");
    for (;;) {
        int c = accept(ls, NULL, NULL);
        if (c < 0)
            return 1;
        char buf[4096];
        ssize_t n;
        while ((n = read(c, buf, sizeof buf)) > 0)
            if (write(c, buf, (size_t)n) != n)
                break;
        close(c);
    }
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: vigil-hide-edge exit-last IP PORT\n");
        return 2;
    }
    server.sin_family = AF_INET;
    server.sin_port = htons((uint16_t)atoi(argv[3]));
    if (inet_pton(AF_INET, argv[2], &server.sin_addr) != 1)
        return 2;
    if (!strcmp(argv[1], "exit-last"))
        return exit_last();
    if (!strcmp(argv[1], "splice"))
        return splice_calls();
    if (!strcmp(argv[1], "nofile"))
        return nofile();
    if (!strcmp(argv[1], "intr-between"))
        return intr_between();
    if (!strcmp(argv[1], "fast"))
        return fast_calls();
    if (!strcmp(argv[1], "echo-server"))
        return echo_server();
    fprintf(stderr, "vigil-hide-edge: unknown mode %s\n", argv[1]);
    return 2;
}
