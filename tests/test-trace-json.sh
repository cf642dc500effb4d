#!/bin/sh
# Random events (from build/tests/test-trace-format --random) must all be
# valid JSON to two independent parsers, with the documented key order and
# strings that map back to bytes (no code point above U+00FF).
. tests/functions.sh
requires python3
bin=$VIGIL_BUILD/tests/test-trace-format
requires_file "$bin"

out=$(mktemp)
cleanup() { rm -f "$out"; }
trap cleanup EXIT

"$bin" --random 20000 7 >"$out" || fail "generating events"
echo "ok: $(wc -l <"$out") random events generated"

python3 - "$out" <<'PY' || fail "python3 json"
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
PY

if command -v jq >/dev/null 2>&1; then
    n=$(jq -c . "$out" | wc -l) || fail "jq"
    [ "$n" -eq 20000 ] || fail "jq parsed $n of 20000"
    echo "ok: jq parsed $n events"
fi
echo "PASS"
