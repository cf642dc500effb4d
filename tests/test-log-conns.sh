# Idle, unauthenticated TCP connections cannot lock real senders out of
# logd (issue 14, item 6): connections are limited per source address and
# in all, a new one takes the place of the oldest that has not sent an
# authentic packet, and a connection that sends none within
# --auth-timeout is closed.
. tests/functions.sh
requires jq python3
LOGSEND=$VIGIL_BUILD/tools/vigil-logsend
requires_file "$VIGIL" "$LOGSEND"

head -c 32 /dev/urandom >"$TMP/key"
base=$((20000 + ($$ + 53) % 20000))
DATA=$base CTL=$((base + 1))
LOGD_PID="" HOLD_PID=""
stop_all() {
    [ -n "$HOLD_PID" ] && kill "$HOLD_PID" 2>/dev/null
    if [ -n "$LOGD_PID" ]; then
        kill -TERM "$LOGD_PID" 2>/dev/null
        wait "$LOGD_PID" 2>/dev/null
    fi
    LOGD_PID="" HOLD_PID=""
}
cleanup_fn stop_all
s() { jq -r "$2" "$1/stats.json"; }

# 1. 64 idle connections (the old limit: all of it), from the sender's own
# address and another; then a real sender over TCP gets all its records in.
"$VIGIL" logd --listen "tcp://127.0.0.1:$DATA" --key "$TMP/key" \
    --out "$TMP/a" --no-db --interval 1 --control "udp://127.0.0.1:$CTL" \
    2>"$TMP/a.err" &
LOGD_PID=$!
wait_for_line "$TMP/a.err" listening || fail "logd did not start"
python3 tests/tcp_hold.py $DATA 64 127.0.0.1 127.0.0.3 >"$TMP/hold.out" &
HOLD_PID=$!
wait_for_line "$TMP/hold.out" held || fail "could not hold connections"
timeout 60 "$LOGSEND" --log "tcp://127.0.0.1:$DATA" --key "$TMP/key" \
    --control-port $CTL --count 2000 --block >"$TMP/a.send" 2>"$TMP/a.serr"
expect_eq "sender ok" "$?" 0
wait_for_line "$TMP/a/stats.json" '"ended":true' 10
stop_all
expect_eq "every record arrived" "$(s "$TMP/a" '.sessions[0].records')" 2000
expect_eq "no loss" "$(s "$TMP/a" '.sessions[0].lost')" 0
ev=$(s "$TMP/a" .connections.evicted)
check "idle connections evicted for new ones ($ev)" test "${ev:-0}" -gt 0

# 2. A connection that sends nothing authentic is closed after
# --auth-timeout (here 1 s; the client waits up to 20 s for the close).
"$VIGIL" logd --listen "tcp://127.0.0.1:$DATA" --key "$TMP/key" \
    --out "$TMP/b" --no-db --auth-timeout 1 2>"$TMP/b.err" &
LOGD_PID=$!
wait_for_line "$TMP/b.err" listening || fail "logd did not start"
got=$(python3 tests/log_halfframe.py $DATA)
stop_all
expect_eq "unauthenticated connection closed" "$got" closed
expect_eq "counted as timed out" "$(s "$TMP/b" .connections.timed_out)" 1

# 3. The per-address limit: of 20 idle connections from one address with
# a limit of 3, each new one evicts the oldest: 17 are evicted.
"$VIGIL" logd --listen "tcp://127.0.0.1:$DATA" --key "$TMP/key" \
    --out "$TMP/c" --no-db --max-conns-per-addr 3 --interval 1 \
    2>"$TMP/c.err" &
LOGD_PID=$!
wait_for_line "$TMP/c.err" listening || fail "logd did not start"
python3 tests/tcp_hold.py $DATA 20 127.0.0.4 >"$TMP/hold.out" &
HOLD_PID=$!
wait_for_line "$TMP/hold.out" held || fail "could not hold connections"
wait_for_line "$TMP/c/stats.json" '"evicted":17' 10
stop_all
expect_eq "17 of 20 evicted by the per-address limit" \
    "$(s "$TMP/c" .connections.evicted)" 17

# 4. logd closes a connection idle for --idle-timeout (1 s here); the
# sender notices before its next batch and reconnects, so records sent
# 2.5 s apart all arrive (the previous sender wrote the next batch into
# the closed connection, where it was lost).
"$VIGIL" logd --listen "tcp://127.0.0.1:$DATA" --key "$TMP/key" \
    --out "$TMP/d" --no-db --idle-timeout 1 --interval 1 \
    --control "udp://127.0.0.1:$CTL" 2>"$TMP/d.err" &
LOGD_PID=$!
wait_for_line "$TMP/d.err" listening || fail "logd did not start"
"$LOGSEND" --log "tcp://127.0.0.1:$DATA" --key "$TMP/key" \
    --control-port $CTL --count 3 --gap-ms 2500 >"$TMP/d.send" 2>/dev/null
wait_for_line "$TMP/d/stats.json" '"ended":true' 10
stop_all
expect_eq "idle: every record arrived" "$(s "$TMP/d" '.sessions[0].records')" 3
expect_eq "idle: no loss" "$(s "$TMP/d" '.sessions[0].lost')" 0
expect_eq "idle: reconnected" "$(jq .reconnects "$TMP/d.send")" 3
tout=$(s "$TMP/d" .connections.timed_out)
check "idle connections closed by logd ($tout)" test "${tout:-0}" -ge 2

done_testing
