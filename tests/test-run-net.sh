# `--net user` isolates the guest: QEMU's user-mode network with
# restrict=on, so the guest cannot reach services on the host's loopback
# (10.0.2.2: logd, update listeners, anything) or beyond; `--net
# user-open` is the explicit opt-out (issue 14, item 6).
. tests/functions.sh
requires_qemu; requires python3
requires_file "$VIGIL" "$VIGIL_BUILD/vigil-qemu.so" "$GUEST/vmlinuz" "$GUEST/initramfs.cpio.gz"

PORT=$((20000 + ($$ + 71) % 20000))
LPID=""
stop_listener() { [ -n "$LPID" ] && kill "$LPID" 2>/dev/null; LPID=""; }
cleanup_fn stop_listener

# listen FILE: a TCP listener on the host's loopback that writes one line
# per connection it gets (it stops when killed, or after 300 s).
listen() {
    python3 tests/tcp_listen.py $PORT "$1" &
    LPID=$!
    wait_for_line "$1" listening || fail "listener did not start"
}

# guest NET: try to reach the host's listener from the guest.
guest() {
    "$VIGIL" run --timeout 300 --net "$1" -- sh -c "
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
echo hi | nc -w 3 10.0.2.2 $PORT && echo reached || echo unreachable"
}

listen "$TMP/restricted"
guest user >"$TMP/user.out" 2>"$TMP/user.err"
expect_eq "--net user: vigil run status" "$?" 0
stop_listener
expect_eq "--net user: the guest could not connect" "$(tail -n 1 "$TMP/user.out")" unreachable
expect_eq "--net user: no connection reached the host" \
    "$(grep -c connection "$TMP/restricted")" 0

listen "$TMP/open"
guest user-open >"$TMP/open.out" 2>"$TMP/open.err"
expect_eq "--net user-open: vigil run status" "$?" 0
stop_listener
expect_eq "--net user-open: the guest connected" "$(tail -n 1 "$TMP/open.out")" reached
expect_eq "--net user-open: the host got the connection" \
    "$(grep -c connection "$TMP/open")" 1

expect_rc 2 "$VIGIL" run --net bogus -- true

done_testing
