"""Write signature 1 at fresh offsets until PATH holds TEXT (at most N
writes), for the reload test.

usage: loop.py URI PATH TEXT N
Prints "writes W denied D" where D counts the writes refused with EIO.
"""
import errno
import sys

import nbd

h = nbd.NBD()
h.connect_uri(sys.argv[1])
path, text, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
sig = b"VIGIL-TEST-SIGNATURE-ONE"
writes = denied = 0
for i in range(n):
    try:
        h.pwrite(sig, (i % 4000) * 256)
    except nbd.Error as e:
        if e.errno in ("EIO", errno.EIO):
            denied += 1
    writes += 1
    with open(path) as f:
        if text in f.read():
            break
print("writes", writes, "denied", denied)
h.shutdown()
