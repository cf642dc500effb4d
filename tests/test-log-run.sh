# End to end: `vigil run --trace all --log` streams the real guest's trace
# to `vigil logd`; logd's events are exactly those of the local -o file of
# the same run, with no loss.
. tests/functions.sh
requires_qemu; requires jq sqlite3
requires_file "$VIGIL" "$VIGIL_BUILD/vigil-qemu.so" "$GUEST/vmlinuz" "$GUEST/initramfs.cpio.gz"

head -c 32 /dev/urandom >"$TMP/key"
base=$((20000 + ($$ + 29) % 20000))
DATA=$base CTL=$((base + 1))
LOGD_PID=""
stop_logd() {
    [ -n "$LOGD_PID" ] && kill -TERM "$LOGD_PID" 2>/dev/null && wait "$LOGD_PID"
    LOGD_PID=""
}
cleanup_fn stop_logd

"$VIGIL" logd --listen "udp://127.0.0.1:$DATA" --key "$TMP/key" \
    --out "$TMP/out" --control "udp://127.0.0.1:$CTL" --interval 1 \
    2>"$TMP/logd.err" &
LOGD_PID=$!
wait_for_line "$TMP/logd.err" listening || fail "logd did not start"
"$VIGIL" run --trace all --log "udp://127.0.0.1:$DATA" --key "$TMP/key" \
    --log-control-port $CTL --log-wait 10 -o "$TMP/local.jsonl" -v \
    -- sh -c 'cat /etc/passwd >/dev/null; ls / >/dev/null' 2>"$TMP/run.err"
expect_eq "vigil run exit status" "$?" 0
wait_for_line "$TMP/out/stats.json" '"ended":true' 10
stop_logd
local_n=$(grep -c '"type":"syscall"' "$TMP/local.jsonl")
remote_n=$(cat "$TMP/out"/*.jsonl | grep -c '"type":"syscall"')
check "events traced ($local_n)" test "$local_n" -gt 100
expect_eq "logd got as many syscall events as the local file" "$remote_n" "$local_n"
grep '"type":"syscall"' "$TMP/local.jsonl" | sort >"$TMP/a"
cat "$TMP/out"/*.jsonl | grep '"type":"syscall"' | sort >"$TMP/b"
check "and the very same events" cmp -s "$TMP/a" "$TMP/b"
expect_eq "no loss" "$(jq '.sessions[0].lost' "$TMP/out/stats.json")" 0
expect_eq "session ended" "$(jq '.sessions[0].ended' "$TMP/out/stats.json")" true
check "the summary record travels too" grep -q '"type":"summary"' "$TMP/out"/*.jsonl
check "openat of /etc/passwd in SQLite" test "$(sqlite3 "$TMP/out/events.db" \
    "select count(*) from events where name='openat' and json like '%/etc/passwd%'")" -ge 1
# logd finds the indexed columns without parsing the JSON: SQLite's own
# JSON parser must agree on every row (a call's decoded arguments nest
# objects with keys of the same names; only calls have a pid, tid and
# name; an absent number is stored as 0).
n=$(sqlite3 "$TMP/out/events.db" "select count(*) from events")
check "SQLite has every record ($n)" test "$n" -gt "$local_n"
expect_eq "every row's ts, type, pid, tid and name are its JSON's" \
    "$(sqlite3 "$TMP/out/events.db" "select count(*) from events where
        ts is not coalesce(json_extract(json, '\$.ts'), 0) or
        type is not json_extract(json, '\$.type') or
        (type = 'syscall' and (pid is not json_extract(json, '\$.pid') or
            tid is not json_extract(json, '\$.tid') or
            name is not json_extract(json, '\$.name'))) or
        (type <> 'syscall' and (pid <> 0 or tid <> 0 or name is not null))")" 0
check "vigil reports what it sent" grep -q 'vigil: log: 1 sessions, .* 0 dropped' "$TMP/run.err"

# Bad usage.
expect_rc 2 "$VIGIL" run --log "udp://127.0.0.1:$DATA" -- true
expect_rc 2 "$VIGIL" run --trace all --log "udp://127.0.0.1:$DATA" -- true

done_testing
