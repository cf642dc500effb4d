#!/bin/sh
# vigil scan and .cvd publisher signatures (dsig, docs/signatures.md): a
# container signed with a test key (given by --cvd-key) is accepted and
# its signatures match; one whose body changed by one byte (its header MD5
# recomputed, the old signature kept), whose dsig was changed or left out,
# or which is checked with ClamAV's key instead, is refused: an error
# naming the signature and exit status 2, nothing scanned.
. tests/functions.sh
requires tar gzip
HELPER=$VIGIL_BUILD/tests/test-sig-dsig
requires_file "$VIGIL" "$HELPER"


"$HELPER" keygen "$TMP/key.pub" "$TMP/key.priv" || fail "keygen"
mkdir "$TMP/db"
printf 'Test.Cvd.One:0:*:564947494c2d4356442d4f4e45\n' >"$TMP/db/test.ndb"
printf 'ClamAV-VDB:test\n' >"$TMP/db/test.info"
tar -C "$TMP/db" -cf - test.info test.ndb | gzip -9 >"$TMP/body.tgz"
printf 'xx VIGIL-CVD-ONE xx\n' >"$TMP/target"

dsig=$("$HELPER" sign "$TMP/key.priv" "$TMP/body.tgz")
"$HELPER" cvd "$dsig" "$TMP/body.tgz" "$TMP/good.cvd"

# The body with one byte changed in the compressed data's middle; the
# helper writes that body's own MD5 into the header.
cp "$TMP/body.tgz" "$TMP/body2.tgz"
size=$(stat -c %s "$TMP/body2.tgz")
printf 'Z' | dd of="$TMP/body2.tgz" bs=1 seek=$((size / 2)) conv=notrunc \
    2>/dev/null
"$HELPER" cvd "$dsig" "$TMP/body2.tgz" "$TMP/forged.cvd"
"$HELPER" cvd - "$TMP/body.tgz" "$TMP/unsigned.cvd"
other=$(printf '%s' "$dsig" | sed 's/^./b/; t; s/^/b/')
[ "$other" = "$dsig" ] && other=$(printf '%s' "$dsig" | sed 's/^./c/')
"$HELPER" cvd "$other" "$TMP/body.tgz" "$TMP/changed.cvd"

scan() {
    "$VIGIL" scan --no-summary "$@" "$TMP/target" >"$TMP/out" 2>"$TMP/err"
}

scan --db "$TMP/good.cvd" --cvd-key "$TMP/key.pub"
expect_eq "signed: exit status (found)" "$?" 1
expect_eq "signed: the container's signature matches" "$(cat "$TMP/out")" \
    "$TMP/target: Test.Cvd.One FOUND"

refused() {
    local name=$1 msg=$2 rc
    shift 2
    scan "$@"
    rc=$?
    expect_eq "$name: exit status (error)" "$rc" 2
    check "$name: error says '$msg': $(head -c 300 "$TMP/err")" \
        grep -q "$msg" "$TMP/err"
    expect_eq "$name: nothing scanned" "$(cat "$TMP/out")" ""
}
refused "body changed, MD5 recomputed" "dsig) does not verify" \
    --db "$TMP/forged.cvd" --cvd-key "$TMP/key.pub"
refused "unsigned" "dsig) is missing" \
    --db "$TMP/unsigned.cvd" --cvd-key "$TMP/key.pub"
refused "dsig changed" "dsig) does not verify" \
    --db "$TMP/changed.cvd" --cvd-key "$TMP/key.pub"
refused "ClamAV's key" "does not verify with ClamAV's key" \
    --db "$TMP/good.cvd"
cp "$TMP/good.cvd" "$TMP/good.cld"
scan --db "$TMP/good.cld" --cvd-key "$TMP/key.pub"
expect_eq "a signed .cld whose MD5 matches: accepted" "$?" 1
refused "bad key file" "cvd-key" --db "$TMP/good.cvd" --cvd-key "$TMP/nokey"
done_testing
