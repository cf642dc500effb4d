#!/bin/sh
# vigil run --image on Debian 13 (kernel 6.12), built by
# scripts/build-image.sh trixie: the boot completes under --trace all with
# nothing dropped, the command's status comes back through the agent, and
# an in-guest strace of distribution programs agrees with vigil's trace.
. tests/functions.sh
requires_qemu; requires jq debugfs python3
requires_file "$VIGIL"
. tests/image.sh
test_image trixie d13.raw
# The kernel profile cache (docs/image.md), this test's own.
export VIGIL_PROFILE_CACHE="$TMP/profiles"

# is-system-running --wait returns when systemd finished booting (the
# login prompt is up): "running", or "degraded" with a failed unit.  Then
# the distribution's own programs run under an in-guest `strace -f`, in the
# same boot that vigil traces from outside.
"$VIGIL" run --smp 1 --memory 1024 --timeout 1200 --image "$IMG" \
    --trace all -o "$TMP/t.jsonl" -- sh -c 'uname -r
        systemctl is-system-running --wait
        strace -f -qq -o /tmp/st.txt sh -c "ls -l /etc >/dev/null; id; cat /etc/hostname; ps -e | wc -l" >/dev/null
        echo ===; cat /tmp/st.txt' >"$TMP/out"
expect_eq "the command's status comes back" "$?" 0
check "kernel 6.12 ($(head -n 1 "$TMP/out"))" grep -q '^6\.12\.' "$TMP/out"
expect_eq "the boot completed" "$(sed -n 2p "$TMP/out")" running
sed '1,/^===$/d' "$TMP/out" >"$TMP/strace.txt"
check "strace ran in the guest ($(wc -l <"$TMP/strace.txt") lines)" test -s "$TMP/strace.txt"
check "in-guest strace and vigil agree, thread by thread" \
    python3 tests/strace_compare.py "$TMP/strace.txt" "$TMP/t.jsonl"
d=$(jq -s '[.[] | select(.type == "summary")][0].dropped_records' "$TMP/t.jsonl")
expect_eq "no records dropped" "$d" 0
procs=$(jq -r 'select(.type == "syscall") | .pid' "$TMP/t.jsonl" | sort -u | wc -l)
check "many processes traced ($procs)" test "$procs" -ge 20
check "systemd is traced" sh -c "jq -r 'select(.type == \"syscall\") | .comm' '$TMP/t.jsonl' | grep -qx systemd"
check "the 6.12 kernel's profile was cached by its build id" \
    sh -c "ls '$TMP/profiles' | grep -Eqx '[0-9a-f]{40}\.json'"

done_testing
