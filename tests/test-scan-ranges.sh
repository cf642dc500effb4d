#!/bin/sh
# Long bounded ranges ({0-32000} and the like, which take the linear
# verification path) against clamscan as the oracle: matches just inside and
# just outside each range, repeated near misses, offsets, logical
# signatures.  The (file, signature) detections must equal clamscan's, for
# whole files and for small feeds.  (Counts of a ranged subsignature are
# kept away from inputs where several first parts share one last part:
# vigil counts first parts there, clamscan last parts; docs/signatures.md.)
. tests/functions.sh
requires clamscan python3
requires_file "$VIGIL"

CLAM_RAW="--allmatch --no-summary --infected --normalize=no --scan-archive=no
 --scan-pe=no --scan-elf=no --scan-ole2=no --scan-pdf=no --scan-swf=no
 --scan-html=no --scan-xmldocs=no --scan-hwp3=no --scan-onenote=no
 --scan-image=no --scan-image-fuzzy-hash=no --scan-mail=no --phishing-sigs=no
 --phishing-scan-urls=no --heuristic-alerts=no --bytecode=no --disable-cache
 --max-filesize=4000M --max-scansize=4000M"

cat >"$TMP/r.ndb" <<'EOF'
R1:0:*:4142{0-32000}4344
R2:0:*:4142{100-20000}4344{0-30000}4546
R3:0:*:4142{30000}4344
R4:0:10,100:4142{0-32000}4344
R5:0:*:4142{0-300}4344
R6:0:*:4?4142{0-32000}43??4445
EOF
cat >"$TMP/r.ldb" <<'EOF'
L1;Target:0;0&1;6c6f72656d{0-32000}697073756d;646f6c6f72{0-32000}616d6574
L2;Target:0;0>2;4748{0-32000}494a
EOF

mkdir "$TMP/files"
python3 tests/range_files.py "$TMP/files"

clam_pairs() {
    sed -n 's/\.UNOFFICIAL FOUND$//p' | sed 's/: / /' | sort -u
}
vigil_pairs() {
    sed -n 's/ FOUND$//p' | sed 's/: / /' | sort -u
}

dbs="-d $TMP/r.ndb -d $TMP/r.ldb"
# shellcheck disable=SC2086
clamscan $CLAM_RAW $dbs "$TMP/files" 2>"$TMP/clam.err" | clam_pairs >"$TMP/clam"
grep -q . "$TMP/clam" || fail "clamscan found nothing (see $TMP/clam.err)"
for fs in 0 4093 7; do
    opt=""
    [ "$fs" -eq 0 ] || opt="--feed-size $fs"
    # shellcheck disable=SC2086
    "$VIGIL" scan --no-summary --strict -z $opt $dbs "$TMP/files" |
        vigil_pairs >"$TMP/vigil.$fs"
    if cmp -s "$TMP/clam" "$TMP/vigil.$fs"; then
        echo "ok: feed size $fs: same detections as clamscan ($(wc -l <"$TMP/clam"))"
    else
        echo "NOT OK: feed size $fs: detections differ from clamscan"
        diff "$TMP/clam" "$TMP/vigil.$fs" | sed 's/^/    /'
        TESTS_FAILED=$((TESTS_FAILED + 1))
    fi
done
# The inputs exercise both sides of each range.
for want in "near R1" "far R1" "three R2" "fixed R3" "offset-in R4" \
    "lorem L1" "many L2" "nibble R6"; do
    grep -q "/${want%% *} ${want#* }\$" "$TMP/clam" ||
        fail "clamscan does not report $want: the inputs are wrong"
done
for miss in "past R1" "bcbc R1" "three-past R2" "fixed-short R3" \
    "offset-out R4" "lorem-past L1" "many-past L2"; do
    ! grep -q "/${miss%% *} ${miss#* }\$" "$TMP/clam" ||
        fail "clamscan reports $miss: the inputs are wrong"
done
done_testing
