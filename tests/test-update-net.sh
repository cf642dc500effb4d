# Updates over the network, between network namespaces: through a link
# that loses 20 % of the datagrams both ways, duplicates and reorders them
# (tests/udp_chaos.py: this kernel has no netem), while a third namespace
# floods the listener with forged fragments and manifests at 50k datagrams a
# second. The update lands; the flood is dropped on arrival and counted;
# reassembly memory stays bounded.
. tests/functions.sh
requires ip minisign python3
requires_file "$VIGIL"
[ "$(id -u)" = 0 ] || { echo "requires root"; exit 77; }

NS=vupS$$ NC=vupC$$ NA=vupA$$
PORT=7840 PROXY=7841
PIDS=""
teardown() {
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    [ "$TESTS_FAILED" = 0 ] || tail -n 5 "$TMP"/*.err 2>/dev/null
    for n in "$NS" "$NC" "$NA"; do ip netns del "$n" 2>/dev/null; done
    true
}
cleanup_fn teardown

for n in "$NS" "$NC" "$NA"; do
    ip netns add "$n" || { echo "requires network namespaces"; exit 77; }
    ip -n "$n" link set lo up
done
link() { # NS_PEER IFACE_S IFACE_P SUBNET
    ip link add "$2" type veth peer name "$3"
    ip link set "$2" netns "$NS"
    ip link set "$3" netns "$1"
    ip -n "$NS" addr add "$4.1/24" dev "$2"
    ip -n "$1" addr add "$4.2/24" dev "$3"
    ip -n "$NS" link set "$2" up
    ip -n "$1" link set "$3" up
}
link "$NC" vsc$$ vcs$$ 10.78.1
link "$NA" vsa$$ vas$$ 10.78.2

cd "$TMP" || exit 1
V=$OLDPWD/$VIGIL
minisign -G -W -p k.pub -s k.sec >/dev/null
# About 300 KiB of signatures: some 300 fragments of 1 KiB.
awk 'BEGIN { for (i = 0; i < 6000; i++) printf "Vigil.Test.Net%05d:0:*:5649474c2d4e45542d%08x\n", i, i }' >net.ndb
cp "$OLDPWD/tests/data/nbd/test.ndb" db.ndb
"$V" update build --db-id lab --version 1 --sign k.sec -o v1.vup net.ndb >/dev/null
size=$(stat -c %s v1.vup)
echo "bundle: $size bytes"

ip netns exec "$NS" "$V" update listen -k k.pub --db db.ndb \
    "udp://0.0.0.0:$PORT" --for 90 -v 2>listen.err &
PIDS="$PIDS $!"
LISTEN=$!
ip netns exec "$NS" python3 "$OLDPWD/tests/udp_chaos.py" "10.78.1.1:$PROXY" \
    "127.0.0.1:$PORT" 0.2 0.1 0.2 42 >chaos.out &
PIDS="$PIDS $!"
CHAOS=$!
wait_for_line listen.err 'listening for updates' 30
wait_for_line chaos.out '^ready' 30
ip netns exec "$NA" "$V" update flood "udp://10.78.2.1:$PORT" --rate 50000 \
    --seconds 20 >flood.out 2>flood.err &
PIDS="$PIDS $!"
FLOOD=$!
# The update starts once the flood is under way (it runs 20 s).
wait_for_line flood.err 'flooding .*: under way' 30 ||
    fail "the flood did not start"

ip netns exec "$NC" "$V" update send v1.vup "udp://10.78.1.1:$PROXY" \
    --timeout 60 >send.out 2>send.err
expect_eq "the update lands through loss, duplicates, reordering and a flood" "$?" 0
cat send.out send.err
wait "$FLOOD"
cat flood.out
kill -TERM "$CHAOS"
wait "$CHAOS"
cat chaos.out
kill -TERM "$LISTEN"
wait "$LISTEN"
cat listen.err

check "the database is the update's" grep -q Vigil.Test.Net05999 db.ndb/net.ndb
forged=$(sed -n 's/^sent \([0-9]*\) forged.*/\1/p' flood.out)
# The flood asks for 50k datagrams a second; a loaded machine (or a
# sanitizer build) sends fewer, and what matters is that the update lands
# through a real flood and that the flood's fragments die on arrival.
check "the flood was real (${forged:-0} datagrams in 20 s)" \
    test "${forged:-0}" -ge 200000
lost=$(sed -n 's/.*lost=\([0-9]*\).*/\1/p' chaos.out)
dups=$(sed -n 's/.*dup=\([0-9]*\).*/\1/p' chaos.out)
check "the link lost datagrams ($lost) and duplicated some ($dups)" \
    test "${lost:-0}" -gt 20 -a "${dups:-0}" -gt 5
stats=$(grep 'update listener:' listen.err)
unknown=$(echo "$stats" | sed -n 's/.*dropped unknown-update \([0-9]*\).*/\1/p')
# 15 of every 16 forged datagrams are fragments; some are lost on the way.
check "forged fragments dropped on arrival (${unknown:-0} of ${forged:-0} sent)" \
    test "${unknown:-0}" -ge $((${forged:-0} / 2))
check "forged manifests never reached a signature check" \
    sh -c "echo '$stats' | grep -q 'dropped no-cookie'"
check "one manifest accepted, one update completed" \
    sh -c "echo '$stats' | grep -q '1 manifests accepted, 1 updates completed'"
peak=$(echo "$stats" | sed -n 's/.*peak reassembly \([0-9]*\) bytes.*/\1/p')
check "reassembly memory: the one bundle ($peak <= $size bytes)" \
    test "${peak:-999999999}" -le "$size"
check "duplicates counted" sh -c "echo '$stats' | grep -q 'dropped duplicate'"
check "the listener reports its peak memory" grep -q 'peak RSS [0-9]* KiB' listen.err

# A bundle refused over the network says why, to the sender too.
"$V" update build --db-id lab --version 1 --sign k.sec -o again.vup net.ndb >/dev/null
ip netns exec "$NS" "$V" update listen -k k.pub --db db.ndb \
    "udp://0.0.0.0:$PORT" --for 20 2>listen2.err &
PIDS="$PIDS $!"
LISTEN=$!
wait_for_line listen2.err 'listening for updates' 30
ip netns exec "$NC" "$V" update send again.vup "udp://10.78.1.1:$PORT" \
    --timeout 10 2>send2.err
expect_eq "a rollback over the network: send fails" "$?" 1
check "the sender is told: rollback" grep -q "refused: rollback" send2.err
kill -TERM "$LISTEN"
wait "$LISTEN"

done_testing
