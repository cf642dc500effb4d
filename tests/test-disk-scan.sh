#!/bin/sh
# End to end: `vigil run --disk FILE,scan=POLICY --db PATH` serves the disk
# through nbdkit and the vigil filter; the guest writes straight to the
# block device (virtio /dev/vda, IDE /dev/sda).
. tests/functions.sh
requires_qemu; requires nbdkit
requires_file "$VIGIL" "$VIGIL_BUILD/nbdkit-vigil-filter.so" \
    "$GUEST/vmlinuz" "$GUEST/initramfs.cpio.gz"
DB=tests/data/nbd/test.ndb
SIG1=VIGIL-TEST-SIGNATURE-ONE
peek() { dd if="$1" bs=1 skip="$2" count="$3" status=none | tr '\000' 0; }
# once_on_disk IMG TEXT CMD...: in the background, run CMD once TEXT is in
# IMG (or after 60 s); $! is its pid.
once_on_disk() {
    img=$1 text=$2
    shift 2
    (
        i=0
        while [ $i -lt 600 ] && ! grep -q "$text" "$img"; do
            sleep 0.1
            i=$((i + 1))
        done
        "$@"
    ) &
}

# deny on virtio: the guest's write fails with EIO, the image lacks it.
truncate -s 1M "$TMP/vda.img"
out=$("$VIGIL" run --disk "$TMP/vda.img,if=virtio,scan=deny,events=$TMP/ev.jsonl" \
    --db "$DB" -- sh -c "
printf clean-first | dd of=/dev/vda bs=512 conv=sync,fsync 2>/dev/null
echo clean=\$?
printf $SIG1 | dd of=/dev/vda bs=512 seek=8 conv=sync,fsync 2>&1
echo sig=\$?" 2>"$TMP/err")
rc=$?
expect_eq "deny: vigil run status" "$rc" 0
check "deny: clean write succeeded" sh -c "echo '$out' | grep -qx clean=0"
check "deny: guest saw EIO" sh -c "echo '$out' | grep -q 'Input/output error'"
check "deny: guest's dd failed" sh -c "echo '$out' | grep -qx sig=1"
expect_eq "deny: clean data on disk" "$(peek "$TMP/vda.img" 0 11)" clean-first
check "deny: signature not on disk" sh -c "! grep -q $SIG1 '$TMP/vda.img'"
check "deny: event" grep -q '"disk":"vda".*"signature":"Vigil.Test.One","policy":"deny","action":"denied"' \
    "$TMP/ev.jsonl"
check "deny: warning on stderr" grep -q "detection on disk vda" "$TMP/err"

# zero on IDE: the write succeeds, the signature's bytes arrive as zeros.
truncate -s 1M "$TMP/sda.img"
out=$("$VIGIL" run --disk "$TMP/sda.img,if=ide,scan=zero" --db "$DB" -- \
    sh -c "printf ab${SIG1}cd | dd of=/dev/sda bs=512 conv=sync,fsync 2>/dev/null; echo rc=\$?" \
    2>"$TMP/err")
expect_eq "zero: guest write succeeded" "$out" rc=0
expect_eq "zero: matched bytes zeroed" "$(peek "$TMP/sda.img" 0 28)" \
    "ab000000000000000000000000cd"

# Several disks, each with its own policy and name: vda, vdb and sda.
for d in v1 v2 i1; do truncate -s 1M "$TMP/$d.img"; done
out=$("$VIGIL" run --disk "$TMP/v1.img,scan=deny,events=$TMP/multi.jsonl" \
    --disk "$TMP/v2.img,scan=zero,events=$TMP/multi.jsonl" \
    --disk "$TMP/i1.img,if=ide,events=$TMP/multi.jsonl" --db "$DB" -- sh -c "
for dev in vda vdb sda; do
    printf x${SIG1}x | dd of=/dev/\$dev bs=512 conv=sync,fsync 2>/dev/null
    echo \$dev=\$?
done" 2>"$TMP/err")
expect_eq "several disks: guest saw" "$(echo $out)" "vda=1 vdb=0 sda=0"
check "several disks: vda refused it" sh -c "! grep -q $SIG1 '$TMP/v1.img'"
expect_eq "several disks: vdb zeroed it" "$(peek "$TMP/v2.img" 0 26)" \
    "x000000000000000000000000x"
expect_eq "several disks: sda alerted" "$(peek "$TMP/i1.img" 1 24)" "$SIG1"
got=$(grep -o '"disk":"[a-z]*".*"action":"[a-z]*"' "$TMP/multi.jsonl" |
    sed 's/"disk":"\([a-z]*\)".*"action":"\([a-z]*\)"/\1:\2/' | sort -u |
    tr '\n' ' ')
expect_eq "several disks: events name each disk" "$got" \
    "sda:alerted vda:denied vdb:zeroed "

# Without scan= or --db the file is attached directly, as before.
truncate -s 1M "$TMP/plain.img"
"$VIGIL" run --disk "$TMP/plain.img" -- \
    sh -c "printf $SIG1 | dd of=/dev/vda bs=512 conv=sync,fsync 2>/dev/null"
expect_eq "plain disk: written" "$(peek "$TMP/plain.img" 0 24)" "$SIG1"

# With --trace, detections join the system call stream: a denied O_DIRECT
# write is detected while the guest's pwrite64 that carries it is in flight.
truncate -s 1M "$TMP/tr.img"
"$VIGIL" run --trace comm=vigil-diskwrite -o "$TMP/tr.jsonl" \
    --disk "$TMP/tr.img,scan=deny" --db "$DB" -- \
    vigil-diskwrite --direct /dev/vda 8192 4084 $SIG1 4096 >"$TMP/tr.out" 2>&1
check "trace: the second write failed in the guest" \
    grep -qx "write 4096+4096 Input/output error" "$TMP/tr.out"
got=$(python3 tests/trace_detect.py denied "$TMP/tr.jsonl" 2>&1)
expect_eq "trace: detection inside the failing pwrite64, which it names" \
    "$got" "1 denied 1 vigil-diskwrite vigil-diskwrite pwrite64 True"

# Alert scans behind the I/O: the writer is still found, from the time the
# request arrived; buffered data is written by whoever flushes it.
truncate -s 1M "$TMP/tr.img"
"$VIGIL" run --trace all -o "$TMP/tr2.jsonl" \
    --disk "$TMP/tr.img,scan=alert" --db "$DB" -- sh -c "
vigil-diskwrite --direct /dev/vda 8192 100 $SIG1
printf $SIG1 | dd of=/dev/vda bs=4096 seek=4 conv=sync,fsync 2>/dev/null" \
    >/dev/null 2>&1
got=$(python3 tests/trace_detect.py writers "$TMP/tr2.jsonl" 2>&1 | tr '\n' ' ')
expect_eq "trace: writers of alerted data" "$got" \
    "100 vigil-diskwrite:pwrite64 16384 dd:fsync "

# Per-signature policies: One zeroed, Two refused, the rest alerted.
SIG2=VIGIL-TEST-SIGNATURE-TWO
printf 'Vigil.Test.One zero\nVigil.Test.Two deny\n' >"$TMP/policies"
truncate -s 1M "$TMP/pol.img"
out=$("$VIGIL" run --disk "$TMP/pol.img,scan=alert,policies=$TMP/policies" \
    --db "$DB" -- sh -c "
printf x${SIG1}x | dd of=/dev/vda bs=512 conv=sync,fsync 2>/dev/null
echo one=\$?
printf $SIG2 | dd of=/dev/vda bs=512 seek=2 conv=sync,fsync 2>/dev/null
echo two=\$?" 2>"$TMP/err")
expect_eq "policies: guest saw" "$(echo $out)" "one=0 two=1"
expect_eq "policies: One zeroed" "$(peek "$TMP/pol.img" 0 26)" \
    "x000000000000000000000000x"
check "policies: Two not on disk" sh -c "! grep -q $SIG2 '$TMP/pol.img'"

# A database replaced (by rename) while the guest runs is used from the next
# write on: the guest writes Two until it is refused; the host swaps in a
# database that has Two once the first write is on the image.
grep Vigil.Test.One "$DB" >"$TMP/db.ndb"
truncate -s 1M "$TMP/rel.img"
cp "$DB" "$TMP/db.new"
once_on_disk "$TMP/rel.img" $SIG2 mv "$TMP/db.new" "$TMP/db.ndb"
swapper=$!
out=$("$VIGIL" run --timeout 300 --disk "$TMP/rel.img,scan=deny" \
    --db "$TMP/db.ndb" -- sh -c "
i=0
while [ \$i -lt 600 ]; do
    printf $SIG2 | dd of=/dev/vda bs=512 conv=sync oflag=direct 2>/dev/null ||
        break
    i=\$((i + 1))
    sleep 0.1
done
echo writes=\$i" 2>"$TMP/err")
wait $swapper
check "reload: first writes passed" sh -c "! echo '$out' | grep -qx writes=0"
check "reload: then refused" sh -c "! echo '$out' | grep -qx writes=600"
check "reload: announced" grep -q "database reloaded: 3 signatures" "$TMP/err"

# nbdkit killed while the guest runs: the guest's writes fail from then on
# (nothing reaches the image unscanned) and vigil says what happened.
truncate -s 1M "$TMP/kill.img"
once_on_disk "$TMP/kill.img" first-write pkill -KILL -f "nbdkit.*$TMP/kill.img"
killer=$!
out=$("$VIGIL" run --timeout 300 --disk "$TMP/kill.img,scan=deny" --db "$DB" \
    -- sh -c "
printf first-write | dd of=/dev/vda bs=512 conv=sync oflag=direct 2>/dev/null
i=1
while [ \$i -lt 600 ]; do
    printf later-write | dd of=/dev/vda bs=512 seek=\$i conv=sync \
        oflag=direct 2>/dev/null || break
    i=\$((i + 1))
    sleep 0.1
done
echo writes=\$i" 2>"$TMP/err")
wait $killer
check "nbdkit killed: the guest's writes failed" \
    sh -c "! echo '$out' | grep -qx writes=600"
check "nbdkit killed: vigil says so" \
    grep -q "nbdkit died during the run (signal 9)" "$TMP/err"

# Bad disk options are usage errors.
expect_rc 2 "$VIGIL" run --disk "$TMP/plain.img,scan=maybe" --db "$DB" -- true
expect_rc 2 "$VIGIL" run --disk "$TMP/plain.img,scan=deny" -- true
expect_rc 2 "$VIGIL" run --disk "$TMP/plain.img,scan=deny" \
    --db "$TMP/missing.ndb" -- true

done_testing
