"""fake_bzimage.py PAYLOAD SIZE OUT: a minimal bzImage (boot protocol 2.15,
one setup sector, Documentation/arch/x86/boot.rst) around the compressed
PAYLOAD, with SIZE appended as the build's 4-byte decompressed-size
trailer, written to OUT."""
import struct
import sys


def main():
    payload = open(sys.argv[1], "rb").read() + struct.pack("<I", int(sys.argv[2]))
    h = bytearray(1024 + 0x100)
    h[0x1f1] = 1
    h[0x1fe:0x200] = b"\x55\xaa"
    h[0x202:0x206] = b"HdrS"
    h[0x206:0x208] = struct.pack("<H", 0x020f)
    h[0x248:0x250] = struct.pack("<II", 0x100, len(payload))
    open(sys.argv[3], "wb").write(bytes(h) + payload)


main()
