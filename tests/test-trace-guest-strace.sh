# vigil's trace against strace's, in the same boot: a guest program with a
# known sequence of calls (guest/vigil-tracee.c) runs under `strace -f`
# inside the guest while vigil traces the whole guest from outside. For each
# of the program's threads the (call, result) sequences must be equal, and
# known argument values must be exact.
. tests/functions.sh
requires_qemu; requires python3 jq
requires_file "$VIGIL" "$GUEST/vmlinuz" "$GUEST/initramfs.cpio.gz" \
    "$GUEST/trixie/vmlinuz"

# Debian 12's kernel with 1 and 2 vCPUs, and Debian 13's: nothing in the
# tracer may depend on one kernel version.
for run in "1 $GUEST/vmlinuz" "2 $GUEST/vmlinuz" "2 $GUEST/trixie/vmlinuz"; do
    set -- $run
    smp=$1 kernel=$2
    echo "# $kernel with $smp vCPU(s)"
    "$VIGIL" run --kernel "$kernel" --smp $smp --trace all -o "$TMP/trace.jsonl" -- sh -c \
        'strace -f -qq -o /tmp/st.txt vigil-tracee >/tmp/out.txt; cat /tmp/st.txt; echo ===; cat /tmp/out.txt' \
        >"$TMP/guest.txt"
    expect_eq "guest run with $smp vCPU(s) succeeds" "$?" 0
    sed '/^===$/,$d' "$TMP/guest.txt" >"$TMP/strace.txt"
    sed '1,/^===$/d' "$TMP/guest.txt" >"$TMP/out.txt"
    check "every trace line is JSON" jq -e . "$TMP/trace.jsonl" >/dev/null
    check "strace and vigil agree, thread by thread ($smp vCPU, $kernel)" \
        python3 tests/strace_compare.py "$TMP/strace.txt" "$TMP/trace.jsonl"

    # Known values, as the program itself reported them.
    main=$(awk 'NR == 1 { print $1 }' "$TMP/strace.txt")
    child=$(sed -n 's/^forked \([0-9]*\) status 0$/\1/p' "$TMP/out.txt")
    thread=$(sed -n 's/^thread \([0-9]*\) read 2$/\1/p' "$TMP/out.txt")
    ev() { jq -c "select(.type == \"syscall\" and .tid == $1 and .name == \"$2\")" "$TMP/trace.jsonl"; }
    opens=$(ev "$main" openat)
    check "the known path is captured" sh -c "echo '$opens' | grep -q '/tmp/vigil-tracee.dat'"
    n=$(ev "$main" write | jq -s '[.[] | select(.args[2] == 18 and .ret == 18)] | length')
    check "write of the 18 known bytes, returning 18 ($n)" test "$n" -ge 1
    e=$(ev "$main" openat | jq -s '[.[] | select(.ret == -2 and .error == "ENOENT")] | length')
    check "the failing open returns ENOENT ($e)" test "$e" = 1
    c=$(ev "$main" clone | jq -s "[.[] | select(.ret == $child)] | length")
    check "fork returns the child's pid $child ($c)" test "$c" = 1
    x=$(ev "$child" execve | jq -s '[.[] | select(.ret == 0 and .decoded[0] == "/proc/self/exe")] | length')
    check "the child execs /proc/self/exe, path shown although its page was not yet mapped ($x)" test "$x" = 1
    r=$(ev "$thread" read | jq -s '[.[] | select(.ret == 2)] | length')
    check "the thread's blocked read returns 2 ($r)" test "$r" = 1
    d=$(jq -s '[.[] | select(.type == "summary")][0].dropped_records' "$TMP/trace.jsonl")
    expect_eq "no records dropped" "$d" 0
done

# The text form against strace's, line by line, in the same boot: a shell
# workload (busybox) and guest/vigil-decode, which makes each call whose
# structures vigil decodes, with strace's and vigil's string sizes equal.
# Every line of the decoded calls must be strace's; the share of equal
# lines over the whole workload is printed (docs/strace.md lists the rest).
decoded=newfstatat,fstat,stat,lstat,statx,clock_gettime,clock_getres
decoded=$decoded,gettimeofday,nanosleep,clock_nanosleep,prlimit64,getrlimit
decoded=$decoded,uname,rt_sigprocmask,rt_sigaction,rt_sigreturn,clone,wait4
decoded=$decoded,getdents64,prctl,getsockname,getpeername,accept4
decoded=$decoded,statfs,fstatfs,utimensat,ioctl,getgroups,setgroups,socket
decoded=$decoded,execve,poll,getrusage,getsockopt,setsockopt
decoded=$decoded,epoll_create1,epoll_ctl,epoll_wait,epoll_pwait
decoded=$decoded,sendmsg,recvmsg,select,pselect6,ppoll,recvfrom
work='ls -la / /dev/null >/dev/null; stat / /tmp /dev/null >/dev/null
uname -a >/dev/null; ulimit -n >/dev/null; sleep 0.01; ps >/dev/null
df >/dev/null; mkdir /tmp/d; touch /tmp/d/f; chmod 640 /tmp/d/f
ln -s f /tmp/d/l; readlink /tmp/d/l >/dev/null; rm -r /tmp/d
date >/dev/null; kill -0 $$; vigil-decode'
"$VIGIL" run --kernel "$GUEST/vmlinuz" --smp 2 --trace all --format text \
    --strsize 32 --bufsize 32 -o "$TMP/trace.txt" -- sh -c \
    'strace -f -qq -s 32 -o /tmp/st.txt sh -c "$1"; cat /tmp/st.txt' \
    sh "$work" >"$TMP/strace.txt"
expect_eq "text run succeeds" "$?" 0
check "the guest has vigil-decode (make guest)" \
    grep -q 'execve("/usr/bin/vigil-decode"' "$TMP/strace.txt"
python3 tests/strace_compare.py --text --must "$decoded" "$TMP/strace.txt" \
    "$TMP/trace.txt" >"$TMP/text.txt"
rc=$?
cat "$TMP/text.txt"
expect_eq "every line of the decoded calls is strace's" "$rc" 0
check "the decoded calls were made" \
    test "$(grep -c '^ok: ' "$TMP/text.txt")" -ge 20

# The same calls as JSON objects: valid JSON, and fields with known values.
"$VIGIL" run --kernel "$GUEST/vmlinuz" --trace exe=/usr/bin/vigil-decode \
    -o "$TMP/decode.jsonl" -- vigil-decode >/dev/null
expect_eq "JSON run succeeds" "$?" 0
check "every line is JSON" jq -e . "$TMP/decode.jsonl" >/dev/null
dj() { jq -c "select(.type == \"syscall\" and .name == \"$1\") | $2" "$TMP/decode.jsonl"; }
expect_eq "newfstatat /dev/null: st_mode and st_rdev" \
    "$(dj newfstatat 'select(.decoded[1] == "/dev/null") | [.decoded[2].st_mode, .decoded[2].st_rdev]')" \
    '["S_IFCHR|0666",259]'
expect_eq "uname: sysname and machine" \
    "$(dj uname 'select(.ret == 0) | [.decoded[0].sysname, .decoded[0].machine]')" \
    '["Linux","x86_64"]'
expect_eq "getrlimit(RLIMIT_NOFILE, 0x8) fails: the address, not an object" \
    "$(dj getrlimit 'select(.ret == -14) | .decoded[1]')" '"0x8"'
expect_eq "prlimit64 sets the known core limit" \
    "$(dj prlimit64 'select(.decoded[1] == "RLIMIT_CORE" and .decoded[2] != null) | .decoded[2]' | head -n 1)" \
    '{"rlim_cur":1024,"rlim_max":2048}'
expect_eq "prctl: the name set, cut at 15 bytes, and read back" \
    "$(dj prctl '.decoded[1]' | head -n 2 | tr '\n' ' ')" \
    '"vigil-decode-lo" "vigil-decode-lo" '
e=$(dj getdents64 'select(.ret > 0) | .decoded[1].entries' | head -n 1)
check "getdents64 of / counts its entries ($e)" test "${e:-0}" -gt 2
expect_eq "accept4: the length before and after" \
    "$(dj accept4 '.decoded[2]')" '{"in":128,"out":2}'
expect_eq "recvfrom: the sender's address length before and after" \
    "$(dj recvfrom 'select(.ret == 5) | .decoded[5]' | head -n 1)" \
    '{"in":128,"out":18}'
expect_eq "statfs /proc: f_type" \
    "$(dj statfs 'select(.decoded[0] == "/proc") | .decoded[1].f_type')" \
    '"PROC_SUPER_MAGIC"'
expect_eq "utimensat: UTIME_NOW and UTIME_OMIT, then a set time" \
    "$(dj utimensat 'select(.ret == 0) | .decoded[2]' | tr -d '\n')" \
    '["UTIME_NOW","UTIME_OMIT"][{"sec":1700000000,"nsec":5},{"sec":1700000001,"nsec":0}]'
expect_eq "ioctl FIONREAD on a pipe holding 3 bytes" \
    "$(dj ioctl 'select(.decoded[1] == "FIONREAD") | .decoded[2]')" '[3]'
expect_eq "ioctl TCSETSW: the console's settings as an object" \
    "$(dj ioctl 'select(.decoded[1] == "TCSETSW") | .decoded[2] | type')" \
    '"object"'
expect_eq "setsockopt SO_LINGER: the structure" \
    "$(dj setsockopt 'select(.decoded[2] == "SO_LINGER") | .decoded[3]')" \
    '{"l_onoff":1,"l_linger":5}'
expect_eq "setsockopt IP_ADD_MEMBERSHIP: the group, by name" \
    "$(dj setsockopt 'select(.decoded[2] == "IP_ADD_MEMBERSHIP" and .decoded[4] == 8) | .decoded[3].imr_multiaddr')" \
    '"224.0.0.251"'
expect_eq "getsockopt SO_TYPE of a stream socket, length 4" \
    "$(dj getsockopt 'select(.decoded[2] == "SO_TYPE" and .ret == 0) | [.decoded[3], .decoded[4]]')" \
    '[1,{"in":4,"out":4}]'
expect_eq "epoll_wait: the two ready descriptors' events" \
    "$(dj epoll_wait 'select(.ret == 2) | .decoded[1] | map(.events) | sort')" \
    '["EPOLLIN","EPOLLOUT"]'
expect_eq "sendmsg: SCM_RIGHTS passes descriptors 0 and 1" \
    "$(dj sendmsg 'select(.decoded[1].control[0]?.type? == "SCM_RIGHTS" and .decoded[1].control[0].len == 24) | .decoded[1].control[0].data')" \
    '[0,1]'
expect_eq "recvmsg: the bytes of the first iovec, msg_namelen before and after" \
    "$(dj recvmsg 'select(.ret == 49) | [.decoded[1].iov[0].base, .decoded[1].namelen]')" \
    '["hell",{"in":110,"out":0}]'
expect_eq "sendmsg to 127.0.0.1:9: msg_name's port" \
    "$(dj sendmsg 'select(.decoded[1].name.family? == "AF_INET") | .decoded[1].name.port')" \
    '9'
expect_eq "select: the except set asked and the timeout" \
    "$(dj select 'select(.ret == 2) | [.decoded[3], .decoded[4]]')" \
    '[[0],{"sec":1,"usec":500}]'
expect_eq "pselect6: the signal mask" \
    "$(dj pselect6 'select(.ret == 1) | .decoded[5].sigmask')" '["SIGUSR1"]'
expect_eq "ppoll: the revents of the three descriptors, the timeout" \
    "$(dj ppoll 'select(.ret == 2 and .decoded[1] == 3) | [[.decoded[0][].revents], .decoded[2]]')" \
    '[["POLLIN","POLLOUT","0"],{"sec":1,"nsec":500}]'
long="\"$(printf '%032d' 0 | tr 0 x)\"..., \"a\", \"a\""
check "execve: 32 strings, the long one cut, two variables" grep -q \
    "execve(\"/nonexistent/vigil-nothing\", \[\"vigil-nothing\", $long.*\"a\", \.\.\.\], 0x[0-9a-f]* /\* 2 vars \*/) = -1 ENOENT" \
    "$TMP/trace.txt"

done_testing
