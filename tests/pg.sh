# A private PostgreSQL server for the store tests and bench/store (after
# tests/functions.sh, or with fail() and cleanup_fn() defined): initdb and
# pg_ctl in a fresh directory, run as an unprivileged user (nobody when
# the caller is root), listening on a Unix socket in that directory only,
# password authentication (scram-sha-256) for the user "vigil".
#   pg_start [SETTING=VALUE...]  create, start, create database "vigil";
#                      sets PGD (the directory and socket), PG_PWFILE,
#                      PG_URL (no password in it)
#   pg_stop / pg_up    stop (fast: sessions are cut) / start again
#   psqlq SQL          run SQL in database "vigil", unaligned, no header
#   pg_cleanup         stop and remove (registered with cleanup_fn)
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PGD=""

pg_as() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u nobody -- "$@"
    else
        "$@"
    fi
}

pg_stop() {
    pg_as "$PG_BIN/pg_ctl" -D "$PGD/data" -m fast -w -t 30 stop >/dev/null 2>&1
}

pg_up() {
    pg_as "$PG_BIN/pg_ctl" -D "$PGD/data" -l "$PGD/log" -w -t 60 start \
        >/dev/null 2>&1
}

pg_cleanup() {
    if [ -n "$PGD" ]; then
        [ -f "$PGD/data/postmaster.pid" ] && pg_stop
        rm -rf "$PGD"
        PGD=""
    fi
}

psqlq() {
    PGPASSWORD=$(cat "$PG_PWFILE") "$PG_BIN/psql" -X -A -t -q \
        -v ON_ERROR_STOP=1 -h "$PGD" -p 5432 -U vigil -d "${PGDB:-vigil}" \
        -c "$1"
}

pg_start() {
    [ -x "$PG_BIN/initdb" ] || {
        echo "requires PostgreSQL server binaries (postgresql)"
        exit 77
    }
    # Its own directory, outside the caller's (which nobody cannot enter).
    PGD=$(mktemp -d /tmp/vigil-pg.XXXXXX)
    cleanup_fn pg_cleanup
    PG_PWFILE=$PGD/pw
    head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$PG_PWFILE"
    [ "$(id -u)" = 0 ] && chown -R nobody "$PGD"
    chmod 700 "$PGD"
    pg_as "$PG_BIN/initdb" -D "$PGD/data" -U vigil -A scram-sha-256 \
        --pwfile="$PG_PWFILE" -E UTF8 --no-sync >"$PGD/initdb.log" 2>&1 ||
        fail "initdb failed: $(tail -n 3 "$PGD/initdb.log")"
    {
        echo "listen_addresses = ''"
        echo "unix_socket_directories = '$PGD'"
        echo "port = 5432"
        for s in "$@"; do echo "$s"; done
    } >>"$PGD/data/postgresql.conf"
    pg_up || fail "PostgreSQL did not start: $(tail -n 5 "$PGD/log")"
    PGDB=postgres psqlq "CREATE DATABASE vigil" || fail "createdb failed"
    PG_URL="postgresql:///vigil?host=$PGD&port=5432&user=vigil"
}
