# logd's PostgreSQL store (docs/store.md) against a real PostgreSQL server
# of its own (tests/pg.sh), with the synthetic sender (vigil-logsend):
# clear errors at start, two logd instances at once, the docs' queries, the
# database restarted mid-stream, a full spill directory, a spill replayed
# twice, several connections per logd. Every record is checked to be in
# the database exactly once.
. tests/functions.sh
requires jq runuser
LOGSEND=$VIGIL_BUILD/tools/vigil-logsend
requires_file "$VIGIL" "$LOGSEND"
. tests/pg.sh

head -c 32 /dev/urandom >"$TMP/key"
base=$((20000 + $$ % 20000))
DATA=$base CTL=$((base + 1)) DATA2=$((base + 2)) CTL2=$((base + 3))
. tests/logd.sh
pg_start "fsync = off"
PW=$(cat "$PG_PWFILE")
STORE="--store $PG_URL --store-password-file $PG_PWFILE"

# st DIR JQ: a value of DIR/stats.json
st() { jq -r "$2" "$1/stats.json"; }
# wait_stats DIR JQ [S]: until JQ is true of DIR/stats.json (default 30 s)
wait_stats() {
    _n=$((${3:-30} * 10))
    while [ $_n -gt 0 ]; do
        [ "$(jq -r "$2" "$1/stats.json" 2>/dev/null)" = true ] && return 0
        sleep 0.1
        _n=$((_n - 1))
    done
    return 1
}
# in_db SESSION: "rows distinct-keys" of a session in events
in_db() {
    psqlq "SELECT count(*) || ' ' || count(DISTINCT (host, session, rec))
           FROM events WHERE session = '$1'"
}
send() { # send PORT CTLPORT OUT [ARGS...]
    _p=$1 _c=$2 _o=$3
    shift 3
    "$LOGSEND" --log "udp://127.0.0.1:$_p" --key "$TMP/key" \
        --control-port "$_c" --block "$@" >"$_o" 2>"$_o.err"
}

# 1. Clear errors at start, exit status 1, the password never printed.
echo "not-the-password-$$" >"$TMP/wrongpw"
start_err() { # start_err NAME CONNINFO [ARGS...]: logd that must not start
    _name=$1
    shift
    "$VIGIL" logd --listen "udp://127.0.0.1:$DATA" --key "$TMP/key" \
        --out "$TMP/e-$_name" --store "$@" 2>"$TMP/e-$_name.err"
    expect_eq "$_name: exit status 1" "$?" 1
    check "$_name: not listening" sh -c "! grep -q listening '$TMP/e-$_name.err'"
    check "$_name: no password printed" sh -c \
        "! grep -qF -e '$PW' -e 'not-the-password' '$TMP/e-$_name.err'"
}
start_err wrongpw "$PG_URL" --store-password-file "$TMP/wrongpw"
check "wrong password: said so" \
    grep -q 'password authentication failed for user "vigil"' "$TMP/e-wrongpw.err"
start_err nodb "postgresql:///nosuch?host=$PGD&port=5432&user=vigil" \
    --store-password-file "$PG_PWFILE"
check "missing database: said so" \
    grep -q 'database "nosuch" does not exist' "$TMP/e-nodb.err"
start_err noserver "postgresql:///vigil?host=$TMP/nowhere&port=5432&user=vigil" \
    --store-password-file "$PG_PWFILE"
check "no server: said so" grep -q 'Is the server running' "$TMP/e-noserver.err"
PGDB=postgres psqlq "CREATE DATABASE future"
PGDB=future psqlq "CREATE TABLE schema_version(version integer NOT NULL,
    applied timestamptz NOT NULL DEFAULT now()); INSERT INTO schema_version
    VALUES (1), (2), (99)"
start_err future "postgresql:///future?host=$PGD&port=5432&user=vigil" \
    --store-password-file "$PG_PWFILE"
check "newer schema: said so" grep -q \
    "schema is version 99, newer than this vigil knows (4): upgrade vigil" \
    "$TMP/e-future.err"
expect_eq "newer schema: nothing created" \
    "$(PGDB=future psqlq "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" 1

# A database at schema version 1 (tests/data/store/schema-v1.sql, written
# by logd before migration 2) is migrated when logd starts: its records
# stay, events.json becomes json, the processes view answers as before.
PGDB=postgres psqlq "CREATE DATABASE old"
PGPASSWORD=$PW "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGD" -p 5432 \
    -U vigil -d old -f tests/data/store/schema-v1.sql >/dev/null 2>&1 ||
    fail "cannot load tests/data/store/schema-v1.sql"
# An older logd still writing to it (a connection named as logd's) makes
# the migration to schema 4 refuse: it would have its records refused.
PGAPPNAME=vigil-logd PGDB=old psqlq "SELECT pg_sleep(4)" &
SLEEPER=$!
sleep 1
start_err olderlogd "postgresql:///old?host=$PGD&port=5432&user=vigil" \
    --store-password-file "$PG_PWFILE"
check "older logd connected: said so" grep -q \
    "1 other logd connection(s) use it: migration 4 changes what logd writes" \
    "$TMP/e-olderlogd.err"
expect_eq "older logd connected: not migrated" \
    "$(PGDB=old psqlq 'SELECT max(version) FROM schema_version')" 1
wait $SLEEPER
start_logd "$TMP/m" --store "postgresql:///old?host=$PGD&port=5432&user=vigil" \
    --store-password-file "$PG_PWFILE"
stop_logd
expect_eq "v1 database: migrated to version 4" \
    "$(PGDB=old psqlq 'SELECT string_agg(version::text, $$ $$ ORDER BY version) FROM schema_version')" "1 2 3 4"
expect_eq "v1 database: each record has its session's number" \
    "$(PGDB=old psqlq "SELECT count(*) FROM events e JOIN sessions s
        USING (sid) WHERE s.host = e.host AND s.session = e.session")" 10
expect_eq "v1 database: its records kept, json now json" \
    "$(PGDB=old psqlq "SELECT count(*) || ' ' || min(pg_typeof(json)::text) FROM events")" "10 json"
expect_eq "v1 database: the processes view" \
    "$(PGDB=old psqlq "SELECT pid || ' ' || exe FROM processes ORDER BY pid" | tr '\n' ' ')" \
    "300 /bin/sh 301 /usr/bin/dropper "
expect_eq "v1 database: the detection" \
    "$(PGDB=old psqlq "SELECT signature FROM detections")" "Vigil.Test.One"

# 2. Two logd instances writing at once, from two senders at once.
start_logd "$TMP/a" --control "udp://127.0.0.1:$CTL" $STORE --store-name logd-a
LA=$LOGD_PID
"$VIGIL" logd --listen "udp://127.0.0.1:$DATA2" --key "$TMP/key" \
    --out "$TMP/b" --interval 1 --control "udp://127.0.0.1:$CTL2" $STORE \
    --store-name logd-b 2>"$TMP/b.err" &
LB=$!
wait_for_line "$TMP/b.err" listening || fail "logd b did not start"
check "migrated: schema version 4" test "$(psqlq 'SELECT max(version) FROM schema_version')" = 4
send $DATA $CTL "$TMP/a.send" --count 20000 &
S1=$!
send $DATA2 $CTL2 "$TMP/b.send" --count 20000
wait $S1
SA=$(jq -r .session "$TMP/a.send") SB=$(jq -r .session "$TMP/b.send")
wait_stats "$TMP/a" '.store.stored == 20000' || echo "a: $(cat "$TMP/a/stats.json")"
wait_stats "$TMP/b" '.store.stored == 20000' || echo "b: $(cat "$TMP/b/stats.json")"
kill -TERM $LB
wait $LB
stop_logd
for x in a b; do
    expect_eq "$x: received 20000, no loss" \
        "$(st "$TMP/$x" '[.sessions[0].records, .sessions[0].lost] | @tsv')" \
        "20000	0"
    expect_eq "$x: store stored 20000, nothing spilled or lost" \
        "$(st "$TMP/$x" '.store | [.stored, .spilled, .lost, .queued] | @tsv')" \
        "20000	0	0	0"
    check "$x: stderr summary" grep -q \
        'store: 20000 stored, 0 spilled, 0 replayed, 0 LOST' "$TMP/$x.err"
done
expect_eq "a: every record once" "$(in_db "$SA")" "20000 20000"
expect_eq "b: every record once" "$(in_db "$SB")" "20000 20000"
expect_eq "a: record numbers 0..19999" "$(psqlq "SELECT min(rec) || '-' ||
    max(rec) FROM events WHERE session = '$SA'")" "0-19999"
expect_eq "sessions: one row each, with its logd" "$(psqlq "SELECT logd FROM
    sessions WHERE session IN ('$SA', '$SB') ORDER BY logd" | tr '\n' ' ')" \
    "logd-a logd-b "
expect_eq "indexed columns filled" "$(psqlq "SELECT count(DISTINCT name) ||
    ' ' || count(DISTINCT pid) || ' ' || min(ts) FROM events WHERE session = '$SA'")" \
    "4 7 1000000"
expect_eq "the day's partition exists" "$(psqlq "SELECT count(*) FROM
    pg_inherits WHERE inhparent = 'events'::regclass AND inhrelid::regclass::text
    = 'events_' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD')")" 1
expect_eq "indexes on time, host, session and pid (the key), call name" \
    "$(psqlq "SELECT indexname || ':' || split_part(indexdef, ' USING ', 2)
        FROM pg_indexes WHERE tablename = 'events' ORDER BY 1" | tr '\n' ' ')" \
    "events_key:btree (sid, pid, rec, received) NULLS NOT DISTINCT events_name:btree (name) events_received:brin (received) "
check "JSON Lines files still written" test \
    "$(cat "$TMP/a"/*.jsonl | wc -l)" = 20000

# 3. The docs' queries (docs/store.md) against the fleet test data: two
# sessions of tests/data/store/fleet.jsonl through one logd.
start_logd "$TMP/f" --control "udp://127.0.0.1:$CTL" $STORE --store-name fleet-logd
send $DATA $CTL "$TMP/f1.send" --count 10 --events tests/data/store/fleet.jsonl
send $DATA $CTL "$TMP/f2.send" --count 10 --events tests/data/store/fleet.jsonl
wait_stats "$TMP/f" '.store.stored == 20' || echo "f: $(cat "$TMP/f/stats.json")"
stop_logd
SF=$(jq -r .session "$TMP/f1.send")
expect_eq "fleet: 10 records per session" "$(in_db "$SF")" "10 10"
expect_eq "fleet: the detection" "$(psqlq "SELECT signature, action, disk FROM
    detections WHERE session = '$SF'")" "Vigil.Test.One|denied|vda"
expect_eq "fleet: backslashes survive COPY" "$(psqlq "SELECT json->'decoded'->>1
    FROM events WHERE session = '$SF' AND name = 'write'")" 'X5O!P%@AP[4\PZX54(P^)7CC)7}$'
# Each ```sql block of docs/store.md and the ```text block after it.
awk -v dir="$TMP" '
    /^```sql$/ { n++; f = dir "/q" n ".sql"; on = 1; next }
    /^```text$/ { f = dir "/q" n ".want"; on = 1; next }
    /^```$/ { on = 0; next }
    on { print > f }' docs/store.md
nq=0
for q in "$TMP"/q*.sql; do
    nq=$((nq + 1))
    got=$(PGPASSWORD=$PW "$PG_BIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 \
        -h "$PGD" -p 5432 -U vigil -d vigil -v "session=$SF" <"$q" 2>&1 |
        sed "s/$SF/SESSION/g")
    expect_eq "docs/store.md query $(basename "$q")" "$got" \
        "$(cat "${q%.sql}.want")"
done
check "docs/store.md: 5 queries run" test "$nq" = 5

# Records that are not JSON (an authenticated sender may send any bytes):
# the batch is sent again the slow way, keeping them as JSON strings; none
# lost, the valid ones stay objects. A \u0000 (json takes it, but every
# ->> that meets it fails) is kept as a string at once, so it cannot break
# the processes view for the whole fleet.
printf '%s\n' '{"type":"syscall","ts":7,"pid":9,"name":"read" broken' \
    '{"type":"syscall","ts":8,"pid":9,"name":"read","decoded":["a\u0000b"]}' \
    '{"type":"syscall","ts":9,"pid":9,"name":"read","decoded":["tab\tback\\slash"]}' \
    '{"type":"syscall","ts":10,"pid":9,"name":"execve","decoded":["/x\u0000"],"ret":0}' \
    '{"type":"syscall","ts":11,"pid":99999999999,"tid":5,"name":"read"}' \
    >"$TMP/odd.jsonl"
start_logd "$TMP/o" --control "udp://127.0.0.1:$CTL" $STORE
send $DATA $CTL "$TMP/o.send" --count 5 --events "$TMP/odd.jsonl"
wait_stats "$TMP/o" '.store.stored == 5' || echo "o: $(cat "$TMP/o/stats.json")"
stop_logd
SO=$(jq -r .session "$TMP/o.send")
expect_eq "odd records: all stored, none lost" \
    "$(st "$TMP/o" '.store | [.stored, .lost] | @tsv')" "5	0"
expect_eq "odd records: kept as strings, the valid one an object" \
    "$(psqlq "SELECT rec, json_typeof(json), ts FROM events WHERE session =
        '$SO' ORDER BY rec" | tr '\n' ' ')" "0|string|7 1|string|8 2|object|9 3|string|10 4|object|11 "
expect_eq "odd records: a pid out of integer's range is NULL, not refused" \
    "$(psqlq "SELECT coalesce(pid::text, 'NULL') || ' ' || tid || ' ' ||
        (json->>'pid') FROM events WHERE session = '$SO' AND rec = 4")" \
    "NULL 5 99999999999"
expect_eq "odd records: the processes view still answers" \
    "$(psqlq "SELECT count(*) FROM processes WHERE session = '$SO'")" 1
expect_eq "odd records: the text intact" "$(psqlq "SELECT json #>> '{}' FROM
    events WHERE session = '$SO' AND rec = 0")" \
    '{"type":"syscall","ts":7,"pid":9,"name":"read" broken'

# A record no text column takes (bytes that are not UTF-8) is refused
# alone: the other records of its batch, from the same or other senders,
# are stored.
printf '%s\n' '{"type":"syscall","ts":11,"name":"read"}' \
    "$(printf '{"type":"syscall","ts":12,"name":"read","x":"\377\376"}')" \
    '{"type":"syscall","ts":13,"name":"read"}' >"$TMP/bad.jsonl"
start_logd "$TMP/u" --control "udp://127.0.0.1:$CTL" $STORE
send $DATA $CTL "$TMP/u.send" --count 3 --events "$TMP/bad.jsonl"
wait_stats "$TMP/u" '.store.stored + .store.lost == 3' ||
    echo "u: $(cat "$TMP/u/stats.json")"
stop_logd
SU=$(jq -r .session "$TMP/u.send")
expect_eq "not UTF-8: only that record refused" \
    "$(st "$TMP/u" '.store | [.stored, .lost, .rejected] | @tsv')" "2	1	1"
expect_eq "not UTF-8: the others stored" "$(psqlq "SELECT string_agg(ts::text,
    ' ' ORDER BY ts) FROM events WHERE session = '$SU'")" "11 13"
check "not UTF-8: said so" grep -q 'refused' "$TMP/u.err"

# 4. The database stopped and started again mid-stream: the records of the
# outage spill and are replayed; each lands exactly once.
start_logd "$TMP/r" --control "udp://127.0.0.1:$CTL" $STORE
send $DATA $CTL "$TMP/r.send" --count 60000 --rate 10000 &
S1=$!
wait_stats "$TMP/r" '.store.stored > 0' || echo "r: nothing stored"
pg_stop
wait_stats "$TMP/r" '.store.spilled > 0' || echo "r: nothing spilled"
pg_up || fail "PostgreSQL did not restart"
wait $S1
SR=$(jq -r .session "$TMP/r.send")
wait_stats "$TMP/r" '.sessions[0].records == 60000 and .store.queued == 0
    and .store.spill_bytes == 0 and .store.stored + .store.replayed == 60000' 60 ||
    echo "r: $(cat "$TMP/r/stats.json")"
stop_logd
expect_eq "restart: received 60000, no loss" \
    "$(st "$TMP/r" '[.sessions[0].records, .sessions[0].lost] | @tsv')" "60000	0"
check "restart: records spilled" test "$(st "$TMP/r" .store.spilled)" -gt 0
check "restart: some stored before" test "$(st "$TMP/r" .store.stored)" -gt 0
expect_eq "restart: all spilled replayed, none lost" \
    "$(st "$TMP/r" '.store | [.replayed == .spilled, .lost, .reconnects > 0] | @tsv')" \
    "true	0	true"
expect_eq "restart: every record once" "$(in_db "$SR")" "60000 60000"
check "restart: the outage was reported" grep -q 'database unreachable' "$TMP/r.err"
check "restart: and the return" grep -q 'database reachable again' "$TMP/r.err"

# 4b. Several connections per logd (--store-conns): one logd, two senders
# at once, then a third session while the database is down (section 4
# restarts it mid-stream, with the default two connections). Every
# connection is a server backend of its own; each batch is one
# connection's, so every record still lands once, and each session has
# one row holding its earliest record's time.
start_logd "$TMP/m" --control "udp://127.0.0.1:$CTL" \
    --control "udp://127.0.0.1:$CTL2" $STORE --store-conns 3
# The connections are made by the store's threads after logd listens (an
# ASan build took long enough for none to be there yet).
wait_stats "$TMP/m" '.store.conns_up == 3' || echo "m: $(cat "$TMP/m/stats.json")"
expect_eq "conns: three backends" "$(psqlq "SELECT count(*) FROM
    pg_stat_activity WHERE application_name = 'vigil-logd'")" 3
send $DATA $CTL "$TMP/m1.send" --count 40000 &
S1=$!
send $DATA $CTL2 "$TMP/m2.send" --count 40000
wait $S1
wait_stats "$TMP/m" '.store.stored == 80000' || echo "m: $(cat "$TMP/m/stats.json")"
pg_stop
send $DATA $CTL "$TMP/m3.send" --count 20000
wait_stats "$TMP/m" '.store.spilled == 20000' || echo "m: $(cat "$TMP/m/stats.json")"
pg_up || fail "PostgreSQL did not restart"
wait_stats "$TMP/m" '.store.queued == 0 and .store.spill_bytes == 0 and
    .store.conns_up == 3 and .store.replayed == 20000' 60 ||
    echo "m: $(cat "$TMP/m/stats.json")"
stop_logd
M1=$(jq -r .session "$TMP/m1.send") M2=$(jq -r .session "$TMP/m2.send")
M3=$(jq -r .session "$TMP/m3.send")
expect_eq "conns: received 100000, stored 80000, replayed 20000, no loss" \
    "$(st "$TMP/m" '[([.sessions[].records] | add), ([.sessions[].lost] | add),
    .store.stored, .store.replayed, .store.lost] | @tsv')" "100000	0	80000	20000	0"
expect_eq "conns: every record once (1)" "$(in_db "$M1")" "40000 40000"
expect_eq "conns: every record once (2)" "$(in_db "$M2")" "40000 40000"
expect_eq "conns: every record once (3, replayed)" "$(in_db "$M3")" "20000 20000"
expect_eq "conns: one session row each, from the first record" "$(psqlq "
    SELECT count(*) FILTER (WHERE s.first_received = e.first) || ' ' || count(*)
    FROM sessions s JOIN (SELECT host, session, min(received) AS first
    FROM events GROUP BY host, session) e USING (host, session)
    WHERE session IN ('$M1', '$M2', '$M3')")" "3 3"

# 4c. --store-sync-commit off, asked for explicitly: each connection sets
# it (the server logs the vigil role's statements for this part), and the
# records land once as before. Anything but on or off is refused.
"$VIGIL" logd --listen "udp://127.0.0.1:$DATA" --key "$TMP/key" \
    --out "$TMP/e-sync" $STORE --store-sync-commit maybe 2>"$TMP/e-sync.err"
check "sync-commit: a bad value refused" test $? -ne 0
check "sync-commit: said so" grep -q 'expected on or off' "$TMP/e-sync.err"
psqlq "ALTER ROLE vigil SET log_statement = 'all'"
start_logd "$TMP/y" --control "udp://127.0.0.1:$CTL" $STORE \
    --store-sync-commit off
send $DATA $CTL "$TMP/y.send" --count 5000
wait_stats "$TMP/y" '.store.stored == 5000' || echo "y: $(cat "$TMP/y/stats.json")"
stop_logd
psqlq "ALTER ROLE vigil RESET log_statement"
expect_eq "sync-commit: set by both connections" \
    "$(grep -c 'statement: SET synchronous_commit TO off' "$PGD/log")" 2
expect_eq "sync-commit: every record once" \
    "$(in_db "$(jq -r .session "$TMP/y.send")")" "5000 5000"

# 5. A full spill directory while the database is down: a clear error and
# the count of what was lost. What did fit stays for the next logd, which
# replays it; a spill file replayed twice (as after a COMMIT whose answer
# was lost) adds nothing.
start_logd "$TMP/s" --control "udp://127.0.0.1:$CTL" $STORE \
    --store-spill-max 200000
pg_stop
send $DATA $CTL "$TMP/s.send" --count 3000
SS=$(jq -r .session "$TMP/s.send")
wait_stats "$TMP/s" '.sessions[0].records == 3000 and .store.queued == 0' ||
    echo "s: $(cat "$TMP/s/stats.json")"
stop_logd
check "full: said so" grep -q 'full (--store-spill-max): records are being LOST' "$TMP/s.err"
SPILLED=$(st "$TMP/s" .store.spilled) LOST=$(st "$TMP/s" .store.lost)
expect_eq "full: spilled + lost = received, nothing stored" \
    "$(st "$TMP/s" '.store | [.spilled + .lost, .stored] | @tsv')" "3000	0"
check "full: some lost" test "$LOST" -gt 0
check "full: some spilled" test "$SPILLED" -gt 0
check "full: the spill within its limit" test \
    "$(cat "$TMP/s/spill"/spill-*.jsonl | wc -c)" -le 200000
check "full: the loss in the summary" grep -q "$LOST LOST" "$TMP/s.err"
pg_up || fail "PostgreSQL did not restart"
set -- "$TMP/s/spill"/spill-*.jsonl
cp "$1" "$TMP/s/spill/spill-999999.jsonl"
DUP=$(wc -l <"$1")
# Records whose pid column is NULL (none in the record; one outside
# integer's range), four copies each in two spill files: the key's NULLS
# NOT DISTINCT keeps one copy of each.
K='"host":"127.0.0.1","session":"00000000000000aa"' R='"received_ns":1700000000000000000'
for f in 999997 999998; do
    printf '{%s,"rec":1,%s,"event":{"type":"note","ts":5}}\n' "$K" "$R"
    printf '{%s,"rec":2,%s,"event":{"type":"syscall","name":"read","pid":99999999999}}\n' "$K" "$R"
done >"$TMP/s/spill/spill-999997.jsonl"
cp "$TMP/s/spill/spill-999997.jsonl" "$TMP/s/spill/spill-999998.jsonl"
DUP=$((DUP + 8))
start_logd "$TMP/s" $STORE
wait_stats "$TMP/s" ".store.spill_bytes == 0 and .store.replayed == $((SPILLED + DUP))" ||
    echo "s2: $(cat "$TMP/s/stats.json")"
stop_logd
expect_eq "replayed by the next logd, each record once" "$(in_db "$SS")" \
    "$SPILLED $SPILLED"
expect_eq "records without a pid, replayed twice: each once" \
    "$(psqlq "SELECT count(*) || ' ' || count(pid) FROM events WHERE session = '00000000000000aa'")" "2 0"
check "spill directory empty" test -z "$(ls "$TMP/s/spill")"

done_testing
