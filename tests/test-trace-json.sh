#!/bin/sh
# Random events (from build/tests/test-trace-format --random) must all be
# valid JSON to two independent parsers, with the documented key order and
# strings that map back to bytes (no code point above U+00FF).
. tests/functions.sh
requires python3
bin=$VIGIL_BUILD/tests/test-trace-format
requires_file "$bin"

out=$TMP/events.jsonl

"$bin" --random 20000 7 >"$out" || fail "generating events"
echo "ok: $(wc -l <"$out") random events generated"

python3 tests/trace_json_check.py "$out" || fail "python3 json"

if command -v jq >/dev/null 2>&1; then
    n=$(jq -c . "$out" | wc -l) || fail "jq"
    [ "$n" -eq 20000 ] || fail "jq parsed $n of 20000"
    echo "ok: jq parsed $n events"
fi
done_testing
