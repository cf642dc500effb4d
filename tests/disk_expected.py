"""The bytes test-disk-guest expects on a disk file after the guest wrote
SIZE bytes of a-z with SIGNATURE at AT:
  disk_expected.py SIZE AT sig|zero|zero@K SIGNATURE
sig: the signature is there; zero: zeros in its place; zero@K: zeros from
K on (the part of the match in the request that completed it), the
signature's first part before K."""
import sys


def main():
    size, at, fill = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    sig = sys.argv[4].encode()
    b = bytearray(ord("a") + i % 26 for i in range(size))
    b[at:at + len(sig)] = sig if fill == "sig" else bytes(len(sig))
    if fill.startswith("zero@"):
        k = int(fill[5:])
        b[at:k] = sig[:k - at]
    sys.stdout.buffer.write(b)


main()
