# Communication hiding (docs/hide.md): a guest service's socket calls run
# on the host, in a network namespace this test makes, never in the guest
# kernel. guest/vigil-hidden's suite (every call a service makes: echo,
# addresses, options, O_NONBLOCK, FIONREAD, dup, vectors, messages, a
# signal during a blocking receive (EINTR or restart, as Linux), poll
# and epoll over hidden and mixed sets, a slow server, fork, exec, accept,
# UDP, bad pointers...) also runs natively on the host against the same
# echo server: the host kernel's answers are what vigil's must match,
# check by check. Inside the guest, neither /proc nor an in-guest strace
# of the service shows the connection.
. tests/functions.sh
requires_qemu
requires ip python3 jq
requires_file "$VIGIL" "$GUEST/vmlinuz" "$GUEST/bin/vigil-hidden" \
    "$GUEST/bin/vigil-hide-edge"
[ "$(id -u)" = 0 ] || { echo "requires root"; exit 77; }

NS=vhide$$
PORT=7911
SERVER=""
teardown() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    true
}
cleanup_fn teardown
ip netns add "$NS" || { echo "requires network namespaces"; exit 77; }
ip -n "$NS" link set lo up
ip netns exec "$NS" python3 tests/echo.py 127.0.0.1 $PORT >"$TMP/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 50); do
    grep -q ready "$TMP/server.log" && break
    sleep 0.1
done

SVC=/usr/bin/vigil-hidden
checks() { grep -E '^(ok|FAIL) ' "$1"; }

# ---- the peer: the same program, natively, on the host ---------------------
ip netns exec "$NS" "$GUEST/bin/vigil-hidden" suite 127.0.0.1 $PORT >"$TMP/host.out"
expect_eq "the suite passes natively on the host" "$(tail -n 1 "$TMP/host.out")" \
    "0 failed"

# ---- hidden, traced --------------------------------------------------------
before=$(grep -c '^tcp ' "$TMP/server.log")
"$VIGIL" run -v --smp 2 --hide exe=$SVC --hide-children --hide-netns "$NS" \
    --trace exe=$SVC -o "$TMP/trace.jsonl" -- vigil-hidden suite 127.0.0.1 $PORT \
    >"$TMP/guest.out" 2>"$TMP/guest.err"
expect_eq "the hidden suite exits 0" "$?" 0
grep FAIL "$TMP/guest.out"
expect_eq "every check answers as the host kernel does" \
    "$(checks "$TMP/guest.out")" "$(checks "$TMP/host.out")"
expect_eq "the service's descriptors are vigil's" \
    "$(grep '^descriptor' "$TMP/guest.out")" "descriptor hidden"
expect_eq "the guest shows no socket of the open connection" \
    "$(grep '^guest sees' "$TMP/guest.out")" \
    "guest sees: 0 new tcp sockets, 0 socket descriptors"
after=$(grep -c '^tcp ' "$TMP/server.log")
echo "server: $before then $after tcp connections"
expect_eq "the connections reached the server in the namespace" \
    "$((after - before))" "$before"
grep 'hidden calls' "$TMP/guest.err"
check "no call was abandoned and no option refused" \
    grep -q '0 abandoned by a thread that died, 0 refused' "$TMP/guest.err"

# The trace: every call on a hidden descriptor is marked hidden, and so is
# every AF_INET socket; AF_UNIX and socketpair stay the guest's.
T="$TMP/trace.jsonl"
hidden=$(jq -s '[.[] | select(.hidden == true)] | length' "$T")
check "the trace marks the hidden calls ($hidden)" test "$hidden" -ge 100
leaked=$(jq -s '[.[] | select(.type == "syscall" and .hidden != true
    and (.args[0] // 0) >= 1073741824 and (.args[0] // 0) < 1073742848
)] | length' "$T")
expect_eq "no call on a hidden descriptor reached the guest kernel" "$leaked" 0
expect_eq "every AF_INET socket was made on the host" \
    "$(jq -s '[.[] | select(.name == "socket" and .decoded[0] == "AF_INET"
        and .hidden != true)] | length' "$T")" 0
expect_eq "AF_UNIX stays in the guest" \
    "$(jq -s '[.[] | select(.name == "socket" and .decoded[0] == "AF_UNIX")
        | .hidden // false] | unique' -c "$T")" "[false]"
expect_eq "an interrupted hidden wait is traced as the kernel's (ERESTARTSYS)" \
    "$(jq -s '[.[] | select(.name == "recvfrom" and .hidden == true
        and .ret == -512)] | length' "$T")" 3
expect_eq "a mixed poll is answered as one call" \
    "$(jq -s '[.[] | select(.name == "poll" and .hidden == true)] | length > 0' "$T")" \
    true

# ---- what an observer inside the guest sees --------------------------------
# strace (ptrace) inside the guest follows the service: the socket calls
# never enter the guest kernel, so it sees none of them.
"$VIGIL" run --hide exe=$SVC --hide-netns "$NS" -- sh -c \
    "strace -f -o /tmp/s.txt $SVC tcp 127.0.0.1 $PORT quietly; echo rc=\$?; cat /tmp/s.txt" \
    >"$TMP/strace.out" 2>"$TMP/strace.err"
expect_eq "the service works under an in-guest strace" \
    "$(grep -E '^(echo|rc)' "$TMP/strace.out" | tr '\n' ' ')" "echo: quietly rc=0 "
check "strace saw the service run" grep -q "execve(\"$SVC\"" "$TMP/strace.out"
netcalls=$(grep -cE '(socket|connect|sendto|recvfrom|setsockopt)\(' "$TMP/strace.out")
expect_eq "strace saw none of its socket calls" "$netcalls" 0

# A packet capture, netstat and /proc/net inside the guest. An unhidden
# copy of the program sniffs every interface for the whole exchange; while
# the service waits for a slow echo, another process reads netstat and
# /proc/net (and runs: a hidden call's wait does not stop the guest). Then
# the same capture around an unhidden connect shows what it would have
# seen of traffic the guest kernel carried.
PORTHEX=$(printf '%04X' $PORT)
"$VIGIL" run --hide exe=$SVC --hide-netns "$NS" -- sh -c "
    cp $SVC /tmp/sniffer; cp $SVC /tmp/other
    /tmp/sniffer sniff 10 >/tmp/sniff.txt &
    until grep -q sniffing /tmp/sniff.txt; do usleep 100000; done
    $SVC tcp 127.0.0.1 $PORT 'sleep:6000 slow' >/tmp/svc.txt &
    usleep 1500000
    echo proc-net \$(cat /proc/net/tcp /proc/net/tcp6 /proc/net/udp \
        /proc/net/udp6 /proc/net/raw /proc/net/raw6 2>/dev/null | grep -ci ':$PORTHEX ')
    echo netstat \$(netstat -tuanw | grep -c ':$PORT ')
    echo answered-before \$(grep -c echo: /tmp/svc.txt)
    wait; cat /tmp/svc.txt /tmp/sniff.txt
    /tmp/sniffer sniff 3 >/tmp/sniff2.txt &
    until grep -q sniffing /tmp/sniff2.txt; do usleep 100000; done
    /tmp/other tcp 127.0.0.1 $PORT theirs; wait; cat /tmp/sniff2.txt" \
    >"$TMP/sniff.out" 2>"$TMP/sniff.err"
cat "$TMP/sniff.out"
expect_eq "/proc/net shows no socket of the waiting service" \
    "$(grep '^proc-net' "$TMP/sniff.out")" "proc-net 0"
expect_eq "netstat shows none" "$(grep '^netstat' "$TMP/sniff.out")" "netstat 0"
expect_eq "another process ran while the service waited for its echo" \
    "$(grep '^answered-before' "$TMP/sniff.out")" "answered-before 0"
expect_eq "the service got its slow echo" "$(grep '^echo:' "$TMP/sniff.out")" \
    "echo: sleep:6000 slow"
expect_eq "a packet capture in the guest saw nothing of it" \
    "$(grep '^sniffed' "$TMP/sniff.out" | head -n 1)" "sniffed 0 packets"
n=$(grep '^sniffed' "$TMP/sniff.out" | sed -n '2s/sniffed \([0-9]*\).*/\1/p')
check "... where it sees an unhidden connect's packets (${n:-none})" \
    test "${n:-0}" -ge 2

# A hidden process killed by a signal (no exit_group of its own) leaves no
# socket open on the host: its connection is gone at the server while
# vigil runs on. So does one whose threads all end by exit, the last one
# after the first: the socket lives while a thread does.
EDGE=/usr/bin/vigil-hide-edge
"$VIGIL" run -v --smp 2 --hide exe=$SVC --hide exe=$EDGE --hide-netns "$NS" \
    --trace exe=$EDGE -o "$TMP/edge.jsonl" -- sh -c "
    settled() {
        for i in 1 2 3 4 5 6 7 8 9 10; do
            $SVC tcp 127.0.0.1 $PORT 'conns?' | grep -q 'conns 1' && break
            usleep 300000
        done
        $SVC tcp 127.0.0.1 $PORT 'conns?' | sed -n \"s/^echo/\$1/p\"
    }
    $SVC hold 127.0.0.1 $PORT >/tmp/hold.txt &
    until grep -q holding /tmp/hold.txt; do usleep 100000; done
    $SVC tcp 127.0.0.1 $PORT 'conns?' | sed -n 's/^echo/killed-before/p'
    kill -9 \$!; wait
    settled killed
    $EDGE exit-last 127.0.0.1 $PORT
    settled exited
    $EDGE fast 127.0.0.1 $PORT
    settled fast
    $EDGE splice 127.0.0.1 $PORT
    $EDGE nofile 127.0.0.1 $PORT
    $EDGE intr-between 127.0.0.1 $PORT" >"$TMP/kill.out" 2>"$TMP/kill.err"
cat "$TMP/kill.out"
expect_eq "the killed process's connection is closed on the host" \
    "$(grep '^killed' "$TMP/kill.out" | tr '\n' ' ')" \
    "killed-before: conns 2 killed: conns 1 "
expect_eq "a process's connection lives on while one of its threads does" \
    "$(grep -E '^(leader|alive)' "$TMP/kill.out" | tr '\n' ' ')" \
    "leader gone alive: conns 1 "
expect_eq "... and is closed on the host when its last thread ends by exit" \
    "$(grep '^exited' "$TMP/kill.out")" "exited: conns 1"

# sendfile and its kin cannot be hidden (their other end is the guest
# kernel's): they fail as Linux fails them for a descriptor that cannot
# do it, and never reach the guest kernel with a hidden number.
expect_eq "sendfile, splice, tee, vmsplice, copy_file_range: EINVAL" \
    "$(grep -E '^(sendfile|splice|tee|vmsplice|copy_file_range)' "$TMP/kill.out" |
        sed 's/^.*: //' | sort | uniq -c | tr -s ' ')" \
    " 8 Invalid argument"
expect_eq "... and the socket still works" \
    "$(grep '^afterwards' "$TMP/kill.out" | head -n 1)" "afterwards: after"

# Interference: hidden numbers (from 2^30) lie above fs.nr_open, so no
# guest process can hold one, even with RLIMIT_NOFILE as high as the
# kernel allows: another process that names the hidden socket's number
# gets EBADF, not the socket. The hidden process's own dup2 of a guest
# descriptor onto a hidden number is EBADF too, answered by vigil.
expect_eq "RLIMIT_NOFILE raised to fs.nr_open, still below 2^30" \
    "$(grep '^limit' "$TMP/kill.out")" "limit at nr_open, below the hidden numbers"
expect_eq "another process naming the hidden number gets EBADF, not the socket" \
    "$(grep '^other' "$TMP/kill.out" | tr '\n' ' ')" \
    "other dup2 onto it: Bad file descriptor other write to it: Bad file descriptor \
other fcntl on it: Bad file descriptor other dup2 onto the limit's last: a descriptor "
expect_eq "the hidden process's dup2 of a guest descriptor onto hidden numbers: EBADF" \
    "$(grep '^own' "$TMP/kill.out" | sed 's/^.*: //' | tr '\n' ' ')" \
    "Bad file descriptor Bad file descriptor "
expect_eq "... and its socket is untouched" \
    "$(grep '^afterwards' "$TMP/kill.out" | tail -n 1)" "afterwards: still"

# A blocking recv waits in the guest kernel 1 ms at a time; in between,
# the thread is in user mode on its instruction. A signal delivered there
# (caught by a higher-priority thread on its CPU that finds it preempted
# by an interrupt in user mode) interrupts the recv as Linux would: EINTR,
# for a handler without SA_RESTART. It used to restart the call.
expect_eq "a signal between two waits: caught there" \
    "$(grep '^between' "$TMP/kill.out" | sed 's/ after.*//')" "between: caught"
expect_eq "... and the blocking recv ends with EINTR (no SA_RESTART)" \
    "$(grep '^recv' "$TMP/kill.out")" "recv: Interrupted system call (handled 1)"
expect_eq "no call of the hidden process reached the guest kernel with a hidden descriptor" \
    "$(jq -s '[.[] | select(.type == "syscall" and .hidden != true
        and .comm != "other"
        and ([.args[0:4][] // 0 | select(. >= 1073741824 and . < 1073742848)]
            | length > 0))] | length' "$TMP/edge.jsonl")" 0

# The calls that never block run on the vCPU's thread, on the plugin's
# copy of the host socket (docs/hide.md): they answer as the kernel does,
# garbage pointers included, and a close on another thread (the number
# then given to a new socket) never leaves a copy answering for the old
# connection, nor keeps it open on the host.
expect_eq "getsockopt, getpeername, FIONREAD on the vCPU: as Linux answers" \
    "$(grep -E '^(type|peer|fionread|efault|fresh)' "$TMP/kill.out" | tr '\n' ' ')" \
    "type: stream stream peer: the server, cut 16 of 16 fionread: 5 \
efault: 12 of 12 fresh page: stream "
expect_eq "setsockopt, and send and recv with MSG_DONTWAIT, on the vCPU: as Linux" \
    "$(grep -E '^(nodelay|dontwait)' "$TMP/kill.out" | tr '\n' ' ')" \
    "nodelay: 1 dontwait: 5 then Resource temporarily unavailable \
dontwait efault: 2 of 2, then 3: abc "
expect_eq "a close racing them on another thread: no stale answer" \
    "$(grep '^race:' "$TMP/kill.out")" \
    "race: 20 rounds, number reused 20 times, 0 wrong answers"
grep '^race calls' "$TMP/kill.out"
expect_eq "... and the closed connections are closed on the host" \
    "$(grep '^fast:' "$TMP/kill.out")" "fast: conns 1"
fastn=$(sed -n 's/.* \([0-9]*\) answered by a vCPU.*/\1/p' "$TMP/kill.err")
check "the vCPUs answered calls on their copies (${fastn:-none})" \
    test "${fastn:-0}" -ge 100

# Another guest process, not hidden, cannot reach the server: the guest
# has no network device; only the hidden service's calls leave it.
"$VIGIL" run --hide exe=$SVC --hide-netns "$NS" -- sh -c \
    "$SVC tcp 127.0.0.1 $PORT mine; echo rc=\$?; cp $SVC /tmp/other;
     /tmp/other tcp 127.0.0.1 $PORT theirs; echo rc=\$?" \
    >"$TMP/other.out" 2>"$TMP/other.err"
expect_eq "the hidden service reaches the server, another process does not" \
    "$(grep -E '^(echo|rc|connect)' "$TMP/other.out" | tr '\n' ' ')" \
    "echo: mine rc=0 connect: Connection refused rc=1 "

# ---- refused: what the guest must not reach through vigil -----------------
expect_eq "--hide-netns needs --hide" \
    "$("$VIGIL" run --hide-netns "$NS" -- true 2>&1 >/dev/null | head -n 1)" \
    "vigil: error: --hide-netns goes with --hide"
"$VIGIL" run --hide exe=$SVC --hide-netns no-such-ns$$ -- true \
    >/dev/null 2>"$TMP/nons.err"
rc=$?
check "an unknown namespace is an error before boot (rc $rc)" test "$rc" -ne 0
check "... that names it" grep -q "no-such-ns$$" "$TMP/nons.err"

done_testing
