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

names=$(mktemp)
trap 'rm -f "$names"' EXIT
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
echo "PASS"
