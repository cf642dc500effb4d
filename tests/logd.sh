# Shared by the logd tests (after tests/functions.sh): a logd in the
# background on UDP and TCP 127.0.0.1:$DATA with the key in $TMP/key.
#   start_logd DIR [ARGS...]   start it, writing into DIR (stderr: DIR.err),
#                              and wait for its "listening" line
#   stop_logd                  stop it (also at the end of the test)
#   wait_ended DIR             wait (at most 30 s) until logd's stats.json
#                              in DIR says its first session ended
LOGD_PID=""
stop_logd() {
    if [ -n "$LOGD_PID" ]; then
        kill -TERM "$LOGD_PID" 2>/dev/null
        wait "$LOGD_PID" 2>/dev/null
        LOGD_PID=""
    fi
}
cleanup_fn stop_logd

wait_ended() {
    i=0
    while [ $i -lt 300 ] &&
        [ "$(jq -r '.sessions[0].ended' "$1/stats.json" 2>/dev/null)" != true ]; do
        sleep 0.1
        i=$((i + 1))
    done
}

start_logd() {
    dir=$1
    shift
    "$VIGIL" logd --listen "udp://127.0.0.1:$DATA" \
        --listen "tcp://127.0.0.1:$DATA" --key "$TMP/key" --out "$dir" \
        --interval 1 "$@" 2>"$dir.err" &
    LOGD_PID=$!
    wait_for_line "$dir.err" listening || fail "logd did not start"
}
