#!/bin/sh
# Differential test: `vigil scan` against clamscan as the oracle.
#
# tests/data/sig/gen-diff.py generates signatures exercising every supported
# construct (.ndb hex syntax and offsets, .db, .ldb expressions and
# modifiers, .hdb/.hsb) and files with planted instances and near misses,
# some across feed and buffer boundaries.  The set of (file, signature)
# detections must equal clamscan's (--allmatch, every non-signature engine
# off, no default database).  vigil must also give the same set whatever the
# feed size, and when reading stdin (size unknown: EOF-n evaluated at the
# end).  Deliberate differences are avoided by the generator and listed in
# docs/signatures.md.
. tests/functions.sh
requires clamscan python3
requires_file "$VIGIL"

SEEDS=${VIGIL_DIFF_SEEDS:-"11 12 13"}
CLAM_RAW="--allmatch --no-summary --infected --normalize=no --scan-archive=no
 --scan-pe=no --scan-elf=no --scan-ole2=no --scan-pdf=no --scan-swf=no
 --scan-html=no --scan-xmldocs=no --scan-hwp3=no --scan-onenote=no
 --scan-image=no --scan-image-fuzzy-hash=no --scan-mail=no --phishing-sigs=no
 --phishing-scan-urls=no --heuristic-alerts=no --bytecode=no --disable-cache
 --max-filesize=4000M --max-scansize=4000M"

# "path sig" pairs, sorted and unique.
clam_pairs() {
    sed -n 's/\.UNOFFICIAL FOUND$//p' | sed 's/: / /' | sort -u
}
vigil_pairs() {
    sed -n 's/ FOUND$//p' | sed 's/: / /' | sort -u
}

compare() {
    what=$1 want=$2 got=$3
    if cmp -s "$want" "$got"; then
        echo "ok: $what ($(wc -l <"$want") detections)"
    else
        echo "NOT OK: $what"
        diff "$want" "$got" | head -n 40 | sed 's/^/    /'
        TESTS_FAILED=$((TESTS_FAILED + 1))
    fi
}

for seed in $SEEDS; do
    d=$TMP/s$seed
    python3 tests/data/sig/gen-diff.py --seed "$seed" --out "$d" ||
        fail "generator failed"
    dbs="-d $d/diff.ndb -d $d/diff.db -d $d/diff.ldb -d $d/diff.hdb -d $d/diff.hsb"

    # shellcheck disable=SC2086
    clamscan $CLAM_RAW $dbs "$d/files" 2>"$d/clam.err" | clam_pairs >"$d/clam"
    grep -q . "$d/clam" || fail "clamscan found nothing (see $d/clam.err)"
    # shellcheck disable=SC2086
    "$VIGIL" scan --no-summary --strict -z $dbs "$d/files" | vigil_pairs >"$d/vigil"
    compare "seed $seed: same detections as clamscan" "$d/clam" "$d/vigil"

    for fs in 4093 65537; do
        # shellcheck disable=SC2086
        "$VIGIL" scan --no-summary -z --feed-size $fs $dbs "$d/files" |
            vigil_pairs >"$d/vigil.$fs"
        compare "seed $seed: feed size $fs" "$d/vigil" "$d/vigil.$fs"
    done
    # Tiny feeds on the first files only (each byte is a call).
    small=$(ls "$d/files" | head -n 12 | sed "s|^|$d/files/|")
    # shellcheck disable=SC2086
    "$VIGIL" scan --no-summary -z --feed-size 1 $dbs $small | vigil_pairs >"$d/vigil.1"
    for f in $small; do grep "^$f " "$d/vigil"; done | sort -u >"$d/want.1"
    compare "seed $seed: feed size 1" "$d/want.1" "$d/vigil.1"

    # stdin: the size is not known in advance.
    : >"$d/vigil.stdin"
    for f in $small; do
        # shellcheck disable=SC2086
        "$VIGIL" scan --no-summary -z --feed-size 3001 $dbs - <"$f" |
            sed "s|^stdin:|$f:|" | vigil_pairs >>"$d/vigil.stdin"
    done
    sort -u -o "$d/vigil.stdin" "$d/vigil.stdin"
    compare "seed $seed: stdin (unknown size)" "$d/want.1" "$d/vigil.stdin"

    # Target types: clamscan with its PE/ELF engines on recognises the
    # same objects vigil detects by magic.
    clamscan --allmatch --no-summary --infected --normalize=no \
        --heuristic-alerts=no --scan-archive=no --bytecode=no --disable-cache \
        -d "$d/target.ndb" "$d/tfiles" 2>/dev/null | clam_pairs >"$d/tclam"
    "$VIGIL" scan --no-summary -z -d "$d/target.ndb" "$d/tfiles" |
        vigil_pairs >"$d/tvigil"
    compare "seed $seed: target types" "$d/tclam" "$d/tvigil"
done
done_testing
