# The QEMU that vigil runs: `vigil doctor` names it and what its plugin API
# allows; `vigil run` uses it by default, and neither it nor the bubblewrap
# around it outlives vigil.
. tests/functions.sh
requires_file "$VIGIL" "$VIGIL_BUILD/vigil-qemu.so" "$GUEST/vmlinuz"
requires_qemu

"$VIGIL" doctor >"$TMP/doctor"
expect_eq "doctor: exit 0 with a QEMU that loads the plugin" "$?" 0
cat "$TMP/doctor"
ver=$(sed -n 's/^version: *QEMU emulator version \([0-9]*\.[0-9]*\).*/\1/p' "$TMP/doctor")
check "doctor: QEMU $ver >= 11.1" sh -c "printf '11.1\n%s\n' '$ver' | sort -V -C"
check "doctor: plugin API 7 offered" grep -Eq '^plugin: .*offers API [0-7]\.\.(7|[89]|[1-9][0-9])$' "$TMP/doctor"
check "doctor: can act" grep -q '^features: observe .*act' "$TMP/doctor"

# The QEMU doctor names is the one vigil run starts, and the plugin loads.
"$VIGIL" run -v -- true 2>"$TMP/err"
first=$(sed -n 's/^qemu: *\([^ ]*\).*/\1/p' "$TMP/doctor")
case $first in
*/usr/bin/qemu-system-x86_64) runner=bwrap ;;
*) runner=$first ;;
esac
check "run: starts $runner" grep -q "^vigil: $runner " "$TMP/err"
check "run: plugin loads with API 7" grep -q 'vigil-plugin: loaded, API 7 ' "$TMP/err"

# A QEMU too old for the plugin: doctor says what it offers and fails.
cat >"$TMP/old-qemu" <<'EOS'
#!/bin/sh
case "$*" in
*--version*) echo "QEMU emulator version 10.0.2 (test double)"; exit 0 ;;
esac
echo "qemu-system-x86_64: Could not load plugin x: plugin requires API version 7, but this QEMU supports only up to version 4" >&2
exit 1
EOS
chmod +x "$TMP/old-qemu"
"$VIGIL" doctor --qemu "$TMP/old-qemu" >"$TMP/doctor-old"
expect_eq "doctor, old QEMU: exit 1" "$?" 1
check "doctor, old QEMU: API range read from QEMU's refusal" grep -q 'offers API up to 4' "$TMP/doctor-old"
check "doctor, old QEMU: says it cannot act" grep -q 'observe but not act' "$TMP/doctor-old"
"$VIGIL" doctor --qemu "$TMP/nothing-here" >"$TMP/doctor-none"
expect_eq "doctor, missing QEMU: exit 1" "$?" 1

# vigil killed outright: QEMU (under bubblewrap or not) goes with it.
mkdir "$TMP/rd"
TMPDIR=$TMP/rd "$VIGIL" run -- sleep 120 2>/dev/null &
pid=$!
for _ in $(seq 1 50); do
    [ -s "$TMP"/rd/vigil-run.*/qemu.pid ] 2>/dev/null && break
    sleep 0.2
done
qpid=$(cat "$TMP"/rd/vigil-run.*/qemu.pid 2>/dev/null)
check "QEMU wrote its pid ($qpid)" test -n "$qpid"
kill -KILL $pid
wait $pid 2>/dev/null
gone=no
for _ in $(seq 1 50); do
    kill -0 "$qpid" 2>/dev/null || { gone=yes; break; }
    sleep 0.2
done
expect_eq "QEMU gone after vigil was killed" "$gone" yes

done_testing
