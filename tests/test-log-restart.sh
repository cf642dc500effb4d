# logd dies mid-stream (SIGKILL: no STOP) and a new one comes up: the
# sender keeps running, stops after the missed heartbeats, and a new
# session starts on the new logd's START and arrives without loss. Every
# record the sender produced is sent, unsent (stopped) or dropped: none is
# unaccounted.
. tests/functions.sh
requires jq
LOGSEND=$VIGIL_BUILD/tools/vigil-logsend
requires_file "$VIGIL" "$LOGSEND"

head -c 32 /dev/urandom >"$TMP/key"
base=$((20000 + ($$ + 13) % 20000))
DATA=$base CTL=$((base + 1))
LOGD_PID="" SP=""
stop_all() {
    [ -n "$LOGD_PID" ] && kill -TERM "$LOGD_PID" 2>/dev/null
    [ -n "$SP" ] && kill -TERM "$SP" 2>/dev/null
    wait 2>/dev/null
}
cleanup_fn stop_all
start_logd() {
    "$VIGIL" logd --listen "udp://127.0.0.1:$DATA" --key "$TMP/key" \
        --out "$1" --control "udp://127.0.0.1:$CTL" --interval 1 \
        2>"$1.err" &
    LOGD_PID=$!
    wait_for_line "$1.err" listening || fail "logd did not start"
}

start_logd "$TMP/a"
# 8 s of events at 5000/s; heartbeats every second, stop after 3 missed.
"$LOGSEND" --log "udp://127.0.0.1:$DATA" --key "$TMP/key" \
    --control-port $CTL --count 40000 --rate 5000 >"$TMP/send" \
    2>"$TMP/serr" &
SP=$!
# Mid-stream: once the first logd has written records down (its stats,
# every second), not after a fixed time a loaded host may not honour.
i=0
while [ $i -lt 100 ] && [ "$(jq '[.sessions[].records] | add // 0' \
    "$TMP/a/stats.json" 2>/dev/null || echo 0)" -lt 1000 ]; do
    sleep 0.1
    i=$((i + 1))
done
kill -KILL $LOGD_PID
wait $LOGD_PID 2>/dev/null
# The outage itself, a time window: for 1 s nobody listens (shorter than
# the 3 missed heartbeats) while the sender keeps producing into it.
sleep 1
start_logd "$TMP/b"
wait $SP
expect_eq "sender kept running to the end" "$?" 0
SP=""
cur=$(jq -r .session "$TMP/send")
i=0 # until the new logd has seen the FIN of the sender's session (10 s)
while [ $i -lt 100 ] && [ "$(jq -r ".sessions[] | select(.session == \"$cur\") | .ended" \
    "$TMP/b/stats.json" 2>/dev/null)" != true ]; do
    sleep 0.1
    i=$((i + 1))
done
kill -TERM $LOGD_PID
wait $LOGD_PID
LOGD_PID=""

cur=$(jq -r .session "$TMP/send")
s() { jq -r ".sessions[] | select(.session == \"$cur\") | $1" "$TMP/b/stats.json"; }
expect_eq "two sessions on the sender" "$(jq .sessions "$TMP/send")" 2
expect_eq "the new logd has the sender's new session from record 0" "$(s .first)" 0
rec=$(s .records)
expect_eq "new session complete (received = sent in it)" "$rec" "$(jq .session_records "$TMP/send")"
expect_eq "new session: no loss" "$(s .lost)" 0
expect_eq "new session ended (FIN)" "$(s .ended)" true
# Datagrams of the old session that reached the new logd before its START
# took effect: loss counts from record 0, so everything before the first
# record it got counts as lost there (it went to the killed logd).
expect_eq "old session's fragment: lost = records before it" \
    "$(jq "[.sessions[] | select(.session != \"$cur\") | .lost - .first] | add // 0" "$TMP/b/stats.json")" 0
check "new session carried records ($rec)" test "$rec" -gt 1000
sent=$(jq .sent_records "$TMP/send")
unsent=$(jq .unsent "$TMP/send")
dropped=$(jq .dropped "$TMP/send")
expect_eq "produced = sent + unsent (no drops: $dropped)" $((sent + unsent + dropped)) 40000

done_testing
