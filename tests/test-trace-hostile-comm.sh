#!/bin/sh
# A guest program whose name (comm) holds an escape sequence, DEL and a
# byte that is not UTF-8 writes a signature to a scanned disk under
# --trace. The detection must still name it as the writer, its comm
# escaped byte by byte (docs/events.md), and neither output form may hand
# a terminal a raw control byte: every line of the JSON and of the text
# trace is printable ASCII.
. tests/functions.sh
requires_qemu; requires nbdkit python3
requires_file "$VIGIL" "$VIGIL_BUILD/nbdkit-vigil-filter.so" \
    "$GUEST/vmlinuz" "$GUEST/initramfs.cpio.gz"
DB=tests/data/nbd/test.ndb
SIG1=VIGIL-TEST-SIGNATURE-ONE
# In the guest: copy the writer under the hostile name and run it.
CMD="mkdir -p /tmp && n=\$(printf 'ev\\033[2J\\177\\377il') &&
cp \$(command -v vigil-diskwrite) \"/tmp/\$n\" &&
\"/tmp/\$n\" --direct /dev/vda 8192 4084 $SIG1 4096"

for fmt in json text; do
    truncate -s 1M "$TMP/$fmt.img"
    "$VIGIL" run --trace all --format $fmt -o "$TMP/tr.$fmt" \
        --disk "$TMP/$fmt.img,scan=alert" --db "$DB" -- sh -c "$CMD" \
        >"$TMP/out.$fmt" 2>&1
    expect_eq "$fmt: vigil run status" "$?" 0
    expect_eq "$fmt: every line is printable ASCII" \
        "$(python3 tests/hostile_comm.py printable "$TMP/tr.$fmt")" "0 []"
done
# The writers' comms as bytes (each code point below U+0100 is one byte).
got=$(python3 tests/hostile_comm.py writers "$TMP/tr.json")
expect_eq "json: the detection names the writer, its comm byte for byte" \
    "$got" "$(printf 'ev\033[2J\177\377il' | od -An -tx1 | tr -d ' \n'):pwrite64"
check "text: the detection is in the trace" grep -q '^+++ vigil: {"type":"detection"' "$TMP/tr.text"
done_testing
