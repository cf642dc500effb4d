# logd's SQLite checkpoints run on a thread of their own (cli/logd-ckpt.h)
# while the writer keeps writing; the WAL must still start over from its
# beginning (the writer copies the last of it past 4000 frames, 64 MiB):
# a stream of about 140 MiB of rows keeps the WAL file under 100 MiB, the
# database grows while logd runs (the checkpoints happen), and at the end
# every record is in an intact database and the WAL is gone.
. tests/functions.sh
requires jq sqlite3
LOGSEND=$VIGIL_BUILD/tools/vigil-logsend
requires_file "$VIGIL" "$LOGSEND"

head -c 32 /dev/urandom >"$TMP/key"
base=$((20000 + ($$ + 211) % 20000))
DATA=$base CTL=$((base + 1))
. tests/logd.sh

n=300000
# TCP: nothing lost on the way in; a queue that holds the whole stream, so
# that a busy machine slows the writer without records refused.
start_logd "$TMP/a" --store-queue $((512 << 20)) \
    --control "udp://127.0.0.1:$CTL"
timeout 300 "$LOGSEND" --log "tcp://127.0.0.1:$DATA" --key "$TMP/key" \
    --control-port $CTL --count $n --size 400 --block \
    >"$TMP/a.send" 2>"$TMP/a.serr" &
sp=$!
# The largest the WAL gets, and the database's size, while logd writes.
walmax=0 dbmid=0 i=0
while [ $i -lt 1200 ]; do
    w=$(stat -c %s "$TMP/a/events.db-wal" 2>/dev/null || echo 0)
    [ "$w" -gt "$walmax" ] && walmax=$w
    if jq -e '(.sessions | length > 0) and all(.sessions[]; .ended) and
            ((.db.queued // 0) == 0)' "$TMP/a/stats.json" >/dev/null 2>&1; then
        break
    fi
    dbmid=$(stat -c %s "$TMP/a/events.db" 2>/dev/null || echo 0)
    sleep 0.1
    i=$((i + 1))
done
wait $sp
expect_eq "logsend ok" "$?" 0
stop_logd
echo "WAL at most $walmax bytes; database $dbmid bytes while running"
expect_eq "all received and stored" \
    "$(jq '.sessions[0] | [.records, .lost, .unstored.db] | @text' "$TMP/a/stats.json")" \
    "\"[$n,0,0]\""
expect_eq "all in the database" \
    "$(sqlite3 "$TMP/a/events.db" 'select count(*), count(distinct rec) from events')" \
    "$n|$n"
expect_eq "the database is intact" \
    "$(sqlite3 "$TMP/a/events.db" 'pragma integrity_check')" ok
check "the WAL started over: under 100 MiB for 140 MiB of rows" \
    test "$walmax" -lt $((100 << 20))
check "checkpoints while logd ran: the database grew past 64 MiB" \
    test "$dbmid" -gt $((64 << 20))
check "the WAL is removed at exit" test ! -e "$TMP/a/events.db-wal"
done_testing
