#!/bin/sh
# The build's hardening, read back from what it produced (Makefile HARDEN,
# LDHARDEN, EXE_LDFLAGS): executables are PIE with full RELRO (GNU_RELRO
# and BIND_NOW), the two shared objects have full RELRO, objects carry the
# CET property note of -fcf-protection, and the stack protector is linked.
. tests/functions.sh
requires readelf
B=$VIGIL_BUILD
requires_file "$VIGIL" "$B/vigil-qemu.so" "$B/nbdkit-vigil-filter.so" \
    "$B/tests/test-ring" "$B/obj/cli/main.o" "$B/obj/lib/trace/detect.o"

full_relro() {
    check "$1: GNU_RELRO segment" sh -c "readelf -lW '$1' | grep -q GNU_RELRO"
    check "$1: BIND_NOW" sh -c "readelf -dW '$1' | grep -Eq 'BIND_NOW|Flags:.* NOW'"
}

for exe in "$VIGIL" "$B/tests/test-ring"; do
    expect_eq "$exe: ELF type" \
        "$(readelf -hW "$exe" | sed -n 's/^ *Type: *\([A-Z]*\).*/\1/p')" DYN
    check "$exe: PIE flag" sh -c "readelf -dW '$exe' | grep -q 'Flags:.*PIE'"
    full_relro "$exe"
done
for so in "$B/vigil-qemu.so" "$B/nbdkit-vigil-filter.so"; do
    full_relro "$so"
done
for o in "$B/obj/cli/main.o" "$B/obj/lib/trace/detect.o"; do
    check "$o: -fcf-protection (IBT, SHSTK property)" \
        sh -c "readelf -nW '$o' | grep -q 'IBT, SHSTK'"
done
check "vigil: stack protector linked" \
    sh -c "readelf -sW --dyn-syms '$VIGIL' | grep -q __stack_chk_fail"
done_testing
