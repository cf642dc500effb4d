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

python3 - "$TMP/p.json" "$TMP/live" "$TMP/slide" <<'EOF'
import json, sys
prof = json.load(open(sys.argv[1]))
live = {}
for line in open(sys.argv[2]):
    addr, kind, name = line.split()[:3]
    live.setdefault(name, []).append((int(addr, 16), kind))
syms = {k: int(v, 16) for k, v in prof["symbols"].items() if v is not None}
slide = live["_text"][0][0] - syms["_text"]
print(f"KASLR slide this boot: {slide:#x}")
open(sys.argv[3], "w").write(f"{slide}\n")
bad = 0
for name, link in sorted(syms.items()):
    seen = live.get(name)
    if not seen:
        print(f"NOT OK: {name} is not in /proc/kallsyms")
        bad += 1
        continue
    # Per-CPU symbols (type A, small offsets) do not move with KASLR.
    want = {link + (0 if kind in "aA" else slide) for _, kind in seen}
    got = {a for a, _ in seen}
    if got & want:
        print(f"ok: {name} at {link:#x} + slide")
    else:
        print(f"NOT OK: {name}: profile {link:#x}, live {[hex(a) for a in got]}")
        bad += 1
sys.exit(1 if bad else 0)
EOF
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
