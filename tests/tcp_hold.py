"""Hold N idle TCP connections to 127.0.0.1:PORT, from the source
addresses given in turn (default: any), say "held", and keep them for
SECONDS (default 60) or until killed (test-log-conns, test-log-replay):
  tcp_hold.py PORT N [--for SECONDS] [SRC...]"""
import socket
import sys
import time


def main():
    port, n, rest = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    secs = 60.0
    if rest[:1] == ["--for"]:
        secs, rest = float(rest[1]), rest[2:]
    held = []
    for i in range(n):
        s = socket.socket()
        if rest:
            s.bind((rest[i % len(rest)], 0))
        s.connect(("127.0.0.1", port))
        held.append(s)
    print("held", flush=True)
    time.sleep(secs)


main()
