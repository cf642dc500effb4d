#!/bin/sh
# nbdkit-vigil-filter database reloads: a large database is built while
# the guest keeps writing, and every write meanwhile is scanned by the old
# database or the new one, never by none; a database that loads only part
# of its lines is refused (at start-up and on reload, where the old one
# stays) unless vigil-partial-db is given; a reload that drops most of the
# signatures is warned about.
. tests/functions.sh
. tests/data/nbd/nbd-functions.sh
nbd_setup

lines() { tr '\n' ' ' | sed 's/ $//'; }
truncate -s 4M "$TMP/disk.img"
mkdir -p "$TMP/db"
grep One "$NBDDB" >"$TMP/db/a.ndb"

# A large database: both test signatures and 60000 random ones.
$NBDPY -c 'import random, sys
r = random.Random(1)
for i in range(60000):
    print("Gen.%d:0:*:%s" % (i, r.randbytes(12).hex()))' >"$TMP/big.ndb"
grep -h "One\|Two" "$NBDDB" >>"$TMP/big.ndb"

# ---- writes go on during the reload, each scanned by one database ----
: >"$TMP/nbdkit.err"
out=$(nbd_sh "$TMP/disk.img" vigil-db="$TMP/db" vigil-policy=deny \
    vigil-db-reload="$TMP/reload" -- '
cp '"$TMP"'/big.ndb '"$TMP"'/db/b.ndb
touch '"$TMP"'/reload
'"$NBDPY $PWD"'/tests/data/nbd/loop.py "$uri" '"$TMP"'/nbdkit.err \
    "database reloaded" 100000
$NBDIO "$uri" w:2000000:'"$SIG2"'
')
writes=$(echo "$out" | sed -n 's/^writes \([0-9]*\) denied \([0-9]*\)$/\1/p')
denied=$(echo "$out" | sed -n 's/^writes \([0-9]*\) denied \([0-9]*\)$/\2/p')
check "reload: writes went on until the new database was in ($writes)" \
    [ "${writes:-0}" -ge 1 ]
expect_eq "reload: every write during the reload was scanned" \
    "$denied" "$writes"
expect_eq "reload: the new database is in force" \
    "$(echo "$out" | tail -n 1)" EIO
check "reload: announced" \
    grep -q "database reloaded: 60003 signatures" "$TMP/nbdkit.err"

# ---- partial databases ----
printf 'Bad.Line:0:*:zz\n' >>"$TMP/partial.ndb"
grep Two "$NBDDB" >>"$TMP/partial.ndb"
nbdkit -U - --filter="$FILTER" file "$TMP/disk.img" \
    vigil-db="$TMP/partial.ndb" --run true 2>"$TMP/cfg.err"
check "partial database refused at start-up" [ $? -ne 0 ]
check "partial database: says why" \
    grep -q "1 database lines could not be loaded.*vigil-partial-db" \
    "$TMP/cfg.err"
out=$(nbd_run "$TMP/disk.img" vigil-db="$TMP/partial.ndb" vigil-partial-db=true \
    vigil-policy=deny -- w:0:"$SIG2" | lines)
expect_eq "partial database accepted with vigil-partial-db" "$out" EIO

rm -f "$TMP/db/b.ndb"
: >"$TMP/nbdkit.err"
out=$(nbd_sh "$TMP/disk.img" vigil-db="$TMP/db" vigil-policy=deny \
    vigil-db-reload="$TMP/reload" -- '
until_log() { i=0; while ! grep -q "$1" '"$TMP"'/nbdkit.err && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done; }
cp '"$TMP"'/partial.ndb '"$TMP"'/db/b.ndb
sleep 0.01; touch '"$TMP"'/reload
until_log "reload failed"
$NBDIO "$uri" w:0:'"$SIG1"' w:100:'"$SIG2"'
rm '"$TMP"'/db/b.ndb
cp '"$TMP"'/big.ndb '"$TMP"'/db/a.ndb
sleep 0.01; touch '"$TMP"'/reload
until_log "reloaded: 60002"
: >'"$TMP"'/db/a.ndb
grep Two '"$NBDDB"' >'"$TMP"'/db/a.ndb
sleep 0.01; touch '"$TMP"'/reload
until_log "reloaded: 1 sig"
$NBDIO "$uri" w:200:'"$SIG1"' w:300:'"$SIG2"'
' | lines)
expect_eq "partial reload: refused, the old database stays; then replaced" \
    "$out" "EIO ok ok EIO"
check "partial reload: reported" \
    grep -q "reload failed; keeping the current database: .*1 database lines" \
    "$TMP/nbdkit.err"
check "a reload to fewer than half the signatures is warned about" \
    grep -q "reloaded database has 1 signatures, fewer than half of the 60002" \
    "$TMP/nbdkit.err"

done_testing
