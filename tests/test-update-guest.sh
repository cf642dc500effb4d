# Signed updates reaching a running guest's disk scanning, both ways:
#   - from inside the guest, by the update hypercall (guest/vigil-update.c):
#     a write carrying a signature only the update adds passes before and
#     is denied after; forged, tampered and replayed bundles are refused
#     with their reasons, and the guest tool says so;
#   - over the network (vigil update send), while the guest keeps writing:
#     the first write after the update lands is denied.
. tests/functions.sh
requires_qemu
requires minisign mkfs.ext2 python3
requires_file "$VIGIL" "$VIGIL_BUILD/nbdkit-vigil-filter.so" "$GUEST/vmlinuz"

cd "$TMP" || exit 1
V=$OLDPWD/$VIGIL
minisign -G -W -p good.pub -s good.sec >/dev/null
minisign -G -W -p other.pub -s other.sec >/dev/null
SIG=VIGIL-UPDATE-FROM-GUEST
printf 'Vigil.Test.Guest:0:*:%s\n' "$(printf '%s' "$SIG" | od -An -tx1 | tr -d ' \n')" >guest.ndb
cp "$OLDPWD/tests/data/nbd/test.ndb" test.ndb
cp test.ndb db.ndb
"$V" update build --db-id lab --version 1 --sign good.sec -o v1.vup test.ndb guest.ndb >/dev/null
"$V" update build --db-id lab --version 2 --sign other.sec -o other.vup test.ndb guest.ndb >/dev/null
cp v1.vup tampered.vup
printf 'X' | dd of=tampered.vup bs=1 seek=90 conv=notrunc status=none
mkdir upd && cp v1.vup other.vup tampered.vup upd/
mkfs.ext2 -q -d upd upd.img 4M
truncate -s 16M data.img && mkfs.ext2 -q -b 4096 -F data.img

"$V" run --disk data.img,scan=deny --disk upd.img --db db.ndb \
    --update-key good.pub -- sh -c '
    mount -t ext2 /dev/vda /mnt && mkdir /upd && mount -t ext2 -o ro /dev/vdb /upd
    w() { vigil-diskwrite --direct /mnt/$1 4096 100 '"$SIG"' >/dev/null 2>&1 &&
          echo "$1: written" || echo "$1: denied"; }
    w before
    for b in other tampered v1 v1; do vigil-update /upd/$b.vup; echo "$b: exit $?"; done
    w after
    umount /mnt' >guest.out 2>vigil.err
expect_eq "guest run succeeds" "$?" 0
cat guest.out
grep -E 'vigil: update|updates:' vigil.err
line() { sed -n "$1p" guest.out; }
expect_eq "before the update, the write passes" "$(line 1)" "before: written"
check "a bundle from an unknown key: refused, and the tool says why" \
    sh -c "sed -n 2p guest.out | grep -q '^refused: unknown-key'"
expect_eq "... exit 1" "$(line 3)" "other: exit 1"
check "a tampered bundle: refused as a bad signature" \
    sh -c "sed -n 4p guest.out | grep -q '^refused: bad-signature'"
expect_eq "the update itself: accepted" "$(line 6)" "accepted: lab version 1"
expect_eq "... exit 0" "$(line 7)" "v1: exit 0"
check "the same bundle again: refused as a replay" \
    sh -c "sed -n 8p guest.out | grep -q '^refused: replay'"
expect_eq "after the update, the same write is denied" "$(line 10)" "after: denied"
check "vigil counts the refusals" \
    grep -q 'updates: 1 accepted from the guest, 0 from the network, 3 refused' vigil.err
expect_eq "the database is version 1" "$(readlink db.ndb)" "db.ndb.d/v1"

# Over the network while the guest writes: the update lands between two
# writes of the same file, and the first write after it is denied.
cp test.ndb db2.ndb
truncate -s 16M data2.img && mkfs.ext2 -q -b 4096 -F data2.img
PORT=7860
"$V" run --disk data2.img,scan=deny --db db2.ndb --update-key good.pub \
    --update-listen "udp://127.0.0.1:$PORT" -- sh -c '
    mount -t ext2 /dev/vda /mnt
    i=0
    while [ $i -lt 200 ]; do
        if vigil-diskwrite --direct /mnt/f$i 4096 100 '"$SIG"' >/dev/null 2>&1; then
            echo "write $i passed"
        else
            echo "write $i denied"; break
        fi
        i=$((i + 1)); usleep 200000
    done
    umount /mnt' >net.out 2>net.err &
RUN=$!
for _ in $(seq 1 150); do
    grep -q 'write 2 passed' net.out 2>/dev/null && break
    sleep 0.2
done
check "the guest is writing" grep -q 'write 2 passed' net.out
"$V" update send v1.vup "udp://127.0.0.1:$PORT" --timeout 30 >send.out 2>&1
expect_eq "vigil update send: applied" "$?" 0
wait $RUN
expect_eq "guest run succeeds" "$?" 0
tail -n 3 net.out
passed=$(grep -c 'passed$' net.out)
check "writes passed before the update ($passed)" test "$passed" -ge 3
check "then the first write after it was denied" sh -c "tail -n 1 net.out | grep -q denied"
check "vigil reports the network update" \
    grep -q 'update from the network accepted: lab version 1' net.err

done_testing
