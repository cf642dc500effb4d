/* The shellcode both test injectors plant in vigil-victim: write(1, "injected
 * NAME\n") then getpid(), then @last (int3 for ptrace's stop, ret for a
 * hijacked call). Position-independent: the message follows the code. */
#ifndef VIGIL_GUEST_SHELLCODE_H
#define VIGIL_GUEST_SHELLCODE_H

#include <stddef.h>
#include <string.h>

#define SC_MSG "injected!\n"

static size_t shellcode(unsigned char *out, unsigned char last)
{
    static const unsigned char code[] = {
        0xb8, 0x01,
        0x00, 0x00,
        0x00, /* mov eax, 1 (write) */
        0xbf, 0x01,
        0x00, 0x00,
        0x00, /* mov edi, 1 */
        0x48, 0x8d,
        0x35, 0x0f,
        0x00, 0x00,
        0x00, /* lea rsi, [rip + 15] */
        0xba, sizeof SC_MSG - 1,
        0x00, 0x00,
        0x00,       /* mov edx, len */
        0x0f, 0x05, /* syscall */
        0xb8, 0x27,
        0x00, 0x00,
        0x00,       /* mov eax, 39 (getpid) */
        0x0f, 0x05, /* syscall */
    };
    memcpy(out, code, sizeof code);
    out[sizeof code] = last;
    memcpy(out + sizeof code + 1, SC_MSG, sizeof SC_MSG - 1);
    return sizeof code + 1 + sizeof SC_MSG - 1;
}

#endif
