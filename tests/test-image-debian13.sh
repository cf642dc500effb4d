#!/bin/sh
# vigil run --image on Debian 13 (kernel 6.12), built by
# scripts/build-image.sh trixie: the boot completes under --trace all with
# nothing dropped, and the command's status comes back through the agent.
. tests/functions.sh
requires_qemu; requires jq debugfs
requires_file "$VIGIL"
[ "$(id -u)" = 0 ] || {
    echo "requires root (scripts/build-image.sh runs debootstrap)"
    exit 77
}
img=$(scripts/build-image.sh trixie)
rc=$?
[ "$rc" != 3 ] || {
    echo "requires the archive of apt's sources entry (unreachable)"
    exit 77
}
[ "$rc" = 0 ] && [ -s "$img" ] || fail "scripts/build-image.sh trixie failed ($rc)"
IMG=$TMP/d13.raw
cp --sparse=always "$img" "$IMG"

# is-system-running --wait returns when systemd finished booting (the
# login prompt is up): "running", or "degraded" with a failed unit.
"$VIGIL" run --smp 1 --memory 1024 --timeout 1200 --image "$IMG" \
    --trace all -o "$TMP/t.jsonl" \
    -- sh -c 'uname -r; systemctl is-system-running --wait' >"$TMP/out"
expect_eq "the command's status comes back" "$?" 0
check "kernel 6.12 ($(head -n 1 "$TMP/out"))" grep -q '^6\.12\.' "$TMP/out"
expect_eq "the boot completed" "$(tail -n 1 "$TMP/out")" running
d=$(jq -s '[.[] | select(.type == "summary")][0].dropped_records' "$TMP/t.jsonl")
expect_eq "no records dropped" "$d" 0
procs=$(jq -r 'select(.type == "syscall") | .pid' "$TMP/t.jsonl" | sort -u | wc -l)
check "many processes traced ($procs)" test "$procs" -ge 20
check "systemd is traced" sh -c "jq -r 'select(.type == \"syscall\") | .comm' '$TMP/t.jsonl' | grep -qx systemd"

done_testing
