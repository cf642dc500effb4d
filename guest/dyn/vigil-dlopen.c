/* Loads /usr/lib/vigil/libvigil-dl.so with dlopen() and calls into it
 * (tests/test-origin.sh): prints "dl write N getppid P". */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    void *h = dlopen("/usr/lib/vigil/libvigil-dl.so", RTLD_NOW);
    if (h == NULL) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    long (*wr)(const char *, unsigned long);
    long (*gp)(void);
    *(void **)&wr = dlsym(h, "vigil_dl_write");
    *(void **)&gp = dlsym(h, "vigil_dl_raw_getppid");
    if (wr == NULL || gp == NULL)
        return 1;
    static const char msg[] = "from the library\n";
    long n = wr(msg, strlen(msg));
    long p = gp();
    printf("dl write %ld getppid %ld\n", n, p);
    return 0;
}
