# Loss between two network namespaces joined by a veth pair: 10 % of the
# data datagrams are dropped on the way (tc netem on the sender's veth where
# the kernel has it, else an nftables random drop rule on the receiver's
# input: a drop in the sender's own output chain would fail the send call,
# which the sender sees and retries), and logd reports exactly the
# number of records the sender sent minus those it received.
. tests/functions.sh
requires ip jq
LOGSEND=$VIGIL_BUILD/tools/vigil-logsend
requires_file "$VIGIL" "$LOGSEND"
[ "$(id -u)" = 0 ] || { echo "requires root"; exit 77; }

NA=vlogA$$ NB=vlogB$$ VA=vla$$ VB=vlb$$
head -c 32 /dev/urandom >"$TMP/key"
DATA=7000 CTL=7001
LOGD_PID=""
teardown() {
    [ -n "$LOGD_PID" ] && kill -TERM "$LOGD_PID" 2>/dev/null && wait "$LOGD_PID"
    [ "$TESTS_FAILED" = 0 ] || cat "$TMP"/*.serr "$TMP"/*.err 2>/dev/null | head -20
    ip netns del "$NA" 2>/dev/null
    ip netns del "$NB" 2>/dev/null
    ip link del "$VA" 2>/dev/null
    true
}
cleanup_fn teardown

ip netns add "$NA" && ip netns add "$NB" || { echo "requires network namespaces"; exit 77; }
ip link add "$VA" type veth peer name "$VB"
ip link set "$VA" netns "$NA"
ip link set "$VB" netns "$NB"
ip -n "$NA" addr add 10.77.0.1/24 dev "$VA"
ip -n "$NB" addr add 10.77.0.2/24 dev "$VB"
ip -n "$NA" link set "$VA" up
ip -n "$NB" link set "$VB" up
ip -n "$NA" link set lo up
ip -n "$NB" link set lo up

if ip netns exec "$NA" tc qdisc add dev "$VA" root netem loss 10% 2>/dev/null; then
    how=netem
elif command -v nft >/dev/null &&
    ip netns exec "$NB" nft -f - <<EOT
table inet vloss {
    chain in {
        type filter hook input priority 0;
        udp dport $DATA numgen random mod 10 0 drop
    }
}
EOT
then
    how=nftables
else
    echo "requires tc netem or nftables"
    exit 77
fi
echo "loss injected with $how"

run_case() { # PROTO COUNT
    out=$TMP/$1
    ip netns exec "$NB" "$VIGIL" logd --listen "udp://10.77.0.2:$DATA" \
        --listen "tcp://10.77.0.2:$DATA" --key "$TMP/key" --out "$out" \
        --no-db --control "udp://10.77.0.1:$CTL" --interval 1 2>"$out.err" &
    LOGD_PID=$!
    wait_for_line "$out.err" listening || fail "logd did not start"
    ip netns exec "$NA" "$LOGSEND" --log "$1://10.77.0.2:$DATA" \
        --key "$TMP/key" --control-port $CTL --count "$2" --block \
        --linger 300 >"$out.send" 2>"$out.serr"
    expect_eq "$1: logsend ok" "$?" 0
    wait_for_line "$out/stats.json" '"ended":true' 10
    kill -TERM $LOGD_PID
    wait $LOGD_PID
    LOGD_PID=""
}

run_case udp 50000
sent=$(jq .sent_records "$TMP/udp.send")
got=$(jq '.sessions[0].records' "$TMP/udp/stats.json")
lost=$(jq '.sessions[0].lost' "$TMP/udp/stats.json")
sent=${sent:-0} got=${got:-0} lost=${lost:-0}
echo "udp: sent $sent received $got lost $lost"
expect_eq "udp: sent all" "$sent" 50000
expect_eq "udp: lost reported = sent - received" "$lost" $((sent - got))
check "udp: loss happened (about 10 %: $lost)" test "$lost" -gt 2000 -a "$lost" -lt 9000
expect_eq "udp: session ended (a FIN got through)" "$(jq '.sessions[0].ended' "$TMP/udp/stats.json")" true
expect_eq "udp: JSON Lines hold what was received" "$(cat "$TMP/udp"/*.jsonl | wc -l)" "$got"
# Records are split across datagrams (wire version 2): one whose other
# half was lost is counted lost, never stored cut.
split=$(jq .split "$TMP/udp.send")
check "udp: records were split across datagrams ($split)" test "${split:-0}" -gt 1000
expect_eq "udp: every stored line is a whole event" \
    "$(cat "$TMP/udp"/*.jsonl | jq -c 'select(.type == "syscall" and (.ip == "0x401000")) | 1' | wc -l)" "$got"
# Full datagrams went out as runs cut by the kernel (UDP segmentation
# offload); a dropped run loses its datagrams together, counted the same.
gso=$(jq .gso_sends "$TMP/udp.send")
check "udp: sent with segmentation offload ($gso sends)" test "${gso:-0}" -gt 0

# TCP over the same link: the random drop hits only UDP data; TCP is
# lossless while connected.
run_case tcp 50000
expect_eq "tcp: received all" "$(jq '.sessions[0].records' "$TMP/tcp/stats.json")" 50000
expect_eq "tcp: no loss" "$(jq '.sessions[0].lost' "$TMP/tcp/stats.json")" 0

# A link whose MTU is below the datagrams': the kernel refuses to cut them
# (the segment would not fit), so the sender goes back to one datagram per
# send for good, and the kernel fragments them as before.
ip -n "$NA" link set "$VA" mtu 1200
ip -n "$NB" link set "$VB" mtu 1200
mv "$TMP/udp" "$TMP/udp-1500"
run_case udp 20000
sent=$(jq .sent_records "$TMP/udp.send")
got=$(jq '.sessions[0].records' "$TMP/udp/stats.json")
lost=$(jq '.sessions[0].lost' "$TMP/udp/stats.json")
echo "udp, MTU 1200: sent $sent received $got lost $lost; $(jq -c '{datagrams, gso_sends, send_errors}' "$TMP/udp.send")"
expect_eq "MTU 1200: sent all" "$sent" 20000
expect_eq "MTU 1200: no segmentation offload" "$(jq .gso_sends "$TMP/udp.send")" 0
expect_eq "MTU 1200: lost reported = sent - received" "$lost" $((sent - got))
check "MTU 1200: most arrived ($got)" test "${got:-0}" -gt 10000

done_testing
