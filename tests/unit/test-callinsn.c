/* vigil_after_call(): the call forms a return address can follow, each
 * with bytes of other code before it, and look-alikes that are not calls
 * ending there. Encodings are from the x86-64 manuals' ModRM/SIB tables. */
#include <string.h>

#include "check.h"
#include "vigil/callinsn.h"

struct row {
    const char *what;
    unsigned char code[8];
    size_t len;
    bool call;
};

static const struct row rows[] = {
    {"call rel32", {0x90, 0x90, 0xe8, 1, 2, 3, 4}, 7, true},
    {"call *%rax", {0x90, 0x90, 0x90, 0xff, 0xd0}, 5, true},
    {"call *%r8 (REX)", {0x90, 0x90, 0x41, 0xff, 0xd0}, 5, true},
    {"call *(%rax)", {0x90, 0x90, 0xff, 0x10}, 4, true},
    {"call *0x8(%rax)", {0x90, 0xff, 0x50, 0x08}, 4, true},
    {"call *(%rax,%rbx,8)", {0x90, 0xff, 0x14, 0xd8}, 4, true},
    {"call *0x8(%rax,%rbx,8)", {0x90, 0xff, 0x54, 0xd8, 0x08}, 5, true},
    {"call *0x10(%rip)", {0x90, 0xff, 0x15, 0x10, 0, 0, 0}, 7, true},
    {"call *0x100(%rax)", {0x90, 0xff, 0x90, 0, 1, 0, 0}, 7, true},
    {"call *0x100(,%rbx,8)", {0xff, 0x14, 0xdd, 0, 1, 0, 0}, 7, true},
    {"call *0x100(%rax,%rbx,1)", {0xff, 0x94, 0x18, 0, 1, 0, 0}, 7, true},
    {"jmp *%rax (ff /4)", {0x90, 0x90, 0x90, 0xff, 0xe0}, 5, false},
    {"push (%rax) (ff /6)", {0x90, 0x90, 0xff, 0x30}, 4, false},
    {"call *0x8(%rax) cut short", {0x90, 0x90, 0xff, 0x50}, 4, false},
    {"plain code", {0x48, 0x89, 0xc7, 0x31, 0xc0, 0xc3}, 6, false},
    {"too few bytes", {0xe8}, 1, false},
};

int main(void)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        CHECK(vigil_after_call(rows[i].code, rows[i].len) == rows[i].call,
              "%s: %s", rows[i].what, rows[i].call ? "a call" : "no call");
    CHECK(!vigil_after_call(NULL, 0), "no bytes: no call");
    return failures != 0;
}
