"""A stand-in for QEMU's QMP socket: greets, answers every command, logs
each command as one JSON line.
usage: fakeqmp.py SOCKET LOG [refuse|silent]
  refuse: answer set_link with an error;  silent: never answer set_link"""
import json
import os
import socket
import sys

path, log = sys.argv[1], sys.argv[2]
mode = sys.argv[3] if len(sys.argv) > 3 else ""
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(4)
open(path + ".ready", "w").close()
while True:
    c, _ = s.accept()
    f = c.makefile("rwb")
    f.write(b'{"QMP": {"version": {}, "capabilities": []}}\n')
    f.flush()
    for line in f:
        cmd = json.loads(line)
        with open(log, "a") as lf:
            lf.write(json.dumps(cmd, sort_keys=True) + "\n")
        if cmd.get("execute") == "set_link":
            f.write(b'{"event": "NIC_RX_FILTER_CHANGED", "data": {}}\n')
            if mode == "silent":
                continue
            if mode == "refuse":
                f.write(b'{"error": {"class": "DeviceNotFound", '
                        b'"desc": "Device not found"}}\n')
                f.flush()
                continue
        f.write(b'{"return": {}}\n')
        f.flush()
    c.close()
