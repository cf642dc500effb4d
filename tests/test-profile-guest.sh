# The profile against the running kernel it describes: boot the guest (KASLR
# on), read its /proc/kallsyms, and check that every symbol of the profile is
# there at its link-time address plus one and the same KASLR slide, and that
# per-CPU symbols, which KASLR does not move, have exactly their address.
. tests/functions.sh
requires_qemu; requires jq python3
requires_file "$VIGIL" "$GUEST/vmlinuz" "$GUEST/initramfs.cpio.gz" \
    "$GUEST/trixie/vmlinuz"

# Debian 12's kernel and Debian 13's (the initramfs's modules only fit the
# first; nothing here needs them).
for kernel in "$GUEST/vmlinuz" "$GUEST/trixie/vmlinuz"; do
echo "# $kernel"
"$VIGIL" profile "$kernel" -o "$TMP/p.json" || fail "vigil profile"
jq -r '.symbols | to_entries[] | select(.value != null) | .key' "$TMP/p.json" \
    >"$TMP/names"
n=$(wc -l <"$TMP/names")
check "the profile names symbols ($n)" test "$n" -ge 10
pattern=$(tr '\n' '|' <"$TMP/names" | sed 's/|$//')
"$VIGIL" run --kernel "$kernel" -- sh -c "grep -E ' ($pattern)\$' /proc/kallsyms" >"$TMP/live" ||
    fail "reading /proc/kallsyms in the guest"

python3 tests/profile_symbols.py "$TMP/p.json" "$TMP/live" "$TMP/slide"
expect_eq "every profile symbol at link address + slide" "$?" 0
# KASLR on: a zero slide is one possible draw among hundreds, so it takes
# two zero slides in a row to fail.
if [ "$(cat "$TMP/slide")" = 0 ]; then
    echo "# slide 0 this boot; booting again"
    "$VIGIL" run --kernel "$kernel" -- sh -c "grep -w _text /proc/kallsyms" \
        >"$TMP/text2" || fail "reading /proc/kallsyms in the guest"
    link=$(jq -r .symbols._text "$TMP/p.json" | sed 's/^0x//')
    live=$(cut -d' ' -f1 "$TMP/text2")
    check "KASLR on (a non-zero slide in one of two boots)" \
        [ "$live" != "$link" ]
fi
done

done_testing
