# A session is its id, whatever address its packets come from (issue 14,
# item 5). Authentic packets captured on the wire and replayed from other
# source addresses are rejected as "foreign": they neither make new
# sessions (one per address, each with open files) nor touch the stored
# records of the real one. The number of sessions is capped, and accept()
# failing for want of descriptors does not make logd spin.
. tests/functions.sh
requires jq sqlite3 python3
LOGSEND=$VIGIL_BUILD/tools/vigil-logsend
requires_file "$VIGIL" "$LOGSEND"

head -c 32 /dev/urandom >"$TMP/key"
base=$((20000 + ($$ + 41) % 20000))
DATA=$base
. tests/logd.sh
s() { jq -r "$2" "$1/stats.json"; }


# 1. Records 0-9 over TCP from 127.0.0.1, then the captured 10-19 replayed
# from 127.0.0.2, with rotation on: the replay used to make a second session
# of the same id whose rotation renamed the first one's file away.
mkdir "$TMP/p"
sess=$("$LOGSEND" --capture "$TMP/p" --key "$TMP/key" --count 20 --size 1000)
start_logd "$TMP/a" --rotate-size 4096
python3 tests/log_replay.py $DATA tcp 127.0.0.1 0 9 "$TMP/p"
python3 tests/log_replay.py $DATA tcp 127.0.0.2 10 19 "$TMP/p"
stop_logd
expect_eq "one session" "$(s "$TMP/a" '.sessions | length')" 1
expect_eq "owned by the first source" "$(s "$TMP/a" '.sessions[0].source')" 127.0.0.1
expect_eq "its 10 records" "$(s "$TMP/a" '.sessions[0].records')" 10
expect_eq "replays from elsewhere rejected as foreign" "$(s "$TMP/a" .rejected.foreign)" 10
expect_eq "the database holds records 0-9 once" \
    "$(sqlite3 "$TMP/a/events.db" "select count(*), count(distinct rec), min(rec), max(rec) from events where session='$sess'")" \
    "10|10|0|9"
expect_eq "the files hold records 0-9" \
    "$(cat "$TMP/a/$sess".jsonl* | jq -s -c '[.[].args[0]] | sort')" "[0,1,2,3,4,5,6,7,8,9]"

# 2. One captured packet replayed from 1200 addresses: one session, one
# open file, 1199 rejections (the first copy is the session's own).
start_logd "$TMP/b"
python3 tests/log_replay.py $DATA udp-many 1200 "$TMP/p"
wait_for_line "$TMP/b.err" "rejected:.* 1199 foreign" 10
fds=$(ls /proc/$LOGD_PID/fd | wc -l)
stop_logd
expect_eq "one session for 1200 sources" "$(s "$TMP/b" '.sessions | length')" 1
expect_eq "the rest rejected as foreign" "$(s "$TMP/b" .rejected.foreign)" 1199
check "descriptors stay few ($fds)" test "$fds" -lt 32

# 3. The number of sessions is capped: 6 fresh sessions, room for 4.
for i in 1 2 3 4 5 6; do
    mkdir "$TMP/q$i"
    "$LOGSEND" --capture "$TMP/q$i" --key "$TMP/key" --count 1 >/dev/null
done
start_logd "$TMP/c" --max-sessions 4
for i in 1 2 3 4 5 6; do
    python3 tests/log_replay.py $DATA tcp 127.0.0.1 0 0 "$TMP/q$i"
done
stop_logd
expect_eq "sessions capped" "$(s "$TMP/c" '.sessions | length')" 4
expect_eq "the rest rejected as full" "$(s "$TMP/c" .rejected.full)" 2

# 4. Out of descriptors: accept() fails with EMFILE while connections wait
# in the backlog. logd counts it and pauses accepting (200 ms) instead of
# polling the listening socket again at once. The bound below is loose: a
# pause allows about 5 failures a second, a spin hundreds of thousands.
(ulimit -n 24 && exec "$VIGIL" logd --listen "tcp://127.0.0.1:$DATA" \
    --key "$TMP/key" --out "$TMP/d" --no-db --interval 1 \
    --max-conns 64 --max-conns-per-addr 64 --auth-timeout 60 \
    2>"$TMP/d.err") &
LOGD_PID=$!
wait_for_line "$TMP/d.err" listening || fail "logd did not start"
python3 tests/tcp_hold.py $DATA 40 --for 2.5 >/dev/null
stop_logd
errs=$(s "$TMP/d" .connections.accept_errors)
check "accept failures counted ($errs)" test "${errs:-0}" -gt 0
check "and paused on, not spun on ($errs)" test "${errs:-0}" -lt 200

done_testing
