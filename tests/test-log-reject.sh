# Authenticity: forged (wrong key), replayed, truncated, stale and
# malformed packets are rejected and counted by logd, and malformed or
# forged control packets by the sender; none of them is processed.
. tests/functions.sh
requires jq
LOGSEND=$VIGIL_BUILD/tools/vigil-logsend
requires_file "$VIGIL" "$LOGSEND"

head -c 32 /dev/urandom >"$TMP/key"
base=$((20000 + ($$ + 7) % 20000))
DATA=$base CTL=$((base + 1))
. tests/logd.sh

"$VIGIL" logd --listen "udp://127.0.0.1:$DATA" --key "$TMP/key" \
    --out "$TMP/out" --interval 1 2>"$TMP/logd.err" &
LOGD_PID=$!
wait_for_line "$TMP/logd.err" listening || fail "logd did not start"
"$LOGSEND" --attack "udp://127.0.0.1:$DATA" --key "$TMP/key" >/dev/null
expect_eq "attack sent" "$?" 0
# Garbage of every size up to a header, and one too large for a datagram.
for n in 0 1 47 48 79 80 81 200; do
    head -c $n /dev/urandom >"$TMP/junk"
    python3 tests/udp_send.py $DATA "$TMP/junk"
done
wait_for_line "$TMP/out/stats.json" '"packets":14,' 10
stop_logd
s() { jq -r "$1" "$TMP/out/stats.json"; }
expect_eq "one session (the valid packet)" "$(s '.sessions | length')" 1
expect_eq "one record delivered" "$(s '.sessions[0].records')" 1
expect_eq "replayed packet rejected" "$(s .rejected.replayed)" 1
expect_eq "stale packet (old capture, new session) rejected" "$(s .rejected.stale)" 1
expect_eq "authentic but malformed rejected" "$(s .rejected.malformed)" 1
# forged: the wrong-key packet, the junk of 80..200 bytes (length agrees
# only by chance: counted as short otherwise).
forged=$(s .rejected.forged)
short=$(s .rejected.short)
expect_eq "forged + short = 1 forged + 1 truncated + 8 junk" $((forged + short)) 10
check "the wrong-key packet counted as forged ($forged)" test "$forged" -ge 1
check "the truncated packet counted as short ($short)" test "$short" -ge 1
expect_eq "packets counted" "$(s .packets)" 14
expect_eq "only the valid record stored" "$(cat "$TMP/out"/*.jsonl | jq -r .name)" attack

# Control: a sender waiting for START gets garbage, forged, replayed,
# stale, bad-filter, wrong-type and truncated control packets, then one
# real START.
"$VIGIL" logd --listen "udp://127.0.0.1:$DATA" --key "$TMP/key" \
    --out "$TMP/out2" --interval 1 2>"$TMP/logd2.err" &
LOGD_PID=$!
wait_for_line "$TMP/logd2.err" listening || fail "logd did not start"
"$LOGSEND" --log "udp://127.0.0.1:$DATA" --key "$TMP/key" \
    --control-port $CTL --count 100 --hb-missed 0 --block \
    >"$TMP/send" 2>"$TMP/serr" &
SP=$!
wait_for_line "$TMP/serr" "control port" || fail "logsend did not start"
"$LOGSEND" --attack-control "127.0.0.1:$CTL" --key "$TMP/key" >/dev/null
# A negative check, so a time window: for 0.3 s after the bad packets the
# sender must not start (it prints only when it ends). That none was taken
# for a START at all is checked below by the counts (7 rejected, 2 taken).
sleep 0.3
check "sender did not start on bad control packets" \
    sh -c "! grep -q . '$TMP/send'"
"$VIGIL" logd --start "127.0.0.1:$CTL" --key "$TMP/key"
wait $SP
expect_eq "sender finished after the real START" "$?" 0
wait_for_line "$TMP/out2/stats.json" '"ended":true' 10
stop_logd
expect_eq "control rejected" "$(jq .ctl_rejected "$TMP/send")" 7
expect_eq "control accepted (heartbeat + START)" "$(jq .ctl_ok "$TMP/send")" 2
expect_eq "one session" "$(jq .sessions "$TMP/send")" 1
expect_eq "records arrived" "$(jq -r '.sessions[0].records' "$TMP/out2/stats.json")" 100

# The control port: bound where asked (--control-bind), and rate-limited
# per source address: a flood of 300 packets from one address is mostly
# dropped unread (50 a second pass), and logd's START from another address
# still gets through.
"$LOGSEND" --log "udp://127.0.0.1:$DATA" --key "$TMP/key" \
    --control-bind 127.0.0.1 --control-port $CTL --count 10 --hb-missed 0 \
    --block >"$TMP/send3" 2>"$TMP/serr3" &
SP=$!
wait_for_line "$TMP/serr3" "control port" || fail "logsend did not start"
if command -v ss >/dev/null; then
    expect_eq "control port bound to the address asked" \
        "$(ss -Hlun "sport = :$CTL" | awk '{print $4}')" "127.0.0.1:$CTL"
fi
python3 tests/udp_send.py $CTL --flood 300 127.0.0.5
"$VIGIL" logd --start "127.0.0.1:$CTL" --key "$TMP/key"
wait $SP
expect_eq "sender started despite the flood" "$?" 0
limited=$(jq .ctl_limited "$TMP/send3")
check "flood mostly dropped unread ($limited)" test "$limited" -ge 200
# Loopback UDP may drop a few of the 300 when the receiver's buffer is full
# (a loaded machine): every one that arrived is dropped unread or rejected,
# none accepted.
seen=$((limited + $(jq .ctl_rejected "$TMP/send3")))
check "the rest read and rejected ($seen of 300 arrived)" \
    test "$seen" -le 300 -a "$seen" -ge 250
expect_eq "the START accepted" "$(jq .ctl_ok "$TMP/send3")" 1

done_testing
