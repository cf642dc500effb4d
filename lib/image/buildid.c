/* vimg_build_id (vigil/image.h): the GNU build id among ELF notes.  The
 * notes come from a kernel found in a guest's disk image: every size is
 * checked against what is left before it is used. */
#include "vigil/image.h"
#include "vigil/le.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define NT_GNU_BUILD_ID 3

/* @n rounded up to 4, or SIZE_MAX when that overflows. */
static size_t align4(size_t n)
{
    return n > SIZE_MAX - 3 ? SIZE_MAX : (n + 3) & ~(size_t)3;
}

int vimg_build_id(const void *notes, size_t len, char *hex, size_t hexlen)
{
    const unsigned char *p = notes;
    while (len >= 12) {
        size_t namesz = le32(p), descsz = le32(p + 4);
        uint32_t type = le32(p + 8);
        size_t name_end = align4(namesz), desc_end = align4(descsz);
        if (name_end > len - 12 || desc_end > len - 12 - name_end)
            return -EINVAL;
        const unsigned char *name = p + 12, *desc = name + name_end;
        if (type == NT_GNU_BUILD_ID && namesz == 4 &&
            memcmp(name, "GNU", 4) == 0) {
            if (descsz < 8 || descsz > 64)
                return -EINVAL;
            if (hexlen < 2 * descsz + 1)
                return -ERANGE;
            for (size_t i = 0; i < descsz; i++)
                snprintf(hex + 2 * i, 3, "%02x", desc[i]);
            return 0;
        }
        p = desc + desc_end;
        len -= 12 + name_end + desc_end;
    }
    return -ENOENT;
}
