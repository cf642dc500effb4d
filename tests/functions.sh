# Shared helpers for tests/test-*.sh. Source from the repository root.
#   requires CMD...      skip (exit 77) unless every command exists
#   requires_qemu        skip unless `vigil doctor` finds a QEMU for the plugin
#   fail MSG             print and exit 1
#   expect_eq WHAT GOT WANT
#   expect_rc WANT CMD...  run CMD, check its exit status
#   cleanup_fn FUNC      run FUNC on exit
#   done_testing         end the test: pass unless a check failed (the
#                        only way a test ends with status 0)
#   wait_for_line FILE PATTERN [S]  bounded wait for a readiness line
set -u
VIGIL_BUILD=${VIGIL_BUILD:-build}
VIGIL=$VIGIL_BUILD/vigil
GUEST=build/guest
TESTS_FAILED=0

requires() {
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || {
            echo "requires $c"
            exit 77
        }
    done
}

# The QEMU that `vigil run` picks must load vigil's plugin (QEMU >= 11.1).
requires_qemu() {
    "$VIGIL" doctor >/dev/null 2>&1 || {
        echo "requires QEMU >= 11.1 (see: $VIGIL doctor)"
        exit 77
    }
}

requires_file() {
    for f in "$@"; do
        [ -e "$f" ] || {
            echo "requires $f"
            exit 77
        }
    done
}

fail() {
    echo "FAIL: $*"
    exit 1
}

# Record a failed check but keep going, so one run shows every problem.
check() {
    what=$1
    shift
    if "$@"; then
        echo "ok: $what"
    else
        echo "NOT OK: $what"
        TESTS_FAILED=$((TESTS_FAILED + 1))
    fi
}

expect_eq() {
    if [ "$2" = "$3" ]; then
        echo "ok: $1"
    else
        echo "NOT OK: $1"
        echo "    got:  $(printf '%s' "$2" | head -c 400)"
        echo "    want: $(printf '%s' "$3" | head -c 400)"
        TESTS_FAILED=$((TESTS_FAILED + 1))
    fi
}

expect_rc() {
    want=$1
    shift
    "$@"
    got=$?
    expect_eq "exit status of: $*" "$got" "$want"
}

_done_testing=0
done_testing() {
    [ "$TESTS_FAILED" -eq 0 ] || fail "$TESTS_FAILED check(s) failed"
    echo "all checks passed"
    _done_testing=1
    exit 0
}

# A script that stops early with status 0 (a shell error in a sourced
# helper, the file rewritten while it runs) has not passed: only
# done_testing may end a test successfully.
_cleanup_fns=""
_on_exit() {
    _rc=$?
    for f in $_cleanup_fns; do $f; done
    if [ "$_rc" -eq 0 ] && [ "$_done_testing" -eq 0 ]; then
        echo "FAIL: the test ended before done_testing"
        exit 1
    fi
    exit "$_rc"
}
trap _on_exit EXIT
cleanup_fn() {
    _cleanup_fns="$_cleanup_fns $1"
}

TMP=$(mktemp -d)
_rm_tmp() { rm -rf "$TMP"; }
cleanup_fn _rm_tmp

# wait_for_line FILE PATTERN [SECONDS]: wait until FILE holds a line
# matching PATTERN (grep -E), at most SECONDS (default 10); 1 if it never
# does. For daemons that print a readiness line ("vigil logd: listening").
wait_for_line() {
    _wfl_n=$((${3:-10} * 20))
    while [ "$_wfl_n" -gt 0 ]; do
        grep -Eq -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
        _wfl_n=$((_wfl_n - 1))
    done
    return 1
}
