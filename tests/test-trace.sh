# `vigil run --trace`: selection, output forms, exec and exit handling, and
# a profile that does not match the guest kernel.
. tests/functions.sh
requires_qemu; requires jq; requires python3
requires_file "$VIGIL" "$GUEST/vmlinuz" "$GUEST/initramfs.cpio.gz"

calls() { jq -r "select(.type == \"syscall\") | $1" "$TMP/t.jsonl"; }

# comm= selects by thread name; the process's name changes at execve.
"$VIGIL" run --trace comm=vigil-tracee -o "$TMP/t.jsonl" -- vigil-tracee >/dev/null
comms=$(calls .comm | sort -u | tr '\n' ' ')
expect_eq "comm= selects only that name" "$comms" "vigil-tracee "
check "comm= sees the program's openat of its file" \
    sh -c "jq -r 'select(.name == \"openat\") | .ret' '$TMP/t.jsonl' | grep -qx 3"

# exe= selects from the successful execve on; --follow-children adds the
# processes the selected one creates.
"$VIGIL" run --trace exe=/bin/sh -o "$TMP/t.jsonl" -- /bin/sh -c '/bin/true; echo x >/dev/null' >/dev/null
first=$(calls .name | head -n 1)
expect_eq "exe= starts at the execve" "$first" execve
check "exe= without --follow-children leaves the child out" \
    sh -c "! jq -r 'select(.type == \"syscall\") | .comm' '$TMP/t.jsonl' | grep -qx true"
"$VIGIL" run --trace exe=/bin/sh --follow-children -o "$TMP/t.jsonl" -- /bin/sh -c '/bin/true; echo x >/dev/null' >/dev/null
check "--follow-children includes the child" \
    sh -c "jq -r 'select(.type == \"syscall\") | .comm' '$TMP/t.jsonl' | grep -qx true"
pids=$(calls .pid | sort -u | wc -l)
check "--follow-children: two processes ($pids)" test "$pids" -eq 2

# pid= selects one process: the first user process is init (pid 1).
"$VIGIL" run --trace pid=1 -o "$TMP/t.jsonl" -- true >/dev/null
expect_eq "pid=1 selects only init" "$(calls .pid | sort -u | tr '\n' ' ')" "1 "

# Timestamps are CLOCK_MONOTONIC's (the plugin extrapolates them from the
# TSC between clock reads): every call lies within the host's window around
# the run, returns after it enters, and a 0.3 s sleep lasts at least that.
mono() { python3 -c 'import time; print(time.monotonic_ns())'; }
t0=$(mono)
"$VIGIL" run --trace all -o "$TMP/t.jsonl" -- /bin/sh -c 'sleep 0.3' >/dev/null
t1=$(mono)
out=$(jq -r "select(.type == \"syscall\") | select(.ts < $t0 or .ts > $t1 or (.ts_exit != null and (.ts_exit < .ts or .ts_exit > $t1))) | .name" "$TMP/t.jsonl" | head -n 3)
expect_eq "every call's times lie in the host's CLOCK_MONOTONIC window" "$out" ""
d=$(jq -r 'select(.name == "clock_nanosleep" or .name == "nanosleep") | .ts_exit - .ts' "$TMP/t.jsonl" | head -n 1)
check "the 0.3 s sleep took 0.3 to 5 s by its timestamps ($d ns)" \
    test "${d:-0}" -ge 300000000 -a "${d:-0}" -le 5000000000

# exit_group never returns; the comm after execve is the new program's.
"$VIGIL" run --trace all -o "$TMP/t.jsonl" -- /bin/sh -c 'exec /bin/true' >/dev/null
st=$(jq -r 'select(.name == "exit_group") | .state' "$TMP/t.jsonl" | sort -u | tr '\n' ' ')
expect_eq "exit_group is reported as noreturn" "$st" "noreturn "
check "a summary line closes the stream" \
    sh -c "tail -n 1 '$TMP/t.jsonl' | jq -e '.type == \"summary\"' >/dev/null"

# The i386 ABI (int 0x80 from 64-bit code): its own call numbers and names.
# In the same boot, two threads on one TLS (a clone without CLONE_SETTLS):
# same page tables, same FS base, told apart only by the kernel's task.
"$VIGIL" run --trace comm=vigil-tracee -o "$TMP/t.jsonl" -- /bin/sh -c \
    'vigil-tracee --int80; vigil-tracee --shared-tls; vigil-tracee --jump' >"$TMP/out"
set -- $(sed -n 's/^shared-tls main \([0-9]*\) child \([0-9]*\) writes \([0-9]*\) \([0-9]*\)$/\1 \2 \3 \4/p' "$TMP/out")
check "the shared-TLS threads ran ($*)" test $# = 4
for who in "$1 $3" "$2 $4"; do
    set -- $who
    tids=$(jq -r "select(.name == \"write\" and .args[0] == $2 and .args[2] == 1) | .tid" "$TMP/t.jsonl" | sort | uniq -c | tr -s ' ' | tr '\n' ' ')
    expect_eq "shared TLS: every write to fd $2 is thread $1's" "$tids" " 4 $1 "
done
# One syscall instruction, after `mov $39, %eax` and jumped onto with 110:
# the number the plugin takes from the code before it (translation blocks
# are entered only at their start) must not name the jumped call.
set -- $(sed -n 's/^jump getpid \([0-9]*\) getppid \([0-9]*\)$/\1 \2/p' "$TMP/out")
check "the jump program ran ($*)" test $# = 2
seq=$(jq -r "select(.type == \"syscall\" and .pid == $1 and (.name == \"getpid\" or .name == \"getppid\")) | \"\\(.name)=\\(.ret)\"" "$TMP/t.jsonl" | tr '\n' ' ')
expect_eq "the fall-through is getpid, the jump getppid" "$seq" "getpid=$1 getppid=$2 "
pid=$(sed -n 's/^int80 getpid \([0-9]*\) write 14$/\1/p' "$TMP/out")
check "the guest program ran ($pid)" test -n "$pid"
g=$(jq -c "select(.abi == \"i386\" and .name == \"getpid\" and .ret == $pid)" "$TMP/t.jsonl" | wc -l)
check "i386 getpid, number 20, is named and returns the pid" test "$g" = 1
w=$(jq -c 'select(.abi == "i386" and .name == "write" and .ret == 14 and .decoded[1] == "int80 says hi\n")' "$TMP/t.jsonl" | wc -l)
check "i386 write with its buffer captured" test "$w" = 1

# Text form: strace-like lines.
"$VIGIL" run --trace exe=/bin/cat --format text -o "$TMP/t.txt" -- /bin/cat /etc/passwd >/dev/null
check "text form shows the open like strace" \
    grep -q 'openat(AT_FDCWD, "/etc/passwd", O_RDONLY.*) = 3' "$TMP/t.txt"
check "text form shows exit_group" grep -q 'exit_group(0) *= ?' "$TMP/t.txt"

# A profile that does not match the guest kernel is detected, not believed.
"$VIGIL" profile "$GUEST/vmlinuz" -o "$TMP/good.json"
python3 tests/profile_skew.py "$TMP/good.json" "$TMP/bad.json"
"$VIGIL" run --profile "$TMP/good.json" --trace all -o "$TMP/t.jsonl" -- true 2>"$TMP/err" >/dev/null
check "a matching profile gives no warning" sh -c "! grep -q 'does not match' '$TMP/err'"
"$VIGIL" run --profile "$TMP/bad.json" --trace all -o "$TMP/t.jsonl" -- true 2>"$TMP/err" >/dev/null
expect_eq "... and fails the run (123), though the command exited 0" "$?" 123
check "a wrong profile is reported" grep -q 'profile does not match' "$TMP/err"
n=$(jq -s '[.[] | select(.type == "summary")][0].unreadable_threads' "$TMP/t.jsonl")
check "... and counted in the summary ($n)" test "$n" -gt 0

# A trace that cannot be written fails the run, with the reason.
"$VIGIL" run --trace all -o /dev/full -- true 2>"$TMP/err" >/dev/null
expect_eq "a trace into a full device fails the run (123)" "$?" 123
check "... saying why" grep -q 'could not be written' "$TMP/err"

# Bad selections are usage errors.
expect_rc 2 "$VIGIL" run --trace pid=abc -- true
expect_rc 2 "$VIGIL" run --trace comm=a-name-longer-than-15 -- true
expect_rc 2 "$VIGIL" run --follow-children -- true

done_testing
