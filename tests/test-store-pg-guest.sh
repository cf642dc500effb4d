# logd's PostgreSQL store end to end: two `vigil run` guests at once, each
# streaming to its own logd, both logd writing to one PostgreSQL server
# (tests/pg.sh). Every record of each run lands in the database exactly
# once (the same as the run's local -o file and logd's JSON Lines), and the
# processes view finds what the guests executed.
. tests/functions.sh
requires_qemu
requires jq runuser
requires_file "$VIGIL" "$VIGIL_BUILD/vigil-qemu.so" "$GUEST/vmlinuz" "$GUEST/initramfs.cpio.gz"
. tests/pg.sh

head -c 32 /dev/urandom >"$TMP/key"
base=$((20000 + ($$ + 41) % 20000))
pg_start "fsync = off"

PIDS=""
stop_all() {
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null && wait "$p"; done
    PIDS=""
}
cleanup_fn stop_all

# Two logd instances on ports base, base+2 (control base+1, base+3).
for i in 0 1; do
    p=$((base + 2 * i))
    "$VIGIL" logd --listen "udp://127.0.0.1:$p" --key "$TMP/key" \
        --out "$TMP/out$i" --control "udp://127.0.0.1:$((p + 1))" \
        --interval 1 --store "$PG_URL" --store-password-file "$PG_PWFILE" \
        --store-name "logd$i" 2>"$TMP/logd$i.err" &
    PIDS="$PIDS $!"
    wait_for_line "$TMP/logd$i.err" listening || fail "logd $i did not start"
done
# Two guests at once, each running something different.
run_guest() { # run_guest I COMMAND
    p=$((base + 2 * $1))
    "$VIGIL" run --trace all --log "udp://127.0.0.1:$p" --key "$TMP/key" \
        --log-control-port $((p + 1)) --log-wait 20 -o "$TMP/local$1.jsonl" \
        -- sh -c "$2" 2>"$TMP/run$1.err"
    echo $? >"$TMP/run$1.rc"
}
run_guest 0 'cat /etc/passwd >/dev/null; ls / >/dev/null' &
G0=$!
run_guest 1 'uname -a >/dev/null; cat /proc/version >/dev/null' &
wait $G0
wait $!
for i in 0 1; do
    expect_eq "guest $i: vigil run exit status" "$(cat "$TMP/run$i.rc")" 0
    wait_for_line "$TMP/out$i/stats.json" '"ended":true' 20
done
for i in 0 1; do
    n=$(wc -l <"$TMP/local$i.jsonl")
    jq -e ".sessions[0].records == $n and .store.stored == $n" \
        "$TMP/out$i/stats.json" >/dev/null ||
        wait_for_line "$TMP/out$i/stats.json" "\"stored\":$n," 20
done
stop_all
for i in 0 1; do
    n=$(wc -l <"$TMP/local$i.jsonl")
    s=$(jq -r '.sessions[0].session' "$TMP/out$i/stats.json")
    check "guest $i: events traced ($n)" test "$n" -gt 100
    expect_eq "guest $i: logd received them all, no loss" \
        "$(jq -r '[.sessions[0].records, .sessions[0].lost] | @tsv' "$TMP/out$i/stats.json")" \
        "$n	0"
    expect_eq "guest $i: store counters" \
        "$(jq -r '.store | [.stored, .spilled, .lost] | @tsv' "$TMP/out$i/stats.json")" \
        "$n	0	0"
    expect_eq "guest $i: every record in the database once" \
        "$(psqlq "SELECT count(*) || ' ' || count(DISTINCT rec) || ' ' ||
            min(rec) || ' ' || max(rec) FROM events WHERE session = '$s'")" \
        "$n $n 0 $((n - 1))"
    expect_eq "guest $i: the same records as the local file" \
        "$(psqlq "SELECT count(*) FROM events WHERE session = '$s' AND
            type = 'syscall'")" "$(grep -c '"type":"syscall"' "$TMP/local$i.jsonl")"
    expect_eq "guest $i: session row" "$(psqlq "SELECT logd FROM sessions
        WHERE session = '$s'")" "logd$i"
    eval "S$i=\$s"
done
# The guest's busybox executes /proc/self/exe with the applet as argv[0].
check "guest 0: cat /etc/passwd executed (processes view)" test "$(psqlq "
    SELECT count(*) FROM processes WHERE session = '$S0' AND argv->>0 = 'cat'
    AND argv->>1 = '/etc/passwd'")" -ge 1
check "guest 1: cat /proc/version executed (processes view)" test "$(psqlq "
    SELECT count(*) FROM processes WHERE session = '$S1' AND argv->>0 = 'cat'
    AND argv->>1 = '/proc/version'")" -ge 1
check "guest 1: its processes have parents" test "$(psqlq "SELECT count(*)
    FROM processes WHERE session = '$S1' AND ppid IS NOT NULL")" -ge 1
check "guest 0: its openat of /etc/passwd" test "$(psqlq "SELECT count(*)
    FROM events WHERE session = '$S0' AND name = 'openat' AND
    json->'decoded'->>1 = '/etc/passwd'")" -ge 1
check "guest 1: no cat of /etc/passwd" test "$(psqlq "SELECT count(*)
    FROM events WHERE session = '$S1' AND name = 'openat' AND
    json->'decoded'->>1 = '/etc/passwd'")" -eq 0
done_testing
