#!/bin/sh
# nbdkit-vigil-filter against a guest that arranges its writes to slip a
# signature past the scan (the holes of the hardening issue, reproduced
# from outside first): a signature written back to front, completed by a
# one-byte patch, repeated more often than matches used to be recorded, a
# deny signature behind many alert ones, and two connections writing the
# halves of signatures at the same time.
. tests/functions.sh
. tests/data/nbd/nbd-functions.sh
nbd_setup

fresh() {
    rm -f "$TMP/disk.img"
    truncate -s 1M "$TMP/disk.img"
}
lines() { tr '\n' ' ' | sed 's/ $//'; }
# How many times TEXT is in FILE.
count() { grep -a -o "$2" "$1" | wc -l | tr -d ' '; }

# ---- the second half first, then the first half (deny) ----
fresh
out=$(nbd_run "$TMP/disk.img" vigil-db="$NBDDB" vigil-policy=deny \
    vigil-events="$TMP/rev.jsonl" -- \
    w:8206:NATURE-ONEyy w:8190:xxVIGIL-TEST-SIG | lines)
expect_eq "reverse: the completing write is refused" "$out" "ok EIO"
expect_eq "reverse: no signature on disk" "$(count "$TMP/disk.img" "$SIG1")" 0
check "reverse: event names the whole match" \
    grep -q '"offset":8192,"length":24,.*"action":"denied"' "$TMP/rev.jsonl"

# ---- a wrong last byte, then a one-byte patch (deny) ----
fresh
out=$(nbd_run "$TMP/disk.img" vigil-db="$NBDDB" vigil-policy=deny -- \
    w:20000:VIGIL-TEST-SIGNATURE-ONX w:20023:E w:19999:Q | lines)
expect_eq "patch: the one-byte patch is refused" "$out" "ok EIO ok"
expect_eq "patch: no signature on disk" "$(count "$TMP/disk.img" "$SIG1")" 0

# ---- zero: the new part of a match spanning old and new bytes ----
fresh
out=$(nbd_run "$TMP/disk.img" vigil-db="$NBDDB" vigil-policy=zero \
    vigil-events="$TMP/zrev.jsonl" -- \
    w:8206:NATURE-ONEyy w:8190:xxVIGIL-TEST-SIG w:20000:VIGIL-TEST-SIGNATURE-ONX \
    w:20023:E | lines)
expect_eq "zero, reverse: both writes pass" "$out" "ok ok ok ok"
expect_eq "zero, reverse: the new part zeroed, the old part kept" \
    "$(peek "$TMP/disk.img" 8190 28)" "xx00000000000000NATURE-ONEyy"
expect_eq "zero, patch: the patch byte zeroed" \
    "$(peek "$TMP/disk.img" 20000 24)" "VIGIL-TEST-SIGNATURE-ON0"
expect_eq "zero: no signature on disk" "$(count "$TMP/disk.img" "$SIG1")" 0
check "zero, reverse: zeroed range is the new part" \
    grep -q '"offset":8192,"length":24,.*"zeroed_offset":8192,"zeroed_length":14' \
    "$TMP/zrev.jsonl"

# ---- zero: a match that zeroing cannot break is refused ----
fresh
out=$(nbd_run "$TMP/disk.img" vigil-db="$NBDDB" vigil-policy=zero -- \
    w:30000:VIGIL-ZERO-TAILxxxxxxxx Z:30015:8 z:30015:8 | lines)
expect_eq "zero: a match whose new bytes are zeros already is refused" \
    "$out" "ok EIO EIO"
expect_eq "zero: the refused zeros left the data" \
    "$(peek "$TMP/disk.img" 30015 8)" xxxxxxxx

# ---- a long write-zeroes completing a signature at its start (deny) ----
fresh
out=$(nbd_run "$TMP/disk.img" vigil-db="$NBDDB" vigil-policy=deny -- \
    w:200000:VIGIL-ZERO-TAILabcdefgh z:200015:300000 z:200023:300000 | lines)
expect_eq "long write-zeroes: completing one refused, the other passes" \
    "$out" "ok EIO ok"

# ---- 70 copies in one write (zero) ----
fresh
out=$(nbd_run "$TMP/disk.img" vigil-db="$NBDDB" vigil-policy=zero \
    vigil-events="$TMP/z70.jsonl" -- R:40960:70:"$SIG1" | lines)
expect_eq "zero, 70 copies: passes" "$out" ok
expect_eq "zero, 70 copies: none left on disk" \
    "$(count "$TMP/disk.img" "$SIG1")" 0
expect_eq "zero, 70 copies: every one is an event" \
    "$(wc -l <"$TMP/z70.jsonl" | tr -d ' ')" 70

# ---- 64 alert matches, then a deny signature ----
fresh
printf 'Vigil.Test.One alert\n' >"$TMP/policies"
out=$(nbd_run "$TMP/disk.img" vigil-db="$NBDDB" vigil-policy=deny \
    vigil-policy-file="$TMP/policies" vigil-events="$TMP/mixed.jsonl" -- \
    R:81920:64:"$SIG1":"$SIG2" | lines)
expect_eq "mixed: the deny signature refuses the request" "$out" EIO
expect_eq "mixed: not on disk" "$(count "$TMP/disk.img" "$SIG2")" 0
check "mixed: the deny signature is recorded" \
    grep -q '"signature":"Vigil.Test.Two","policy":"deny","action":"denied"' \
    "$TMP/mixed.jsonl"

# ---- more matches than can be recorded: refused and counted ----
for pol in alert zero; do
    fresh
    : >"$TMP/nbdkit.err"
    out=$(nbd_run "$TMP/disk.img" vigil-db="$NBDDB" vigil-policy=$pol \
        vigil-scan-behind=false vigil-events="$TMP/many-$pol.jsonl" -- \
        R:0:2000:"$SIG1" w:100000:clean | lines)
    expect_eq "$pol, 2000 copies: refused, the next write served" "$out" "EIO ok"
    expect_eq "$pol, 2000 copies: none on disk" \
        "$(count "$TMP/disk.img" "$SIG1")" 0
    check "$pol, 2000 copies: counted at shutdown" \
        grep -q "1 requests refused with more matches than recorded" \
        "$TMP/nbdkit.err"
done

# Scanned behind the I/O (alert only) the request has passed already: it is
# not refused, and the warning says so.
fresh
: >"$TMP/nbdkit.err"
out=$(nbd_run "$TMP/disk.img" vigil-db="$NBDDB" vigil-policy=alert \
    vigil-events="$TMP/many-behind.jsonl" -- R:0:2000:"$SIG1" f | lines)
expect_eq "alert behind the I/O, 2000 copies: passes" "$out" "ok ok"
check "alert behind the I/O: events say passed" \
    grep -q '"write":"passed",.*"unrecorded":976' "$TMP/many-behind.jsonl"
check "alert behind the I/O: warned, not refused" \
    grep -q "976 more detections.*not recorded; scanned behind the I/O" \
    "$TMP/nbdkit.err"

# ---- two connections write the halves of signatures at once ----
fresh
nbd_sh "$TMP/disk.img" vigil-db="$NBDDB" vigil-policy=deny -- '
a="" b=""
i=0
while [ $i -lt 60 ]; do
    off=$((i * 4096 + 100))
    a="$a w:$off:VIGIL-TEST-SIG"
    b="w:$((off + 14)):NATURE-ONE $b" # the other end first: they cross
    i=$((i + 1))
done
$NBDIO "$uri" $a >'"$TMP"'/par.a &
$NBDIO "$uri" $b >'"$TMP"'/par.b &
wait
'
expect_eq "parallel halves: no signature on disk" \
    "$(count "$TMP/disk.img" "$SIG1")" 0
expect_eq "parallel halves: one of each pair refused" \
    "$(cat "$TMP/par.a" "$TMP/par.b" | grep -c EIO)" 60

done_testing
