#!/bin/sh
# --callers at a dense call rate must not lose records (docs/cli.md,
# --ring-size and --ring-full): a guest loop of getppid() calls, each event
# carrying its branches and chain (several times a plain event), into a
# deliberately small ring. By default (--ring-full wait) the vCPU waits
# for the consumer: every call must be in the trace, whatever the host's
# speed. The same run with --ring-full drop usually loses most of them;
# that count is only printed, as it depends on the host's timing.
. tests/functions.sh
requires_qemu; requires python3
requires_file "$VIGIL" "$GUEST/vmlinuz" "$GUEST/initramfs.cpio.gz"
n=20000

"$VIGIL" run --trace comm=vigil-bench --callers --ring-size 256K \
    --ring-full drop -o "$TMP/drop.jsonl" -- vigil-bench $n 100 >/dev/null 2>&1
echo "for comparison, --ring-full drop: $(tail -n 1 "$TMP/drop.jsonl")"

"$VIGIL" run --trace comm=vigil-bench --callers --ring-size 256K \
    -o "$TMP/wait.jsonl" -- vigil-bench $n 100 >"$TMP/out"
expect_eq "the program and vigil ran to the end" "$?" 0
echo "--ring-full wait (the default): $(tail -n 1 "$TMP/wait.jsonl")"
check "every getppid() is in the trace with its branches, nothing dropped" \
    python3 - "$TMP/wait.jsonl" $n <<'PY'
import json, sys
path, n = sys.argv[1], int(sys.argv[2])
calls = with_callers = 0
summary = None
for line in open(path):
    ev = json.loads(line)
    if ev.get("type") == "summary":
        summary = ev
    elif ev.get("type") == "drops":
        sys.exit("drops record: %s" % line.strip())
    elif ev.get("name") == "getppid":
        calls += 1
        with_callers += "branches" in ev and "chain" in ev
ok = (summary is not None and summary["dropped_records"] == 0
      and calls == n and with_callers == n)
if not ok:
    sys.exit("getppid events %d (with branches %d) of %d; summary %s"
             % (calls, with_callers, n, summary))
PY

# Bad sizes and policies are usage errors, as is either option without
# --trace.
for bad in 100K 3M 128K 2048M 0 1G x 8MB; do
    expect_rc 2 "$VIGIL" run --trace all --ring-size $bad -- true
done
expect_rc 2 "$VIGIL" run --trace all --ring-full block -- true
expect_rc 2 "$VIGIL" run --ring-size 8M -- true
expect_rc 2 "$VIGIL" run --ring-full wait -- true

done_testing
