#!/bin/sh
# The disk filter and .cvd publisher signatures: a container signed with a
# test key loads when that key is given (vigil-cvd-key=) and its signature
# is enforced on writes; with ClamAV's key (no vigil-cvd-key) or a body
# changed after signing, nbdkit refuses to start, naming the signature.
. tests/functions.sh
. tests/data/nbd/nbd-functions.sh
nbd_setup
requires tar gzip
HELPER=$VIGIL_BUILD/tests/test-sig-dsig
requires_file "$HELPER"

"$HELPER" keygen "$TMP/key.pub" "$TMP/key.priv" || fail "keygen"
mkdir "$TMP/db"
printf 'Test.Cvd.One:0:*:564947494c2d4356442d4f4e45\n' >"$TMP/db/test.ndb"
tar -C "$TMP/db" -cf - test.ndb | gzip -9 >"$TMP/body.tgz"
dsig=$("$HELPER" sign "$TMP/key.priv" "$TMP/body.tgz")
"$HELPER" cvd "$dsig" "$TMP/body.tgz" "$TMP/good.cvd"
cp "$TMP/body.tgz" "$TMP/body2.tgz"
size=$(stat -c %s "$TMP/body2.tgz")
printf 'Z' | dd of="$TMP/body2.tgz" bs=1 seek=$((size / 2)) conv=notrunc \
    2>/dev/null
"$HELPER" cvd "$dsig" "$TMP/body2.tgz" "$TMP/forged.cvd"
truncate -s 1M "$TMP/disk.img"

out=$(nbd_run "$TMP/disk.img" vigil-db="$TMP/good.cvd" \
    vigil-cvd-key="$TMP/key.pub" vigil-policy=deny -- \
    w:0:clean w:4096:xxVIGIL-CVD-ONExx | tr '\n' ' ')
expect_eq "signed, key given: the container's signature is enforced" \
    "$out" "ok EIO "

: >"$TMP/nbdkit.err"
out=$(nbd_run "$TMP/disk.img" vigil-db="$TMP/good.cvd" vigil-policy=deny -- \
    w:0:clean)
expect_eq "ClamAV's key: nbdkit does not serve" "$out" ""
check "ClamAV's key: the error names the signature" \
    grep -q "does not verify with ClamAV's key" "$TMP/nbdkit.err"

: >"$TMP/nbdkit.err"
out=$(nbd_run "$TMP/disk.img" vigil-db="$TMP/forged.cvd" \
    vigil-cvd-key="$TMP/key.pub" vigil-policy=deny -- w:0:clean)
expect_eq "body changed after signing: nbdkit does not serve" "$out" ""
check "body changed: the error names the signature" \
    grep -q "dsig) does not verify" "$TMP/nbdkit.err"
done_testing
