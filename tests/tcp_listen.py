"""A TCP listener on 127.0.0.1:PORT that writes "listening" to FILE, then
"connection" for each connection it accepts (and closes) (test-run-net):
  tcp_listen.py PORT FILE"""
import socket, sys
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[1]))); l.listen(8); l.settimeout(300)
open(sys.argv[2], "w").write("listening\n")
while True:
    c, a = l.accept()
    open(sys.argv[2], "a").write("connection\n"); c.close()
