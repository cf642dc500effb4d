/* Feeding a scanned object to the matcher: regular files from a mapping,
 * the rest through read().  See scan-file.h.
 *
 * Why map: read() copies every byte into a buffer before the matcher looks
 * at it, and at the matcher's speed (1-3 GB/s of CPU time) that copy is a
 * tenth of the work or more.  Files are mapped a window at a time so that
 * a huge file needs neither a huge mapping nor pages of it all resident.
 *
 * Why the SIGBUS handler is safe: `vigil scan` scans one object at a time
 * in one thread, and the handler does not jump anywhere: it maps zero
 * pages over the rest of the window (mmap is a plain system call on Linux,
 * fine in a handler) and returns, so the faulting load is retried and reads
 * zeros; the matcher's state stays consistent.  The feed loop sees the
 * fault after the piece and stops with -ESTALE; the caller hides matches
 * that may have used the zeros (scan_file_valid_end()).  A fault outside
 * the window is a real bug: the default action is restored and the signal
 * raised again, so the process dies as it would have. */
#include "scan-file.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Bytes mapped at once (a multiple of any page size).  Not const: the
 * unit test makes it small to cross windows. */
static size_t scan_window = (size_t)64 << 20;

/* The window being fed, for the handler. */
static uint8_t *volatile win_base;
static volatile size_t win_len;
static volatile size_t win_fault = SIZE_MAX; /* first faulting page, in it */
static uint64_t win_off;                     /* the window's file offset */
static size_t page_size;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
    uint8_t *a = si->si_addr, *b = win_base;
    (void)uc;
    if (b != NULL && a >= b && a < b + win_len) {
        size_t off = (size_t)(a - b) & ~(page_size - 1);
        if (mmap(b + off, win_len - off, PROT_READ,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
                 0) != MAP_FAILED) {
            if (off < win_fault)
                win_fault = off;
            return;
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigaction(sig, &sa, NULL);
    raise(sig); /* pending until we return: also ends a sent SIGBUS */
}

static int install_guard(void)
{
    static bool done;
    if (done)
        return 0;
    long ps = sysconf(_SC_PAGESIZE);
    if (ps <= 0 || scan_window % (size_t)ps != 0)
        return -EINVAL;
    page_size = (size_t)ps;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, NULL) < 0)
        return -errno;
    done = true;
    return 0;
}

uint64_t scan_file_valid_end(void)
{
    size_t f = win_fault;
    if (f == SIZE_MAX)
        return UINT64_MAX;
    /* The page before the fault may hold the zeros after the new end. */
    return f >= page_size ? win_off + f - page_size : win_off;
}

/* Feed @len bytes at @off of @fd from a mapping.  Return as
 * scan_file_feed(), or -ENODEV when the file cannot be mapped at all (the
 * caller reads it instead; nothing was fed). */
static int feed_mapped(int fd, uint64_t size, size_t feed, scan_file_fn fn,
                       void *opaque, uint64_t *got)
{
    int r = install_guard();
    if (r < 0)
        return -ENODEV;
    for (uint64_t off = 0; off < size; off += scan_window) {
        size_t len =
            size - off < scan_window ? (size_t)(size - off) : scan_window;
        uint8_t *p = mmap(NULL, len, PROT_READ, MAP_SHARED | MAP_POPULATE, fd,
                          (off_t)off);
        if (p == MAP_FAILED)
            return off == 0 ? -ENODEV : -errno;
        madvise(p, len, MADV_SEQUENTIAL);
        win_off = off;
        win_fault = SIZE_MAX;
        win_len = (len + page_size - 1) & ~(page_size - 1);
        win_base = p;
        r = 0;
        for (size_t o = 0; o < len && r == 0; o += feed) {
            size_t n = len - o < feed ? len - o : feed;
            r = fn(opaque, p + o, n) != 0;
            if (win_fault != SIZE_MAX)
                r = -ESTALE;
            else
                *got += n;
        }
        win_base = NULL;
        munmap(p, len);
        if (r != 0)
            return r;
    }
    return 0;
}

int scan_file_feed(int fd, uint64_t size, uint8_t *buf, size_t feed,
                   scan_file_fn fn, void *opaque, uint64_t *got)
{
    *got = 0;
    win_fault = SIZE_MAX;
    if (size != UINT64_MAX && size > 0) {
        int r = feed_mapped(fd, size, feed, fn, opaque, got);
        if (r != -ENODEV)
            return r;
    }
    for (;;) {
        ssize_t n = read(fd, buf, feed);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        if (size != UINT64_MAX && *got + (uint64_t)n > size) {
            /* The file grew while we read it: scan what was declared. */
            n = (ssize_t)(size - *got);
            if (n == 0)
                break;
        }
        *got += (uint64_t)n;
        if (fn(opaque, buf, (size_t)n) != 0)
            return 1;
    }
    return size != UINT64_MAX && *got != size ? -ESTALE : 0;
}
