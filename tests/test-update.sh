# Signed updates made with the minisign program (the peer): vigil builds
# the payload, minisign signs it, vigil verifies and applies it; every way a
# bundle can be wrong is refused with its reason, and a refused bundle
# changes nothing on disk.
. tests/functions.sh
requires minisign sha256sum
requires_file "$VIGIL"

cd "$TMP" || exit 1
V=$OLDPWD/$VIGIL
minisign -G -W -p good.pub -s good.sec >/dev/null
minisign -G -W -p other.pub -s other.sec >/dev/null
sig() { printf 'Vigil.Test.%s:0:*:%s\n' "$1" "$(printf '%s' "$2" | od -An -tx1 | tr -d ' \n')"; }
sig One VIGIL-UPDATE-ONE >one.ndb
sig Two VIGIL-UPDATE-TWO >two.ndb
printf 'not a signature line\n' >bad.ndb
cp "$OLDPWD/tests/data/nbd/test.ndb" db.ndb

# Without --sign: vigil prints the minisign command; the user runs it.
"$V" update build --db-id lab --version 1 -o v1.vup one.ndb >build.out
cmd=$(sed -n 's/^  minisign -S -s SECRET_KEY \(.*\)$/minisign -S -s good.sec \1/p' build.out)
check "build prints the minisign command" test -n "$cmd"
eval "$cmd" >/dev/null
check "minisign signs the payload" test -s v1.vup.payload.minisig
expect_rc 0 "$V" update seal v1.vup.payload -o v1.vup
expect_rc 0 "$V" update verify -k good.pub v1.vup
"$V" update inspect v1.vup >inspect.out
# minisign writes the key id without leading zeros, vigil with all 16.
want=$(sed -n 's/.*minisign public key 0*//p' good.pub)
got=$(sed -n 's/^signed by: key 0*\([0-9A-F]*\) .*/\1/p' inspect.out)
expect_eq "inspect names the signing key" "$got" "$want"
# minisign itself accepts what vigil accepts.
check "minisign -V agrees" minisign -Vm v1.vup.payload -p good.pub -q

# With --sign: one step.
"$V" update build --db-id lab --version 2 --base 1 --sign good.sec -o v2.vup two.ndb >/dev/null
"$V" update build --db-id lab --version 3 --sign good.sec -o v3-bad.vup bad.ndb >/dev/null
"$V" update build --db-id lab --version 3 --base 2 --sign good.sec -o v3-delta.vup one.ndb >/dev/null
"$V" update build --db-id lab --version 4 --base 3 --sign good.sec -o v4-wrongbase.vup one.ndb >/dev/null
"$V" update build --db-id lab --version 5 --sign other.sec -o v5-other.vup one.ndb >/dev/null
"$V" update build --db-id elsewhere --version 6 --sign good.sec -o v6-otherdb.vup one.ndb >/dev/null

state() { sha256sum db.ndb.vigil-update 2>/dev/null; readlink db.ndb; cat db.ndb/* 2>/dev/null | sha256sum; }
refused() { # WHAT REASON BUNDLE [OPTIONS]
    what=$1 reason=$2 b=$3
    shift 3
    before=$(state)
    "$V" update apply -k good.pub --db db.ndb "$@" "$b" 2>err.txt
    expect_eq "$what: refused" "$?" 1
    check "$what: says $reason" grep -q "refused: $reason:" err.txt
    expect_eq "$what: nothing changed" "$(state)" "$before"
}

expect_rc 0 "$V" update apply -k good.pub --db db.ndb v1.vup
check "version 1 is in force" grep -q Vigil.Test.One db.ndb/one.ndb
expect_eq "db.ndb is a link to the generation" "$(readlink db.ndb)" "db.ndb.d/v1"
refused "replay" replay v1.vup
expect_rc 0 "$V" update apply -k good.pub --db db.ndb v2.vup
check "the delta added its file" test -f db.ndb/two.ndb
check "and kept the base's" test -f db.ndb/one.ndb
refused "rollback" rollback v1.vup
refused "delta on the wrong base" wrong-base v4-wrongbase.vup
refused "corrupt body" bad-body v3-bad.vup
refused "unknown key" unknown-key v5-other.vup
refused "another database" wrong-database v6-otherdb.vup
head -c 100 v3-delta.vup >truncated.vup
refused "truncated bundle" truncated truncated.vup
refused "oversized bundle" oversize v3-delta.vup --max 200
# One byte of the payload changed after signing.
cp v3-delta.vup tampered.vup
printf 'X' | dd of=tampered.vup bs=1 seek=100 conv=notrunc status=none
refused "bad signature" bad-signature tampered.vup
# The trusted comment edited after signing.
sed 's/version=3/version=7/' v3-delta.vup >comment.vup
refused "edited trusted comment" bad-signature comment.vup
refused "not a bundle" malformed good.pub
expect_rc 0 "$V" update apply -k good.pub --db db.ndb v3-delta.vup

# The state survives a restart: a fresh process still refuses version 2.
refused "rollback after a restart" rollback v2.vup
# A corrupt state file stops everything rather than resetting it.
cp db.ndb.vigil-update state.bak
echo garbage >db.ndb.vigil-update
"$V" update apply -k good.pub --db db.ndb v3-delta.vup 2>err.txt
expect_eq "corrupt state: refused" "$?" 1
check "corrupt state: says so" grep -q "corrupt update state" err.txt
cp state.bak db.ndb.vigil-update

# Usage errors.
expect_rc 2 "$V" update verify v1.vup
expect_rc 2 "$V" update build --db-id lab -o x.vup one.ndb
expect_rc 1 "$V" update build --db-id lab --version 1 -o x.vup notes.txt

done_testing
