# Tracer correctness where the guest kernel takes an unusual way back:
#   - a call whose return meets a signal handler (its result is what the
#     kernel had before delivering the signal, as strace shows it): a shell
#     pipeline with background jobs and `wait`, under in-guest `strace -f`
#     while vigil traces the same boot, must agree call for call;
#   - a thread renamed by prctl or through /proc/PID/comm (by a write or
#     by io_uring) shows its new name from its next call on (and --trace
#     comm= follows it);
#   - a thread killed in a blocked call is reported unfinished, not paired
#     with a later thread that reuses its task_struct.
. tests/functions.sh
requires_qemu
requires python3 jq
requires_file "$VIGIL" "$GUEST/vmlinuz" "$GUEST/initramfs.cpio.gz"

PIPE='sleep 0.3 & sleep 0.1 & (echo a; echo b) | cat | wc -l; sleep 0.2 & true & true & true & wait; echo done'
for smp in 1 2; do
    "$VIGIL" run --smp $smp --trace all -o "$TMP/pipe.jsonl" -- sh -c \
        "strace -f -qq -o /tmp/st.txt sh -c '$PIPE' >/tmp/out.txt; cat /tmp/st.txt; echo ===; cat /tmp/out.txt" \
        >"$TMP/guest.txt"
    expect_eq "pipeline run with $smp vCPU(s) succeeds" "$?" 0
    sed '/^===$/,$d' "$TMP/guest.txt" >"$TMP/strace.txt"
    expect_eq "the pipeline's output" "$(sed '1,/^===$/d' "$TMP/guest.txt")" "$(printf '2\ndone')"
    check "strace saw a signal handler interrupt calls ($smp vCPU)" \
        grep -q 'rt_sigreturn' "$TMP/strace.txt"
    check "strace and vigil agree on every call of every process ($smp vCPU)" \
        python3 tests/strace_compare.py "$TMP/strace.txt" "$TMP/pipe.jsonl"
done

# A second handler entered on the way back from the first one's
# rt_sigreturn: that rt_sigreturn's result is only in the second frame.
"$VIGIL" run --trace all -o "$TMP/sig.jsonl" -- sh -c \
    'strace -f -qq -o /tmp/st.txt vigil-act signals >/tmp/out.txt; cat /tmp/st.txt; echo ===; cat /tmp/out.txt' \
    >"$TMP/guest.txt"
sed '/^===$/,$d' "$TMP/guest.txt" >"$TMP/strace.txt"
expect_eq "both handlers ran" "$(sed '1,/^===$/d' "$TMP/guest.txt")" "handlers 1 1"
check "strace saw rt_sigreturn return the interrupted rax twice" \
    test "$(grep -c 'rt_sigreturn.*= 4242' "$TMP/strace.txt")" = 2
check "strace and vigil agree on the nested handlers" \
    python3 tests/strace_compare.py "$TMP/strace.txt" "$TMP/sig.jsonl"

# Renames: the getppid after each rename carries the new name, also after
# a rename by io_uring, where no call of the thread's writes anything: the
# plugin sees the kernel's own rename (perf_event_comm, from the profile).
"$VIGIL" run --trace exe=/usr/bin/vigil-act -o "$TMP/rename.jsonl" -- vigil-act rename
expect_eq "rename program exits 0" "$?" 0
names=$(jq -r 'select(.type == "syscall" and .name == "getppid") | .comm' "$TMP/rename.jsonl" | tr '\n' ' ')
expect_eq "comm before, after prctl(PR_SET_NAME), a /proc/self/comm write, one by io_uring" \
    "$names" "vigil-act act-prctl act-procfs act-uring "
# A profile without that function: renames are then inferred from the
# calls that can rename (prctl, the write family), which io_uring bypasses.
"$VIGIL" profile "$GUEST/vmlinuz" -o "$TMP/full.json"
jq 'del(.symbols.perf_event_comm)' "$TMP/full.json" >"$TMP/nocomm.json"
"$VIGIL" run --profile "$TMP/nocomm.json" --trace exe=/usr/bin/vigil-act \
    -o "$TMP/rename2.jsonl" -- vigil-act rename
names=$(jq -r 'select(.type == "syscall" and .name == "getppid") | .comm' "$TMP/rename2.jsonl" | tr '\n' ' ')
expect_eq "without the kernel's hook: prctl and write renames still seen" \
    "$names" "vigil-act act-prctl act-procfs act-procfs "
# busybox runs an applet through /proc/self/exe, then names itself after it:
# comm=cat sees every call from the rename on.
"$VIGIL" run --trace all -o "$TMP/all.jsonl" --follow-children -- sh -c 'cat /proc/version >/dev/null; true'
pid=$(jq -r 'select(.type == "syscall" and .decoded[1] == "/proc/version") | .pid' "$TMP/all.jsonl" | head -n 1)
renamed=$(jq -r "select(.type == \"syscall\" and .pid == ${pid:-0} and .name == \"prctl\") | .comm" "$TMP/all.jsonl" | sort -u)
expect_eq "the applet (pid $pid) renamed itself from exe" "$renamed" exe
after=$(jq -c "select(.type == \"syscall\" and .pid == ${pid:-0})" "$TMP/all.jsonl" |
    awk '/"name":"prctl"/ { seen = 1; next } seen' | jq -r .comm | sort -u | tr '\n' ' ')
expect_eq "every call after the rename is the applet's" "$after" "cat "
"$VIGIL" run --trace comm=cat -o "$TMP/cat.jsonl" -- sh -c 'cat /proc/version >/dev/null; true'
check "--trace comm=cat sees the applet open its file" \
    sh -c "jq -r 'select(.type == \"syscall\") | .decoded[1]' '$TMP/cat.jsonl' | grep -qx /proc/version"

# A killed sleeper: its call never returned. Short-lived processes after
# it reuse task_structs.
"$VIGIL" run --trace all -o "$TMP/kill.jsonl" -- sh -c \
    'sleep 100 & p=$!; usleep 300000; kill -9 $p; wait; for i in 1 2 3 4 5 6 7 8; do /bin/true; done; echo $p' >"$TMP/kill.out"
p=$(tail -n 1 "$TMP/kill.out")
st=$(jq -r "select(.type == \"syscall\" and .tid == ${p:-0} and (.name | test(\"nanosleep\"))) | .state" "$TMP/kill.jsonl" | tr '\n' ' ')
expect_eq "the killed sleep's call is unfinished" "$st" "unfinished "

done_testing
