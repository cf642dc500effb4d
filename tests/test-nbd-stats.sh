#!/bin/sh
# nbdkit-vigil-filter's work counters (`-D vigil.stats=1`, docs/disk.md):
# printed once at shutdown only when asked, counting the requests, the
# reads of their surroundings and where each was scanned.
. tests/functions.sh
. tests/data/nbd/nbd-functions.sh
nbd_setup

truncate -s 1M "$TMP/disk.img"

# serve DEBUGFLAG POLICY OPS...: the stats line(s) nbdkit printed.
serve() {
    flag=$1 policy=$2
    shift 2
    : >"$TMP/err"
    # shellcheck disable=SC2086
    nbdkit $flag -U - --filter="$FILTER" file "$TMP/disk.img" \
        vigil-db="$NBDDB" vigil-policy="$policy" \
        --run "$NBDPY $PWD/tests/data/nbd/nbdio.py \"\$uri\" $*" \
        >/dev/null 2>"$TMP/err"
    grep 'vigil-filter: stats' "$TMP/err" || true
}
# The value of counter $1 in stats line $2.
val() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

expect_eq "no stats without -D" "$(serve "" deny w:0:hello)" ""
expect_eq "no stats with -D vigil.stats=0" \
    "$(serve "-D vigil.stats=0" deny w:0:hello)" ""

# test.ndb's context is 25 bytes: a write at 0 reads only after it, the
# others both sides; write-zeroes counts its bytes.  Inline under deny.
s=$(serve "-D vigil.stats=1" deny w:0:hello w:4096:world z:8192:4096 \
    w:20000:ab${SIG1}cd)
expect_eq "one stats line" "$(printf '%s\n' "$s" | grep -c stats)" 1
expect_eq "disk named" "$(val disk "$s")" disk
expect_eq "requests" "$(val requests "$s")" 4
expect_eq "request bytes" "$(val request_bytes "$s")" $((5 + 5 + 4096 + 28))
expect_eq "surrounding reads" "$(val around_preads "$s")" 7
expect_eq "surrounding bytes" "$(val around_bytes "$s")" $((25 * 7))
expect_eq "scanned inline" "$(val scans_inline "$s")" 4
expect_eq "none behind" "$(val scans_behind "$s")" 0
expect_eq "no copies inline" "$(val copy_bytes "$s")" 0
# Alert only: scanned behind, each request copied with its surroundings.
s=$(serve "-D vigil.stats=1" alert w:4096:world w:8192:${SIG1})
expect_eq "alert: scanned behind" "$(val scans_behind "$s")" 2
expect_eq "alert: none inline" "$(val scans_inline "$s")" 0
expect_eq "alert: copied bytes" "$(val copy_bytes "$s")" $((5 + 24 + 4 * 25))
done_testing
