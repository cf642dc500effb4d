"""Replay captured logd packets (pkt.N files of DIR) for test-log-replay:
  log_replay.py PORT tcp SRC FIRST LAST DIR   pkt.FIRST..LAST as logd's
      TCP frames from a socket bound to SRC
  log_replay.py PORT udp-many N DIR           pkt.0 from N source
      addresses 127.1.x.y"""
import socket, struct, sys
port = int(sys.argv[1]); mode = sys.argv[2]
if mode == "tcp":
    src, first, last, d = sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
    s = socket.socket(); s.bind((src, 0)); s.connect(("127.0.0.1", port))
    for i in range(first, last + 1):
        p = open(f"{d}/pkt.{i}", "rb").read()
        s.sendall(struct.pack(">I", len(p)) + p)
    s.shutdown(socket.SHUT_WR)
    s.settimeout(10)
    try:
        while s.recv(100):
            pass
    except OSError:
        pass
    s.close()
else:
    n, d = int(sys.argv[3]), sys.argv[4]
    p = open(f"{d}/pkt.0", "rb").read()
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((f"127.1.{i // 250}.{i % 250 + 1}", 0))
        s.sendto(p, ("127.0.0.1", port)); s.close()
