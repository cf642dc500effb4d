"""Drive an NBD server for the nbd filter tests.

usage: nbdio.py URI OP...
  w:OFF:TEXT     pwrite TEXT (\\n escapes allowed) at OFF
  W:OFF:LEN:TEXT pwrite LEN bytes: TEXT padded with '.' after it
  E:OFF:LEN:TEXT pwrite LEN bytes: TEXT at the end, '.' before it
  R:OFF:N:TEXT[:TAIL]  pwrite TEXT repeated N times, then TAIL
  Z:OFF:LEN      pwrite LEN zero bytes (a write, not write-zeroes)
  z:OFF:LEN      write zeroes;  t:OFF:LEN  trim;  f  flush
  n:PATH         print the number of lines in PATH now (instead of "ok")
Prints one line per op: "ok" or the error's errno name (e.g. "EIO").
"""
import sys

import nbd

h = nbd.NBD()
h.connect_uri(sys.argv[1])
for op in sys.argv[2:]:
    kind, _, rest = op.partition(":")
    try:
        if kind == "w":
            off, _, text = rest.partition(":")
            h.pwrite(text.encode().decode("unicode_escape").encode("latin1"),
                     int(off))
        elif kind == "W":
            off, ln, text = rest.split(":", 2)
            data = text.encode().ljust(int(ln), b".")
            h.pwrite(data, int(off))
        elif kind == "E":
            off, ln, text = rest.split(":", 2)
            h.pwrite(text.encode().rjust(int(ln), b"."), int(off))
        elif kind == "R":
            off, n, text, *tail = rest.split(":", 3)
            data = text.encode() * int(n) + (tail[0].encode() if tail else b"")
            h.pwrite(data, int(off))
        elif kind == "Z":
            off, ln = rest.split(":")
            h.pwrite(bytes(int(ln)), int(off))
        elif kind == "z":
            off, ln = rest.split(":")
            h.zero(int(ln), int(off))
        elif kind == "t":
            off, ln = rest.split(":")
            h.trim(int(ln), int(off))
        elif kind == "f":
            h.flush()
        elif kind == "n":
            with open(rest, "rb") as f:
                print(sum(1 for _ in f))
            continue
        else:
            sys.exit("bad op " + op)
        print("ok")
    except nbd.Error as e:
        print(e.errno or "error")
h.shutdown()
