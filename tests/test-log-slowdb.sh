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
i=0
while [ $i -lt 300 ] &&
    [ "$(jq -r '.sessions[0].ended' "$TMP/a/stats.json" 2>/dev/null)" != true ]; do
    sleep 0.1
    i=$((i + 1))
done
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

# 2. The queue full: its smallest size (two chunks of 256 KiB, about 1,000
# records of 200 bytes each) while a commit stalls 3 s. The records that
# did not fit are counted as not stored in the database, per session and
# in stats.json's db object, and said once; the JSON Lines file has them
# all, and the heartbeats still go.
VIGIL_LOGD_TEST_COMMIT_DELAY_MS=3000 start_logd "$TMP/b" \
    --control "udp://127.0.0.1:$CTL" --store-queue 65536
"$LOGSEND" --log "udp://127.0.0.1:$DATA" --key "$TMP/key" \
    --control-port $CTL --count 20000 --rate 5000 --linger 200 \
    >"$TMP/b.send" 2>"$TMP/b.serr"
i=0
while [ $i -lt 300 ] &&
    [ "$(jq -r '.sessions[0].ended' "$TMP/b/stats.json" 2>/dev/null)" != true ]; do
    sleep 0.1
    i=$((i + 1))
done
stop_logd
echo "logd: $(tail -n 3 "$TMP/b.err")"
expect_eq "queue full: the sender kept one session" "$(jq .sessions "$TMP/b.send")" 1
expect_eq "queue full: logd received all 20000" \
    "$(jq '.sessions[0] | [.records, .lost] | @text' "$TMP/b/stats.json")" '"[20000,0]"'
expect_eq "queue full: the JSON Lines file has them all" \
    "$(cat "$TMP/b"/*.jsonl | wc -l)" 20000
unstored=$(jq '.sessions[0].unstored.db' "$TMP/b/stats.json")
rows=$(sqlite3 "$TMP/b/events.db" 'select count(*) from events')
check "queue full: some records not stored in the database ($unstored)" \
    test "$unstored" -gt 0
expect_eq "queue full: rows + unstored = received" $((rows + unstored)) 20000
expect_eq "queue full: stats.json's db counts them the same" \
    "$(jq '.db | [.stored, .queue_full, .failed, .queued] | @text' "$TMP/b/stats.json")" \
    "\"[$rows,$unstored,0,0]\""
expect_eq "queue full: said once" \
    "$(grep -c 'the queue is full' "$TMP/b.err")" 1
check "queue full: the final report says NOT STORED in the database" \
    grep -q "in files, $unstored in the database.*(final)" "$TMP/b.err"
check "queue full: the database line counts them" \
    grep -q "database: $rows stored, $unstored NOT STORED ($unstored the queue was full, 0 failed), 0 queued" "$TMP/b.err"

done_testing
