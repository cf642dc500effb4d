# A full disk under logd (issue 14, item 7): records that do not reach the
# JSON Lines file or the database are counted as not stored, per session
# and per store, and reported; nothing that failed is reported as stored.
# The disk is a 1 MiB tmpfs mounted in a mount namespace of the test's
# own (it disappears with it); 2,000 records of 1,000 bytes at 500 a second
# fill it while both stores are writing, so each holds part of the stream
# and loses the rest. Also: the retention limit of rotation.
. tests/functions.sh
requires jq sqlite3 unshare mount
LOGSEND=$VIGIL_BUILD/tools/vigil-logsend
requires_file "$VIGIL" "$LOGSEND"
[ "$(id -u)" = 0 ] || { echo "requires root (mount)"; exit 77; }
unshare -m true 2>/dev/null || { echo "requires mount namespaces"; exit 77; }

head -c 32 /dev/urandom >"$TMP/key"
base=$((20000 + ($$ + 67) % 20000))
DATA=$base CTL=$((base + 1))
export VIGIL LOGSEND TMP DATA CTL
mkdir "$TMP/small"

# Everything that needs the small disk runs inside the namespace; the
# results go to $TMP/res.
unshare -m sh -c '
    wait_for_line() { # as in functions.sh, which would make a new $TMP
        n=$(($3 * 20))
        while [ $n -gt 0 ] && ! grep -Eq -- "$2" "$1" 2>/dev/null; do
            sleep 0.05
            n=$((n - 1))
        done
    }
    mount -t tmpfs -o size=1m tmpfs "$TMP/small" || exit 3
    "$VIGIL" logd --listen "tcp://127.0.0.1:$DATA" --key "$TMP/key" \
        --out "$TMP/small/out" --interval 1 \
        --control "udp://127.0.0.1:$CTL" 2>"$TMP/logd.err" &
    pid=$!
    wait_for_line "$TMP/logd.err" listening 10
    "$LOGSEND" --log "tcp://127.0.0.1:$DATA" --key "$TMP/key" \
        --control-port $CTL --count 2000 --size 1000 --rate 500 --block \
        >"$TMP/send.json" 2>/dev/null
    wait_for_line "$TMP/logd.err" ", ended" 10
    kill -TERM $pid
    wait $pid
    echo "rc=$?" >"$TMP/res"
    echo "lines=$(cat "$TMP/small/out"/*.jsonl | wc -l)" >>"$TMP/res"
    echo "rows=$(sqlite3 "$TMP/small/out/events.db" "select count(*) from events" 2>/dev/null || echo 0)" >>"$TMP/res"
    echo "dbok=$(sqlite3 "$TMP/small/out/events.db" "pragma integrity_check" 2>&1)" >>"$TMP/res"
    cat "$TMP/small/out"/*.jsonl | jq -c .type >"$TMP/types" 2>&1
    echo "jqrc=$?" >>"$TMP/res"
    umount "$TMP/small"
'
[ -s "$TMP/res" ] || fail "the namespace part did not run"
. "$TMP/res"
echo "logd: $(tail -n 4 "$TMP/logd.err")"
expect_eq "logd exits 0" "$rc" 0
expect_eq "sender sent 2000" "$(jq .sent_records "$TMP/send.json")" 2000
final=$(grep '(final)' "$TMP/logd.err")
nf=$(echo "$final" | sed -n 's/.*NOT STORED \([0-9]*\) in files.*/\1/p')
nd=$(echo "$final" | sed -n 's/.*in files, \([0-9]*\) in the database.*/\1/p')
check "the disk filled: some records not stored in files (${nf:-none})" \
    test "${nf:-0}" -gt 0
expect_eq "file lines + unstored = received" $((lines + ${nf:-0})) 2000
expect_eq "database rows + unstored = received" $((rows + ${nd:-0})) 2000
check "the database kept the rows it stored before the disk filled ($rows)" \
    test "$rows" -gt 0
expect_eq "the database is intact" "$dbok" ok
expect_eq "the file holds whole records only (every line is JSON)" \
    "$jqrc $(sort -u "$TMP/types")" '0 "syscall"'
check "write errors reported" grep -q 'write errors [1-9]' "$TMP/logd.err"

# Retention: rotation at 4 KiB keeps 2 rotated files, deletes the rest.
"$VIGIL" logd --listen "tcp://127.0.0.1:$DATA" --key "$TMP/key" \
    --out "$TMP/r" --no-db --rotate-size 4096 --rotate-keep 2 \
    --control "udp://127.0.0.1:$CTL" 2>"$TMP/r.err" &
LOGD_PID=$!
wait_for_line "$TMP/r.err" listening || fail "logd did not start"
"$LOGSEND" --log "tcp://127.0.0.1:$DATA" --key "$TMP/key" \
    --control-port $CTL --count 100 --size 1000 --block >/dev/null 2>&1
wait_for_line "$TMP/r.err" ", ended" 10
kill -TERM $LOGD_PID
wait $LOGD_PID
expect_eq "two rotated files kept" "$(ls "$TMP/r" | grep -c 'jsonl\.')" 2
check "older ones removed ($(jq .files_removed "$TMP/r/stats.json"))" \
    test "$(jq .files_removed "$TMP/r/stats.json")" -gt 0

done_testing
