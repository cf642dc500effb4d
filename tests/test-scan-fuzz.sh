#!/bin/sh
# Fuzz smoke run of the signature loader, the streaming matcher and the
# cost and exactness of verification (sigmatch: a super-linear input runs
# into the 10 s timeout), libFuzzer + ASan + UBSan, starting from the
# committed seed corpora.
# New inputs go to a temporary directory; the committed corpus stays small.
. tests/functions.sh
requires clang
secs=${VIGIL_FUZZ_SECONDS:-20}
for t in sigparse sigscan sigmatch; do
    bin=$VIGIL_BUILD/fuzz/fuzz-$t
    if [ ! -x "$bin" ] || [ "fuzz/fuzz-$t.c" -nt "$bin" ]; then
        make -s "BUILD=$VIGIL_BUILD" "$bin" || fail "cannot build $bin"
    fi
    mkdir -p "$TMP/$t"
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 \
        -artifact_prefix="$TMP/$t-" "$TMP/$t" "fuzz/corpus/$t" \
        >"$TMP/$t.log" 2>&1
    rc=$?
    tail -n 3 "$TMP/$t.log"
    if [ $rc -ne 0 ]; then
        grep -E 'ERROR|SUMMARY|Test unit written' "$TMP/$t.log" | head -n 20
        for a in "$TMP/$t"-*; do
            [ -f "$a" ] && od -c "$a" | head -n 20
        done
        fail "fuzz-$t found a problem"
    fi
    echo "ok: fuzz-$t ran ${secs}s"
done
done_testing
