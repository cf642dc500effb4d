#!/bin/bash
# vigil profile end to end, on the Debian kernels `make check` downloads:
#  - struct member offsets and sizes against two peers reading the same BTF
#    (pahole from dwarves, bpftool), on the vmlinux vigil extracts;
#  - --symbols shape and consistency with the profile;
#  - bad input: one error line, exit 1, no output file, no crash.
. tests/functions.sh
requires pahole bpftool jq objcopy od dd
requires_file "$VIGIL" build/guest/vmlinuz build/guest/trixie/vmlinuz

# Offset and size of member $2 in `pahole -C` output file $1, as "OFF SIZE"
# ("OFF bitfield" for bitfields). pahole prints anonymous structs and
# unions inline with offsets from the start of the outer struct.
pahole_member() {
    awk -v m="$2" '
        {
            re = "[ \t*]" m "(\\[[0-9]+\\])*(:[0-9]+)?;[ \t]+/\\*[ 0-9:]+\\*/"
            if (match($0, re)) {
                c = substr($0, RSTART, RLENGTH)
                sub(/.*\/\*/, "", c); sub(/\*\//, "", c)
                if (c ~ /:/) { split(c, a, ":"); print a[1] + 0, "bitfield" }
                else { split(c, a, " "); print a[1], a[2] }
                exit
            }
        }' "$1"
}

check_kernel() {
    local dir=$1 k release tag out vm start ms filt compared mismatched
    local s m off size bits got want bad n
    k=$dir/vmlinuz
    release=$(cat "$dir/release")
    tag=$release
    out=$TMP/$(basename "$dir").json
    vm=$TMP/$(basename "$dir").vmlinux

    start=$(date +%s%N)
    expect_rc 0 "$VIGIL" profile "$k" -o "$out"
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    echo "info: $tag: profile took ${ms} ms"
    expect_eq "$tag: format" "$(jq -r '.format + " " + (.version|tostring)' "$out")" \
        "vigil-profile 1"
    expect_eq "$tag: release from linux_banner" "$(jq -r .kernel.release "$out")" "$release"
    echo "info: $tag: compression $(jq -r .kernel.compression "$out"), kallsyms order: $(jq -r '.kallsyms.table_order | join(" ")' "$out")"

    expect_rc 0 "$VIGIL" profile "$k" --extract-vmlinux "$vm"
    expect_eq "$tag: extracted vmlinux is ELF" "$(head -c 4 "$vm" | od -An -c | tr -d ' ')" '177ELF'
    expect_eq "$tag: extracted size matches profile" "$(stat -c %s "$vm")" \
        "$(jq -r .kernel.vmlinux_size "$out")"

    # Same profile from the bare vmlinux as from the bzImage, apart from
    # the fields describing the container.
    expect_rc 0 "$VIGIL" profile "$vm" -o "$out.elf"
    filt='del(.kernel.compression, .kernel.boot_protocol)'
    expect_eq "$tag: profile of bzImage = profile of its vmlinux" \
        "$(jq -S "$filt" "$out" | md5sum)" "$(jq -S "$filt" "$out.elf" | md5sum)"

    # Peer 1: pahole, every direct member (dotted paths cross named members
    # and are checked through their own struct, e.g. sock_common).
    compared=0 mismatched=0
    jq -r '.structs | to_entries[] | select(.value != null) | .key as $s
            | .value.members | to_entries[] | select(.value != null)
            | select(.key | contains(".") | not)
            | "\($s) \(.key) \(.value.offset) \(.value.size) \(.value.bit_size // 0)"' "$out" \
        > "$TMP/members"
    # One pahole run for all structs, split into one file per struct.
    pahole -F btf -C "$(cut -d' ' -f1 "$TMP/members" | sort -u | paste -sd,)" \
        "$vm" 2>/dev/null |
        awk -v dir="$TMP" '/^(struct|union) [A-Za-z0-9_]+ \{/ { f = dir "/pahole." $2 }
                           f != "" { print > f } /^\};/ { close(f); f = "" }'
    while read -r s m off size bits; do
        got=$(pahole_member "$TMP/pahole.$s" "$m")
        if [ "$bits" != 0 ]; then want="$off bitfield"; else want="$off $size"; fi
        compared=$((compared + 1))
        if [ "$got" != "$want" ]; then
            mismatched=$((mismatched + 1))
            echo "    $s.$m: vigil '$want' pahole '$got'"
        fi
    done <"$TMP/members"
    expect_eq "$tag: pahole sees task_struct.comm where vigil does" \
        "$(grep -o 'comm\[16\]; *\/\* *[0-9]*' "$TMP/pahole.task_struct" | grep -o '[0-9]*$')" \
        "$(jq -r '.structs.task_struct.members.comm.offset' "$out")"
    rm -f "$TMP"/pahole.*
    check "$tag: $compared member offsets/sizes agree with pahole ($mismatched differ)" \
        test "$compared" -ge 80 -a "$mismatched" -eq 0

    # Peer 2: bpftool, struct sizes.
    bpftool btf dump file "$vm" format raw 2>/dev/null |
        grep -E "^\[[0-9]+\] (STRUCT|UNION) '" >"$TMP/raw"
    bad=0 n=0
    while read -r s want; do
        got=$(grep -m1 -E "^\[[0-9]+\] (STRUCT|UNION) '$s' size=" "$TMP/raw" |
            sed 's/.* size=\([0-9]*\).*/\1/')
        n=$((n + 1))
        [ "$got" = "$want" ] || { bad=$((bad + 1)); echo "    sizeof($s): vigil $want bpftool $got"; }
    done < <(jq -r '.structs | to_entries[] | select(.value != null) | "\(.key) \(.value.size)"' "$out")
    rm -f "$TMP/raw"
    check "$tag: $n struct sizes agree with bpftool ($bad differ)" test "$n" -ge 15 -a "$bad" -eq 0

    # --symbols: /proc/kallsyms shape, one line per kallsyms entry.
    expect_rc 0 "$VIGIL" profile "$k" --symbols -o "$TMP/syms"
    expect_eq "$tag: --symbols lists every kallsyms entry" \
        "$(wc -l <"$TMP/syms")" "$(jq -r .kallsyms.count "$out")"
    expect_eq "$tag: every --symbols line is 'ADDR TYPE NAME'" \
        "$(grep -cvE '^[0-9a-f]{16} [A-Za-z?] [^ ]+$' "$TMP/syms")" 0
    for s in entry_SYSCALL_64 init_task __per_cpu_offset; do
        expect_eq "$tag: --symbols and profile agree on $s" \
            "0x$(awk -v s="$s" '$3 == s && $2 ~ /[A-Z]/ { sub(/^0+/, "", $1); print $1; exit }' "$TMP/syms")" \
            "$(jq -r ".symbols.$s" "$out")"
    done
}

# A bad input must give exit 1, one "vigil: error:" line mentioning $3,
# and no output file.
bad_input() {
    local name=$1 file=$2 msg=$3 rc
    rm -f "$TMP/bad.json"
    "$VIGIL" profile "$file" -o "$TMP/bad.json" >"$TMP/stdout" 2>"$TMP/stderr"
    rc=$?
    expect_eq "bad input ($name): exit status" "$rc" 1
    expect_eq "bad input ($name): one error line" \
        "$(grep -c '^vigil: error: ' "$TMP/stderr") $(wc -l <"$TMP/stderr")" "1 1"
    check "bad input ($name): message mentions '$msg': $(head -c 200 "$TMP/stderr")" \
        grep -q -- "$msg" "$TMP/stderr"
    check "bad input ($name): no output file" test ! -e "$TMP/bad.json"
}

# Byte offset of the compressed payload in bzImage $1 (boot protocol:
# setup_sects at 0x1f1, payload_offset at 0x248).
payload_offset() {
    sects=$(od -An -tu1 -j497 -N1 "$1" | tr -d ' ')
    [ "$sects" -ne 0 ] || sects=4
    poff=$(od -An -tu4 -j584 -N4 "$1" | tr -d ' ')
    echo $(( (sects + 1) * 512 + poff ))
}

# Overwrite $1 at byte $2 with the bytes on stdin.
patch_at() {
    dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

check_kernel build/guest
check_kernel build/guest/trixie

# ---- bad input ----
k=build/guest/vmlinuz
vm=$TMP/guest.vmlinux
: >"$TMP/empty"
bad_input "empty file" "$TMP/empty" "too short"
head -c 65536 /dev/urandom >"$TMP/random"
bad_input "random bytes" "$TMP/random" "not a bzImage"
head -c 300000 "$k" >"$TMP/trunc"
bad_input "truncated bzImage" "$TMP/trunc" "truncated"
for kk in build/guest/vmlinuz build/guest/trixie/vmlinuz; do
    off=$(payload_offset "$kk")
    len=$(stat -c %s "$kk")
    cp "$kk" "$TMP/corrupt"
    head -c 8192 /dev/zero | tr '\0' '\377' | patch_at "$TMP/corrupt" $(( off + (len - off) / 2 ))
    bad_input "corrupt payload of $kk" "$TMP/corrupt" "corrupt"
done
cp "$k" "$TMP/unknown"
printf 'ABCD' | patch_at "$TMP/unknown" "$(payload_offset "$k")"
bad_input "unknown compression" "$TMP/unknown" "unknown compression"
cp "$k" "$TMP/bzip2"
printf 'BZh9' | patch_at "$TMP/bzip2" "$(payload_offset "$k")"
bad_input "bzip2 payload" "$TMP/bzip2" "bzip2-compressed, which is not supported"
objcopy -R .BTF "$vm" "$TMP/nobtf.elf"
bad_input "ELF without .BTF" "$TMP/nobtf.elf" "no .BTF section"
objcopy -R .rodata "$vm" "$TMP/norodata.elf"
bad_input "ELF without kallsyms" "$TMP/norodata.elf" "no kallsyms"
bad_input "user-space ELF" "$VIGIL" "no .BTF section"
bad_input "directory" build "not a regular file"
bad_input "missing file" "$TMP/does-not-exist" "No such file"

# ---- usage ----
expect_rc 2 "$VIGIL" profile 2>/dev/null
expect_rc 2 "$VIGIL" profile --no-such-option "$k" 2>/dev/null
expect_rc 2 "$VIGIL" profile "$k" "$k" 2>/dev/null
expect_rc 2 "$VIGIL" profile "$k" --extract-vmlinux "$TMP/x" --symbols 2>/dev/null
expect_rc 0 "$VIGIL" profile --help >/dev/null
expect_rc 1 "$VIGIL" profile "$k" -o "$TMP/no/such/dir/p.json" 2>/dev/null

done_testing
