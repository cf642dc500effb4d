# Log streaming over loopback with the synthetic sender (vigil-logsend,
# the real transport without a guest): START before and after the sender is
# up, STOP, the START filter, TCP, rotation and the SQLite database.
. tests/functions.sh
requires jq sqlite3
LOGSEND=$VIGIL_BUILD/tools/vigil-logsend
requires_file "$VIGIL" "$LOGSEND"

head -c 32 /dev/urandom >"$TMP/key"
base=$((20000 + $$ % 20000))
DATA=$base CTL=$((base + 1))
. tests/logd.sh
stat() { jq -r "$2" "$1/stats.json"; }
lines() { cat "$1"/*.jsonl* | wc -l; }

# 1. START before the sender is up: logd sends START every second to the
# control port; the sender starts on the first one it gets.
start_logd "$TMP/a" --control "udp://127.0.0.1:$CTL"
"$LOGSEND" --log "udp://127.0.0.1:$DATA" --key "$TMP/key" \
    --control-port $CTL --count 20000 --block >"$TMP/a.send" 2>"$TMP/a.serr"
expect_eq "logsend ok" "$?" 0
wait_ended "$TMP/a"
stop_logd
sent=$(jq .sent_records "$TMP/a.send")
expect_eq "START first: all 20000 records sent" "$sent" 20000
expect_eq "START first: logd received them" "$(stat "$TMP/a" '.sessions[0].records')" 20000
expect_eq "START first: no loss" "$(stat "$TMP/a" '.sessions[0].lost')" 0
expect_eq "START first: session ended (FIN)" "$(stat "$TMP/a" '.sessions[0].ended')" true
expect_eq "session id matches" "$(stat "$TMP/a" '.sessions[0].session')" "$(jq -r .session "$TMP/a.send")"
expect_eq "JSON Lines file complete" "$(lines "$TMP/a")" 20000
expect_eq "every line is JSON" "$(cat "$TMP/a"/*.jsonl | jq -c .type | sort -u)" '"syscall"'
expect_eq "SQLite events" "$(sqlite3 "$TMP/a/events.db" 'select count(*) from events')" 20000
expect_eq "SQLite names" "$(sqlite3 "$TMP/a/events.db" 'select count(distinct name) from events')" 4
expect_eq "SQLite indexes by time, pid, name" "$(sqlite3 "$TMP/a/events.db" \
    "select name from sqlite_master where type='index' and name like 'events%' order by name" |
    tr '\n' ' ')" "events_name events_pid events_ts "
expect_eq "SQLite session row" "$(sqlite3 "$TMP/a/events.db" \
    'select id, source, started > 0 from sessions')" \
    "$(jq -r .session "$TMP/a.send")|127.0.0.1|1"
check "logd printed rates" grep -q 'records (.*/s, .* MB/s), lost 0' "$TMP/a.err"
check "datagrams went out in runs cut by the kernel (UDP segmentation offload)" \
    test "$(jq .gso_sends "$TMP/a.send")" -gt 0
check "... and logd took them in whole (UDP_GRO) and apart" \
    test "$(stat "$TMP/a" '.udp_coalesced')" -gt 0

# 2. START after the sender is up (one-shot control packet, no heartbeats:
# the sender runs with --hb-missed 0). Nothing is sent before it.
start_logd "$TMP/b"
"$LOGSEND" --log "udp://127.0.0.1:$DATA" --key "$TMP/key" \
    --control-port $CTL --count 5000 --block --hb-missed 0 \
    >"$TMP/b.send" 2>"$TMP/b.serr" &
SP=$!
wait_for_line "$TMP/b.serr" "control port" || fail "logsend did not start"
check "nothing arrives before START" test ! -s "$TMP/b/stats.json" -o \
    "$(cat "$TMP/b/stats.json" 2>/dev/null | jq '.packets')" = 0
"$VIGIL" logd --start "127.0.0.1:$CTL" --key "$TMP/key"
wait $SP
expect_eq "START later: logsend ok" "$?" 0
wait_ended "$TMP/b"
stop_logd
expect_eq "START later: received" "$(stat "$TMP/b" '.sessions[0].records')" 5000
expect_eq "START later: no loss" "$(stat "$TMP/b" '.sessions[0].lost')" 0

# 3. STOP mid-stream: the sender stops sending (the rest counts as unsent)
# and what it did send arrives complete.
start_logd "$TMP/c"
"$LOGSEND" --log "udp://127.0.0.1:$DATA" --key "$TMP/key" \
    --control-port $CTL --count 6000 --rate 4000 --hb-missed 0 \
    >"$TMP/c.send" 2>"$TMP/c.serr" &
SP=$!
wait_for_line "$TMP/c.serr" "control port" || fail "logsend did not start"
"$VIGIL" logd --start "127.0.0.1:$CTL" --key "$TMP/key"
# A time window, not a readiness wait: the stream lasts 1.5 s (6000 at
# 4000/s) and STOP must land inside it, after some records went out and
# before the last is produced. Nothing says "some sent" sooner than logd's
# stats, written once a second, which would leave STOP too close to the end.
sleep 0.5
"$VIGIL" logd --stop "127.0.0.1:$CTL" --key "$TMP/key"
wait $SP
wait_ended "$TMP/c"
stop_logd
sent=$(jq .sent_records "$TMP/c.send")
unsent=$(jq .unsent "$TMP/c.send")
check "STOP: some records sent ($sent)" test "$sent" -gt 0
check "STOP: the rest unsent ($unsent)" test "$unsent" -gt 0
expect_eq "STOP: sent + unsent = produced" $((sent + unsent)) 6000
expect_eq "STOP: logd got what was sent" "$(stat "$TMP/c" '.sessions[0].records')" "$sent"
expect_eq "STOP: session ended" "$(stat "$TMP/c" '.sessions[0].ended')" true

# 4. The START filter: only openat events travel.
start_logd "$TMP/d" --control "udp://127.0.0.1:$CTL" --filter openat
"$LOGSEND" --log "udp://127.0.0.1:$DATA" --key "$TMP/key" \
    --control-port $CTL --count 4000 --block >"$TMP/d.send" 2>/dev/null
wait_ended "$TMP/d"
stop_logd
expect_eq "filter: a quarter sent" "$(jq .sent_records "$TMP/d.send")" 1000
expect_eq "filter: the rest filtered" "$(jq .filtered "$TMP/d.send")" 3000
expect_eq "filter: only openat stored" \
    "$(sqlite3 "$TMP/d/events.db" 'select distinct name from events')" openat

# 5. TCP, with rotation of the JSON Lines file.
start_logd "$TMP/e" --control "udp://127.0.0.1:$CTL" --rotate-size 200000
"$LOGSEND" --log "tcp://127.0.0.1:$DATA" --key "$TMP/key" \
    --control-port $CTL --count 30000 --block >"$TMP/e.send" 2>/dev/null
wait_ended "$TMP/e"
stop_logd
expect_eq "TCP: received" "$(stat "$TMP/e" '.sessions[0].records')" 30000
expect_eq "TCP: no loss" "$(stat "$TMP/e" '.sessions[0].lost')" 0
nfiles=$(ls "$TMP/e" | grep -c jsonl)
check "rotation made several files ($nfiles)" test "$nfiles" -gt 5
expect_eq "rotated files hold every record" "$(lines "$TMP/e")" 30000

# 6. Records larger than a datagram are split across datagrams and
# arrive whole; records larger than VLOG_REC_MAX (65535) are cut and flagged.
start_logd "$TMP/f" --control "udp://127.0.0.1:$CTL"
"$LOGSEND" --log "udp://127.0.0.1:$DATA" --key "$TMP/key" \
    --control-port $CTL --count 10 --size 3000 --block >"$TMP/f.send" 2>/dev/null
wait_ended "$TMP/f"
stop_logd
expect_eq "big records split" "$(jq .split "$TMP/f.send")" 10
expect_eq "none cut" "$(jq .truncated "$TMP/f.send")" 0
expect_eq "all received" "$(stat "$TMP/f" '.sessions[0].records')" 10
expect_eq "whole: 10 records of 3000 bytes" \
    "$(jq -c '[.type, (tojson | length)]' "$TMP/f"/*.jsonl | sort | uniq -c | tr -s ' ')" \
    ' 10 ["syscall",3000]'
start_logd "$TMP/f2" --control "udp://127.0.0.1:$CTL" --no-db
"$LOGSEND" --log "udp://127.0.0.1:$DATA" --key "$TMP/key" \
    --control-port $CTL --count 3 --size 70000 --block >"$TMP/f2.send" 2>/dev/null
wait_ended "$TMP/f2"
stop_logd
expect_eq "records over 64 KiB truncated" "$(jq .truncated "$TMP/f2.send")" 3
expect_eq "logd marks them" "$(stat "$TMP/f2" '.sessions[0].truncated')" 3
expect_eq "as JSON" "$(jq -r .type "$TMP/f2"/*.jsonl | sort -u)" truncated

# 7. A producer faster than the network with a small queue: records are
# dropped, never waited for, counted, and reported in the stream.
start_logd "$TMP/g" --control "udp://127.0.0.1:$CTL" --no-db
"$LOGSEND" --log "udp://127.0.0.1:$DATA" --key "$TMP/key" \
    --control-port $CTL --count 200000 --queue 65536 >"$TMP/g.send" 2>/dev/null
wait_ended "$TMP/g"
stop_logd
dropped=$(jq .dropped "$TMP/g.send")
queued=$(jq .queued "$TMP/g.send")
check "full queue: records dropped ($dropped)" test "$dropped" -gt 0
expect_eq "full queue: queued + dropped = produced" $((queued + dropped)) 200000
inband=$(cat "$TMP/g"/*.jsonl | jq -s '[.[] | select(.type == "drops") | .records] | add // 0')
if [ "$(stat "$TMP/g" '.sessions[0].lost')" = 0 ]; then
    expect_eq "drops reported in-band" "$inband" "$dropped"
else # a drops record may be among the datagrams lost
    check "drops reported in-band ($inband of $dropped)" test "$inband" -le "$dropped"
fi
expect_eq "full queue: every record sent is received or counted lost" \
    "$(stat "$TMP/g" '.sessions[0].records + .sessions[0].lost')" \
    "$(jq .sent_records "$TMP/g.send")"

# 8. The FIN's copies are spread in time: a receiver deaf to every FIN for
# the first 20 ms after one (a socket buffer that was full when the session
# ended) still learns the session's end and total.
PROXY=$((base + 2))
python3 tests/udp_deaf.py "127.0.0.1:$PROXY" "127.0.0.1:$DATA" 20 \
    >"$TMP/deaf.out" 2>&1 &
DEAF=$!
wait_for_line "$TMP/deaf.out" '^ready' || fail "udp_deaf.py did not start"
start_logd "$TMP/h" --control "udp://127.0.0.1:$CTL" --no-db
"$LOGSEND" --log "udp://127.0.0.1:$PROXY" --key "$TMP/key" \
    --control-port $CTL --count 1000 >"$TMP/h.send" 2>/dev/null
wait_ended "$TMP/h"
stop_logd
kill -TERM $DEAF
wait $DEAF
check "deaf receiver: FIN copies were dropped ($(cat "$TMP/deaf.out" | tail -n 1))" \
    grep -q 'fin_dropped=[1-9]' "$TMP/deaf.out"
expect_eq "deaf receiver: a later FIN copy ended the session" \
    "$(stat "$TMP/h" '.sessions[0].ended')" true
expect_eq "... with every record received or counted lost" \
    "$(stat "$TMP/h" '.sessions[0].records + .sessions[0].lost')" 1000

done_testing
