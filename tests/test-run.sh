# End to end: `vigil run` boots the real Debian guest kernel under QEMU with
# the plugin loaded, runs a command and returns its output and exit status.
. tests/functions.sh
requires_qemu
requires_file "$VIGIL" "$GUEST/vmlinuz" "$GUEST/initramfs.cpio.gz"

# Exit status and output pass through; quoting survives the trip.
expect_rc 7 "$VIGIL" run -- /bin/sh -c 'exit 7'
out=$("$VIGIL" run -- printf '%s|' "a b" "it's" '' '$HOME' 2>"$TMP/err")
expect_eq "arguments arrive as given" "$out" "a b|it's||\$HOME|"

# It is the Debian kernel we fetched, booted with KASLR on.
out=$("$VIGIL" run -- sh -c 'uname -r; cat /proc/cmdline; grep -w _text /proc/kallsyms' 2>"$TMP/err")
expect_eq "guest runs the fetched kernel" "$(echo "$out" | sed -n 1p)" "$(cat "$GUEST/release")"
check "no nokaslr on the kernel command line" sh -c "! echo '$out' | grep -q nokaslr"
text1=$(echo "$out" | awk '$3 == "_text" { print $1 }')
check "kernel base readable ($text1)" test -n "$text1"
# Two boots land on the same slot with a probability of about 1/500: a
# third boot tells bad luck from a fixed base.
text2=$text1
for _ in 1 2; do
    text2=$("$VIGIL" run -- grep -w _text /proc/kallsyms | awk '$3 == "_text" { print $1 }')
    [ "$text2" != "$text1" ] && break
done
check "KASLR moves the kernel between boots ($text1, $text2)" test "$text1" != "$text2"

# The plugin loads, checks the API version and sees every vCPU.
"$VIGIL" run -v --smp 2 -- true 2>"$TMP/err"
check "plugin reports 2 vCPUs" grep -q 'vigil-plugin: loaded, API 7 .*2 vCPUs' "$TMP/err"
check "both vCPUs initialised" grep -q 'vigil-plugin: exit, 2 vCPUs initialised' "$TMP/err"

# Piped stdin is not forwarded: it would be echoed into the output.
out=$(echo ignored | "$VIGIL" run --timeout 60 -- sh -c 'cat </dev/null; echo done')
expect_eq "piped stdin leaves the output clean" "$out" "done"

# The kernel console goes to a file when asked.
"$VIGIL" run --console "$TMP/console.log" -- true
check "console log has the kernel's power-down line" grep -q 'reboot: Power down' "$TMP/console.log"

# Failures: each with a message and its own exit status.
expect_rc 124 "$VIGIL" run --timeout 3 -- sleep 60
head -c 4096 /dev/urandom >"$TMP/garbage"
"$VIGIL" run --kernel "$TMP/garbage" -- true 2>"$TMP/err"
expect_eq "not a kernel: exit 125" "$?" 125
check "not a kernel: QEMU's reason shown" grep -q 'QEMU said' "$TMP/err"
"$VIGIL" run --kernel "$TMP/missing" -- true 2>"$TMP/err"
expect_eq "missing kernel: exit 2" "$?" 2
check "missing kernel: named in the message" grep -q "$TMP/missing" "$TMP/err"
"$VIGIL" run --qemu "$TMP/no-qemu" -- true 2>"$TMP/err"
expect_eq "missing QEMU: exit 125" "$?" 125
check "missing QEMU: says so" grep -q 'cannot execute' "$TMP/err"
expect_rc 2 "$VIGIL" run --smp 0 -- true
expect_rc 2 "$VIGIL" run --accel xen -- true

# Interrupt: vigil stops the guest and exits 130.
mkdir "$TMP/rd"
TMPDIR=$TMP/rd "$VIGIL" run -- sh -c 'echo started; sleep 60' >"$TMP/started" 2>"$TMP/err" &
pid=$!
wait_for_line "$TMP/started" '^started' 120
kill -INT $pid
wait $pid
expect_eq "SIGINT: exit 130" "$?" 130
for _ in $(seq 50); do
    pgrep -f "[q]emu-system.*$TMP/rd" >/dev/null || break
    sleep 0.1
done
check "no QEMU left behind" sh -c "! pgrep -f '[q]emu-system.*$TMP/rd' >/dev/null"
check "run directory removed" sh -c "[ -z \"\$(ls '$TMP/rd')\" ]"

done_testing
