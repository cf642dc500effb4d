#!/bin/sh
# nbdkit-vigil-filter policies against a file-backed disk: deny, alert, zero
# and per-signature overrides; signatures at odd offsets, across a 512-byte
# boundary, at the end of a large write, split over two writes.
. tests/functions.sh
. tests/data/nbd/nbd-functions.sh
nbd_setup

fresh() {
    rm -f "$TMP/disk.img"
    truncate -s 1M "$TMP/disk.img"
}
Z24=000000000000000000000000
lines() { tr '\n' ' ' | sed 's/ $//'; }

# ---- deny ----
fresh
out=$(nbd_run "$TMP/disk.img" vigil-db="$NBDDB" vigil-policy=deny \
    vigil-events="$TMP/deny.jsonl" -- \
    w:0:clean-data w:1001:ab${SIG1}cd w:505:abcde${SIG1} \
    w:8190:xxVIGIL-TEST-SIG w:8206:NATURE-ONEyy w:8206:NATURE-ONEyy \
    E:65536:65536:${SIG2} z:200000:4096 t:300000:4096 w:8206:NATURE-ZZZ | lines)
expect_eq "deny: results" "$out" "ok EIO EIO ok EIO EIO EIO ok ok ok"
expect_eq "deny: clean write landed" "$(peek "$TMP/disk.img" 0 10)" clean-data
expect_eq "deny: odd offset not written" \
    "$(peek "$TMP/disk.img" 1001 28)" "0000$Z24"
expect_eq "deny: across 512 not written" \
    "$(peek "$TMP/disk.img" 505 29)" "00000$Z24"
expect_eq "deny: first half of split landed" \
    "$(peek "$TMP/disk.img" 8190 16)" xxVIGIL-TEST-SIG
expect_eq "deny: after a refused retry the stream continues" \
    "$(peek "$TMP/disk.img" 8206 10)" NATURE-ZZZ
expect_eq "deny: end of 64 KiB write not written" \
    "$(peek "$TMP/disk.img" $((65536 + 65536 - 24)) 24)" "$Z24"
expect_eq "deny: nothing of the 64 KiB request written" \
    "$(peek "$TMP/disk.img" 65536 8)" 00000000
expect_eq "deny: events" "$(wc -l <"$TMP/deny.jsonl" | tr -d ' ')" 5

# Event shape (docs/disk.md).
first=$(head -n 1 "$TMP/deny.jsonl")
got=$($NBDPY -c 'import json,sys
e = json.loads(sys.argv[1])
print(e["type"], e["disk"], e["offset"], e["length"], e["signature"],
      e["policy"], e["action"], e["write"], e["request"],
      e["request_offset"], e["request_length"], type(e["ts"]).__name__)' \
    "$first")
expect_eq "deny: event fields" "$got" \
    "detection disk 1003 24 Vigil.Test.One deny denied denied write 1001 28 int"
split=$(sed -n 3p "$TMP/deny.jsonl")
got=$($NBDPY -c 'import json,sys
e = json.loads(sys.argv[1]); print(e["offset"], e["request_offset"])' "$split")
expect_eq "deny: split match starts in the earlier write" "$got" "8192 8206"

# ---- alert ----
fresh
out=$(nbd_run "$TMP/disk.img" vigil-db="$NBDDB" vigil-policy=alert \
    vigil-events="$TMP/alert.jsonl" vigil-disk=vda -- \
    w:1001:ab${SIG1}cd w:4000:${SIG2}${SIG2} | lines)
expect_eq "alert: results" "$out" "ok ok"
expect_eq "alert: written as is" "$(peek "$TMP/disk.img" 1003 24)" "$SIG1"
expect_eq "alert: two events for a doubled signature" \
    "$(grep -c '"signature":"Vigil.Test.Two"' "$TMP/alert.jsonl")" 2
check "alert: disk name and action" \
    grep -q '"disk":"vda".*"policy":"alert","action":"alerted","write":"passed"' \
    "$TMP/alert.jsonl"
check "alert: warning on stderr" \
    grep -q "warning: detection on disk vda: signature Vigil.Test.One" \
    "$TMP/nbdkit.err"

# ---- alert scans behind the I/O: order kept, a flush waits for it ----
for behind in yes no; do
    fresh
    truncate -s 16M "$TMP/disk.img"
    out=$(nbd_run "$TMP/disk.img" vigil-db="$NBDDB" vigil-policy=alert \
        vigil-scan-behind=$behind vigil-events="$TMP/behind-$behind.jsonl" -- \
        w:8190:xxVIGIL-TEST-SIG w:8206:NATURE-ONEyy \
        E:65536:8388608:${SIG2} f n:"$TMP/behind-$behind.jsonl" | lines)
    expect_eq "alert, scan-behind=$behind: results, events after flush" \
        "$out" "ok ok ok ok 2"
    expect_eq "alert, scan-behind=$behind: end of the large write" \
        "$(peek "$TMP/disk.img" $((65536 + 8388608 - 24)) 24)" "$SIG2"
done
expect_eq "alert: the same detections scanned behind and inline" \
    "$(grep -o '"offset".*"action":"[a-z]*"' "$TMP/behind-yes.jsonl")" \
    "$(grep -o '"offset".*"action":"[a-z]*"' "$TMP/behind-no.jsonl")"

# ---- a flood of detections: every one an event, the console rate-limited
fresh
ops=""
i=0
while [ $i -lt 40 ]; do
    ops="$ops w:$((i * 512)):${SIG1}"
    i=$((i + 1))
done
: >"$TMP/nbdkit.err"
# shellcheck disable=SC2086
nbd_run "$TMP/disk.img" vigil-db="$NBDDB" vigil-policy=alert \
    vigil-events="$TMP/flood.jsonl" -- $ops >/dev/null
expect_eq "flood: every detection is an event" \
    "$(wc -l <"$TMP/flood.jsonl" | tr -d ' ')" 40
shown=$(grep -c 'warning: detection on disk' "$TMP/nbdkit.err")
unshown=$(sed -n 's/.*warning: \([0-9]*\) more detections.*/\1/p' \
    "$TMP/nbdkit.err" | awk '{ n += $1 } END { print n + 0 }')
check "flood: fewer warnings than detections ($shown)" [ "$shown" -lt 40 ]
expect_eq "flood: shown and counted add up" "$((shown + unshown))" 40

# ---- zero ----
fresh
out=$(nbd_run "$TMP/disk.img" vigil-db="$NBDDB" vigil-policy=zero \
    vigil-events="$TMP/zero.jsonl" -- \
    w:2000:ab${SIG1}cd w:3000:xxVIGIL-TEST-SIG w:3016:NATURE-ONEyy \
    W:4096:8192:${SIG1}middle${SIG2} | lines)
expect_eq "zero: results" "$out" "ok ok ok ok"
expect_eq "zero: match zeroed, rest written" \
    "$(peek "$TMP/disk.img" 2000 28)" "ab${Z24}cd"
expect_eq "zero: split: the completing request's part zeroed" \
    "$(peek "$TMP/disk.img" 3000 28)" "xxVIGIL-TEST-SIG0000000000yy"
expect_eq "zero: two matches in one request" \
    "$(peek "$TMP/disk.img" 4096 56)" "${Z24}middle${Z24}.."
check "zero: split event records the zeroed range" \
    grep -q '"offset":3002,"length":24,.*"zeroed_offset":3016,"zeroed_length":10' \
    "$TMP/zero.jsonl"

# ---- per-signature policies ----
fresh
cat >"$TMP/policies" <<'P'
# signature   policy
Vigil.Test.Two  zero
Vigil.Test.O*   alert
P
out=$(nbd_run "$TMP/disk.img" vigil-db="$NBDDB" vigil-policy=deny \
    vigil-policy-file="$TMP/policies" -- w:0:${SIG1} w:100:${SIG2} | lines)
expect_eq "policy file: results" "$out" "ok ok"
expect_eq "policy file: glob alert" "$(peek "$TMP/disk.img" 0 24)" "$SIG1"
expect_eq "policy file: zero" "$(peek "$TMP/disk.img" 100 24)" "$Z24"
printf 'Vigil.Test.Two  zero\n' >"$TMP/policies"
out=$(nbd_run "$TMP/disk.img" vigil-db="$NBDDB" vigil-policy=deny \
    vigil-policy-file="$TMP/policies" -- w:200:${SIG1} w:300:x${SIG2} | lines)
expect_eq "policy file: default applies to the rest" "$out" "EIO ok"

# ---- write-zeroes and trim: scanned as the zeros they leave ----
fresh
out=$(nbd_run "$TMP/disk.img" vigil-db="$NBDDB" vigil-policy=deny -- \
    z:0:8192 t:8192:8192 w:20000:xxVIGIL-ZERO-TAILabcdefgh z:20017:4096 \
    t:20017:4096 w:20017:not-zeros z:100000:900000 \
    w:30000:xxVIGIL-ZERO-TAIL | lines)
# The last write is followed by zeros already on the disk: it completes the
# signature itself.
expect_eq "zeroes: results" "$out" "ok ok ok EIO EIO ok ok EIO"
expect_eq "zeroes: refused zeroing left the data" \
    "$(peek "$TMP/disk.img" 20017 9)" not-zeros

done_testing
