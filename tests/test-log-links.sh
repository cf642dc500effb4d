# logd may run as root and writes into a directory others might share
# (--out /tmp/x): no file it writes there is opened through a symbolic
# link someone planted. A session's JSON Lines file (appended to with
# records the guest chose), stats.json's temporary file (truncated) and
# the database (created, written) each refuse a link, and the link's
# target stays as it was.
. tests/functions.sh
requires jq sqlite3 python3
LOGSEND=$VIGIL_BUILD/tools/vigil-logsend
requires_file "$VIGIL" "$LOGSEND"

head -c 32 /dev/urandom >"$TMP/key"
base=$((20000 + ($$ + 173) % 20000))
DATA=$base
. tests/logd.sh

mkdir "$TMP/p"
sess=$("$LOGSEND" --capture "$TMP/p" --key "$TMP/key" --count 20 --size 200)
for t in jsonl stats; do echo "keep $t" >"$TMP/target-$t"; done

# 1. The session's file and stats.json.tmp are links planted in advance.
mkdir "$TMP/a"
ln -s "$TMP/target-jsonl" "$TMP/a/$sess.jsonl"
ln -s "$TMP/target-stats" "$TMP/a/stats.json.tmp"
start_logd "$TMP/a"
python3 tests/log_replay.py $DATA tcp 127.0.0.1 0 19 "$TMP/p"
stop_logd
expect_eq "the session file's link target untouched" \
    "$(cat "$TMP/target-jsonl")" "keep jsonl"
expect_eq "the stats file's link target untouched" \
    "$(cat "$TMP/target-stats")" "keep stats"
check "the session file's link said" \
    grep -q "$sess.jsonl: Too many levels of symbolic links" "$TMP/a.err"
expect_eq "stats.json written all the same" \
    "$(jq -c '.sessions[0] | [.records, .unstored.files, .unstored.db]' "$TMP/a/stats.json")" \
    "[20,20,0]"
expect_eq "the records in the database all the same" \
    "$(sqlite3 "$TMP/a/events.db" "select count(*) from events where session='$sess'")" 20

# 2. The database is a link to where no file is yet (SQLite would make
# one there), then to an empty file (SQLite would write its schema into
# it): logd does not start (it would have no store).
mkdir "$TMP/b"
ln -s "$TMP/target-db" "$TMP/b/events.db"
timeout 10 "$VIGIL" logd --listen "udp://127.0.0.1:$DATA" --key "$TMP/key" \
    --out "$TMP/b" 2>"$TMP/b.err"
expect_eq "database a link: logd refuses to start" "$?" 1
check "database a link: says which file" grep -q "events.db: " "$TMP/b.err"
check "database a link: nothing made where it points" test ! -e "$TMP/target-db"
: >"$TMP/target-db"
timeout 10 "$VIGIL" logd --listen "udp://127.0.0.1:$DATA" --key "$TMP/key" \
    --out "$TMP/b" 2>"$TMP/b.err"
expect_eq "database a link to an empty file: logd refuses to start" "$?" 1
check "database a link to an empty file: left empty" test ! -s "$TMP/target-db"

# 3. Its write-ahead log is a link (the database is not): the same (SQLite
# refuses that one by itself; kept as a guard).
mkdir "$TMP/c"
ln -s "$TMP/target-wal" "$TMP/c/events.db-wal"
timeout 10 "$VIGIL" logd --listen "udp://127.0.0.1:$DATA" --key "$TMP/key" \
    --out "$TMP/c" 2>"$TMP/c.err"
expect_eq "write-ahead log a link: logd refuses to start" "$?" 1
check "write-ahead log a link: nothing made where it points" test ! -e "$TMP/target-wal"

done_testing
