"""What test-trace-hostile-comm checks in a trace:
  hostile_comm.py printable TRACE   how many lines hold a byte outside
      printable ASCII (newline aside), and the first few line numbers
  hostile_comm.py writers TRACE     each detection's pwrite64 writers, as
      the hex of their comm's bytes (each code point below U+0100 is one
      byte, docs/events.md) and the call"""
import json
import sys


def printable(path):
    with open(path, "rb") as f:
        bad = [i for i, line in enumerate(f)
               if any(b < 0x20 or b > 0x7e for b in line.rstrip(b"\n"))]
    print(len(bad), bad[:5])


def writers(path):
    with open(path) as f:
        for line in f:
            e = json.loads(line)
            if e["type"] == "detection":
                print(" ".join(w["comm"].encode("latin-1").hex() + ":" +
                               w["syscall"] for w in e.get("writers", [])
                               if w["syscall"] == "pwrite64"))


def main():
    {"printable": printable, "writers": writers}[sys.argv[1]](sys.argv[2])


main()
