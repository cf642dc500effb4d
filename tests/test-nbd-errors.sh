#!/bin/sh
# nbdkit-vigil-filter under bad input and failure: requests out of range,
# bad configuration, a full backing disk, parallel writers, database reload
# while running, and cut-net through a (fake) QMP socket.
. tests/functions.sh
. tests/data/nbd/nbd-functions.sh
nbd_setup

lines() { tr '\n' ' ' | sed 's/ $//'; }
full_skipped=0
truncate -s 1M "$TMP/disk.img"

# ---- requests out of range: an error reply, the server goes on ----
out=$(nbd_run "$TMP/disk.img" vigil-db="$NBDDB" vigil-policy=deny -- \
    w:1048570:0123456789 w:2000000000:x z:1048000:4096 w:0:still-fine | lines)
case $out in
"E"*" E"*" E"*" ok") echo "ok: out of range refused, later write served" ;;
*)
    echo "NOT OK: out of range: $out"
    TESTS_FAILED=$((TESTS_FAILED + 1))
    ;;
esac
expect_eq "out of range: later write landed" \
    "$(peek "$TMP/disk.img" 0 10)" still-fine

# ---- bad configuration: nbdkit refuses to start ----
for args in "" "vigil-db=$TMP/missing.ndb" \
    "vigil-db=$NBDDB vigil-policy=maybe" \
    "vigil-db=$NBDDB vigil-policy=cut-net" \
    "vigil-db=$NBDDB vigil-policy-file=$TMP/badpol"; do
    printf 'Vigil.Test.One deny extra\n' >"$TMP/badpol"
    # shellcheck disable=SC2086
    nbdkit -U - --filter="$FILTER" file "$TMP/disk.img" $args \
        --run true 2>"$TMP/cfg.err"
    rc=$?
    check "bad config refused: ${args:-no vigil-db}" [ $rc -ne 0 ]
done
check "bad policy file: line reported" grep -q "badpol:1:" "$TMP/cfg.err"
printf 'Bad.Line:0:*:zz\n' >"$TMP/empty.ndb"
nbdkit -U - --filter="$FILTER" file "$TMP/disk.img" \
    vigil-db="$TMP/empty.ndb" --run true 2>"$TMP/cfg.err"
check "database without signatures refused" [ $? -ne 0 ]

# ---- a full backing disk: the error reaches the client, data before it
# stays ----
if command -v unshare >/dev/null && unshare -m true 2>/dev/null; then
    mkdir -p "$TMP/small"
    cat >"$TMP/full.sh" <<FULL
mount -t tmpfs -o size=256k tmpfs "$TMP/small" || exit 77
truncate -s 4M "$TMP/small/disk.img"
ops=""
i=0
while [ \$i -lt 12 ]; do
    ops="\$ops W:\$((i * 65536)):65536:chunk\$i"
    i=\$((i + 1))
done
nbdkit -U - --filter="$FILTER" file "$TMP/small/disk.img" \
    vigil-db="$NBDDB" vigil-policy=deny \
    --run "$NBDPY $PWD/tests/data/nbd/nbdio.py \"\\\$uri\" \$ops f" \
    >"$TMP/full.out" 2>"$TMP/full.err"
cp --sparse=always "$TMP/small/disk.img" "$TMP/full.img"
FULL
    unshare -m sh "$TMP/full.sh"
    rc=$?
    if [ $rc -eq 77 ]; then
        echo "cannot mount a tmpfs: full-disk checks skipped"
        full_skipped=1
    else
        check "full disk: some writes succeeded" grep -q '^ok' "$TMP/full.out"
        check "full disk: ENOSPC reported" grep -q ENOSPC "$TMP/full.out"
        i=0
        good=1
        while read -r res; do
            [ $i -ge 12 ] && break
            if [ "$res" = ok ]; then
                got=$(peek "$TMP/full.img" $((i * 65536)) 7 | tr -d .)
                [ "$got" = "chunk$i" ] || good=0
            fi
            i=$((i + 1))
        done <"$TMP/full.out"
        check "full disk: every acknowledged write is on disk" [ $good -eq 1 ]
    fi
else
    echo "requires unshare -m: full-disk checks skipped"
    full_skipped=1
fi

# ---- parallel writers: 4 connections, 40 writes each, every 5th carrying
# a signature (split over two writes in half of them) ----
rm -f "$TMP/disk.img"
truncate -s 4M "$TMP/disk.img"
nbd_sh "$TMP/disk.img" vigil-db="$NBDDB" vigil-policy=deny -- '
for w in 0 1 2 3; do
    ops=""
    i=0
    while [ $i -lt 40 ]; do
        off=$(( (w * 40 + i) * 8192 ))
        if [ $((i % 10)) -eq 5 ]; then
            ops="$ops E:$off:4096:$w.$i.VIGIL-TEST-SIG W:$((off + 4096)):4096:NATURE-ONE"
        elif [ $((i % 10)) -eq 0 ]; then
            ops="$ops W:$off:8192:$w.$i.VIGIL-TEST-SIGNATURE-TWO"
        else
            ops="$ops W:$off:8192:$w.$i.clean"
        fi
        i=$((i + 1))
    done
    $NBDIO "$uri" $ops >"'"$TMP"'/par.$w" &
done
wait
'
all_ok=1
for w in 0 1 2 3; do
    i=0
    n=0
    while [ $i -lt 40 ]; do
        off=$(((w * 40 + i) * 8192))
        case $((i % 10)) in
        5)
            want=....
            half=$(peek "$TMP/disk.img" $((off + 4096 - 14)) 24)
            [ "$half" = VIGIL-TEST-SIG0000000000 ] || {
                echo "writer $w split write $i at $off: got '$half'"
                all_ok=0
            }
            ;;
        0) want=0000 ;;
        *) want="$w.$i.clean" ;;
        esac
        got=$(peek "$TMP/disk.img" $off ${#want})
        [ "$got" = "$want" ] || {
            echo "writer $w write $i at $off: got '$got' want '$want'"
            all_ok=0
        }
        i=$((i + 1))
    done
    res=$(lines <"$TMP/par.$w")
    n=$(printf '%s\n' "$res" | tr ' ' '\n' | grep -c EIO)
    expect_eq "parallel writer $w: refused writes" "$n" 8
done
check "parallel writers: image as expected" [ $all_ok -eq 1 ]

# ---- reload while running ----
mkdir -p "$TMP/db"
grep One "$NBDDB" >"$TMP/db/one.ndb"
out=$(nbd_sh "$TMP/disk.img" vigil-db="$TMP/db" vigil-policy=deny \
    vigil-db-reload="$TMP/reload" -- '
# The reload is noticed at a write and built while writes go on.
until_log() { i=0; while ! grep -q "$1" '"$TMP"'/nbdkit.err && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done; }
$NBDIO "$uri" w:0:'"$SIG2"' w:100:'"$SIG1"'
grep Two '"$NBDDB"' >'"$TMP"'/db/two.ndb
touch '"$TMP"'/reload
$NBDIO "$uri" w:1000:trigger
until_log "database reloaded"
$NBDIO "$uri" w:200:'"$SIG2"' w:300:'"$SIG1"'
mkdir '"$TMP"'/db/three.ndb
sleep 0.01; touch '"$TMP"'/reload
$NBDIO "$uri" w:1100:trigger
until_log "reload failed"
$NBDIO "$uri" w:400:'"$SIG2"'
' | lines)
expect_eq "reload: new signature denied once reloaded" "$out" \
    "ok EIO ok EIO EIO ok EIO"
check "reload: announced" grep -q "database reloaded: 2 signatures" \
    "$TMP/nbdkit.err"
check "reload: failure keeps the old database" \
    grep -q "reload failed; keeping" "$TMP/nbdkit.err"

# ---- cut-net through QMP ----
$NBDPY tests/data/nbd/fakeqmp.py "$TMP/qmp.sock" "$TMP/qmp.log" &
qpid=$!
kill_qmp() { kill "$qpid" 2>/dev/null; }
cleanup_fn kill_qmp
i=0
while [ ! -e "$TMP/qmp.sock.ready" ] && [ $i -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
done
out=$(nbd_run "$TMP/disk.img" vigil-db="$NBDDB" vigil-policy=cut-net \
    vigil-qmp="$TMP/qmp.sock" vigil-netdev=n1 vigil-events="$TMP/cut.jsonl" \
    -- w:500:"$SIG1" | lines)
expect_eq "cut-net: write passes" "$out" ok
expect_eq "cut-net: written" "$(peek "$TMP/disk.img" 500 24)" "$SIG1"
expect_eq "cut-net: QMP commands" "$(lines <"$TMP/qmp.log")" \
    '{"execute": "qmp_capabilities"} {"arguments": {"name": "n1", "up": false}, "execute": "set_link"}'
check "cut-net: event" grep -q '"policy":"cut-net","action":"network-cut"' \
    "$TMP/cut.jsonl"
out=$(nbd_run "$TMP/disk.img" vigil-db="$NBDDB" vigil-policy=cut-net \
    vigil-qmp="$TMP/nothere.sock" vigil-events="$TMP/cut2.jsonl" \
    -- w:600:"$SIG1" | lines)
expect_eq "cut-net without QEMU: write still passes" "$out" ok
check "cut-net without QEMU: event says it failed" \
    grep -q '"action":"network-cut-failed".*"error":"connect' \
    "$TMP/cut2.jsonl"

# A QMP peer that never answers: the write still completes, because the
# filter gives up after vigil-qmp-timeout and says so in the event (no
# wall-clock threshold here: a hang would hold the test, the timeout text
# proves which bound ended the wait); one that refuses: QEMU's error text.
for mode in silent refuse; do
    $NBDPY tests/data/nbd/fakeqmp.py "$TMP/$mode.sock" "$TMP/$mode.log" \
        $mode &
    echo $! >"$TMP/$mode.pid"
    i=0
    while [ ! -e "$TMP/$mode.sock.ready" ] && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    out=$(nbd_run "$TMP/disk.img" vigil-db="$NBDDB" vigil-policy=cut-net \
        vigil-qmp="$TMP/$mode.sock" vigil-qmp-timeout=500 \
        vigil-events="$TMP/$mode.jsonl" -- w:700:"$SIG1" | lines)
    kill "$(cat "$TMP/$mode.pid")"
    expect_eq "cut-net, QMP $mode: write passes" "$out" ok
done
check "cut-net, QMP silent: timeout recorded" \
    grep -q '"action":"network-cut-failed".*"error":"set_link net0: Connection timed out"' \
    "$TMP/silent.jsonl"
check "cut-net, QMP refuse: QEMU's error recorded" \
    grep -q '"error":"set_link net0: QMP error: Device not found"' \
    "$TMP/refuse.jsonl"

if [ "$full_skipped" = 1 ] && [ "$TESTS_FAILED" -eq 0 ]; then
    echo "requires unshare -m and tmpfs mounts (the full-disk checks)"
    exit 77
fi
done_testing
