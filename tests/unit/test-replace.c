/* vigil_replace_file (vigil/replace.h) on real files in a temporary
 * directory: a file is replaced whole, and a replacement that fails leaves
 * the old file as it was and no temporary file behind. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "vigil/file.h"
#include "vigil/replace.h"

static char dir[] = "/tmp/vigil-test-replace.XXXXXX";

/* Whether @path holds exactly @want. */
static int holds(const char *path, const char *want)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int ok = vigil_read_file(path, 1 << 20, &buf, &len) == 0 &&
             len == strlen(want) && memcmp(buf, want, len) == 0;
    free(buf);
    return ok;
}

/* The number of entries in the test directory. */
static int entries(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d)) != NULL;)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return n;
}

int main(void)
{
    if (mkdtemp(dir) == NULL)
        return 2;
    char path[256], sub[256];
    snprintf(path, sizeof path, "%s/state", dir);
    snprintf(sub, sizeof sub, "%s/sub", dir);

    CHECK(vigil_replace_file(path, "one\n", 4, 0600) == 0, "a new file");
    CHECK(holds(path, "one\n"), "it holds what was written");
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
          "it has the mode asked for");
    CHECK(vigil_replace_file(path, "second text\n", 12, 0600) == 0 &&
              holds(path, "second text\n"),
          "an existing file is replaced");
    CHECK(vigil_replace_file(path, "", 0, 0600) == 0 && holds(path, ""),
          "an empty file");
    CHECK(entries() == 1, "no temporary file left after success");

    /* The rename fails: @path is a directory with something in it. */
    char inner[300];
    snprintf(inner, sizeof inner, "%s/x", sub);
    mkdir(sub, 0755);
    vigil_replace_file(inner, "x", 1, 0600);
    int err = vigil_replace_file(sub, "new", 3, 0600);
    CHECK(err == -EISDIR, "over a directory: %s", strerror(-err));
    CHECK(holds(inner, "x"), "the directory is untouched");
    CHECK(entries() == 2, "no temporary file left after a failed rename");

    /* The temporary file cannot be made: no such directory. */
    char missing[300];
    snprintf(missing, sizeof missing, "%s/none/state", dir);
    CHECK(vigil_replace_file(missing, "x", 1, 0600) == -ENOENT,
          "in a missing directory: -ENOENT");

    char longp[5000];
    memset(longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    CHECK(vigil_replace_file(longp, "x", 1, 0600) == -ENAMETOOLONG,
          "a path too long for the temporary name: -ENAMETOOLONG");

    unlink(inner);
    rmdir(sub);
    unlink(path);
    rmdir(dir);
    return failures != 0;
}
