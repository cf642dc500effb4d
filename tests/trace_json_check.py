"""Check a JSON Lines trace the way a consumer would read it
(test-trace-json): every event's keys in the documented order, the
documented types and states, and every string one byte per code point.
  trace_json_check.py TRACE.jsonl"""
import json, sys
order = ["type", "ts", "ts_exit", "vcpu", "pid", "tid", "ppid", "comm", "abi",
         "nr", "name", "args", "decoded", "ret", "error", "state", "ip",
         "truncated"]
def strings(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)
    elif isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from strings(x)
n = 0
for line in open(sys.argv[1], encoding="ascii"):
    ev = json.loads(line)
    keys = list(ev)
    want = [k for k in order if k in ev]
    assert keys == want, (keys, line)
    assert ev["type"] == "syscall" and ev["abi"] in ("x86_64", "i386")
    assert ev["state"] in ("done", "noreturn", "unfinished"), line
    assert len(ev["args"]) == len(ev["decoded"]) <= 6, line
    assert all(isinstance(a, int) and 0 <= a < 2**64 for a in ev["args"])
    assert (ev["ret"] is None) == (ev["state"] != "done"), line
    for s in strings(ev):
        s.encode("latin-1")  # every code point is one byte
    n += 1
print("ok: python3 parsed %d events, keys in order, strings are bytes" % n)
