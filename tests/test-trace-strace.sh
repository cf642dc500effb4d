#!/bin/sh
# vigil's x86-64 syscall names against strace's: every name in the table
# must be one strace accepts in -e trace=NAME (strace knows them by the
# names it prints), unless it is newer than both this strace and the host's
# kernel headers.
. tests/functions.sh
requires strace
bin=$VIGIL_BUILD/tests/test-trace-tables
requires_file "$bin"
strace -o /dev/null true 2>/dev/null || {
    echo "requires strace to be able to trace (ptrace)"
    exit 77
}
hdr=
for h in /usr/include/x86_64-linux-gnu/asm/unistd_64.h \
    /usr/include/asm/unistd_64.h; do
    [ -f "$h" ] && hdr=$h && break
done

names=$TMP/names
"$bin" --names >"$names" || fail "listing names"
total=0 known=0 newer=0 bad=0
# One strace run for all the names the headers know too (fast), one each
# for the rest, and one each for all if the batch fails (to name culprits).
in_hdr() { [ -n "$hdr" ] && grep -q "^#define __NR_$1 " "$hdr"; }
batch=
while read -r nr name; do
    in_hdr "$name" && batch="$batch${batch:+,}$name"
done <"$names"
batch_ok=false
[ -n "$batch" ] && strace -qq -e trace="$batch" -o /dev/null true 2>/dev/null &&
    batch_ok=true
while read -r nr name; do
    total=$((total + 1))
    if $batch_ok && in_hdr "$name"; then
        known=$((known + 1))
    elif strace -qq -e trace="$name" -o /dev/null true 2>/dev/null; then
        known=$((known + 1))
    elif ! in_hdr "$name"; then
        newer=$((newer + 1))
        echo "note: $nr $name is newer than this strace and these headers"
    else
        bad=$((bad + 1))
        echo "FAIL: strace does not know $nr $name"
    fi
done <"$names"
echo "ok: $known of $total names known to strace, $newer newer than it"
[ "$bad" -eq 0 ] || fail "$bad names strace does not know"

# The text form against strace's, call by call. One traced run of a small
# workload with -X verbose gives both the raw value of every constant and
# strace's symbolic form ("0x80000 /* O_RDONLY|O_CLOEXEC */"); strings come
# whole (-s 65535). Every call whose arguments are all numbers, constants,
# NULL or strings becomes an event for vigil's formatter (with the strings
# as its captures), and vigil's line must equal strace's.
fmt=$VIGIL_BUILD/tests/test-trace-format
requires_file "$fmt"
requires python3
raw=$TMP/raw
dir=$TMP/dir
mkdir "$dir"
strace -f -qq -X verbose -s 65535 -o "$raw" sh -c '
    umask 027; mkdir -p "$1/d"; echo "hi	\"there\"" >"$1/d/f"
    chmod 640 "$1/d/f"; cat "$1/d/f"; ln -s f "$1/d/l"; readlink "$1/d/l"
    mv "$1/d/f" "$1/d/g"; ls "$1/nonexistent"; cd "$1"; pwd
    kill -0 $$; dd if=/dev/zero of="$1/z" bs=7 count=2 2>/dev/null
    rm -rf "$1/d" "$1/z"; true' sh "$dir" >/dev/null 2>&1 ||
    fail "strace run"
python3 tests/strace_text_compare.py "$raw" "$fmt" ||
    fail "vigil's text differs from strace's"
done_testing
