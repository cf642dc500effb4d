# logd's SQLite store stalled (a disk whose commits take seconds): logd
# keeps receiving and keeps sending its heartbeats (START every second),
# so the sender keeps its one session; the records wait in the store's
# queue and all reach the database. The stall is simulated by
# VIGIL_LOGD_TEST_COMMIT_DELAY_MS (each commit sleeps that long first).
. tests/functions.sh
requires jq sqlite3
LOGSEND=$VIGIL_BUILD/tools/vigil-logsend
requires_file "$VIGIL" "$LOGSEND"

head -c 32 /dev/urandom >"$TMP/key"
base=$((20000 + ($$ + 131) % 20000))
DATA=$base CTL=$((base + 1))
. tests/logd.sh

# 1. Each commit stalls 4 s: longer than the sender's 3 missed heartbeats.
VIGIL_LOGD_TEST_COMMIT_DELAY_MS=4000 start_logd "$TMP/a" \
    --control "udp://127.0.0.1:$CTL"
# About 8 s of records at 2500/s.
"$LOGSEND" --log "udp://127.0.0.1:$DATA" --key "$TMP/key" \
    --control-port $CTL --count 20000 --rate 2500 --linger 200 \
    >"$TMP/a.send" 2>"$TMP/a.serr"
expect_eq "logsend ok" "$?" 0
wait_ended "$TMP/a"
stop_logd
echo "sender: $(cat "$TMP/a.send")"
echo "logd: $(tail -n 3 "$TMP/a.err")"
expect_eq "the sender kept one session (heartbeats arrived)" \
    "$(jq .sessions "$TMP/a.send")" 1
expect_eq "all 20000 records sent, none unsent or dropped" \
    "$(jq '[.sent_records, .unsent, .dropped] | @text' "$TMP/a.send")" \
    '"[20000,0,0]"'
expect_eq "logd saw one session" "$(jq '.sessions | length' "$TMP/a/stats.json")" 1
expect_eq "logd received all, lost none" \
    "$(jq '.sessions[0] | [.records, .lost, .unstored.db] | @text' "$TMP/a/stats.json")" \
    '"[20000,0,0]"'
expect_eq "all in the database" \
    "$(sqlite3 "$TMP/a/events.db" 'select count(*), count(distinct rec) from events')" \
    "20000|20000"
expect_eq "stats.json's db: all stored, none queued" \
    "$(jq '.db | [.stored, .queue_full, .failed, .queued] | @text' "$TMP/a/stats.json")" \
    '"[20000,0,0,0]"'

# slow_run MS NAME ARGS...: 20000 records at 5000/s (4 s) into a logd
# started with ARGS whose first two commits stall MS each; returns when
# the session has ended, logd still running. Into $TMP/NAME (logd's
# directory), $TMP/NAME.err and $TMP/NAME.send.
slow_run() {
    delay=$1 dir=$TMP/$2
    shift 2
    VIGIL_LOGD_TEST_COMMIT_DELAY_MS=$delay:2 start_logd "$dir" \
        --control "udp://127.0.0.1:$CTL" "$@"
    "$LOGSEND" --log "udp://127.0.0.1:$DATA" --key "$TMP/key" \
        --control-port $CTL --count 20000 --rate 5000 --linger 200 \
        >"$dir.send" 2>"$dir.serr"
    wait_ended "$dir"
}

# 2. The queue in memory full: its smallest size (two chunks of 256 KiB,
# about 1,000 records of 200 bytes each) while commits stall 6 s. What
# does not fit waits in the backlog file, in order, and reaches the
# database all the same; said once; the file is gone at exit.
slow_run 3000 b --store-queue 65536
mid=$(jq '.db | [.backlog, .backlog_bytes] | @text' "$TMP/b/stats.json")
backlog_file_then=$(test -e "$TMP/b/events.db-backlog" && echo yes)
stop_logd
echo "logd: $(tail -n 3 "$TMP/b.err")"
echo "stats.json's db while the session ended: $mid"
expect_eq "backlog: the sender kept one session" "$(jq .sessions "$TMP/b.send")" 1
expect_eq "backlog: logd received all 20000, none lost or unstored" \
    "$(jq '.sessions[0] | [.records, .lost, .unstored.db] | @text' "$TMP/b/stats.json")" \
    '"[20000,0,0]"'
expect_eq "backlog: all in the database, each once" \
    "$(sqlite3 "$TMP/b/events.db" 'select count(*), count(distinct rec), min(rec), max(rec) from events')" \
    "20000|20000|0|19999"
backlogged=$(jq '.db.backlogged' "$TMP/b/stats.json")
check "backlog: records went through the backlog ($backlogged)" \
    test "$backlogged" -gt 1000
expect_eq "backlog: stats.json's db: all stored, none queued or waiting" \
    "$(jq '.db | [.stored, .queue_full, .failed, .queued, .backlog] | @text' "$TMP/b/stats.json")" \
    '"[20000,0,0,0,0]"'
expect_eq "backlog: the file was there while the database was behind" \
    "$backlog_file_then" yes
check "backlog: ... and is removed at exit" test ! -e "$TMP/b/events.db-backlog"
expect_eq "backlog: said once" \
    "$(grep -c 'the database is behind the stream' "$TMP/b.err")" 1
check "backlog: the report counted what waited in it" \
    grep -Eq 'database: [0-9]+ stored, 0 NOT STORED .*, [1-9][0-9]* of them in the backlog' "$TMP/b.err"
# The database's order is the stream's: rowids follow record numbers.
expect_eq "backlog: rows stored in the order records came" \
    "$(sqlite3 "$TMP/b/events.db" 'select count(*) from events a join events b on b.rowid = a.rowid + 1 where b.rec <> a.rec + 1')" 0

# 3. The backlog full too (--store-spill-max 1 MiB, in a directory of its
# own): the records that fit nowhere are counted as not stored, per
# session and in stats.json's db object, and said once; the JSON Lines
# file has them all, and the heartbeats still go.
slow_run 3000 c --store-queue 65536 --store-spill "$TMP/c-spill" \
    --store-spill-max 1048576
stop_logd
echo "logd: $(tail -n 3 "$TMP/c.err")"
expect_eq "backlog full: the sender kept one session" "$(jq .sessions "$TMP/c.send")" 1
expect_eq "backlog full: logd received all 20000" \
    "$(jq '.sessions[0] | [.records, .lost] | @text' "$TMP/c/stats.json")" '"[20000,0]"'
expect_eq "backlog full: the JSON Lines file has them all" \
    "$(cat "$TMP/c"/*.jsonl | wc -l)" 20000
unstored=$(jq '.sessions[0].unstored.db' "$TMP/c/stats.json")
rows=$(sqlite3 "$TMP/c/events.db" 'select count(*) from events')
check "backlog full: some records not stored in the database ($unstored)" \
    test "$unstored" -gt 0
check "backlog full: some went through the backlog in --store-spill's directory" \
    test "$(jq .db.backlogged "$TMP/c/stats.json")" -gt 0
expect_eq "backlog full: rows + unstored = received" $((rows + unstored)) 20000
expect_eq "backlog full: stats.json's db counts them the same" \
    "$(jq '.db | [.stored, .queue_full, .failed, .queued] | @text' "$TMP/c/stats.json")" \
    "\"[$rows,$unstored,0,0]\""
expect_eq "backlog full: said once" \
    "$(grep -c 'its backlog is full' "$TMP/c.err")" 1
check "backlog full: the final report says NOT STORED in the database" \
    grep -q "in files, $unstored in the database.*(final)" "$TMP/c.err"
check "backlog full: the database line counts them" \
    grep -q "database: $rows stored, $unstored NOT STORED ($unstored the queue was full, 0 failed), 0 queued" "$TMP/c.err"

# 4. Without a backlog to speak of (--store-spill-max smaller than a
# chunk): the queue's own bound, as before the backlog.
slow_run 3000 d --store-queue 65536 --store-spill-max 4096
stop_logd
unstored=$(jq '.sessions[0].unstored.db' "$TMP/d/stats.json")
rows=$(sqlite3 "$TMP/d/events.db" 'select count(*) from events')
check "tiny backlog: records not stored ($unstored)" test "$unstored" -gt 0
expect_eq "tiny backlog: rows + unstored = received" $((rows + unstored)) 20000

# 5. The backlog's file damaged while records wait in it (its first
# frame's header overwritten): that frame's records (one chunk, about
# 1,000) are counted failed, the writer goes on with the next frames, and
# logd neither crashes nor hangs.
VIGIL_LOGD_TEST_COMMIT_DELAY_MS=3000:2 start_logd "$TMP/e" \
    --control "udp://127.0.0.1:$CTL" --store-queue 65536
"$LOGSEND" --log "udp://127.0.0.1:$DATA" --key "$TMP/key" \
    --control-port $CTL --count 20000 --rate 5000 --linger 200 \
    >"$TMP/e.send" 2>"$TMP/e.serr" &
send_pid=$!
i=0
while [ $i -lt 100 ] && [ "$(stat -c %s "$TMP/e/events.db-backlog" 2>/dev/null || echo 0)" -lt 1000000 ]; do
    sleep 0.1
    i=$((i + 1))
done
head -c 64 /dev/urandom | dd of="$TMP/e/events.db-backlog" bs=64 count=1 \
    conv=notrunc status=none
wait $send_pid
wait_ended "$TMP/e"
stop_logd
expect_eq "damaged backlog: logd exits 0" "$?" 0
echo "logd: $(tail -n 3 "$TMP/e.err")"
failed=$(jq '.db.failed' "$TMP/e/stats.json")
rows=$(sqlite3 "$TMP/e/events.db" 'select count(*) from events')
check "damaged backlog: the damaged frame's records counted failed ($failed)" \
    test "$failed" -gt 0 -a "$failed" -lt 2000
expect_eq "damaged backlog: rows + failed = received" $((rows + failed)) 20000
expect_eq "damaged backlog: none left queued" "$(jq .db.queued "$TMP/e/stats.json")" 0

# 6. A backlog file left by a logd that did not finish: removed at start,
# and said (its records are in that logd's JSON Lines files).
mkdir -p "$TMP/f"
head -c 5000 /dev/urandom >"$TMP/f/events.db-backlog"
start_logd "$TMP/f"
stop_logd
check "stale backlog: said, with its size" \
    grep -q "events.db-backlog: 5000 bytes left by a logd that did not finish" "$TMP/f.err"
check "stale backlog: gone" test ! -e "$TMP/f/events.db-backlog"

# 7. A link in the backlog's place (logd may run as root, and the file is
# truncated): refused at start, with why, and the link's target untouched.
mkdir -p "$TMP/g"
echo keep >"$TMP/target"
ln -s "$TMP/target" "$TMP/g/events.db-backlog"
timeout 10 "$VIGIL" logd --listen "udp://127.0.0.1:$DATA" --key "$TMP/key" \
    --out "$TMP/g" 2>"$TMP/g.err"
expect_eq "backlog a link: logd refuses to start" "$?" 1
check "backlog a link: says why" grep -q "events.db's backlog: .*events.db-backlog: " "$TMP/g.err"
expect_eq "backlog a link: its target untouched" "$(cat "$TMP/target")" keep

done_testing
