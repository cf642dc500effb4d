"""Begin a logd TCP frame and never finish it; print what logd does with
the connection within 20 s: "closed", "still open" or "data"
(test-log-conns):  log_halfframe.py PORT"""
import socket, sys
s = socket.socket(); s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"\0\0\0\x50" + bytes(20))  # a frame begun, never finished
s.settimeout(20)
try:
    print("closed" if s.recv(1) == b"" else "data")
except socket.timeout:
    print("still open")
except ConnectionResetError:
    print("closed")
