"""Check a profile's symbols against /proc/kallsyms lines read in the
guest (test-profile-guest): every symbol at its link address plus this
boot's KASLR slide (per-CPU ones, type A, do not move). Writes the slide
to SLIDE_FILE; exits 1 on any mismatch.
  profile_symbols.py PROFILE.json KALLSYMS_LINES SLIDE_FILE"""
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
