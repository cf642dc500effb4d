#!/bin/sh
# --callers (docs/callers.md): a guest program calls write() through known
# functions from two threads on two vCPUs, makes calls with its stack
# pointer on unmapped memory, on a page dropped (madvise) and written
# again, and with a return address into code not yet read in (then read
# in), then execs another program. The chain of
# return addresses and the branch history are checked against the
# program's own symbol table (nm); the history must restart at execve; N
# and K bound what is recorded. Two boots (N=32 and N=1024).
. tests/functions.sh
requires_qemu; requires python3 nm
prog=$VIGIL_BUILD/guest/bin/vigil-callers
requires_file "$VIGIL" "$GUEST/vmlinuz" "$GUEST/initramfs.cpio.gz" "$prog"
nm -S "$prog" >"$TMP/nm"

"$VIGIL" run --keep --smp 2 --trace comm=vigil-callers --callers \
    -o "$TMP/a.jsonl" -- vigil-callers >"$TMP/out" 2>"$TMP/err"
expect_eq "the program and vigil ran to the end" "$?" 0
# The walk reads the stack straight from the guest's RAM (QEMU's memory
# backend is vigil's memfd, mapped by the plugin too), not through QEMU.
kept=$(sed -n 's/^vigil: kept run directory //p' "$TMP/err")
pages=$(sed -n 's/.*stack pages read from RAM \([0-9]*\), through QEMU \([0-9]*\).*/\1 \2/p' \
    "$kept/qemu.log" 2>/dev/null)
check "stack pages read from RAM, not through QEMU (RAM, QEMU: $pages)" \
    sh -c '[ "${1%% *}" -gt "${1##* }" ]' - "${pages:-0 0}"
# ... and translated through the page tables in RAM (its calls on unmapped
# stacks among them: "not mapped").
walks=$(sed -n 's/.*translations from page tables in RAM \([0-9]*\) mapped, \([0-9]*\) not mapped.*/\1 \2/p' \
    "$kept/qemu.log" 2>/dev/null)
check "translations read from the page tables in RAM (mapped, not mapped: $walks)" \
    sh -c '[ "${1%% *}" -gt 0 ] && [ "${1##* }" -gt 0 ]' - "${walks:-0 0}"
case $kept in /tmp/vigil-run.*) rm -rf "$kept" ;; esac
marks=$(sed -n 's/^badstack .* mark \(0x[0-9a-f]*\) mark2 \(0x[0-9a-f]*\)$/\1 \2/p' "$TMP/out")
check "the program printed its return addresses ($marks)" test -n "$marks"
lazy=$(sed -n 's/^lazycode [0-9]* [0-9]* same \(0x[0-9a-f]*\)$/\1/p' "$TMP/out")
check "its code's copy holds the same call ($lazy)" test -n "$lazy"
# shellcheck disable=SC2086
check "chain, branches and bad stacks (N=32)" \
    python3 tests/callers_check.py chain "$TMP/a.jsonl" "$TMP/nm" \
    ${marks:-0 0} "${lazy:-0}" 32

"$VIGIL" run --trace exe=/usr/bin/vigil-callers --callers=1024 \
    --callers-chain 4 -o "$TMP/b.jsonl" -- vigil-callers >/dev/null
check "history restarts at execve; N=1024 and K=4 respected" \
    python3 tests/callers_check.py exec "$TMP/b.jsonl" "$TMP/nm" 1024 4

# Out-of-range values and --callers without --trace are usage errors.
expect_rc 2 "$VIGIL" run --trace all --callers=0 -- true
expect_rc 2 "$VIGIL" run --trace all --callers=1025 -- true
expect_rc 2 "$VIGIL" run --trace all --callers --callers-chain 65 -- true
expect_rc 2 "$VIGIL" run --callers -- true

done_testing
