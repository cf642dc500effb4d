"""udp_deaf.py LISTEN_HOST:PORT SERVER_HOST:PORT DEAF_MS: forwards log
datagrams from one sender to logd, but drops every FIN (header type 5)
sent within DEAF_MS of the first FIN: a receiver whose socket buffer
happens to be full when the session ends. "Sent" is the header's time_ns,
so the proxy's own delays in reading do not move the window. Prints
"ready" once it listens, its counts on SIGTERM."""
import select
import signal
import socket
import sys


def addr(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


def main():
    listen, server = addr(sys.argv[1]), addr(sys.argv[2])
    deaf = float(sys.argv[3]) / 1000
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(listen)
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    counts = {"forwarded": 0, "fin_dropped": 0, "fin_forwarded": 0}
    first_fin = None

    def stop(*_):
        print(" ".join(f"{k}={v}" for k, v in counts.items()), flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    print("ready", flush=True)
    while True:
        if not select.select([sock], [], [], 1)[0]:
            continue
        data = sock.recv(65536)
        if len(data) > 5 and data[5] == 5:  # FIN
            sent = int.from_bytes(data[24:32], "big") / 1e9  # time_ns
            first_fin = first_fin if first_fin is not None else sent
            if sent - first_fin < deaf:
                counts["fin_dropped"] += 1
                continue
            counts["fin_forwarded"] += 1
        out.sendto(data, server)
        counts["forwarded"] += 1


main()
