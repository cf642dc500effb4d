# Helpers for tests/test-nbd-*.sh (after tests/functions.sh).
#   nbd_setup             skip unless nbdkit and python's nbd module exist
#   nbd_run DISK ARGS -- OPS...   serve DISK through the filter with
#                         filter ARGS, run nbdio.py OPS, print its output
FILTER=$PWD/$VIGIL_BUILD/nbdkit-vigil-filter.so
NBDDB=$PWD/tests/data/nbd/test.ndb
SIG1=VIGIL-TEST-SIGNATURE-ONE
SIG2=VIGIL-TEST-SIGNATURE-TWO

nbd_setup() {
    requires nbdkit
    requires_file "$FILTER"
    NBDPY=
    for p in /usr/bin/python3 python3; do
        if "$p" -c 'import nbd' 2>/dev/null; then
            NBDPY=$p
            break
        fi
    done
    [ -n "$NBDPY" ] || {
        echo "requires python3-libnbd"
        exit 77
    }
}

nbd_run() {
    disk=$1
    shift
    fargs=""
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        fargs="$fargs $1"
        shift
    done
    shift
    # shellcheck disable=SC2086
    nbdkit -U - --filter="$FILTER" file "$disk" $fargs \
        --run "$NBDPY $PWD/tests/data/nbd/nbdio.py \"\$uri\" $*" \
        2>>"$TMP/nbdkit.err"
}

# Bytes LEN at OFF of FILE, as text with NULs shown as '0'.
peek() {
    dd if="$1" bs=1 skip="$2" count="$3" status=none | tr '\000' 0
}

# nbd_sh DISK ARGS -- SCRIPT: serve DISK and run SCRIPT (sh) with $uri set
# and $NBDIO the nbdio.py command.
nbd_sh() {
    disk=$1
    shift
    fargs=""
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        fargs="$fargs $1"
        shift
    done
    shift
    printf '%s\n' "$1" >"$TMP/run.sh"
    # shellcheck disable=SC2086
    NBDIO="$NBDPY $PWD/tests/data/nbd/nbdio.py" \
        nbdkit -U - --filter="$FILTER" file "$disk" $fargs \
        --run "uri=\"\$uri\" sh $TMP/run.sh" 2>>"$TMP/nbdkit.err"
}
