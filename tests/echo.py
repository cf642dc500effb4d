"""An echo server for the hiding tests (tests/test-hide.sh): TCP and UDP on
one port. A TCP message "sleep:MS rest" is answered after MS milliseconds;
"conns?" is answered with "conns N", the TCP connections open now; a TCP
connection is closed when its peer shuts its side down. Logs one
line per connection and datagram to stdout, so a test can tell that the
traffic reached it."""
import socket
import sys
import threading
import time

OPEN = 0
LOCK = threading.Lock()


def serve_tcp(conn, addr):
    global OPEN
    print("tcp", addr[0], flush=True)
    with LOCK:
        OPEN += 1
    try:
        with conn:
            while True:
                data = conn.recv(4096)
                if not data:
                    return
                if data.startswith(b"sleep:"):
                    ms = int(data[6:].split(b" ")[0])
                    time.sleep(ms / 1000)
                if data == b"conns?":
                    with LOCK:
                        data = b"conns %d" % OPEN
                conn.sendall(data)
    except OSError:
        pass
    finally:
        with LOCK:
            OPEN -= 1


def tcp_loop(s):
    while True:
        conn, addr = s.accept()
        threading.Thread(target=serve_tcp, args=(conn, addr), daemon=True).start()


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((host, port))
    t.listen(16)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((host, port))
    threading.Thread(target=tcp_loop, args=(t,), daemon=True).start()
    print("ready", flush=True)
    while True:
        data, addr = u.recvfrom(65536)
        print("udp", addr[0], flush=True)
        u.sendto(data, addr)


main()
