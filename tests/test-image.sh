#!/bin/sh
# vigil run --image: a Debian 12 image built by scripts/build-image.sh boots
# with its own kernel and initrd, runs commands through its guest agent and
# is traced whole; broken images are refused and left as they were.
. tests/functions.sh
requires_qemu; requires jq debugfs sha256sum qemu-img qemu-nbd python3
requires_file "$VIGIL"
# Few boots: CPU is scarce.
. tests/image.sh
. tests/logd.sh
test_image bookworm d12.raw
RUN="$VIGIL run --smp 1 --memory 1024 --timeout 1200"
# The kernel profile cache (docs/image.md), this test's own.
export VIGIL_PROFILE_CACHE="$TMP/profiles"

# A command through the agent, traced from outside: its output and status
# come back, and the trace holds the boot's processes with nothing dropped.
# The same trace streams to a logd over TCP.
head -c 32 /dev/urandom >"$TMP/key"
DATA=$((20000 + ($$ + 11) % 20000))
CTL=$((DATA + 1))
start_logd "$TMP/logd" --control "udp://127.0.0.1:$CTL" --no-db
$RUN --image "$IMG" --trace all -o "$TMP/t.jsonl" \
    --log "tcp://127.0.0.1:$DATA" --key "$TMP/key" --log-control-port $CTL \
    --log-wait 10 \
    -- sh -c 'echo out-$((6 * 7)); echo err-line >&2; exit 7' \
    >"$TMP/out" 2>"$TMP/err"
expect_eq "the command's exit status comes back" "$?" 7
expect_eq "the command's stdout comes back" "$(cat "$TMP/out")" out-42
check "the command's stderr comes back" grep -qx err-line "$TMP/err"
d=$(jq -s '[.[] | select(.type == "summary")][0].dropped_records' "$TMP/t.jsonl")
expect_eq "no records dropped" "$d" 0
procs=$(jq -r 'select(.type == "syscall") | .pid' "$TMP/t.jsonl" | sort -u | wc -l)
check "many processes traced ($procs)" test "$procs" -ge 20
comms=$(jq -r 'select(.type == "syscall") | .comm' "$TMP/t.jsonl" | sort -u)
for c in systemd systemd-journal qemu-ga; do
    check "$c is traced" sh -c "echo '$comms' | grep -qx '$c'"
done
wait_for_line "$TMP/logd/stats.json" '"ended":true' 60
stop_logd
grep '"type":"syscall"' "$TMP/t.jsonl" | sort >"$TMP/local"
cat "$TMP/logd"/*.jsonl | grep '"type":"syscall"' | sort >"$TMP/remote"
check "--log: logd got the very same $(wc -l <"$TMP/local") events" \
    cmp -s "$TMP/local" "$TMP/remote"
rm -f "$TMP/local" "$TMP/remote"
# That run derived the kernel's profile and cached it by its build id.
prof=$(ls "$TMP/profiles"/*.json 2>/dev/null)
id=$(basename "${prof:-none}" .json)
expect_eq "profile: cached under the kernel's build id" \
    "$(jq -r .cache.build_id "${prof:-/dev/null}" 2>/dev/null)" "$id"
check "profile: the build id is hex ($id)" sh -c "echo '$id' | grep -Eqx '[0-9a-f]{40}'"
stamp() { stat -c %y "$prof"; }
before=$(stamp)

# A service that systemd starts (vigil-test-write.service, on with
# vigil.test=write) writes the test signature to the root file system and
# fsyncs it.  The image is qcow2 (made from the cached raw one): qemu-nbd
# serves its disk as raw to vigil's filter, so the scan sees the guest's
# own bytes.  Under deny its write fails in the guest, the detection in the
# trace names the process that was writing, and the qcow2's disk holds in
# that place what it held before.
qemu-img convert -O qcow2 "$IMG_CACHED" "$TMP/d12.qcow2"
$RUN --image "$TMP/d12.qcow2,scan=deny" --db tests/data/nbd/test.ndb \
    --append vigil.test=write --trace all -o "$TMP/s.jsonl" \
    -- sh -c 'systemctl is-system-running --wait >/dev/null
              systemctl show -p Result --value vigil-test-write.service
              journalctl -b -u vigil-test-write.service -o cat
              findmnt -n -o SOURCE /' \
    >"$TMP/out" 2>"$TMP/err"
expect_eq "qcow2+scan: the command ran" "$?" 0
check "qcow2+scan: the root is the qcow2's disk" grep -qx /dev/vda "$TMP/out"
check "scan: the service's write failed in the guest" \
    grep -qx 'vigil-test-write: write failed' "$TMP/out"
check "scan: systemd saw the service fail" grep -qx exit-code "$TMP/out"
det() { jq -r "select(.type == \"detection\" and .signature == \"Vigil.Test.One\") | $1" "$TMP/s.jsonl"; }
expect_eq "scan: the write was denied" "$(det .action | sort -u)" denied
# (Other calls in flight then, a udev worker's write, are named too.)
det '.writers[]? | "\(.comm) \(.syscall)"' | sort -u >"$TMP/writers"
check "scan: the detection names the writer ($(tr '\n' ';' <"$TMP/writers"))" \
    grep -qx 'sync fsync' "$TMP/writers"
check "scan: the filter warned" grep -q 'Vigil.Test.One.*policy deny: denied' "$TMP/err"
qemu-img convert -O raw "$TMP/d12.qcow2" "$TMP/after.raw"
det '"\(.offset) \(.length)"' | sort -u >"$TMP/regions"
check "qcow2: detections with a place ($(wc -l <"$TMP/regions"))" test -s "$TMP/regions"
while read -r off len; do
    check "qcow2: the disk at $off (+$len) is unchanged" \
        cmp -s -i "$off:$off" -n "$len" "$TMP/after.raw" "$IMG_CACHED"
done <"$TMP/regions"
check "qcow2: the signature is nowhere in the qcow2 file" \
    sh -c "! grep -q VIGIL-TEST-SIGNATURE-ONE '$TMP/d12.qcow2'"
rm -f "$TMP/d12.qcow2" "$TMP/after.raw"
# The second traced boot of that kernel found its profile in the cache.
expect_eq "profile: not derived again by the second boot" "$(stamp)" "$before"

# A corrupt cached profile, or another kernel's (the test guest's), is
# derived again, not trusted.  (The run stops at once: the profile is
# settled before QEMU starts.)
quick() { "$VIGIL" run -v --image "$IMG" --trace all -o /dev/null --timeout 1 -- true 2>"$TMP/err"; }
echo '{"format": "vigil-profile", "version": 1, "kernel": {' >"$prof"
quick
check "profile: a corrupt one is rebuilt" grep -q "profile: built $prof" "$TMP/err"
expect_eq "profile: the rebuilt one is this kernel's" "$(jq -r .cache.build_id "$prof")" "$id"
release=$(jq -r .kernel.release "$prof")
"$VIGIL" profile "$GUEST/vmlinuz" -o "$prof" ||
    fail "profile of the test guest's kernel"
quick
check "profile: another kernel's is rebuilt" grep -q "profile: built $prof" "$TMP/err"
expect_eq "profile: back to this kernel's release" "$(jq -r .kernel.release "$prof")" "$release"
quick
check "profile: then used from the cache" grep -q "profile: cached $prof" "$TMP/err"

# Untraced: the plain path.
expect_rc 0 $RUN --image "$IMG" -- true

# A partitioned disk: an MBR, swap space as partition 1 (no file system
# vigil could boot), the image's file system as partition 2 at 2 MiB.
python3 tests/mbr_image.py "$TMP/part.raw" "$(stat -c %s "$IMG")"
dd if="$IMG" of="$TMP/part.raw" bs=1M seek=2 conv=sparse,notrunc status=none
# Traced by program (--trace exe=): only seq, and all it wrote.
$RUN --image "$TMP/part.raw" --trace exe=/usr/bin/seq -o "$TMP/sel.jsonl" \
    -- sh -c 'findmnt -n -o SOURCE /; seq 1 400000' >"$TMP/out"
expect_eq "partitioned: boots with partition 2 as the root" \
    "$(head -n 1 "$TMP/out")" /dev/vda2
seq 1 400000 >"$TMP/seq"
check "2.7 MB of the command's output come back whole" \
    sh -c "tail -n +2 '$TMP/out' | cmp -s - '$TMP/seq'"
jq -r 'select(.type == "syscall") | .name + " " + .comm' "$TMP/sel.jsonl" >"$TMP/sel"
expect_eq "exe= starts at the execve of seq" "$(head -n 1 "$TMP/sel")" "execve sh"
expect_eq "... and traces seq alone" \
    "$(tail -n +2 "$TMP/sel" | cut -d' ' -f2 | sort -u)" seq
expect_eq "... and every byte it wrote" \
    "$(jq -s '[.[] | select(.type == "syscall" and .name == "write" and .args[0] == 1) | .ret] | add' "$TMP/sel.jsonl")" \
    "$(stat -c %s "$TMP/seq")"
rm -f "$TMP/part.raw"

# Without a command the console is on the terminal until the guest powers
# off; a boot straight to poweroff.target ends the run with status 0.
$RUN --image "$IMG" --append systemd.unit=poweroff.target \
    </dev/null >"$TMP/console" 2>&1
expect_eq "a guest that powers off ends the run" "$?" 0
check "the console was on stdout" grep -q 'Power-Off\|Power down' "$TMP/console"

# Without a guest agent (its unit masked), the error names the package.
# (Whether the ACPI power button that follows powers the guest off depends
# on how far it booted by then, so it is not checked here.)
$RUN --image "$IMG" --append systemd.mask=qemu-guest-agent.service \
    --wait-boot 60 -- true >/dev/null 2>"$TMP/err"
expect_eq "no agent: vigil fails" "$?" 125
check "no agent: the error names qemu-guest-agent" grep -q qemu-guest-agent "$TMP/err"

# Broken images: refused before boot with a clear error; unchanged.
# broken NAME PATTERN: run on $TMP/NAME, expect PATTERN on stderr.
broken() {
    f=$TMP/$1
    before=$(sha256sum <"$f")
    $RUN --image "$f" -- true >/dev/null 2>"$TMP/err"
    rc=$?
    check "$1: refused ($rc)" test "$rc" -ne 0 -a "$rc" -ne 7
    check "$1: says '$2'" grep -q "$2" "$TMP/err"
    expect_eq "$1: the image is unchanged" "$(sha256sum <"$f")" "$before"
}
mkdir -p "$TMP/tree/boot" "$TMP/tree/etc"
echo 'ID=debian' >"$TMP/tree/etc/os-release"
mkfs.ext4 -q -F -d "$TMP/tree" "$TMP/nokernel.raw" 16M >/dev/null
broken nokernel.raw 'no kernel in the image'
head -c 400M "$IMG" >"$TMP/truncated.raw"
broken truncated.raw 'truncated'
head -c 16M /dev/urandom >"$TMP/random.raw"
broken random.raw 'neither a raw ext2/3/4 file system'
# A corrupt file system: the kernel's third block points past the end.
head -c 300K /dev/urandom >"$TMP/tree/boot/vmlinuz-1"
echo initrd >"$TMP/tree/boot/initrd.img-1"
mkfs.ext2 -q -F -d "$TMP/tree" "$TMP/corrupt.raw" 16M >/dev/null
debugfs -w -R 'sif /boot/vmlinuz-1 block[2] 12345678' "$TMP/corrupt.raw" 2>/dev/null
broken corrupt.raw 'cannot read /boot/vmlinuz-1'
printf 'QFI\373' >"$TMP/qcow2.raw"
head -c 1M /dev/zero >>"$TMP/qcow2.raw"
broken qcow2.raw 'qcow2 version 0 not supported'
# qcow2 images naming other files: their header is read before any qcow2
# driver opens them, so /etc/shadow is never read as a backing file.
qemu-img create -q -f qcow2 -b /etc/shadow -F raw "$TMP/backing.qcow2" 64M
broken backing.qcow2 'backing file (/etc/shadow) refused'
qemu-img create -q -f qcow2 -o data_file="$TMP/data.raw" "$TMP/datafile.qcow2" 16M
broken datafile.qcow2 'external data file refused'
{ head -c 510 /dev/zero; printf '\125\252'; head -c 1M /dev/zero; } >"$TMP/mbr.raw"
broken mbr.raw 'no ext2/3/4 file system in its MBR partitions'

done_testing
