"""mbr_image.py FILE SIZE: write an MBR to FILE, with swap space as
partition 1 (no file system vigil could boot) and a Linux partition 2 at
2 MiB that holds SIZE bytes."""
import struct
import sys

mbr = bytearray(512)
parts = [(0x82, 2048, 2048), (0x83, 4096, int(sys.argv[2]) // 512)]
for i, (kind, lba, n) in enumerate(parts):
    entry = bytes([0, 0, 0, 0, kind, 0, 0, 0]) + struct.pack("<II", lba, n)
    mbr[446 + 16 * i : 446 + 16 * (i + 1)] = entry
mbr[510:512] = b"\x55\xaa"
with open(sys.argv[1], "wb") as f:
    f.write(mbr)
