"""Send datagrams for the log tests: udp_send.py PORT FILE sends FILE's
bytes to 127.0.0.1:PORT once; udp_send.py PORT --flood N [SOURCE] sends N
datagrams "flood" from SOURCE (an address of the loopback net)."""
import socket
import sys


def main():
    port = int(sys.argv[1])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if sys.argv[2] == "--flood":
        if len(sys.argv) > 4:
            s.bind((sys.argv[4], 0))
        for _ in range(int(sys.argv[3])):
            s.sendto(b"flood", ("127.0.0.1", port))
    else:
        with open(sys.argv[2], "rb") as f:
            s.sendto(f.read(), ("127.0.0.1", port))


main()
