/* vigil profile: derive a kernel profile (docs/profile.md) from a bzImage. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "vigil/profile.h"

/* Bad input (not a kernel, corrupt, unreadable): distinct from usage. */
#define EXIT_BAD_INPUT 1
/* Largest kernel image read. */
#define MAX_IMAGE ((size_t)1 << 30)

static void help(FILE *f)
{
    fprintf(
        f,
        "usage: vigil profile KERNEL [-o FILE]\n"
        "       vigil profile KERNEL --symbols [-o FILE]\n"
        "       vigil profile KERNEL --extract-vmlinux FILE\n"
        "\n"
        "Derive what vigil needs to know about a guest kernel from its\n"
        "bzImage alone (BTF struct layouts, kallsyms symbols, per-CPU\n"
        "offsets) and write it as a JSON profile (docs/profile.md).\n"
        "KERNEL may also be an uncompressed vmlinux ELF.\n"
        "\n"
        "  -o, --output FILE        write to FILE instead of stdout\n"
        "  -s, --symbols            list every kallsyms symbol as\n"
        "                           \"ADDR TYPE NAME\" (link-time addresses)\n"
        "  -x, --extract-vmlinux FILE  write the decompressed vmlinux\n"
        "  -h, --help               show this help\n"
        "\n"
        "Exit status: 0 success, 1 bad or unreadable input, 2 usage.\n");
}

/* The kernel image, with the error printed. */
static int read_file(const char *path, uint8_t **out, size_t *len)
{
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        cli_error("%s: not a regular file", path);
        return -1;
    }
    int e = vigil_read_file(path, MAX_IMAGE, out, len);
    if (e == -EFBIG)
        cli_error("%s: too large for a kernel image", path);
    else if (e < 0)
        cli_error("%s: %s", path, strerror(-e));
    return e < 0 ? -1 : 0;
}

/* Open the output: stdout when @path is NULL. */
static FILE *open_out(const char *path)
{
    if (path == NULL)
        return stdout;
    FILE *f = fopen(path, "w");
    if (f == NULL)
        cli_error("%s: %s", path, strerror(errno));
    return f;
}

static int close_out(FILE *f, const char *path)
{
    int bad = ferror(f);
    if (f == stdout)
        bad |= fflush(f) != 0;
    else
        bad |= fclose(f) != 0;
    if (bad) {
        cli_error("%s: write error", path != NULL ? path : "stdout");
        if (path != NULL)
            unlink(path);
        return -1;
    }
    return 0;
}

static int dump_symbols(struct vprof_kimage *img, const char *out)
{
    struct vprof_diag d = {.msg = ""};
    const struct vprof_ksyms *ks;
    if (vprof_kimage_ksyms(img, &ks, &d) < 0) {
        cli_error("%s", d.msg);
        return -1;
    }
    FILE *f = open_out(out);
    if (f == NULL)
        return -1;
    size_t n = vprof_ksyms_count(ks);
    for (size_t i = 0; i < n; i++) {
        struct vprof_ksym s;
        if (vprof_ksyms_get(ks, i, &s) == 0)
            fprintf(f, "%016" PRIx64 " %c %s\n", s.addr, s.type, s.name);
    }
    return close_out(f, out);
}

static int extract_vmlinux(struct vprof_kimage *img, const char *out)
{
    size_t len;
    const void *data = vprof_kimage_vmlinux(img, &len);
    FILE *f = open_out(out);
    if (f == NULL)
        return -1;
    fwrite(data, 1, len, f);
    return close_out(f, out);
}

static int write_profile(struct vprof_kimage *img, const char *kernel,
                         const char *out)
{
    struct vprof_diag d = {.msg = ""};
    struct vprof *p;
    if (vprof_build(&p, img, &d) < 0) {
        cli_error("%s: %s", kernel, d.msg);
        return -1;
    }
    char *json = vprof_to_json(p, &d);
    vprof_free(p);
    if (json == NULL) {
        cli_error("%s", d.msg);
        return -1;
    }
    FILE *f = open_out(out);
    if (f == NULL) {
        free(json);
        return -1;
    }
    fprintf(f, "%s\n", json);
    free(json);
    return close_out(f, out);
}

int cmd_profile(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"symbols", no_argument, NULL, 's'},
        {"extract-vmlinux", required_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *extract = NULL;
    bool symbols = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:sx:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 's':
            symbols = true;
            break;
        case 'x':
            extract = optarg;
            break;
        case 'h':
            help(stdout);
            return VIGIL_EXIT_OK;
        default:
            help(stderr);
            return VIGIL_EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        cli_error(argc - optind == 0 ? "profile: no KERNEL given"
                                     : "profile: more than one KERNEL given");
        help(stderr);
        return VIGIL_EXIT_USAGE;
    }
    if (extract != NULL && (symbols || out != NULL)) {
        cli_error("profile: --extract-vmlinux takes no other option");
        return VIGIL_EXIT_USAGE;
    }
    const char *kernel = argv[optind];

    uint8_t *buf;
    size_t len;
    if (read_file(kernel, &buf, &len) < 0)
        return EXIT_BAD_INPUT;
    struct vprof_diag d = {.msg = ""};
    struct vprof_kimage *img;
    int rc = vprof_kimage_open(&img, buf, len, 0, &d);
    free(buf);
    if (rc < 0) {
        cli_error("%s: %s", kernel, d.msg);
        return EXIT_BAD_INPUT;
    }
    if (extract != NULL)
        rc = extract_vmlinux(img, extract);
    else if (symbols)
        rc = dump_symbols(img, out);
    else
        rc = write_profile(img, kernel, out);
    vprof_kimage_free(img);
    return rc < 0 ? EXIT_BAD_INPUT : VIGIL_EXIT_OK;
}
