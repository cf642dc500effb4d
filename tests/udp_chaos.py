#!/usr/bin/env python3
"""A lossy UDP link for tests: forwards datagrams between one client and a
server, dropping, duplicating and reordering them (seeded, so a failing run
can be repeated).

usage: udp_chaos.py LISTEN_HOST:PORT SERVER_HOST:PORT LOSS DUP REORDER SEED
       (LOSS, DUP, REORDER: probabilities 0..1)

Both directions suffer. A reordered datagram is held back and sent after
the next one. Prints "ready" once it listens; runs until killed; prints its
counts on SIGTERM.
"""
import random
import select
import signal
import socket
import sys


def addr(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


def main():
    listen, server = addr(sys.argv[1]), addr(sys.argv[2])
    loss, dup, reorder = (float(x) for x in sys.argv[3:6])
    rnd = random.Random(int(sys.argv[6]))
    front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    front.bind(listen)
    back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    back.connect(server)
    client = None
    held = {front: None, back: None}  # a datagram held back, per direction
    counts = {"in": 0, "lost": 0, "dup": 0, "reordered": 0}

    def report(*_):
        print(" ".join(f"{k}={v}" for k, v in counts.items()), flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, report)
    print("ready", flush=True)

    def send(out, data):
        if out is front:
            if client is not None:
                front.sendto(data, client)
        else:
            back.send(data)

    while True:
        ready, _, _ = select.select([front, back], [], [], 0.5)
        for s in ready:
            try:
                if s is front:
                    data, client = front.recvfrom(70000)
                    out = back
                else:
                    data = back.recv(70000)
                    out = front
            except OSError:
                continue
            counts["in"] += 1
            if rnd.random() < loss:
                counts["lost"] += 1
                continue
            copies = 2 if rnd.random() < dup else 1
            counts["dup"] += copies - 1
            for _ in range(copies):
                if held[out] is None and rnd.random() < reorder:
                    held[out] = data
                    counts["reordered"] += 1
                    continue
                send(out, data)
                if held[out] is not None:
                    send(out, held[out])
                    held[out] = None
        if not ready:  # quiet: let a held datagram go
            for out in (front, back):
                if held[out] is not None:
                    send(out, held[out])
                    held[out] = None


if __name__ == "__main__":
    main()
